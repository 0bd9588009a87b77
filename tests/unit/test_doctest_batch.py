"""The batched first pass of a doctest executable: which test cases share a process, and how one process's
output becomes one record per case (real TSan logs from tests/corpus placed between the elements doctest
2.4.9's XML reporter writes)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from racegate import batch, stall
from racegate.frameworks import doctest_xml
from racegate.execute import Execution
from racegate.model import PlannedRun, TestCase
from racegate.run_env import prepare_planned_run
from racegate.signature_rules import bucket_id

from samples_helpers import CORPUS


@pytest.fixture
def exe(tmp_path: Path) -> str:
    """A stand-in for a doctest program: batching looks for doctest's own option names in the executable."""
    path = tmp_path / "suite_test"
    path.write_bytes(b"\x7fELF\0\0--list-test-cases\0")
    path.chmod(0o755)
    return str(path)


def case(exe: str, name: str, **kw) -> TestCase:
    # As doctest_discover_tests registers a case, with an argument of the user's after the filter.
    return TestCase(name, (exe, f"--test-case={doctest_xml.escape(name)}", "--no-breaks"), cwd="/b", **kw)


def _log(compiler: str, name: str) -> str:
    return (CORPUS / compiler / f"{name}.log").read_text()


def _start(name: str, line: int = 7) -> str:
    return f'    <TestCase name="{name}" filename="suite.cpp" line="{line}">\n'


def _end(ok: bool = True, seconds: float = 0.01) -> str:
    return (f'      <OverallResultsAsserts successes="1" failures="{0 if ok else 1}" '
            f'test_case_success="{"true" if ok else "false"}" duration="{seconds}"/>\n    </TestCase>\n')


def _ok(name: str, seconds: float = 0.01) -> str:
    return _start(name) + _end(True, seconds)


HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<doctest binary="suite_test" version="2.4.9">\n'
        '  <Options order_by="file" rand_seed="0" first="0" last="4294967295"/>\n  <TestSuite>\n')
TAIL = ('  </TestSuite>\n  <OverallResultsAsserts successes="3" failures="0"/>\n'
        '  <OverallResultsTestCases successes="3" failures="0" skipped="0"/>\n</doctest>\n')


def _runs(exe: str, *names: str) -> list[PlannedRun]:
    return [PlannedRun(case(exe, n), run=i, seed=i, strategy="none") for i, n in enumerate(names)]


def _execution(tmp_path: Path, runs: list[PlannedRun], output: str, returncode: int, timed_out: bool = False,
               duration: float = 2.0) -> Execution:
    tests = [p.test for p in runs]
    plan = PlannedRun(dataclasses.replace(tests[0], command=batch.batch_command(tests)), run=99, seed=1,
                      strategy="none", batch=len(runs))
    argv, env = prepare_planned_run(plan, tmp_path, None, {"PATH": "/usr/bin"})
    return Execution(plan=plan, argv=argv, env=env, returncode=returncode, timed_out=timed_out, timeout=300.0,
                     duration=duration, output=output, tsan_log="", shim_report=tmp_path / "shim.txt",
                     run_dir=tmp_path, cut=None)


def test_the_cases_of_one_doctest_program_batch_with_one_filter_list(exe, tmp_path):
    tests = [case(exe, f"case {i}") for i in range(4)] + [case(exe, "a, b")]
    (together,) = batch.plan_batches(tests, jobs=1)
    assert [t.name for t in together] == ["case 0", "case 1", "case 2", "case 3", "a, b"]
    # doctest splits a filter at commas: the name that holds one keeps it escaped.
    assert batch.batch_command(together) == (exe, "--test-case=case 0,case 1,case 2,case 3,a\\, b", "--no-breaks")
    # The batch process adds doctest's XML reporter (its markers) and each case's time, as doctest's own
    # options with their prefix (a program may accept only those).
    plan = PlannedRun(dataclasses.replace(together[0], command=batch.batch_command(together)), run=1, seed=1,
                      strategy="none", batch=5)
    argv, _ = prepare_planned_run(plan, tmp_path, None, {"PATH": "/usr/bin"})
    assert argv[-2:] == ["--dt-reporters=xml", "--dt-duration=true"]
    assert not any(arg.startswith("--gtest_output") for arg in argv)


def test_doctest_cases_that_must_run_alone_are_not_batched(exe, tmp_path):
    other = tmp_path / "not_doctest"
    other.write_bytes(b"\x7fELF\0\0no framework here\0")
    other.chmod(0o755)
    alone = [
        TestCase("pattern", (exe, "--test-case=case*")),  # a wildcard may select more cases than itself
        TestCase("list", (exe, "--test-case=one,two")),
        TestCase("junit", (exe, "--test-case=junit", "--reporters=junit", "--out=/b/junit.xml")),  # output elsewhere
        TestCase("plain", (str(other), "--test-case=plain")),  # not a doctest program: --test-case= is its own
        TestCase("whole", (exe,)),
        case(exe, "serial", run_serial=True),
        case(exe, "will fail", will_fail=True),
    ]
    together = [case(exe, "A"), TestCase("B", (exe, "-tc=B", "--no-breaks"), cwd="/b")]
    batches = batch.plan_batches(alone + together, jobs=1)
    # doctest's short spelling of the filter batches with the long one; the first test's spelling is kept.
    assert [[t.name for t in b] for b in batches] == [["A", "B"]]
    assert batch.batch_command(batches[0]) == (exe, "--test-case=A,B", "--no-breaks")


def test_a_case_name_is_read_from_every_spelling_of_the_filter():
    assert doctest_xml.case_name(("x", "--test-case=a\\, b")) == "a, b"
    assert doctest_xml.case_name(("x", "--dt-tc=a")) == "a"
    assert doctest_xml.case_name(("x", "-test-case=a")) == "a"
    assert doctest_xml.case_name(("x", "--test-case-exclude=a")) is None
    assert doctest_xml.case_name(("x", "--test-case=a", "--test-case=b")) is None
    assert doctest_xml.case_name(("x", "--test-case=a?")) is None


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_a_race_in_the_middle_of_a_doctest_batch_is_the_racy_cases_alone(exe, tmp_path, compiler):
    race = _log(compiler, "race_global").replace("count_hits()", "DOCTEST_ANON_FUNC_15()", 1)
    output = (HEAD + _ok("calm") + _start("racy, counter") + race + _end(True, 0.03)
              + '    <TestCase name="skipped by the filter" filename="suite.cpp" line="30" skipped="true"/>\n'
              + _ok("after") + TAIL)
    runs = _runs(exe, "calm", "racy, counter", "after")
    split = batch.split_execution(_execution(tmp_path, runs, output, 66), runs, 300.0)
    assert [(r.test, r.outcome, r.run) for r in split.records] == [("calm", "pass", 0), ("racy, counter", "race", 1),
                                                                   ("after", "pass", 2)]
    (finding,) = split.records[1].findings
    # The same bucket as the race's own process gives (the racing functions' names differ from the gtest test's).
    unbatched = batch.sign_report(batch.parse_reports(race)[0])
    assert bucket_id(finding.kind, finding.signature) == bucket_id(unbatched.kind, unbatched.signature)
    assert split.records[1].command == list(runs[1].test.command)
    # Each case's own time, as doctest's XML says, and an equal share of the process's.
    assert [r.duration for r in split.records] == pytest.approx([0.01 + 1.95 / 3, 0.03 + 1.95 / 3, 0.01 + 1.95 / 3])
    assert split.outside is None and split.rest == [] and split.tests_seconds == pytest.approx(0.05)


def test_a_failing_and_a_skipped_case_keep_their_verdicts(exe, tmp_path):
    failing = (_start("broken") + '      <Expression success="false" type="CHECK" filename="suite.cpp" line="15">\n'
               '        <Original>\n          1 + 1 == 3\n        </Original>\n      </Expression>\n' + _end(False))
    skipped = '    <TestCase name="later" filename="suite.cpp" line="40" skipped="true"/>\n'
    runs = _runs(exe, "broken", "later")
    split = batch.split_execution(_execution(tmp_path, runs, HEAD + failing + skipped + TAIL, 1), runs, 300.0)
    assert [(r.test, r.outcome) for r in split.records] == [("broken", "fail"), ("later", "pass")]
    assert split.records[0].findings[0].kind == "test failure"
    assert split.outside is None  # doctest's exit status 1 is the failing case's


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_a_crash_reported_by_doctests_handler_is_the_cases_and_the_rest_run_again(exe, tmp_path, compiler):
    # doctest's signal handler closes the case and the run before it re-raises the signal; what TSan says of the
    # handler's own calls comes after, outside every element, and is the crashed case's, as alone.
    unsafe = _log(compiler, "signal_unsafe")
    output = (HEAD + _ok("calm") + _start("aborts") + unsafe + '      <Exception crash="true">\n'
              '        SIGABRT - Abort (abnormal termination) signal\n      </Exception>\n' + _end(False)
              + "  </TestSuite>\n" + unsafe + "</doctest>\n")
    runs = _runs(exe, "calm", "aborts", "after", "last")
    split = batch.split_execution(_execution(tmp_path, runs, output, -6), runs, 300.0)
    assert [(r.test, r.outcome) for r in split.records] == [("calm", "pass"), ("aborts", "crash")]
    assert [p.test.name for p in split.rest] == ["after", "last"]
    assert len([f for f in split.records[1].findings if f.kind == "signal-unsafe call inside of a signal"]) == 4
    assert split.outside is None and split.tests_seconds is None


def test_a_case_that_hangs_gets_the_timeout(exe, tmp_path):
    runs = _runs(exe, "calm", "hangs", "after")
    output = HEAD + _ok("calm") + _start("hangs")
    split = batch.split_execution(_execution(tmp_path, runs, output, -9, timed_out=True), runs, 5.0)
    assert [(r.test, r.outcome) for r in split.records] == [("calm", "pass"), ("hangs", "timeout")]
    assert [p.test.name for p in split.rest] == ["after"]


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_a_report_in_two_cases_bodies_or_outside_every_case_goes_to_the_executable(exe, tmp_path, compiler):
    race = _log(compiler, "race_global")
    # One stack in a thread the writer case left running (its lambda), the other in the reader case's body.
    leaked = (race.replace("count_hits()", "DOCTEST_ANON_FUNC_3()::$_0::operator()() const", 1)
              .replace("count_hits()", "DOCTEST_ANON_FUNC_9()", 1))
    output = HEAD + race + _ok("writer") + _start("reader") + leaked + _end() + TAIL + race
    runs = _runs(exe, "writer", "reader")
    split = batch.split_execution(_execution(tmp_path, runs, output, 66), runs, 300.0)
    assert [(r.test, r.outcome) for r in split.records] == [("writer", "pass"), ("reader", "pass")]
    outside = split.outside
    assert outside is not None and outside.test == "suite_test" + batch.OUTSIDE and outside.outcome == "race"
    assert len(outside.findings) == 3
    assert outside.command == [exe, "--test-case=writer,reader", "--no-breaks"]
    assert split.outside_test is not None and not split.outside_test.is_gtest


def test_a_report_in_one_body_is_the_running_cases():
    assert not doctest_xml.runs_in_other_bodies(["DOCTEST_ANON_FUNC_15()", "DOCTEST_ANON_FUNC_15()::$_0::operator()()",
                                                 "__invoke_impl<void, DOCTEST_ANON_FUNC_15()::<lambda()> >", "main"])
    assert doctest_xml.runs_in_other_bodies(["DOCTEST_ANON_FUNC_15", "DOCTEST_ANON_CLASS_20::f()"])


def test_output_that_does_not_end_its_line_leaves_the_markers_readable():
    # The case printed "x" without a newline: doctest's next element follows it on the same line.
    output = HEAD + _start("a &amp; &quot;b&quot;") + "x" + _end() + TAIL
    (head, one, tail) = doctest_xml.split_output(output)
    assert (head.test, one.test, one.verdict, tail.test) == (None, 'a & "b"', "pass", None)


def test_stall_watch_times_the_open_doctest_case(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(stall.time, "monotonic", lambda: clock[0])
    out = tmp_path / "output.txt"
    out.write_text(HEAD)
    watch = stall.StallWatch(out, per_test=10.0)
    assert not watch()
    with open(out, "a") as f:
        f.write(_start("one"))
        f.flush()
        clock[0] = 105.0
        assert not watch()
        clock[0] = 114.0
        f.write(_end() + _start("two"))
        f.flush()
        assert not watch()  # "two" began at this look
        assert watch.ended == 1
        clock[0] = 124.5
        assert watch()
