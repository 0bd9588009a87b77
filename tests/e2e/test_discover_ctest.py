"""Discovery through a real ctest listing of small CMake projects: names, commands, properties, what was not built."""
import shutil
import subprocess
from pathlib import Path

import pytest

from racegate import discover
from racegate.errors import RacegateError


@pytest.mark.e2e
def test_discover_reads_a_real_ctest_listing(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20)\nproject(p NONE)\nenable_testing()\n"
        "add_test(NAME alpha COMMAND sh -c \"exit 0\")\n"
        "add_test(NAME beta COMMAND sh -c \"exit 0\")\n"
        "set_tests_properties(beta PROPERTIES TIMEOUT 3 ENVIRONMENT \"K=v\" LABELS slow)\n"
        "add_test(NAME gamma COMMAND sh -c \"exit 0\")\n"
        "set_tests_properties(gamma PROPERTIES DISABLED TRUE)\n")
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(src), "-B", str(build)], check=True, capture_output=True)
    tests = discover.discover(build)
    assert [t.name for t in tests] == ["alpha", "beta"]
    beta = tests[1]
    assert beta.timeout == 3 and beta.env == (("K", "v"),) and beta.labels == ("slow",)
    assert [t.name for t in discover.discover(build, "^b")] == ["beta"]
    with pytest.raises(RacegateError, match="regex"):
        discover.discover(build, "(")


def _project(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.20)\nproject(p NONE)\nenable_testing()\n"
                                        + body)
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(src), "-B", str(build)], check=True, capture_output=True)
    return build


@pytest.mark.e2e
def test_same_name_in_two_directories_gets_a_unique_name(tmp_path: Path):
    src = tmp_path / "src"
    for sub in ("a", "b"):
        (src / sub).mkdir(parents=True)
        (src / sub / "CMakeLists.txt").write_text("add_test(NAME same COMMAND sh -c \"exit 0\")\n")
    build = _project(tmp_path, "add_subdirectory(a)\nadd_subdirectory(b)\n")
    assert [t.name for t in discover.discover(build)] == ["same", "same #2"]


@pytest.mark.e2e
def test_a_test_whose_binary_was_not_built_is_listed_with_the_program_cmake_registered(tmp_path: Path):
    sh = shutil.which("sh")
    build = _project(tmp_path, f"add_test(NAME ghost COMMAND {tmp_path}/not-built --flag)\n"
                               f"add_test(NAME \"ghost two\" COMMAND {tmp_path}/also-not-built)\n"
                               "add_test(NAME alive COMMAND sh -c \"exit 0\")\n")
    tests = {t.name: t for t in discover.discover(build)}
    assert set(tests) == {"ghost", "ghost two", "alive"}
    # ctest's listing has no command for these; the CTestTestfile.cmake CMake wrote still names the program.
    assert tests["ghost"].command == (f"{tmp_path}/not-built", "--flag")
    assert discover.missing_executable(tests["ghost"]) == f"not built: {tmp_path}/not-built is missing"
    assert discover.missing_executable(tests["ghost two"]) == f"not built: {tmp_path}/also-not-built is missing"
    assert tests["alive"].command[0] == sh and discover.missing_executable(tests["alive"]) is None


@pytest.mark.e2e
def test_a_program_missing_in_a_subdirectory_is_found_through_subdirs(tmp_path: Path):
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "nested" / "CMakeLists.txt").write_text("add_subdirectory(deeper)\n")
    (src / "nested" / "deeper" / "CMakeLists.txt").write_text(f"add_test(NAME deep COMMAND {tmp_path}/deep-bin)\n")
    build = _project(tmp_path, "add_subdirectory(nested)\n")
    (deep,) = discover.discover(build)
    assert discover.missing_executable(deep) == f"not built: {tmp_path}/deep-bin is missing"


@pytest.mark.e2e
def test_the_placeholder_of_an_unbuilt_discovery_target_is_listed(tmp_path: Path):
    # What gtest_discover_tests writes: an include file that registers TARGET_NOT_BUILT while the target's
    # executable does not exist (a real one is exercised end to end in tests/e2e/test_partial_build.py).
    include = tmp_path / "queue_include.cmake"
    include.write_text(f'if(EXISTS "{tmp_path}/queue_test")\nelse()\n'
                       "  add_test(queue_test_NOT_BUILT queue_test_NOT_BUILT)\nendif()\n")
    build = _project(tmp_path, f'set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "{include}")\n'
                               "add_test(NAME alive COMMAND sh -c \"exit 0\")\n")
    tests = {t.name: t for t in discover.discover(build)}
    assert discover.missing_executable(tests["queue_test_NOT_BUILT"]) == "not built: queue_test is missing"
    assert discover.missing_executable(tests["alive"]) is None


@pytest.mark.e2e
def test_selection_comes_before_the_executable_check(tmp_path: Path):
    build = _project(tmp_path, f"add_test(NAME ghost COMMAND {tmp_path}/not-built)\n"
                               "add_test(NAME alive COMMAND sh -c \"exit 0\")\n")
    # -R leaving the unbuilt test out means it is never looked at; selecting it lists it, without raising.
    assert [t.name for t in discover.discover(build, "alive")] == ["alive"]
    (ghost,) = discover.discover(build, "ghost")
    assert discover.missing_executable(ghost) is not None


@pytest.mark.e2e
def test_a_program_that_is_not_executable_is_not_built(tmp_path: Path):
    program = tmp_path / "script"
    program.write_text("#!/bin/sh\n")
    build = _project(tmp_path, f"add_test(NAME noexec COMMAND {program})\n")
    (test,) = discover.discover(build)
    assert discover.missing_executable(test) == f"not built: {program} is not executable"
    program.chmod(0o755)
    assert discover.missing_executable(test) is None


@pytest.mark.e2e
def test_will_fail_skip_return_code_and_run_serial_are_read(tmp_path: Path):
    build = _project(tmp_path, "add_test(NAME t COMMAND sh -c \"exit 0\")\n"
                     "set_tests_properties(t PROPERTIES WILL_FAIL TRUE SKIP_RETURN_CODE 77 RUN_SERIAL TRUE "
                     "RESOURCE_LOCK \"port;db\" PROCESSORS 3)\n")
    (test,) = discover.discover(build)
    assert test.will_fail and test.skip_return_code == 77 and test.run_serial
    assert test.resource_locks == ("db", "port") and test.processors == 3
