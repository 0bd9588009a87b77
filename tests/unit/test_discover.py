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


def test_a_command_tests_name_quotes_only_arguments_with_spaces_or_quotes():
    assert discover.command_test(["prog", "a b"]).name == "prog 'a b'"
    assert discover.command_test(["prog", "a", "b"]).name == "prog a b"
    assert discover.command_test(["prog", "it's", ""]).name == """prog 'it'"'"'s' ''"""
    # Names without such arguments are as before, shell metacharacters and all (histories key on them).
    assert discover.command_test(["./t", "--gtest_filter=A.*", "-n", "3"]).name == "./t --gtest_filter=A.* -n 3"


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


def test_discover_refuses_a_dir_without_tests(tmp_path: Path):
    with pytest.raises(RacegateError, match="CTestTestfile"):
        discover.discover(tmp_path)


def test_a_program_looked_up_on_path_is_missing_when_path_lacks_it():
    assert discover.missing_executable(discover.command_test(["sh", "-c", "true"])) is None
    assert (discover.missing_executable(discover.command_test(["racegate-no-such-tool"]))
            == "not built: racegate-no-such-tool is missing")


def test_resource_locks_and_processors_default_to_none_and_one():
    test = discover.test_from_json({"name": "t", "command": ["x"], "properties": []})
    assert test.resource_locks == () and test.processors == 1
    locked = discover.test_from_json({"name": "t", "command": ["x"], "properties": [
        {"name": "RESOURCE_LOCK", "value": ["b", "a", "b"]}, {"name": "PROCESSORS", "value": 2}]})
    assert locked.resource_locks == ("a", "b") and locked.processors == 2


def _selection(tmp_path: Path, names: list[str], built: set[str], shard=None):
    """The selection over tests whose programs exist (executable) only for the names in `built`."""
    tests = []
    for name in names:
        program = tmp_path / name
        if name in built:
            program.write_text("#!/bin/sh\n")
            program.chmod(0o755)
        tests.append(TestCase(name=name, command=(str(program),)))
    return discover.select(tests, shard)


def test_the_selection_lists_unbuilt_tests_as_not_run(tmp_path: Path):
    run, not_built = _selection(tmp_path, ["a", "b", "c"], built={"b"})
    assert [t.name for t in run] == ["b"]
    assert [(t.name, why) for t, why in not_built] == [
        ("a", f"not built: {tmp_path}/a is missing"), ("c", f"not built: {tmp_path}/c is missing")]


def test_nothing_built_is_an_error_on_every_shard_but_one_unlucky_shard_is_not(tmp_path: Path):
    with pytest.raises(RacegateError, match=rf"^nothing to run: no selected test is built \(a: {tmp_path}/a is "
                                            r"missing, and 1 more\)$"):
        _selection(tmp_path, ["a", "b"], built=set())
    for shard in ((1, 2), (2, 2)):
        with pytest.raises(RacegateError, match="no selected test is built"):
            _selection(tmp_path, ["a", "b"], built=set(), shard=shard)
    # Shard 1/2 of a, b, c, d is a and c (round-robin over sorted names): both unbuilt, listed, no error.
    run, not_built = _selection(tmp_path, ["a", "b", "c", "d"], built={"b", "d"}, shard=(1, 2))
    assert run == [] and [t.name for t, _ in not_built] == ["a", "c"]


def test_a_command_is_run_as_given_even_when_its_program_is_missing(tmp_path: Path):
    missing = TestCase(name="cmd", command=(str(tmp_path / "absent"),))
    assert discover.select([missing], None, check_built=False) == ([missing], [])


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


def test_testing_roots_are_the_top_or_the_shallowest_subdirs_that_enable_testing(tmp_path: Path):
    def tree(*files: str) -> Path:
        root = tmp_path / str(len(list(tmp_path.iterdir())))
        for name in files:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text("")
        return root

    top = tree("CTestTestfile.cmake", "tests/CTestTestfile.cmake")
    assert discover.testing_roots(top) == [top]
    # enable_testing() only in tests/ (field #28), and in two sibling subtrees at different depths: each, not
    # what they include (listed by ctest from its root), nor a nested binary tree of its own, nor CMakeFiles.
    only = tree("CMakeCache.txt", "tests/CTestTestfile.cmake", "tests/unit/CTestTestfile.cmake",
                "src/lib/test/CTestTestfile.cmake", "ext/build/CMakeCache.txt", "ext/build/CTestTestfile.cmake",
                "CMakeFiles/x/CTestTestfile.cmake")
    assert discover.testing_roots(only) == [only / "tests", only / "src" / "lib" / "test"]
    assert discover.testing_roots(tree("CMakeCache.txt", "src/a.o")) == []
    with pytest.raises(RacegateError, match="nor any of its subdirs"):
        discover.discover(tmp_path / "2")
