"""The result model: one loader that fills defaults and checks the schema, one writer, derived values in one place."""
from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from racegate import gate
from racegate.errors import RacegateError
from racegate.model import RunRecord, TestCase
from racegate.result import (RunConfig, Spent, StrategyStats, TestResult, discovery_curve,
                             discovery_curve_seconds, load, save, strategy_stats, verification_spent, with_baseline)

from result_factory import bucket, entry_for_test, make_result
from racegate.result.codec import result_from_json, result_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RELEASE_0_1_0 = FIXTURES / "result_release_0_1_0.json"


def test_a_file_written_by_release_0_1_0_loads_and_writes_back_unchanged(tmp_path):
    original = json.loads(RELEASE_0_1_0.read_text())
    result = load(RELEASE_0_1_0)
    assert result_json(result) == original
    save(result, tmp_path / "racegate.json")
    assert json.loads((tmp_path / "racegate.json").read_text()) == original


def test_a_baseline_written_by_release_0_1_0_still_gates():
    result = load(RELEASE_0_1_0)
    assert gate.exit_code(result) == 1
    result = with_baseline(result, gate.load_baseline(FIXTURES / "baseline_release_0_1_0.json"))
    assert gate.exit_code(result) == 0
    assert {b.baseline_note for b in result.buckets} == {"known since 0.1.0"}


def test_the_loader_fills_every_default_of_a_minimal_file():
    minimal = {"schema": 1, "buckets": [{"id": "abc123abc123", "kind": "data race", "runs_with_bucket": 2,
                                         "tests": ["T.a"], "first_seen": {"test": "T.a", "run": 3}}],
               "tests": [{"name": "T.a", "outcomes": {"pass": 3, "race": 2}}]}
    result = result_from_json(minimal)
    (test,) = result.tests
    assert test.runs == 5 and test.failed_runs == 2 and test.flaky
    assert test.outcomes == {"pass": 3, "race": 2, "fail": 0, "crash": 0, "timeout": 0, "cut": 0}
    (bucket,) = result.buckets
    assert bucket.new and bucket.occurrences == 2 and bucket.title == "data race"
    assert bucket.advice.fix  # advice is filled from the kind when a file has none
    assert result.run_fraction(bucket) == 0.4
    assert result.discovery == [[4, 1], [5, 1]]  # rebuilt from where the bucket was first seen
    summary = result.summary
    assert (summary.tests, summary.runs, summary.failed_runs, summary.new_buckets) == (1, 5, 2, 1)


def test_a_newer_schema_is_a_clear_error():
    with pytest.raises(RacegateError, match=r"newer racegate \(result schema 2\); .* reads schema 1"):
        result_from_json({"schema": 2, "buckets": []}, "r.json")


@pytest.mark.parametrize("data", [[], {"tests": []}, {"schema": "1", "buckets": []}, {"schema": 1}])
def test_a_foreign_file_is_not_a_racegate_result(data):
    with pytest.raises(RacegateError, match="r.json is not a racegate result with schema 1"):
        result_from_json(data, "r.json")


@pytest.mark.parametrize("data, field", [
    ({"schema": 1, "buckets": [], "tests": [{"name": "T", "runs": "many"}]}, r"tests\[0\]\.runs"),
    ({"schema": 1, "buckets": [{"id": "x", "frames": [3]}]}, r"buckets\[0\]\.frames"),
    ({"schema": 1, "buckets": "none"}, "buckets"),
    ({"schema": 1, "buckets": [{"id": "x", "first_seen": {"seconds": "soon"}}]},
     r"buckets\[0\]\.first_seen\.seconds should be a number"),
    ({"schema": 1, "buckets": [], "discovery_seconds": [["1.5", 1]]}, r"discovery_seconds\.0 should be a number"),
    ({"schema": 1, "buckets": [], "discovery_seconds": [[1.5, 1.5]]}, r"discovery_seconds\.1 should be an integer"),
    ({"schema": 1, "buckets": [], "tests": [{"name": "T", "strategies": {"noise": {"seconds": "2"}}}]},
     r"tests\[0\]\.strategies\.noise\.seconds should be a number"),
    ({"schema": 1, "buckets": [], "tests": [{"name": "T", "strategies": [1]}]},
     r"tests\[0\]\.strategies should be an object"),
    ({"schema": 1, "buckets": [], "strategies": {"pct": {"seconds": True}}},
     r"strategies\.pct\.seconds should be a number"),
    ({"schema": 1, "buckets": [], "verification": {"recheck": {"runs": 1.5}}},
     r"verification\.recheck\.runs should be an integer"),
])
def test_a_field_of_the_wrong_type_names_the_field(data, field):
    with pytest.raises(RacegateError, match=field):
        result_from_json(data, "r.json")


def _record(run: int, outcome: str, duration: float, threads: int | None = None) -> RunRecord:
    return RunRecord(test="T.a", run=run, seed=run, strategy="noise", command=["./t"], outcome=outcome,
                     returncode=0, duration=duration, log_dir="", threads=threads)


def test_a_test_result_derives_its_counts_from_its_runs():
    test = TestCase("T.a", ("./t", "--gtest_filter=T.a"), cwd="/b", env=(("K", "v"),), timeout=5.0, is_gtest=True)
    entry = TestResult.from_runs(test, [_record(0, "pass", 0.5, 2), _record(1, "race", 1.0, 3)])
    assert entry.failed_runs == 1 and entry.flaky and entry.threads == 3 and entry.mean_seconds == 0.75
    assert entry.test_case() == test  # what replay runs is what discovery found
    merged = entry.merged(TestResult.from_runs(test, [_record(2, "crash", 2.0)]))
    assert merged.runs == 3 and merged.failed_runs == 2 and merged.mean_seconds == round(3.5 / 3, 4)
    assert merged.outcomes["crash"] == 1 and merged.threads == 3


def test_the_discovery_curve_counts_runs_done_not_run_indices():
    # An interrupted session leaves gaps in the run indices: the curve counts the runs that finished.
    records = [_record(run, "pass", 0.1) for run in (0, 1, 5, 9)]
    assert discovery_curve([5], records) == [[3, 1], [4, 1]]


def test_a_cut_run_is_neither_a_pass_nor_a_failure():
    test = TestCase("T.a", ("./t",))
    records = [_record(run, "race", 0.5) for run in range(3)] + [_record(3, "cut", 60.0)]
    entry = TestResult.from_runs(test, records)
    assert entry.runs == 4 and entry.failed_runs == 3 and entry.cut_runs == 1
    assert not entry.flaky  # every run that finished failed: steadily racy, not flaky
    assert strategy_stats(records, []) == {"noise": StrategyStats(runs=4, failed_runs=3, buckets_first_found=0,
                                                                  seconds=61.5)}


def _timed(run: int, test: str, strategy: str, started: float, duration: float, purpose: str = "") -> RunRecord:
    return RunRecord(test=test, run=run, seed=run, strategy=strategy, command=["./t"], outcome="pass", returncode=0,
                     duration=duration, log_dir="", started=started, purpose=purpose)


def test_time_spent_per_test_strategy_and_purpose_round_trips():
    records = [_timed(0, "T.a", "none", 0.0, 0.5), _timed(1, "T.a", "noise", 0.5, 1.25),
               _timed(2, "T.a", "noise", 1.75, 1.0), _timed(3, "T.a", "none", 2.75, 0.25, purpose="recheck")]
    test = TestResult.from_runs(TestCase("T.a", ("./t",)), records)
    assert test.strategies == {"none": Spent(2, 0.75), "noise": Spent(2, 2.25)} and test.seconds == 3.0
    timed_bucket = bucket("aaaa00000001", "T.a", 1)
    timed_bucket.first_seen.seconds = 1.75
    result = make_result([test], [timed_bucket], strategies=strategy_stats(records, ["noise"]),
                         discovery_seconds=discovery_curve_seconds([timed_bucket], 3.5),
                         verification=verification_spent(records))
    data = result_json(result)
    assert data["tests"][0]["strategies"] == {"none": {"runs": 2, "seconds": 0.75},
                                              "noise": {"runs": 2, "seconds": 2.25}}
    assert data["strategies"]["noise"] == {"runs": 2, "failed_runs": 0, "buckets_first_found": 1, "seconds": 2.25}
    assert data["buckets"][0]["first_seen"]["seconds"] == 1.75
    assert data["discovery_seconds"] == [[1.75, 1], [3.5, 1]]
    assert data["verification"] == {"recheck": {"runs": 1, "seconds": 0.25}, "replay": {"runs": 0, "seconds": 0.0},
                                    "alone": {"runs": 0, "seconds": 0.0}, "slowdown": {"runs": 0, "seconds": 0.0}}
    again = result_from_json(json.loads(json.dumps(data)))
    assert result_json(again) == data
    assert again.tests[0].seconds == 3.0 and again.run_seconds == 3.0


def test_a_result_of_an_earlier_release_has_no_times_but_a_test_still_knows_its_seconds():
    result = load(RELEASE_0_1_0)
    assert result.discovery_seconds is None and result.verification is None
    assert all(b.first_seen.seconds is None for b in result.buckets)
    assert all(s.seconds is None for s in result.strategies.values())
    # From its mean: what an older result knows of a test's time.
    assert all(t.seconds == round(t.mean_seconds * t.runs, 3) and not t.strategies for t in result.tests)


def test_the_discovery_curve_in_seconds_steps_at_each_first_sighting_and_ends_at_the_wall_time():
    buckets = [bucket(f"b{i:011d}", "T.a", 1) for i in range(3)]
    for b, at in zip(buckets, (4.0, 1.5, 4.0)):
        b.first_seen.seconds = at
    assert discovery_curve_seconds(buckets, 9.25) == [[1.5, 1], [4.0, 3], [9.25, 3]]
    assert discovery_curve_seconds([], 2.0) == [[2.0, 0]]
    buckets[0].first_seen.seconds = None  # a bucket of an older shard: no curve rather than a wrong one
    assert discovery_curve_seconds(buckets, 9.25) is None


def test_a_test_merged_from_two_shards_adds_its_seconds_per_strategy():
    one, two = entry_for_test("A.x", 2, 0), entry_for_test("A.x", 3, 1)
    one = replace(one, strategies={"none": Spent(1, 0.5), "noise": Spent(1, 2.0)})
    two = replace(two, strategies={"noise": Spent(2, 1.5), "pct": Spent(1, 4.0)})
    merged = one.merged(two)
    assert merged.strategies == {"none": Spent(1, 0.5), "noise": Spent(3, 3.5), "pct": Spent(1, 4.0)}
    assert merged.seconds == 8.0 and one.strategies["noise"] == Spent(1, 2.0)  # the shard's own stays
    older = entry_for_test("A.x", 4, 0)  # a shard of an earlier release: its mean, no seconds per strategy
    mixed = one.merged(older)
    assert not mixed.strategies and mixed.seconds == round(mixed.mean_seconds * mixed.runs, 3)


def test_the_cost_split_is_written_when_set_and_read_back(tmp_path):
    from racegate.reporters import render
    from racegate.result import Cost
    from result_factory import make_result

    assert "cost" not in result_json(make_result([], []))  # results that predate it, and merged ones, have none
    cost = Cost(repetition_seconds=30.0, first_repetition_after=4.5)
    cost.add_process(2.0, 1.5, 100, batched=True)
    cost.add_process(2.2, None, 40, batched=True)  # it crashed: no start-up measure
    # A test run alone after a batch's process died before its first test: a process, not a batched test.
    cost.add_process(0.3, None, 1, batched=False)
    result = make_result([], [], cost=cost)
    written = result_json(result)["cost"]
    assert written == {"first_pass_seconds": 4.5, "repetition_seconds": 30.0, "processes": 3, "batched_tests": 140,
                       "batch_processes": 2, "startup_seconds": 0.5, "startup_share": round(1.5 / 34.5, 4),
                       "first_repetition_after": 4.5}
    save(result, tmp_path / "r.json")
    assert result_json(load(tmp_path / "r.json"))["cost"] == written
    console = render("console", load(tmp_path / "r.json"))
    assert ("cost: first pass 4.5 s, 140 tests of it batched in 2 processes; repetitions 30.0 s; 3 processes, "
            "~0.50 s each to start and exit (4.3% of the time); first repetition after 4.5 s") in console


def test_a_sessions_reports_are_the_reports_of_its_racegate_json_read_back(tmp_path):
    """Reports are a function of the result as written: what a run renders, `racegate report` on its racegate.json
    renders byte for byte. Real (cheap) processes give unrounded durations and times; the wall time is one whose
    first decimal changes when it is rounded to the millisecond, as racegate.json keeps it (79.25049 s: "79.3"
    unrounded, "79.2" written)."""
    from racegate.progress import Progress
    from racegate.reporters import FORMATS, RenderOptions, render
    from racegate.session import Session, SessionConfig

    out = tmp_path / "out"
    tests = [TestCase("passes", ("true",)), TestCase("fails", ("sh", "-c", "echo broken; exit 3"))]
    session = Session(tests, lambda test: ["none"], SessionConfig(
        out_dir=out, jobs=2, master_seed=1, runs=3, time_budget=None, timeout=60, until_confident=None,
        shim_path=None))
    session.run(Progress(io.StringIO(), None, None))
    result = session.result(RunConfig(out_dir=str(out)), 79.25049)
    assert result.cost is not None and result.discovery_seconds is not None  # every timed part is there
    save(result, out / "racegate.json")
    written = load(out / "racegate.json")
    options = RenderOptions(base_dir=out)
    for fmt in FORMATS:
        assert render(fmt, result, options) == render(fmt, written, options), fmt


def test_a_bucket_whose_tests_the_result_does_not_list_is_measured_against_all_runs():
    # A hand-trimmed file: racegate.json and every report give the same fraction (they once differed, 0 and 0.2).
    result = make_result([entry_for_test("T.a", 10, 2)], [bucket("aaaa00000001", "Gone.x", 2)])
    (trimmed,) = result.buckets
    assert result.runs_exposed(trimmed) == 10 and result.run_fraction(trimmed) == 0.2
    assert result_json(result)["buckets"][0]["run_fraction"] == 0.2


@pytest.mark.parametrize("name", ["result_release_0_1_0.json", "result_samples.json"])
def test_a_stored_result_renders_the_same_once_written_back(tmp_path, name):
    # `racegate merge` and `report` read files of earlier releases: writing one back changes none of its reports.
    from racegate.reporters import FORMATS, RenderOptions, render

    stored = load(FIXTURES / name)
    save(stored, tmp_path / "racegate.json")
    options = RenderOptions(base_dir=FIXTURES)
    for fmt in FORMATS:
        assert render(fmt, stored, options) == render(fmt, load(tmp_path / "racegate.json"), options), fmt


def test_why_a_test_was_not_repeated_round_trips_and_older_results_have_no_reason():
    single = entry_for_test("T.single", 1, 0)
    single = replace(single, not_repeated="not repeated: one thread")
    data = result_json(make_result([single, entry_for_test("T.multi", 3, 0)], []))
    assert data["tests"][0]["not_repeated"] == "not repeated: one thread" and "not_repeated" not in data["tests"][1]
    again = result_from_json(json.loads(json.dumps(data)))
    assert [t.not_repeated for t in again.tests] == ["not repeated: one thread", None]
    assert all(t.not_repeated is None for t in load(RELEASE_0_1_0).tests)
    # Two shards: the reason stands only when every shard that ran the test gave it.
    assert single.merged(single).not_repeated == "not repeated: one thread"
    assert single.merged(entry_for_test("T.single", 3, 0)).not_repeated is None
