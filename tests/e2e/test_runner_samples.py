"""End-to-end: `racegate run` on the TSan builds of samples/ finds each race as one bucket, gates, merges."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from samples_helpers import racegate

pytestmark = pytest.mark.e2e

# Racy test -> a function its bucket's top frames must name. Each is one race, found on every run.
STEADY_RACES = {
    "WordCounterRace.TwoThreadsCountDifferentDocuments": "WordCounter::add",
    "StockLevelsRace.StorefrontReadsWhileRestockWrites": "StockLevels::",
    "ScoreTallyRace.FourTasksSumOneSeason": "tally_scores",
    "PriceCacheRace.WorkersShareOneMemo": "PriceCache::lookup",
    "DownloadProgressRace.CallbackRunsOnLibraryThread": "DownloadProgress::",
}
HIDDEN_RACE = "TelemetryHiddenRace.MonitorPollsWhileJobFinishes"
CHECK_THEN_ACT = "AccountCheckThenAct.TellersNeverOverdraw"
ATOMICS_CHECK_THEN_ACT = "TicketBoothCheckThenAct.ClerksNeverOversell"
SPIN_RACE = "SpinQueueRace.SpinningWorkersDrainEveryRound"
SPIN_FIXED = "ReleaseSpinQueueFixed.SpinningWorkersDrainEveryRound"
STEADY_REGEX = "^(" + "|".join(re.escape(t) for t in STEADY_RACES) + r"|\w+Fixed\.\w+)$"


def run_result(build: Path, out: Path, *extra: str) -> tuple[int, dict]:
    proc = racegate("run", "--build-dir", str(build), "--out", str(out), "--seed", "7", "--jobs", "2", *extra)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return proc.returncode, json.loads((out / "racegate.json").read_text())


def buckets_of(result: dict, test: str) -> list[dict]:
    return [b for b in result["buckets"] if test in b["tests"]]


@pytest.fixture(scope="module")
def clang_run(samples_build_clang, tmp_path_factory):
    out = tmp_path_factory.mktemp("clang") / "out"
    return out, *run_result(samples_build_clang, out, "--runs", "12")


@pytest.fixture(scope="module")
def gcc_run(samples_build_gcc, tmp_path_factory):
    out = tmp_path_factory.mktemp("gcc") / "out"
    return out, *run_result(samples_build_gcc, out, "--runs", "6", "-R", STEADY_REGEX)


def test_every_racy_sample_is_exactly_one_bucket_and_fixed_ones_none(clang_run):
    out, code, result = clang_run
    assert code == 1
    for test, function in STEADY_RACES.items():
        (bucket,) = buckets_of(result, test)
        assert bucket["kind"] == "data race" and bucket["tests"] == [test]
        assert any(function in f["function"] for f in bucket["frames"]), bucket["frames"]
        # TSan reports one race several times per run (different addresses, different std frames).
        assert bucket["runs_with_bucket"] == 12 and bucket["occurrences"] >= 12
        assert (out / bucket["raw_report"]).read_text().count("WARNING: ThreadSanitizer:") == 1
        first = bucket["first_seen"]
        assert first["test"] == test and first["command"][0].endswith("_test")
        assert first["env"]["RACEGATE_SEED"] == str(first["seed"])
    fixed = [t for t in result["tests"] if t["name"].split(".")[0].endswith("Fixed")]
    assert len(fixed) == 13  # ReleaseWorkRingFixed has three tests
    for test in fixed:
        assert not buckets_of(result, test["name"]) and test["outcomes"]["pass"] == test["runs"]
    assert result["summary"]["runs"] == sum(t["runs"] for t in result["tests"]) >= 15 * 12


def test_hidden_race_is_found_by_the_default_portfolio(samples_build_clang, tmp_path):
    # Plain runs almost never show it; noise does on about a fifth of its runs (bench/detection.py). Plain runs
    # compete with noise and pct, so noise gets about a third of the repeats before the race first shows: about
    # 40 of 120, which miss it with a chance of about 0.02 % (0.81**40).
    code, result = run_result(samples_build_clang, tmp_path, "-R", re.escape(HIDDEN_RACE), "--runs", "120")
    assert code == 1
    (hidden,) = result["buckets"]
    assert hidden["kind"] == "data race" and hidden["tests"] == [HIDDEN_RACE]
    assert {f["function"].split("(")[0] for f in hidden["frames"]} == {"Telemetry::record_status",
                                                                       "Telemetry::read_status"}
    # Found by the perturbing strategies. The first run to show it may still be a plain one that ended first.
    assert {"noise", "pct", "preempt"} & set(hidden["schedules"])
    (test,) = result["tests"]
    assert test["flaky"] and test["outcomes"]["race"] < test["runs"]


def test_pct_on_the_fixed_spinning_queue_is_clean_and_quick(samples_build, tmp_path):
    # Its workers spin on atomics without any sync event; pct used to take each hand-off one watchdog
    # slice at a time (minutes). A 60 s per-run timeout turns such a slowdown into a timeout bucket.
    code, result = run_result(samples_build, tmp_path, "-R", f"^{re.escape(SPIN_FIXED)}$", "--schedule", "pct",
                              "--runs", "3", "--timeout", "60")
    assert code == 0, [b["title"] for b in result["buckets"]]
    assert result["buckets"] == []
    (test,) = result["tests"]
    assert test["outcomes"]["pass"] == test["runs"] == 3


def test_pct_finds_the_spinning_queue_race(samples_build, tmp_path):
    # TSan (clang 14) reports it on about 6 of 7 pct runs (bench/spin_slowdown.py): found within 3 runs.
    code, result = run_result(samples_build, tmp_path, "-R", f"^{re.escape(SPIN_RACE)}$", "--schedule", "pct",
                              "--runs", "3", "--timeout", "60")
    assert code == 1
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "data race" and bucket["tests"] == [SPIN_RACE]
    assert {f["function"].split("(")[0] for f in bucket["frames"]} >= {"SpinQueue::try_push", "SpinQueue::try_pop"}
    assert bucket["runs_with_bucket"] >= 1


def test_check_then_act_shows_as_a_flaky_test_failure(samples_build_clang, tmp_path):
    code, result = run_result(samples_build_clang, tmp_path, "-R", re.escape(CHECK_THEN_ACT), "--runs", "200")
    assert code == 1
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "test failure" and bucket["tests"] == [CHECK_THEN_ACT]
    (test,) = result["tests"]
    assert test["flaky"] and 0 < test["outcomes"]["fail"] < test["runs"]
    assert test["outcomes"]["race"] == 0  # TSan is silent: atomics only


def test_preempt_finds_the_atomics_only_check_then_act(samples_build_clang, tmp_path):
    # `--schedule preempt` end to end: the name reaches the shim, whose timer signal oversells the ticket
    # booth on 0.4-0.7 of clang runs (bench/detection.py); even at 0.3, 39 perturbed runs all miss with a
    # chance below 1e-6.
    code, result = run_result(samples_build_clang, tmp_path, "-R", re.escape(ATOMICS_CHECK_THEN_ACT),
                              "--schedule", "preempt", "--runs", "40")
    assert code == 1
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "test failure" and bucket["tests"] == [ATOMICS_CHECK_THEN_ACT]
    assert bucket["first_seen"]["schedule"] == "preempt"
    (test,) = result["tests"]
    assert test["outcomes"]["race"] == 0  # TSan is silent: atomics only


def test_a_baseline_of_the_found_races_passes_the_gate(clang_run, samples_build_clang, tmp_path):
    out, _, result = clang_run
    baseline = tmp_path / "baseline.json"
    assert racegate("baseline", "--from", str(out / "racegate.json"), "-o", str(baseline)).returncode == 0
    assert racegate("report", str(out / "racegate.json"), "--baseline", str(baseline), "--gate",
                    "--out", str(tmp_path / "re")).returncode == 0
    code, again = run_result(samples_build_clang, tmp_path / "again", "-R", STEADY_REGEX, "--runs", "3",
                             "--baseline", str(baseline))
    assert code == 0, [b["title"] for b in again["buckets"] if b["new"]]
    assert again["summary"]["buckets"] == len(STEADY_RACES) and again["summary"]["new_buckets"] == 0


def test_racegate_report_of_a_runs_racegate_json_reproduces_the_runs_reports(clang_run, tmp_path):
    # Reports are a function of the result as written: the run's own and `racegate report`'s are the same bytes.
    out, _, _ = clang_run
    proc = racegate("report", str(out / "racegate.json"), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for name in ("racegate-junit.xml", "racegate.sarif", "racegate-summary.md", "racegate.html"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_the_same_race_has_the_same_id_with_clang_and_gcc(clang_run, gcc_run):
    _, _, clang = clang_run
    _, _, gcc = gcc_run
    for test in STEADY_RACES:
        assert [b["id"] for b in buckets_of(clang, test)] == [b["id"] for b in buckets_of(gcc, test)], test
    assert gcc["config"]["compiler"].startswith("GNU") and clang["config"]["compiler"].startswith("Clang")


def test_merged_shards_equal_the_unsharded_buckets(clang_run, samples_build_clang, tmp_path):
    _, _, whole = clang_run
    parts = []
    for shard in ("1/2", "2/2"):
        out = tmp_path / shard.replace("/", "of")
        code, part = run_result(samples_build_clang, out, "-R", STEADY_REGEX, "--runs", "2", "--shard", shard,
                                "--no-gate")
        assert code == 0
        parts.append(part)
    names = [{t["name"] for t in p["tests"]} for p in parts]
    assert names[0] and names[1] and not names[0] & names[1]
    merged_path = tmp_path / "merged" / "racegate.json"
    proc = racegate("merge", str(tmp_path / "1of2" / "racegate.json"), str(tmp_path / "2of2" / "racegate.json"),
                    "-o", str(merged_path))
    assert proc.returncode == 1, proc.stderr
    merged = json.loads(merged_path.read_text())
    expected = {b["id"]: b["tests"] for b in whole["buckets"] if set(b["tests"]) <= names[0] | names[1]}
    assert {b["id"]: b["tests"] for b in merged["buckets"]} == expected
    assert merged["summary"]["tests"] == 18 and merged["summary"]["runs"] == 36  # work_ring's fix has three tests
    for bucket in merged["buckets"]:
        assert (merged_path.parent / bucket["raw_report"]).is_file()


def test_plain_repetition_keeps_the_logs_of_exactly_the_runs_that_found_something(samples_build_clang, tmp_path):
    racy = "WordCounterRace.TwoThreadsCountDifferentDocuments"
    clean = "MutexWordCounterFixed.FourThreadsCountDifferentDocuments"
    code, result = run_result(samples_build_clang, tmp_path, "-R", f"^({re.escape(racy)}|{re.escape(clean)})$",
                              "--runs", "5", "--schedule", "none")
    assert code == 1
    (bucket,) = result["buckets"]
    assert bucket["runs_with_bucket"] == 5
    # The shim counted the threads on each test's first run; later plain runs go without it.
    threads = {t["name"]: t["threads"] for t in result["tests"]}
    assert threads[racy] >= 2 and threads[clean] >= 2
    kept = sorted((tmp_path / "runs").iterdir())
    assert len(kept) == 5 and all(d.name.isdigit() and any(d.glob("tsan.*")) for d in kept)
    assert len([d for d in kept if (d / "shim.txt").is_file()]) == 1


def test_replay_reproduces_a_bucket(clang_run):
    out, _, result = clang_run
    bucket = buckets_of(result, "WordCounterRace.TwoThreadsCountDifferentDocuments")[0]
    proc = racegate("replay", bucket["id"][:8], "--from", str(out / "racegate.json"), "--runs", "2")
    assert proc.returncode == 1, proc.stderr
    assert "reproduced in 2 of 2 runs" in proc.stdout


ONE_BUG_REGEX = r"^(SessionReaperRace|HitCounterRace|JoinedSessionReaperFixed|AtomicHitCounterFixed)\."


def test_one_bug_is_one_bucket_whatever_tsan_calls_it_and_whatever_fails_with_it(samples_build, tmp_path):
    code, result = run_result(samples_build, tmp_path, "-R", ONE_BUG_REGEX, "--runs", "12")
    assert code == 1
    # The session deleted under its worker: reported as heap-use-after-free or as a data race, one bucket.
    (lifetime,) = buckets_of(result, "SessionReaperRace.WorkerOutlivesTheSession")
    assert set(lifetime.get("kinds") or {lifetime["kind"]: 1}) <= {"heap-use-after-free", "data race"}
    # The use in the worker and the delete in the closing function, not the allocator's frames.
    assert sorted(lifetime["signature"]) == ["session_reaper.cpp:serve", "session_reaper.cpp:serve_then_close"]
    # The lost update: one data race bucket; the failed total check is its symptom, not a second problem.
    (lost,) = buckets_of(result, "HitCounterRace.FourThreadsCountEveryHit")
    assert lost["kind"] == "data race"
    test = next(t for t in result["tests"] if t["name"] == "HitCounterRace.FourThreadsCountEveryHit")
    # Each run whose check failed also raced, so it counts as a race in the outcome table, none as a failure.
    assert test["outcomes"]["fail"] == 0
    assert sum(s["runs"] for s in lost.get("symptoms", [])) <= test["outcomes"]["race"]
    assert all(s["kind"] == "test failure" and s["runs_with_cause"] == s["runs"] for s in lost.get("symptoms", []))
    # Nothing else: no stray bucket, none for the fixes.
    assert len(result["buckets"]) == 2


def test_a_baseline_written_by_release_0_1_0_still_knows_its_races(clang_run, tmp_path):
    # Signatures v2 and v3 renamed every bucket; the v1 ids each bucket keeps let an old baseline match.
    out, _, _ = clang_run
    baseline = Path(__file__).resolve().parents[1] / "fixtures" / "baseline_release_0_1_0.json"
    proc = racegate("report", str(out / "racegate.json"), "--baseline", str(baseline), "--out", str(tmp_path),
                    "--format", "junit")
    assert proc.returncode == 0, proc.stderr
    block = next(b for b in proc.stdout.split("\n\n") if "WordCounterRace" in b and b.startswith("["))
    assert block.startswith("[known] data race") and "baseline: known since 0.1.0" in block
