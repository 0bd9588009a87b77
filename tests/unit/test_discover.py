import subprocess
from pathlib import Path

import pytest

from racegate import discover
from racegate.errors import RacegateError

CTEST_ENTRY = {
    "name": "Cache.ConcurrentLookups",
    "command": ["/b/cache_test", "--gtest_filter=Cache.ConcurrentLookups", "--gtest_also_run_disabled_tests"],
    "properties": [
        {"name": "ENVIRONMENT", "value": ["FOO=bar", "EMPTY=", "BROKEN"]},
        {"name": "LABELS", "value": ["unit"]},
        {"name": "TIMEOUT", "value": 7.5},
        {"name": "WORKING_DIRECTORY", "value": "/b"},
    ],
}


def test_test_from_json_keeps_command_env_and_properties():
    test = discover.test_from_json(CTEST_ENTRY)
    assert test.name == "Cache.ConcurrentLookups"
    assert test.command[0] == "/b/cache_test"
    assert test.env == (("FOO", "bar"), ("EMPTY", ""))
    assert test.timeout == 7.5 and test.cwd == "/b" and test.labels == ("unit",)
    assert test.is_gtest


def test_disabled_tests_are_skipped_and_commandless_ones_refused():
    disabled = dict(CTEST_ENTRY, properties=[{"name": "DISABLED", "value": True}])
    assert discover.test_from_json(disabled) is None
    with pytest.raises(RacegateError, match="'x' has no executable"):
        discover.test_from_json({"name": "x", "properties": []})


def test_command_test_is_not_gtest_unless_flags_say_so():
    assert not discover.command_test(["./a.out", "--n", "3"]).is_gtest
    assert discover.command_test(["./t", "--gtest_filter=A.*"]).is_gtest
    with pytest.raises(RacegateError):
        discover.command_test([])


def test_shards_partition_the_tests_and_balance():
    tests = [discover.command_test([f"t{i}"]) for i in range(10)]
    shards = [discover.shard(tests, i, 3) for i in (1, 2, 3)]
    names = [t.name for s in shards for t in s]
    assert sorted(names) == sorted(t.name for t in tests)
    assert len(names) == len(set(names))
    assert sorted(len(s) for s in shards) == [3, 3, 4]
    # The split depends on the set of tests, not on their listing order.
    assert discover.shard(list(reversed(tests)), 2, 3) == shards[1]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(text):
    with pytest.raises(RacegateError, match="--shard"):
        discover.parse_shard(text)


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


def test_discover_refuses_a_dir_without_tests(tmp_path: Path):
    with pytest.raises(RacegateError, match="CTestTestfile"):
        discover.discover(tmp_path)


def _project(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.20)\nproject(p NONE)\nenable_testing()\n" + body)
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
def test_a_test_whose_binary_was_not_built_is_an_environment_error(tmp_path: Path):
    build = _project(tmp_path, f"add_test(NAME ghost COMMAND {tmp_path}/not-built --flag)\n")
    with pytest.raises(RacegateError, match="'ghost' has no executable"):
        discover.discover(build)


@pytest.mark.e2e
def test_a_test_whose_program_is_not_executable_is_an_environment_error(tmp_path: Path):
    program = tmp_path / "script"
    program.write_text("#!/bin/sh\n")
    build = _project(tmp_path, f"add_test(NAME noexec COMMAND {program})\n")
    with pytest.raises(RacegateError, match="'noexec'.*not executable"):
        discover.discover(build)


@pytest.mark.e2e
def test_will_fail_skip_return_code_and_run_serial_are_read(tmp_path: Path):
    build = _project(tmp_path, "add_test(NAME t COMMAND sh -c \"exit 0\")\n"
                               "set_tests_properties(t PROPERTIES WILL_FAIL TRUE SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)\n")
    (test,) = discover.discover(build)
    assert test.will_fail and test.skip_return_code == 77 and test.run_serial
