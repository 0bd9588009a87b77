"""No pass without evidence: a selected test that completed no run is not covered; the verdict never says PASS
then, the exit code is 3 (0 with --allow-uncovered), every format names the test and its fix; a test whose plain
run never finished is named as such and not repeated. Old results load with the new fields' defaults."""
from __future__ import annotations

import json
from dataclasses import replace

from result_factory import bucket, entry_for_test, make_result

from racegate import gate
from racegate.errors import EXIT_CLEAN, EXIT_FOUND, EXIT_UNCOVERED
from racegate.model import OUTCOMES, Outcome, RunRecord, TestCase
from racegate.reporters import RenderOptions, render
from racegate.result import RunConfig, TestResult, load, save, unfinished_after
from racegate.schedule import Scheduler


def cut_only(name: str, seconds: float = 61.5) -> TestResult:
    outcomes = {o: 0 for o in OUTCOMES}
    outcomes[Outcome.CUT] = 1
    return TestResult(name=name, runs=1, outcomes=outcomes, threads=2, mean_seconds=seconds, cuts={"budget": 1})


def test_a_test_whose_every_run_was_cut_is_not_covered_and_the_gate_exits_3():
    result = make_result([entry_for_test("Short", 20, 0), cut_only("Long")], [])
    assert [t.name for t in result.uncovered] == ["Long"] and result.summary.uncovered == 1
    assert result.verdict_state == "uncovered" and gate.exit_code(result) == EXIT_UNCOVERED
    console = render("console", result, RenderOptions())
    assert "PASS" not in console
    assert "NOT COVERED: 1 of 2 tests completed no run, so nothing speaks for it" in console
    assert ("Long: not covered: 1 run, none completed (cut at the budget's deadline after 61.5 s); its run takes "
            "more than that: raise --time-budget, shard, or exclude it") in console
    for fmt in ("markdown", "html", "github"):
        assert "PASS" not in render(fmt, result, RenderOptions()), fmt
    junit = render("junit", result, RenderOptions())
    assert '<skipped message="not covered: none of its 1 runs completed"' in junit and 'skipped="1"' in junit


def test_a_test_the_budget_never_reached_is_not_covered_either():
    never = replace(entry_for_test("Late", 0, 0), not_run="the time budget ran out before its first run")
    result = make_result([entry_for_test("Short", 5, 0), never], [])
    assert gate.exit_code(result) == EXIT_UNCOVERED
    assert '<skipped message="the time budget ran out before its first run"' in render("junit", result,
                                                                                       RenderOptions())


def test_a_test_not_built_is_set_apart_as_before_and_the_built_ones_decide():
    # A partial build (--target, a gtest_discover_tests placeholder) chooses its tests: contract, "Partial builds".
    unbuilt = replace(entry_for_test("checkout", 0, 0), not_run="not built: ./checkout_test is missing")
    result = make_result([entry_for_test("Short", 5, 0), unbuilt], [])
    assert result.uncovered == [] and gate.exit_code(result) == EXIT_CLEAN
    assert render("console", result, RenderOptions()).splitlines()[-1].startswith("PASS")


def test_allow_uncovered_exits_0_and_still_does_not_say_pass():
    result = make_result([cut_only("Long")], [], RunConfig(seed=1, allow_uncovered=True))
    assert gate.exit_code(result) == EXIT_CLEAN
    assert render("console", result, RenderOptions()).splitlines()[-1].startswith("NOT COVERED")


def test_new_problems_exit_1_whatever_is_not_covered():
    result = make_result([entry_for_test("T", 4, 1), cut_only("Long")], [bucket("aaaa00000001", "T", 1)])
    assert gate.exit_code(result) == EXIT_FOUND
    assert render("console", result, RenderOptions()).splitlines()[-1].startswith("FAIL")


def test_covered_tests_pass_as_before():
    result = make_result([entry_for_test("T", 4, 0)], [])
    assert gate.exit_code(result) == EXIT_CLEAN and result.summary.uncovered == 0
    assert render("console", result, RenderOptions()).splitlines()[-1] == "PASS: no races or failures found"


def test_the_new_fields_round_trip_and_an_old_file_gets_their_defaults(tmp_path):
    long = replace(cut_only("Long"), unfinished=None)
    hangs = replace(entry_for_test("Hangs", 1, 0), unfinished=300.0)
    result = make_result([long, hangs], [bucket("aaaa00000001", "Long", 0, cut_runs_with_bucket=1)],
                         RunConfig(seed=1, allow_uncovered=True))
    save(result, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["config"]["allow_uncovered"] is True and data["summary"]["uncovered"] == 1
    assert data["tests"][1]["unfinished"] == 300.0 and "unfinished" not in data["tests"][0]
    assert data["buckets"][0]["cut_runs_with_bucket"] == 1
    back = load(tmp_path / "r.json")
    assert back.tests[1].unfinished == 300.0 and back.buckets[0].cut_runs_with_bucket == 1
    assert back.config.allow_uncovered
    for key in ("allow_uncovered",):
        del data["config"][key]
    del data["tests"][1]["unfinished"], data["buckets"][0]["cut_runs_with_bucket"], data["summary"]["uncovered"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load(tmp_path / "old.json")
    assert old.tests[1].unfinished is None and old.buckets[0].cut_runs_with_bucket == 0
    assert not old.config.allow_uncovered and old.summary.uncovered == 1


def _record(run: int, strategy: str, outcome: str, duration: float = 300.0) -> RunRecord:
    return RunRecord("Hangs", run, 1, strategy, ["./t"], outcome, None, duration, "", 2)


def test_a_test_whose_plain_run_timed_out_is_unfinished_only_when_nothing_else_completed():
    assert unfinished_after([_record(0, "none", "timeout", 300.04)]) == 300.0
    assert unfinished_after([_record(0, "none", "timeout"), _record(1, "none", Outcome.CUT)]) == 300.0
    assert unfinished_after([_record(0, "none", "pass"), _record(1, "none", "timeout")]) is None
    assert unfinished_after([_record(0, "none", Outcome.CUT)]) is None
    assert unfinished_after([]) is None


def test_the_unfinished_test_is_named_with_its_advice():
    hangs = replace(entry_for_test("Hangs", 1, 0), unfinished=300.0)
    console = render("console", make_result([hangs], []), RenderOptions())
    assert ("Hangs: did not finish in 300 s under TSan, plain; it is not repeated: raise its TIMEOUT, exclude it, "
            "or check it for a hang") in console


def test_the_scheduler_does_not_repeat_a_test_whose_plain_run_timed_out():
    scheduler = Scheduler([TestCase("Hangs", ("./h",)), TestCase("Ok", ("./o",))], lambda t: ["noise"], 1, 3, None)
    plans = []
    while (plan := scheduler.next()) is not None:
        plans.append(plan)
        outcome = "timeout" if plan.test.name == "Hangs" else "pass"
        scheduler.record(RunRecord(plan.test.name, plan.run, plan.seed, plan.strategy, [], outcome, None, 1.0, "",
                                   2))
    assert [p.strategy for p in plans if p.test.name == "Hangs"] == ["none"]
    assert sum(p.test.name == "Ok" for p in plans) == 3
