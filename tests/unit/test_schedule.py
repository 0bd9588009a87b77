import threading
import time
from collections import Counter

from racegate.model import Finding, RunRecord, TestCase
from racegate.schedule import DEFAULT_RUNS, PLAIN_RECHECKS, SEED_REPLAYS, Scheduler, run_seed, slowdown_limit

SCHEDULES = ["none", "noise", "pct"]


def make_tests(*names):
    return [TestCase(n, (f"./{n}",)) for n in names]


def finish(scheduler, plan, outcome="pass", threads=2, findings=()):
    scheduler.record(RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, schedule=plan.schedule,
                               command=[], outcome=outcome, returncode=0, duration=0.01, log_dir="",
                               threads=threads, findings=list(findings)))


def drain(scheduler, behaviour):
    """Run the scheduler to the end one run at a time; `behaviour(plan)` gives (outcome, threads, findings)."""
    plans = []
    while (plan := scheduler.next()) is not None:
        plans.append(plan)
        finish(scheduler, plan, *behaviour(plan))
    return plans


def key(kind, signature):
    return kind + "|" + "|".join(signature)


def test_every_test_runs_first_then_repeats_up_to_runs():
    s = Scheduler(make_tests("a", "b", "c"), lambda t: SCHEDULES, 7, runs=4, deadline=None)
    plans = drain(s, lambda p: ("pass", 2, ()))
    assert [p.test.name for p in plans[:3]] == ["a", "b", "c"]
    assert Counter(p.test.name for p in plans) == {"a": 4, "b": 4, "c": 4}
    assert [p.run for p in plans] == list(range(12))


def test_default_is_ten_runs_without_a_budget():
    s = Scheduler(make_tests("a"), lambda t: SCHEDULES, 7, runs=None, deadline=None)
    assert len(drain(s, lambda p: ("pass", 2, ()))) == DEFAULT_RUNS


def test_single_threaded_passing_test_is_not_repeated_but_a_failing_one_is():
    s = Scheduler(make_tests("single", "flaky1t", "multi"), lambda t: SCHEDULES, 7, runs=5, deadline=None)
    plans = drain(s, lambda p: ("fail" if p.test.name == "flaky1t" else "pass", 2 if p.test.name == "multi" else 1, ()))
    counts = Counter(p.test.name for p in plans)
    assert counts == {"single": 1, "flaky1t": 5, "multi": 5}


def test_shim_is_preloaded_where_it_perturbs_and_elsewhere_until_the_thread_count_is_known():
    s = Scheduler(make_tests("counted", "uncounted"), lambda t: SCHEDULES, 7, runs=6, deadline=None)
    plans = drain(s, lambda p: ("pass", 3 if p.test.name == "counted" else None, ()))
    preloads = {(p.test.name, p.schedule, p.preload_shim) for p in plans}
    assert preloads == {("counted", "none", True), ("counted", "none", False), ("counted", "noise", True),
                        ("counted", "pct", True), ("uncounted", "none", True), ("uncounted", "noise", True),
                        ("uncounted", "pct", True)}
    assert plans[0].test.name == "counted" and plans[0].schedule == "none" and plans[0].preload_shim


def test_the_first_run_is_plain_then_schedules_rotate_per_test_and_seeds_replay():
    s = Scheduler(make_tests("a"), lambda t: ["noise", "pct"], 99, runs=6, deadline=None)
    plans = drain(s, lambda p: ("pass", 2, ()))
    assert [p.schedule for p in plans] == ["none", "noise", "pct", "noise", "pct", "noise"]
    assert [p.seed for p in plans] == [run_seed(99, "a", k) for k in range(6)]
    assert len({p.seed for p in plans}) == 6
    assert run_seed(99, "a", 0) != run_seed(100, "a", 0)


def test_time_budget_favours_nondeterministic_tests():
    # With a budget, a test that raced in some runs only gets more runs than a steady multi-threaded one.
    s = Scheduler(make_tests("steady", "racy"), lambda t: SCHEDULES, 1, runs=None, deadline=time.monotonic() + 3600)
    race = Finding("data race", "t", ["x"], [], "")
    started = []
    for _ in range(60):
        plan = s.next()
        started.append(plan.test.name)
        odd = plan.test.name == "racy" and started.count("racy") % 2 == 0
        finish(s, plan, "race" if odd else "pass", 2, [race] if odd else [])
    counts = Counter(started)
    assert counts["racy"] > 1.5 * counts["steady"]
    s.stop()
    assert s.next() is None


def test_until_confident_stops_when_no_new_buckets_appear():
    s = Scheduler(make_tests("a"), lambda t: SCHEDULES, 1, runs=1000, deadline=None, until_confident=0.05,
                  bucket_id=key)
    plans = drain(s, lambda p: ("pass", 2, ()))
    # (singletons + 1) / (runs + 1) < 0.05 first holds after 20 runs.
    assert len(plans) == 20


def test_workers_wait_for_a_first_run_before_repeating_it():
    s = Scheduler(make_tests("a"), lambda t: SCHEDULES, 1, runs=3, deadline=None)
    first = s.next()
    got = []
    waiter = threading.Thread(target=lambda: got.append(s.next()))
    waiter.start()
    waiter.join(timeout=0.3)
    assert waiter.is_alive()  # blocked: whether "a" deserves a repeat depends on its first run
    finish(s, first, "pass", 4)
    waiter.join(timeout=5)
    assert got and got[0].test.name == "a" and got[0].run == 1


def finish_record(scheduler, plan, outcome="pass", duration=0.01, findings=(), cut=None):
    scheduler.record(RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, schedule=plan.schedule,
                               command=[], outcome=outcome, returncode=0, duration=duration, log_dir="",
                               threads=2, findings=list(findings), cut=cut))


def test_perturbed_runs_get_a_slowdown_limit_from_the_plain_run():
    s = Scheduler(make_tests("a"), lambda t: ["noise", "pct"], 1, runs=3, deadline=None)
    first = s.next()
    assert first.schedule == "none" and first.slowdown_limit is None
    finish_record(s, first, duration=4.0)
    second = s.next()
    assert second.schedule == "noise" and second.slowdown_limit == slowdown_limit(4.0) == 20.0
    assert slowdown_limit(0.05) == 10.05  # short tests get SLOWDOWN_MIN_EXTRA seconds more than their plain run


def test_a_strategy_that_slows_a_test_is_dropped_and_the_test_rechecked_plain():
    s = Scheduler(make_tests("spin"), lambda t: ["noise", "pct"], 1, runs=8, deadline=None)
    finish_record(s, s.next(), duration=1.0)  # plain
    finish_record(s, s.next())  # noise
    pct = s.next()
    assert pct.schedule == "pct"
    finish_record(s, pct, outcome="cut", duration=10.0, cut="slow")
    recheck = s.next()
    assert recheck.schedule == "none" and recheck.purpose == "recheck"
    finish_record(s, recheck)
    rest = drain(s, lambda p: ("pass", 2, ()))
    assert {p.schedule for p in rest} == {"noise"}
    (note,) = s.notes()["spin"]
    assert note.startswith("pct slowed this test past 5x its plain run") and "pct disabled for it" in note


def test_a_failure_seen_only_under_perturbation_is_rechecked_plain_and_replayed():
    s = Scheduler(make_tests("a"), lambda t: ["noise", "pct"], 1, runs=10, deadline=None, bucket_id=key)
    finish_record(s, s.next())  # plain, passes
    noisy = s.next()
    failure = Finding("test failure", "t", ["a", "expected 3"], [], "")
    finish_record(s, noisy, outcome="fail", findings=[failure])
    planned = [s.next() for _ in range(PLAIN_RECHECKS + SEED_REPLAYS)]
    assert [(p.schedule, p.purpose) for p in planned] == (
        [("none", "recheck")] * PLAIN_RECHECKS + [("noise", "replay")] * SEED_REPLAYS)
    assert {p.seed for p in planned if p.purpose == "replay"} == {noisy.seed}
    for plan in planned:
        finish_record(s, plan)
    # Once per bucket: the same failure again plans no more re-checks.
    again = s.next()
    finish_record(s, again, outcome="fail", findings=[failure])
    assert all(p.purpose == "" for p in drain(s, lambda p: ("pass", 2, ())))


def test_no_run_starts_after_the_deadline():
    s = Scheduler(make_tests("a", "b"), lambda t: SCHEDULES, 1, runs=None, deadline=time.monotonic() - 1)
    assert s.next() is None
