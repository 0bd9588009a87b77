"""Bucketer: one bucket per distinct finding, the earliest run shown and kept, counts per run."""
from __future__ import annotations

from racegate.bucket import Bucketer, SymptomOf
from racegate.model import Finding, RunRecord
from racegate.signature_rules import bucket_id

RACE = ("data race", ["a.cpp:Cache::put", "a.cpp:Cache::get"])
OTHER_RACE = ("data race", ["b.cpp:Log::write", "b.cpp:Log::flush"])


def finding(kind: str, signature: list[str], raw: str = "") -> Finding:
    return Finding(kind=kind, title=f"{kind} in {' vs '.join(signature)}", signature=list(signature), frames=[],
                   raw=raw or f"WARNING: ThreadSanitizer: {kind}\n")


def run(index: int, *findings: Finding, test: str = "Cache.Concurrent", strategy: str = "noise") -> RunRecord:
    return RunRecord(test=test, run=index, seed=1000 + index, strategy=strategy, command=["./cache_test"],
                     outcome="race" if findings else "pass", returncode=66 if findings else 0, duration=0.1,
                     log_dir=f"runs/{index}" if findings else "", findings=list(findings))


def test_one_bucket_per_kind_and_signature(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(0, finding(*RACE), finding(*OTHER_RACE)))
    bucketer.add(run(1, finding(*RACE)))
    bucketer.add(run(2, finding("thread leak", RACE[1])))  # same frames, another kind of bug
    assert set(bucketer.buckets) == {bucket_id(*RACE), bucket_id(*OTHER_RACE), bucket_id("thread leak", RACE[1])}
    race = bucketer.buckets[bucket_id(*RACE)]
    assert race.id == bucket_id(*RACE) and race.runs == {0, 1} and race.occurrences == 2


def test_a_run_without_findings_adds_nothing(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(0))
    assert bucketer.buckets == {}
    assert not (tmp_path / "reports").exists()


def test_the_earliest_run_wins_whatever_order_runs_finish_in(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(5, finding(*RACE, raw="report of run 5\n"), strategy="pct"))
    bucketer.add(run(2, finding(*RACE, raw="report of run 2\n"), strategy="pin"))
    bucketer.add(run(9, finding(*RACE, raw="report of run 9\n"), strategy="noise"))
    (bucket,) = bucketer.buckets.values()
    assert bucket.first.run == 2 and bucket.first.seed == 1002 and bucket.finding.raw == "report of run 2\n"
    assert bucket.first.strategy == "pin"
    # The raw report on disk is the earliest run's too, so the one shown and the one replayed agree.
    assert (tmp_path / "reports" / f"{bucket.id}.txt").read_text().endswith("report of run 2\n")


def test_a_finding_repeated_within_one_run_counts_that_run_once(tmp_path):
    # TSan reports one race once per address and per process: several findings of a bucket in one run.
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(0, finding(*RACE), finding(*RACE), finding(*RACE), strategy="noise"))
    (bucket,) = bucketer.buckets.values()
    assert bucket.occurrences == 3
    assert bucket.runs == {0} and bucket.strategies == {"noise": 1}


def test_schedules_count_the_runs_that_showed_the_bucket(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(0, finding(*RACE), finding(*RACE), strategy="noise"))
    bucketer.add(run(1, finding(*RACE), strategy="noise"))
    bucketer.add(run(2, finding(*RACE), finding(*RACE), strategy="pct"))
    bucketer.add(run(3, finding(*OTHER_RACE), strategy="pct"))  # another bucket: not counted here
    bucket = bucketer.buckets[bucket_id(*RACE)]
    assert bucket.strategies == {"noise": 2, "pct": 1}
    assert bucket.runs == {0, 1, 2} and bucket.occurrences == 5


def test_tests_that_showed_a_bucket_are_all_named(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(0, finding(*RACE), test="Cache.Put"))
    bucketer.add(run(1, finding(*RACE), test="Cache.Get"))
    bucketer.add(run(2, finding(*RACE), test="Cache.Put"))
    assert bucketer.buckets[bucket_id(*RACE)].tests == {"Cache.Put", "Cache.Get"}


def test_the_raw_report_is_kept_with_where_it_came_from(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    raw = "WARNING: ThreadSanitizer: data race (pid=4242)\n  Write of size 4 at 0x7b04 by thread T1:\n"
    bucketer.add(run(3, finding(*RACE, raw=raw), strategy="pct"))
    (bucket,) = bucketer.buckets.values()
    (kept,) = (tmp_path / "reports").iterdir()
    assert kept.name == f"{bucket.id}.txt"
    text = kept.read_text()
    assert text.endswith("\n\n" + raw)  # the report itself, whole, after the header
    header = text[:-len(raw)]
    for detail in (bucket.id, "Cache.Concurrent", "run 3", "seed 1003", "schedule pct", "runs/3"):
        assert detail in header


def test_raw_reports_that_are_not_valid_text_are_kept(tmp_path):
    # A test's output may hold any bytes; decoded with surrogateescape they must still reach the disk.
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(0, finding(*RACE, raw="bad byte \udcff here\n")))
    (kept,) = (tmp_path / "reports").iterdir()
    assert kept.read_text(encoding="utf-8").endswith("bad byte \\udcff here\n")


def test_a_lifetime_bug_is_one_bucket_shown_as_its_most_severe_kind(tmp_path):
    # TSan reports one use-after-free as a data race on some runs (the free and the use unordered) and as a
    # heap-use-after-free on others: one bucket, titled by the worse kind, with both kinds counted.
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(0, finding(*RACE)))
    bucketer.add(run(3, finding("heap-use-after-free", RACE[1], raw="use after free, run 3\n")))
    bucketer.add(run(1, finding(*RACE)))
    (bucket,) = bucketer.buckets.values()
    assert bucket.finding.kind == "heap-use-after-free" and bucket.first.run == 3
    assert bucket.kinds == {"data race": 2, "heap-use-after-free": 1} and bucket.runs == {0, 1, 3}
    assert (tmp_path / "reports" / f"{bucket.id}.txt").read_text().endswith("use after free, run 3\n")


def test_a_bucket_keeps_the_earlier_signature_ids_of_its_reports(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    race = finding(*RACE)
    race.legacy_ids = ["0123456789abcdef", "1111111111111111"]
    use_after_free = finding("heap-use-after-free", RACE[1])
    use_after_free.legacy_ids = ["fedcba9876543210", "1111111111111111"]
    bucketer.add(run(0, race, use_after_free))
    (bucket,) = bucketer.buckets.values()
    assert bucket.legacy_ids == {"0123456789abcdef", "fedcba9876543210", "1111111111111111"}


def test_a_failure_that_comes_with_a_race_is_its_symptom(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    lost_update = finding("test failure", ["Counter.Sum", "counter_test.cpp", "Expected: N"])
    lost_update.from_race = True  # one framework test that failed and reported
    other_failure = finding("test failure", ["Counter.Sum", "counter_test.cpp", "Expected: (x) > (N)"])
    for index in range(10):
        # The race on every run; the sum assertion on the even runs only; another check on two runs, one with
        # the race's test but ...
        found = [finding(*RACE)] + ([lost_update] if index % 2 == 0 else [])
        bucketer.add(run(index, *found, test="Counter.Sum"))
    # ... a failure that also happens in runs without the race stays its own bucket.
    bucketer.add(run(10, other_failure, test="Counter.Sum"))
    bucketer.add(run(11, other_failure, finding(*RACE), test="Counter.Sum"))
    symptoms = bucketer.symptoms()
    race_id = bucket_id(*RACE)
    assert symptoms == {bucket_id(lost_update.kind, lost_update.signature): SymptomOf(race_id, 5)}


def test_a_failure_whose_runs_each_had_some_race_of_its_test_is_a_symptom_of_the_commonest(tmp_path):
    # A forked child races in one of two places per run; TSan makes it exit 66 and its parent fails with exit 1 on
    # every run. Neither race covers 90% of the failure's runs alone; every failing run had one of them.
    bucketer = Bucketer(tmp_path / "reports")
    parent_failed = finding("test failure", ["Fork.Child", "exit 1"])
    parent_failed.from_race = True  # a child's report, and its parent's exit status alone
    for index in range(10):
        race = RACE if index < 6 else OTHER_RACE
        bucketer.add(run(index, finding(*race), parent_failed, test="Fork.Child"))
    failure_id = bucket_id(parent_failed.kind, parent_failed.signature)
    assert bucketer.symptoms() == {failure_id: SymptomOf(bucket_id(*RACE), 6)}


def test_a_bucket_lists_the_further_failures_of_its_runs_once_each(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    first = finding("test failure", ["Ledger.Balances", "ledger.cpp", "Expected: N"])
    first.further_messages = ["Expected: (fees) == (0) (ledger.cpp:45)"]
    again = finding("test failure", ["Ledger.Balances", "ledger.cpp", "Expected: N"])
    again.further_messages = ["Expected: (fees) == (0) (ledger.cpp:45)", "Expected: (tax) == (0) (ledger.cpp:48)"]
    bucketer.add(run(0, first, test="Ledger.Balances"))
    bucketer.add(run(1, again, test="Ledger.Balances"))
    (bucket,) = bucketer.buckets.values()
    assert bucket.further_messages == ["Expected: (fees) == (0) (ledger.cpp:45)",
                                       "Expected: (tax) == (0) (ledger.cpp:48)"]


def test_a_failure_in_another_test_is_never_a_symptom(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    bucketer.add(run(0, finding(*RACE), test="A.race"))
    bucketer.add(run(0, finding("crash", ["B.crash", "SIGSEGV"]), test="B.crash"))
    assert bucketer.symptoms() == {}


def test_a_bucket_is_first_seen_when_the_earliest_ending_run_that_shows_it_ends(tmp_path):
    # Two jobs: run 0 started first but ran long; run 1 started later and ended first. Run 0 stays the one to
    # replay; the bucket was known from the end of run 1.
    bucketer = Bucketer(tmp_path / "reports")
    slow, quick = run(0, finding(*RACE)), run(1, finding(*RACE))
    slow.started, slow.duration = 0.0, 5.0
    quick.started, quick.duration = 1.0, 1.25
    bucketer.add(quick)
    bucketer.add(slow)
    bucket = bucketer.buckets[bucket_id(*RACE)]
    assert bucket.first.run == 0 and bucket.seconds == 2.25
    untimed = Bucketer(tmp_path / "other")
    untimed.add(run(2, finding(*RACE)))  # a record outside a session (replay) has no start
    assert untimed.buckets[bucket_id(*RACE)].seconds is None


def test_a_suites_failure_beside_its_races_stays_a_problem_of_its_own(tmp_path):
    # A whole suite in one process: two races and one unrelated failing check in every run, which shows nothing
    # of coming from either race (field tests #21): no tie-break files it under one of them.
    bucketer = Bucketer(tmp_path / "reports")
    unrelated = finding("test failure", ["Suite.All", "suite.c", "closes: ledger_left == N"])
    for index in range(6):
        bucketer.add(run(index, finding(*RACE), finding(*OTHER_RACE), unrelated, test="Suite.All"))
    assert bucketer.symptoms() == {}
    failure = bucketer.buckets[bucket_id(unrelated.kind, unrelated.signature)]
    assert failure.runs == set(range(6)) and failure.runs_from_race == set()


def test_a_failure_is_a_symptom_only_by_the_runs_that_show_it_comes_from_the_race(tmp_path):
    bucketer = Bucketer(tmp_path / "reports")
    for index in range(10):
        failed = finding("test failure", ["Counter.Sum", "counter_test.cpp", "Expected: N"])
        failed.from_race = index < 5  # half the runs ran the suite, half the one test
        bucketer.add(run(index, finding(*RACE), failed, test="Counter.Sum"))
    assert bucketer.symptoms() == {}
