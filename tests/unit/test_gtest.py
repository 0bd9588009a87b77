"""Reading what a GoogleTest program prints: its listing, the markers that split one process's output into its
tests, its JSON output file, and the body class a test's frames run in."""
from __future__ import annotations

import json

from racegate import stall
from racegate.frameworks import gtest
from racegate.frameworks.framework import Outcome

OUTPUT = """Running main() from gtest_main.cc
Note: Google Test filter = A.One:A.Two:B.Three
[==========] Running 3 tests from 2 test suites.
[----------] 2 tests from A
[ RUN      ] A.One
[       OK ] A.One (12 ms)
[ RUN      ] A.Two
x.cpp:3: Failure
Expected equality
[  FAILED  ] A.Two (1 ms)
[----------] 2 tests from A (13 ms total)

[ RUN      ] B.Three/0
[  SKIPPED ] B.Three/0 (0 ms)
[==========] 3 tests from 2 test suites ran. (14 ms total)
[  FAILED  ] 1 test, listed below:
[  FAILED  ] A.Two
"""


def test_output_splits_into_each_tests_stretch_and_what_lies_outside():
    segments = gtest.split_output(OUTPUT)
    named = [(s.test, s.verdict, s.seconds) for s in segments]
    assert named == [(None, None, None), ("A.One", "pass", 0.012), ("A.Two", "fail", 0.001), (None, None, None),
                     ("B.Three/0", "skip", 0.0), (None, None, None)]
    two = segments[2]
    assert OUTPUT[two.start:two.end].startswith("[ RUN      ] A.Two\nx.cpp:3: Failure")
    assert OUTPUT[two.start:two.end].endswith("[  FAILED  ] A.Two (1 ms)\n")
    # The summary's "[  FAILED  ] A.Two" after every test ended belongs to no test.
    assert OUTPUT[segments[-1].start:].endswith("[  FAILED  ] A.Two\n")


def test_a_test_that_never_ended_runs_to_the_end_of_the_output():
    text = "[ RUN      ] A.One\n[       OK ] A.One (0 ms)\n[ RUN      ] A.Crash\nboom\nWARNING: ..."
    segments = gtest.split_output(text)
    assert [(s.test, s.verdict) for s in segments] == [("A.One", "pass"), ("A.Crash", None)]
    assert segments[-1].end == len(text)


def test_an_end_line_of_another_test_does_not_end_the_open_one():
    text = "[ RUN      ] A.One\n[       OK ] A.Other (0 ms)\n"
    (segment,) = gtest.split_output(text)
    assert (segment.test, segment.verdict) == ("A.One", None)


def test_an_end_marker_after_output_without_a_newline_still_ends_its_test():
    text = ("[ RUN      ] A.x\nhello[       OK ] A.x (1 ms)\n[ RUN      ] A.y\nx.cpp:3: Failure\n"
            "[  FAILED  ] A.y (2 ms)\n")
    segments = gtest.split_output(text)
    assert [(s.test, s.verdict, s.seconds) for s in segments] == [("A.x", "pass", 0.001), ("A.y", "fail", 0.002)]
    assert text[segments[0].start:segments[0].end] == "[ RUN      ] A.x\nhello[       OK ] A.x (1 ms)\n"


def test_a_parameterized_tests_marker_names_the_test_without_its_parameter():
    text = "[ RUN      ] I/P.Case/0\n[       OK ] I/P.Case/0, where GetParam() = 3 (5 ms)\n"
    (segment,) = gtest.split_output(text)
    assert (segment.test, segment.verdict, segment.seconds) == ("I/P.Case/0", "pass", 0.005)


def test_the_listing_gives_full_names_without_comments_or_disabled_tests():
    listing = """Running main() from gtest_main.cc
Plain.
  First
  DISABLED_Off
Inst/Param.  # TypeParam = int
  Case/0  # GetParam() = 3
  Case/1  # GetParam() = "a b"
Typed/0.  # TypeParam = int
  Works
DISABLED_Suite.
  Anything
"""
    assert gtest.parse_listing(listing) == ["Plain.First", "Inst/Param.Case/0", "Inst/Param.Case/1", "Typed/0.Works"]


def test_json_output_gives_each_tests_verdict_and_time(tmp_path):
    path = tmp_path / "gtest.json"
    path.write_text(json.dumps({"testsuites": [
        {"name": "A", "testsuite": [
            {"name": "One", "status": "RUN", "result": "COMPLETED", "time": "0.012s"},
            {"name": "Two", "status": "RUN", "result": "COMPLETED", "time": "0.001s",
             "failures": [{"failure": "x.cpp:3\nExpected equality", "type": ""}]},
            {"name": "Off", "status": "NOTRUN", "result": "SUPPRESSED", "time": "0s"}]},
        {"name": "I/P", "testsuite": [{"name": "Case/0", "status": "RUN", "result": "SKIPPED", "time": "0s"}]}]}))
    assert gtest.read_json(path) == {"A.One": Outcome("pass", 0.012),
                                     "A.Two": Outcome("fail", 0.001),
                                     "I/P.Case/0": Outcome("skip", 0.0)}
    assert gtest.read_json(tmp_path / "missing.json") is None
    (tmp_path / "cut.json").write_text('{"testsuites": [')
    assert gtest.read_json(tmp_path / "cut.json") is None


def test_body_class_of_plain_parameterized_and_typed_tests():
    assert gtest.body_class("Suite.Name") == "Suite_Name_Test"
    assert gtest.body_class("Inst/Suite.Name/2") == "Suite_Name_Test"
    assert gtest.body_class("Suite/1.Name") == "Suite_Name_Test"
    assert gtest.body_class("Inst/Suite/1.Name") == "Suite_Name_Test"


def test_bodies_named_in_frames_of_both_compilers():
    functions = ["Racy_Counter_Test::TestBody()::$_0::operator()() const",  # clang's lambda
                 "Leaky_Writer_Test::TestBody()::{lambda()#1}::operator()() const",  # gcc's lambda
                 "(anonymous namespace)::Typed_Works_Test<int>::TestBody()", "main", ""]
    assert gtest.bodies_named(functions) == {"Racy_Counter_Test", "Leaky_Writer_Test", "Typed_Works_Test"}


def test_stall_watch_times_the_open_test(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(stall.time, "monotonic", lambda: clock[0])
    out = tmp_path / "output.txt"
    out.write_text("")
    watch = stall.StallWatch(out, per_test=10.0)
    with open(out, "a") as f:
        f.write("[ RUN      ] A.One\n")
        f.flush()
        clock[0] = 105.0
        assert not watch()
        clock[0] = 114.0  # 9 s into A.One
        assert not watch()
        f.write("[       OK ] A.One (9000 ms)\n[ RUN      ] A.Two\n")
        f.flush()
        clock[0] = 116.0
        assert not watch()  # A.Two began at this look
        assert watch.ended == 1
        clock[0] = 126.5
        assert watch()


def test_stall_watch_reads_an_end_marker_where_the_splitter_does(tmp_path):
    # A test whose output did not end its line leaves gtest's end marker mid-line: split_output ends the test
    # there, and so must the watch (the progress line counts it; the next test's time starts from there).
    out = tmp_path / "output.txt"
    out.write_text("[ RUN      ] A.One\npartial[       OK ] A.One (1 ms)\n")
    watch = stall.StallWatch(out, per_test=10.0)
    assert not watch() and watch.ended == 1
    assert [s.verdict for s in gtest.split_output(out.read_text()) if s.test] == ["pass"]
