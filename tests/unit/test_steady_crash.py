"""Tests killed by the same signal on every run without a TSan report: said once as the environment's likely
doing, their buckets kept with advice for a steady crash (field-test problem 16)."""
from __future__ import annotations

import io
import json
import signal

import pytest

from racegate import steady_crash
from racegate.errors import RacegateError
from racegate.merge import merge
from racegate.model import Finding, RunRecord, TestCase
from racegate.progress import Progress
from racegate.reporters import console, sentences
from racegate.result import Result, RunConfig
from racegate.session import Session, SessionConfig
from racegate.steady_crash import SteadyCrash

from result_factory import entry_for_test, make_result
from racegate.result.codec import result_from_json, result_json

SEGV = -signal.SIGSEGV


def _crash(test: str) -> Finding:
    return Finding(kind="crash", title=f"crash: {test} killed by SIGSEGV", signature=[test, "SIGSEGV"], frames=[],
                   raw="")


def _run(run: int, test: str, strategy: str = "none", returncode: int | None = SEGV, outcome: str = "crash",
         findings: list[Finding] | None = None) -> RunRecord:
    return RunRecord(test=test, run=run, seed=run, strategy=strategy, command=["./t"], outcome=outcome,
                     returncode=returncode, duration=0.1, log_dir="",
                     findings=[_crash(test)] if findings is None else findings)


def test_tests_killed_alike_on_every_run_are_grouped_by_signal():
    records = [_run(0, "A"), _run(1, "A", "noise"), _run(2, "B"), _run(3, "B", "pct"),
               _run(4, "B", "noise", returncode=None, outcome="cut", findings=[]),  # a cut run says nothing
               _run(5, "C", returncode=-signal.SIGABRT), _run(6, "C", "noise", returncode=-signal.SIGABRT)]
    crashes, buckets = steady_crash.find(records)
    assert crashes == [SteadyCrash("SIGABRT", ["C"]), SteadyCrash("SIGSEGV", ["A", "B"])]
    assert [c.alike for c in crashes] == [False, True]
    assert sorted(buckets.values()) == ["SIGABRT", "SIGSEGV", "SIGSEGV"]


@pytest.mark.parametrize("odd", [
    _run(9, "B", "noise", returncode=0, outcome="pass", findings=[]),  # passed once: not steady
    _run(9, "B", "noise", returncode=-signal.SIGABRT),  # another signal
    _run(9, "B", "noise", findings=[_crash("B"), Finding("data race", "data race", ["x"], [], "")]),  # a report
    _run(9, "B", "noise", returncode=66, outcome="crash",  # TSan's own crash report (exit 66)
         findings=[Finding("crash", "crash: SEGV in f", ["f"], [], "")]),
])
def test_a_test_that_did_anything_else_once_is_not_a_steady_crash(odd):
    crashes, _ = steady_crash.find([_run(0, "A"), _run(1, "B"), odd])
    assert crashes == [SteadyCrash("SIGSEGV", ["A"])]


def test_without_a_plain_run_nothing_is_said():
    crashes, _ = steady_crash.find([_run(0, "A", "noise"), _run(1, "B", "noise")])
    assert crashes == []


def _result_with(crashes: list[SteadyCrash]) -> Result:
    return make_result([entry_for_test(t, 2, 2) for c in crashes for t in c.tests], [], steady_crashes=crashes)


def test_the_note_is_said_once_for_several_tests_and_the_file_keeps_every_group():
    names = [f"ServerTest.Get{i}" for i in range(10)]
    result = _result_with([SteadyCrash("SIGSEGV", names), SteadyCrash("SIGABRT", ["Other.one"])])
    notes = [n for n in sentences.coverage_notes(result) if "every run" in n]
    assert notes == ["10 tests crashed with SIGSEGV on every run, plain ones too, and TSan reported nothing: that "
                     "points at one cause rather than 10 bugs, most often the environment (the build, the TSan "
                     "runtime, the machine); run racegate doctor, then one of them by hand under gdb: "
                     "ServerTest.Get0, ServerTest.Get1, ServerTest.Get2, ServerTest.Get3, ServerTest.Get4 and 5 more"]
    assert console.render(result).count("tests crashed with") == 1
    data = json.loads(json.dumps(result_json(result)))
    assert data["steady_crashes"] == [{"signal": "SIGSEGV", "tests": names},
                                      {"signal": "SIGABRT", "tests": ["Other.one"]}]
    assert result_from_json(data).steady_crashes == result.steady_crashes
    assert "steady_crashes" not in result_json(make_result([entry_for_test("T", 1, 0)], []))


def test_a_steady_crashes_entry_of_the_wrong_type_names_the_field():
    with pytest.raises(RacegateError, match=r"steady_crashes\[0\]\.signal should be a string"):
        result_from_json({"schema": 1, "buckets": [], "steady_crashes": [{"signal": 11}]}, "r.json")


def test_shards_each_with_one_steady_crash_merge_into_one_note(tmp_path):
    shards = []
    for i, name in enumerate(("A", "B")):
        path = tmp_path / f"shard{i}" / "racegate.json"
        shards.append((path, _result_with([SteadyCrash("SIGSEGV", [name])])))
    merged = merge(shards, tmp_path / "all" / "racegate.json")
    assert merged.steady_crashes == [SteadyCrash("SIGSEGV", ["A", "B"])]
    assert any(n.startswith("2 tests crashed with SIGSEGV") for n in sentences.coverage_notes(merged))


def test_a_session_whose_tests_all_kill_themselves_keeps_a_bucket_each_with_fitting_advice(tmp_path):
    # sh sends itself SIGSEGV: killed by the signal, no TSan anywhere, on every run.
    tests = [TestCase(f"Crash.{i}", ("sh", "-c", "kill -SEGV $$")) for i in range(3)]
    tests.append(TestCase("Fine", ("true",)))
    session = Session(tests, lambda t: ["noise"],
                      SessionConfig(out_dir=tmp_path / "out", jobs=2, master_seed=1, runs=2, time_budget=None,
                                    timeout=60, until_confident=None, shim_path=None))
    wall = session.run(Progress(io.StringIO(), None, None))
    result = session.result(RunConfig(), wall)
    assert result.steady_crashes == [SteadyCrash("SIGSEGV", ["Crash.0", "Crash.1", "Crash.2"])]
    assert len(result.buckets) == 3 and result.failing  # crashes still fail the gate, one bucket per test
    for b in result.buckets:
        assert "killed by SIGSEGV on every run, plain ones too" in b.advice.what
        assert "racegate doctor" in b.advice.fix
    assert "3 tests crashed with SIGSEGV on every run" in console.render(result)
