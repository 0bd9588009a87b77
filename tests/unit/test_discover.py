import shutil
import subprocess
from pathlib import Path

import pytest

from racegate import discover
from racegate.errors import RacegateError
from racegate.model import TestCase

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


def test_disabled_tests_are_skipped_and_commandless_ones_kept_as_not_built():
    disabled = dict(CTEST_ENTRY, properties=[{"name": "DISABLED", "value": True}])
    assert discover.test_from_json(disabled) is None
    commandless = discover.test_from_json({"name": "x", "properties": []})
    assert commandless.command == () and not commandless.is_gtest
    assert discover.missing_executable(commandless) == "not built: the executable of x is missing"
    # gtest_discover_tests' placeholder for a target that was not built names the target.
    placeholder = discover.test_from_json({"name": "queue_test_NOT_BUILT", "properties": []})
    assert discover.missing_executable(placeholder) == "not built: queue_test is missing"
    # doctest_discover_tests' carries a hash.
    hashed = discover.test_from_json({"name": "clock_test_NOT_BUILT-7c0fa19", "properties": []})
    assert discover.missing_executable(hashed) == "not built: clock_test is missing"


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


def test_a_program_looked_up_on_path_is_missing_when_path_lacks_it():
    assert discover.missing_executable(discover.command_test(["sh", "-c", "true"])) is None
    assert (discover.missing_executable(discover.command_test(["racegate-no-such-tool"]))
            == "not built: racegate-no-such-tool is missing")


@pytest.mark.e2e
def test_will_fail_skip_return_code_and_run_serial_are_read(tmp_path: Path):
    build = _project(tmp_path, "add_test(NAME t COMMAND sh -c \"exit 0\")\n"
                               "set_tests_properties(t PROPERTIES WILL_FAIL TRUE SKIP_RETURN_CODE 77 RUN_SERIAL TRUE "
                               "RESOURCE_LOCK \"port;db\" PROCESSORS 3)\n")
    (test,) = discover.discover(build)
    assert test.will_fail and test.skip_return_code == 77 and test.run_serial
    assert test.resource_locks == ("db", "port") and test.processors == 3


def test_resource_locks_and_processors_default_to_none_and_one():
    test = discover.test_from_json({"name": "t", "command": ["x"], "properties": []})
    assert test.resource_locks == () and test.processors == 1
    locked = discover.test_from_json({"name": "t", "command": ["x"], "properties": [
        {"name": "RESOURCE_LOCK", "value": ["b", "a", "b"]}, {"name": "PROCESSORS", "value": 2}]})
    assert locked.resource_locks == ("a", "b") and locked.processors == 2


def _selection(tmp_path: Path, names: list[str], built: set[str], shard=None):
    """cli's selection over tests whose programs exist (executable) only for the names in `built`."""
    from racegate import cli

    tests = []
    for name in names:
        program = tmp_path / name
        if name in built:
            program.write_text("#!/bin/sh\n")
            program.chmod(0o755)
        tests.append(TestCase(name=name, command=(str(program),)))
    return cli._select(tests, tmp_path, shard)


def test_the_selection_lists_unbuilt_tests_as_not_run(tmp_path: Path):
    run, not_built = _selection(tmp_path, ["a", "b", "c"], built={"b"})
    assert [t.name for t in run] == ["b"]
    assert [(t.name, t.not_run, t.runs) for t in not_built] == [
        ("a", f"not built: {tmp_path}/a is missing", 0), ("c", f"not built: {tmp_path}/c is missing", 0)]


def test_nothing_built_is_an_error_on_every_shard_but_one_unlucky_shard_is_not(tmp_path: Path):
    with pytest.raises(RacegateError, match=rf"^nothing to run: no selected test is built \(a: {tmp_path}/a is "
                                            r"missing, and 1 more\)$"):
        _selection(tmp_path, ["a", "b"], built=set())
    for shard in ((1, 2), (2, 2)):
        with pytest.raises(RacegateError, match="no selected test is built"):
            _selection(tmp_path, ["a", "b"], built=set(), shard=shard)
    # Shard 1/2 of a, b, c, d is a and c (round-robin over sorted names): both unbuilt, listed, no error.
    run, not_built = _selection(tmp_path, ["a", "b", "c", "d"], built={"b", "d"}, shard=(1, 2))
    assert run == [] and [t.name for t in not_built] == ["a", "c"]


def test_a_doctest_listing_gives_its_case_names():
    from racegate.frameworks.doctest_xml import escape
    from racegate.frameworks.doctest_xml import parse_listing as parse_doctest_listing

    listing = """[doctest] doctest version is "2.4.11"
[doctest] run with "--help" for options
===============================================================================
[doctest] listing all test case names
===============================================================================
SilentDependentAsync.LinearChain.1thread
a case, with a comma
===============================================================================
[doctest] unskipped test cases passing the current filters: 2
"""
    assert parse_doctest_listing(listing) == ["SilentDependentAsync.LinearChain.1thread", "a case, with a comma"]
    assert parse_doctest_listing("no listing here\n") == []
    assert escape("a case, with a comma") == "a case\\, with a comma"


def test_only_a_test_program_is_listed(tmp_path):
    from racegate.discover import command_tests
    from racegate.frameworks import of_command as test_framework
    from racegate.frameworks.gtest import GTEST

    script = tmp_path / "t.sh"
    script.write_text("#!/bin/sh\necho gtest_list_tests\n")  # names the flag, but is no ELF test program
    script.chmod(0o755)
    assert test_framework([str(script)]) is None
    assert [t.command for t in command_tests([str(script), "x"])] == [(str(script), "x")]
    assert test_framework(["./anything", "--gtest_repeat=2"]) == GTEST
