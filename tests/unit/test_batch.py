"""The batched first pass: which tests share a process, and how one process's output becomes one record per
test (real TSan logs from tests/corpus placed between gtest's markers)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from racegate import analyse, batch
from racegate.execute import Execution
from racegate.model import CutCause, PlannedBatch, PlannedRun, TestCase
from racegate.run_env import prepare_planned_run
from racegate.schedule import Scheduler
from racegate.signature_rules import bucket_id

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
EXE = "/b/suite_test"


def gtest_case(name: str, exe: str = EXE, **kw) -> TestCase:
    return TestCase(name, (exe, f"--gtest_filter={name}", "--gtest_also_run_disabled_tests"), cwd="/b",
                    is_gtest=True, **kw)


def test_tests_of_one_executable_batch_and_the_jobs_share_them():
    tests = [gtest_case(f"S.T{i}") for i in range(10)] + [gtest_case(f"O.T{i}", exe="/b/other") for i in range(4)]
    batches = batch.plan_batches(tests, jobs=2)
    assert [[t.name for t in b] for b in batches] == [[f"S.T{i}" for i in range(5)], [f"S.T{i}" for i in range(5, 10)],
                                                      [f"O.T{i}" for i in range(4)]]
    assert batch.batch_command(batches[2]) == ("/b/other", "--gtest_filter=O.T0:O.T1:O.T2:O.T3",
                                               "--gtest_also_run_disabled_tests")


def test_tests_that_must_run_alone_are_not_batched():
    alone = [
        gtest_case("S.Env", env=(("MODE", "x"),)),  # its own environment: differs from its siblings'
        dataclasses.replace(gtest_case("S.Dir"), cwd="/elsewhere"),
        gtest_case("S.Serial", run_serial=True),
        gtest_case("S.WillFail", will_fail=True),
        gtest_case("S.Skips", skip_return_code=77),
        TestCase("S.Pattern", (EXE, "--gtest_filter=S.*"), is_gtest=True),
        TestCase("whole", (EXE,), is_gtest=False),
    ]
    together = [gtest_case("S.A"), gtest_case("S.B")]
    batches = batch.plan_batches(alone + together, jobs=4)
    assert [[t.name for t in b] for b in batches] == [["S.A"], ["S.B"]]
    assert batch.plan_batches([gtest_case("S.Only")], jobs=1) == []  # one test of an executable runs alone


def test_a_batch_filter_stays_under_the_argument_limit(monkeypatch):
    monkeypatch.setattr(batch, "FILTER_LIMIT", 15)
    tests = [gtest_case(f"S.T{i}") for i in range(6)]  # 4 characters each, and a colon
    batches = batch.plan_batches(tests, jobs=1)
    assert [len(b) for b in batches] == [3, 3]


def _log(compiler: str, name: str) -> str:
    return (CORPUS / compiler / f"{name}.log").read_text()


def _execution(tmp_path: Path, runs: list[PlannedRun], output: str, returncode: int, json_tests: dict | None = None,
               timed_out: bool = False, cut: str | None = None, duration: float = 2.0) -> Execution:
    tests = [p.test for p in runs]
    plan = PlannedRun(dataclasses.replace(tests[0], command=batch.batch_command(tests)), run=99, seed=1,
                      strategy="none", batch=len(runs))
    argv, env = prepare_planned_run(plan, tmp_path, None, {"PATH": "/usr/bin"})
    if json_tests is not None:
        suites: dict[str, list] = {}
        for name, (verdict, seconds) in json_tests.items():
            suite, _, test = name.partition(".")
            entry = {"name": test, "status": "RUN", "result": "COMPLETED", "time": f"{seconds}s"}
            if verdict == "fail":
                entry["failures"] = [{"failure": "x", "type": ""}]
            suites.setdefault(suite, []).append(entry)
        (tmp_path / "gtest.json").write_text(json.dumps(
            {"testsuites": [{"name": s, "testsuite": t} for s, t in suites.items()]}))
    return Execution(plan=plan, argv=argv, env=env, returncode=returncode, timed_out=timed_out, timeout=300.0,
                     duration=duration, output=output, tsan_log="", shim_report=tmp_path / "shim.txt",
                     run_dir=tmp_path, cut=cut)


def _runs(*names: str) -> list[PlannedRun]:
    return [PlannedRun(gtest_case(n), run=i, seed=i, strategy="none") for i, n in enumerate(names)]


def _ok(name: str, ms: int = 10) -> str:
    return f"[ RUN      ] {name}\n[       OK ] {name} ({ms} ms)\n"


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_a_batched_test_is_read_by_the_analyse_function_of_a_test_run_alone(tmp_path, compiler, monkeypatch):
    # A test that raced and then failed an assertion: in its own process the report is in its TSan log; in a batch
    # it is in the output, between the test's markers. Both are read by analyse.analyse_run, to the same findings.
    race = _log(compiler, "race_global")
    failed = "ledger.cpp:12: Failure\nExpected equality of these values:\n  total\n    Which is: 3\n  4\n"
    calls: list[tuple[analyse.Stretch | None, object]] = []

    def spy(execution: Execution, stretch: analyse.Stretch | None = None):
        record = analyse.analyse_run(execution, stretch)
        calls.append((stretch, record))
        return record

    monkeypatch.setattr(batch, "analyse_run", spy)
    runs = _runs("S.A", "S.Racy", "S.C")
    output = _ok("S.A") + "[ RUN      ] S.Racy\n" + race + failed + "[  FAILED  ] S.Racy (30 ms)\n" + _ok("S.C")
    (tmp_path / "batch").mkdir()
    split = batch.split_execution(_execution(tmp_path / "batch", runs, output, 1), runs, 300.0)
    assert [record for _, record in calls] == split.records
    assert [stretch.plan if stretch else None for stretch, _ in calls] == runs

    alone_plan = runs[1]
    argv, env = prepare_planned_run(alone_plan, tmp_path, None, {"PATH": "/usr/bin"})
    alone = analyse.analyse_run(Execution(
        plan=alone_plan, argv=argv, env=env, returncode=1, timed_out=False, timeout=300.0, duration=0.5,
        output="[ RUN      ] S.Racy\n" + failed + "[  FAILED  ] S.Racy (30 ms)\n", tsan_log=race,
        shim_report=tmp_path / "shim.txt", run_dir=tmp_path))
    batched = split.records[1]
    # A run with a TSan report is a race, its failure the race's (one framework test failed and reported).
    assert alone.outcome == batched.outcome == "race"
    assert [f.kind for f in alone.findings] == ["data race", "test failure"]
    assert alone.findings[1].from_race and batched.findings[1].from_race
    assert batched.findings == alone.findings
    assert (batched.test, batched.run, batched.seed, batched.env) == (alone.test, alone.run, alone.seed, alone.env)


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_a_race_in_the_middle_of_a_batch_is_the_racy_tests_alone(tmp_path, compiler):
    race = _log(compiler, "race_global")
    output = ("Running main()\n" + _ok("S.A") + "[ RUN      ] S.Racy\n" + race + "[       OK ] S.Racy (30 ms)\n"
              + _ok("S.C") + "[==========] 3 tests ran.\n")
    runs = _runs("S.A", "S.Racy", "S.C")
    split = batch.split_execution(_execution(tmp_path, runs, output, 66, {"S.A": ("pass", 0.01),
                                  "S.Racy": ("pass", 0.03), "S.C": ("pass", 0.01)}), runs, 300.0)
    assert [(r.test, r.outcome, r.run) for r in split.records] == [("S.A", "pass", 0), ("S.Racy", "race", 1),
                                                                   ("S.C", "pass", 2)]
    (finding,) = split.records[1].findings
    # The same bucket as the race's own process would give (tests/unit/test_analyse.py).
    assert finding.id == bucket_id(finding.kind, finding.signature) == "ebf13e16419d138b"
    # Each test keeps its own command to reproduce it, and its share of the process's time.
    assert split.records[1].command == list(runs[1].test.command)
    assert "log_path" not in split.records[1].env.get("TSAN_OPTIONS", "")
    assert [r.duration for r in split.records] == pytest.approx([0.01 + 1.95 / 3, 0.03 + 1.95 / 3, 0.01 + 1.95 / 3])
    assert split.outside is None and split.rest == [] and split.tests_seconds == pytest.approx(0.05)


def test_outcomes_fall_back_to_the_markers_without_json(tmp_path):
    output = _ok("S.A") + "[ RUN      ] S.B\nx.cpp:7: Failure\nExpected: 1\n[  FAILED  ] S.B (1 ms)\n"
    runs = _runs("S.A", "S.B")
    split = batch.split_execution(_execution(tmp_path, runs, output, 1), runs, 300.0)
    assert [(r.test, r.outcome) for r in split.records] == [("S.A", "pass"), ("S.B", "fail")]
    (failure,) = split.records[1].findings
    assert failure.kind == "test failure" and failure.title.startswith("test failure: S.B: Expected: 1 (x.cpp:7)")


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_a_crash_cuts_the_batch_at_its_test_and_leaves_the_rest_to_run_again(tmp_path, compiler):
    crash = _log(compiler, "crash_null_deref")
    output = _ok("S.A") + "[ RUN      ] S.Crash\n" + crash
    runs = _runs("S.A", "S.Crash", "S.After", "S.Last")
    split = batch.split_execution(_execution(tmp_path, runs, output, 66), runs, 300.0)
    assert [(r.test, r.outcome) for r in split.records] == [("S.A", "pass"), ("S.Crash", "crash")]
    assert [p.test.name for p in split.rest] == ["S.After", "S.Last"]
    (finding,) = split.records[1].findings
    assert finding.kind == "crash" and "finish_job" in finding.title
    assert split.outside is None and split.tests_seconds is None


def test_a_test_killed_by_a_signal_or_a_hang_is_that_tests_crash_or_timeout(tmp_path):
    runs = _runs("S.A", "S.Abort", "S.B")
    split = batch.split_execution(_execution(tmp_path, runs, _ok("S.A") + "[ RUN      ] S.Abort\n", -6), runs, 300.0)
    assert [(r.test, r.outcome, r.findings[0].signature if r.findings else None) for r in split.records] == [
        ("S.A", "pass", None), ("S.Abort", "crash", ["S.Abort", "SIGABRT"])]
    hung = batch.split_execution(_execution(tmp_path, runs, "[ RUN      ] S.A\n", -9, timed_out=True), runs, 5.0)
    assert [(r.test, r.outcome, r.findings[0].signature) for r in hung.records] == [("S.A", "timeout",
                                                                                     ["S.A", "timeout"])]
    assert [p.test.name for p in hung.rest] == ["S.Abort", "S.B"]


def test_a_budget_cut_leaves_the_running_test_cut_and_the_rest_without_a_run(tmp_path):
    runs = _runs("S.A", "S.B", "S.C")
    output = _ok("S.A") + "[ RUN      ] S.B\n"
    split = batch.split_execution(_execution(tmp_path, runs, output, -9, cut=CutCause.BUDGET), runs, 300.0)
    assert [(r.test, r.outcome, r.cut) for r in split.records] == [
        ("S.A", "pass", None), ("S.B", "cut", CutCause.BUDGET)]


def test_an_interrupt_keeps_the_tests_that_ended_and_the_reports_outside_them(tmp_path):
    race = _log("gcc12", "race_global")
    output = "[----------] set-up\n" + race + _ok("S.A") + "[ RUN      ] S.B\n" + race
    runs = _runs("S.A", "S.B", "S.C")
    execution = dataclasses.replace(_execution(tmp_path, runs, output, -9), interrupted=True)
    split = batch.split_execution(execution, runs, 300.0)
    # S.B was cut short by the interrupt: no record, as when it runs alone; no exit status is laid anywhere.
    assert [(r.test, r.outcome) for r in split.records] == [("S.A", "pass")]
    assert split.outside is not None and split.outside.outcome == "race" and len(split.outside.findings) == 1


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_reports_outside_every_test_or_from_another_tests_thread_go_to_the_executable(tmp_path, compiler):
    race = _log(compiler, "race_global")
    # The same report, its racing function inside another test's body: a thread that outlived S.Writer.
    leaked = race.replace("count_hits()", "S_Writer_Test::TestBody()::$_0::operator()() const")
    output = ("[----------] Global test environment set-up.\n" + race + _ok("S.Writer")
              + "[ RUN      ] S.Reader\n" + leaked + "[       OK ] S.Reader (1 ms)\n" + race)
    runs = _runs("S.Writer", "S.Reader")
    split = batch.split_execution(_execution(tmp_path, runs, output, 66), runs, 300.0)
    assert [(r.test, r.outcome) for r in split.records] == [("S.Writer", "pass"), ("S.Reader", "pass")]
    outside = split.outside
    assert outside is not None and outside.test == "suite_test" + batch.OUTSIDE and outside.outcome == "race"
    assert len(outside.findings) == 3
    assert outside.command == ["/b/suite_test", "--gtest_filter=S.Writer:S.Reader", "--gtest_also_run_disabled_tests"]


def test_an_exit_status_no_test_explains_is_the_executables(tmp_path):
    runs = _runs("S.A", "S.B")
    split = batch.split_execution(_execution(tmp_path, runs, _ok("S.A") + _ok("S.B") + "teardown failed\n", 3),
                                  runs, 300.0)
    assert [r.outcome for r in split.records] == ["pass", "pass"]
    assert split.outside is not None and split.outside.outcome == "fail"
    assert split.outside.findings[0].title.endswith("exited with status 3")


def test_the_scheduler_hands_out_batches_first_and_their_tests_count_as_started():
    tests = [gtest_case(f"S.T{i}") for i in range(4)] + [TestCase("alone", ("/b/x",))]
    scheduler = Scheduler(tests, lambda t: ["noise"], master_seed=1, runs=2, deadline=None)
    scheduler.add_batches(batch.plan_batches(tests, jobs=2))
    first, second = scheduler.next(), scheduler.next()
    assert isinstance(first, PlannedBatch) and isinstance(second, PlannedBatch)
    planned = [p for b in (first, second) for p in b.runs]
    assert [p.test.name for p in planned] == [f"S.T{i}" for i in range(4)]
    assert {p.strategy for p in planned} == {"none"} and len({p.run for p in planned}) == 4
    alone = scheduler.next()
    assert alone.test.name == "alone" and alone.strategy == "none"
    assert scheduler.reserve_run() not in {p.run for p in planned} | {alone.run}
