import threading
import time
from collections import Counter

from racegate.arms import SATURATED_AFTER, SINGLE_THREADED, UNOBSERVED
from racegate.model import Finding, Purpose, RunRecord, TestCase
from racegate.schedule import (ALONE_RECHECKS, DEFAULT_RUNS, PLAIN_RECHECKS, SEED_REPLAYS, Scheduler, run_seed,
                               slowdown_limit)

SCHEDULES = ["none", "noise", "pct"]


def make_tests(*names):
    return [TestCase(n, (f"./{n}",)) for n in names]


def finish(scheduler, plan, outcome="pass", threads=2, findings=()):
    scheduler.record(RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, strategy=plan.strategy,
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
    preloads = {(p.test.name, p.strategy, p.preload_shim) for p in plans}
    assert preloads == {("counted", "none", True), ("counted", "none", False), ("counted", "noise", True),
                        ("counted", "pct", True), ("uncounted", "none", True), ("uncounted", "noise", True),
                        ("uncounted", "pct", True)}
    assert plans[0].test.name == "counted" and plans[0].strategy == "none" and plans[0].preload_shim


def test_the_first_run_is_plain_then_every_arm_is_tried_and_seeds_replay():
    s = Scheduler(make_tests("a"), lambda t: ["noise", "pct"], 99, runs=6, deadline=None)
    plans = drain(s, lambda p: ("pass", 2, ()))
    assert plans[0].strategy == "none"
    # Nothing found, equal costs: the exploration bonus shares the runs out over plain, noise and pct.
    assert set(Counter(p.strategy for p in plans[1:]).values()) == {1, 2} and len(plans) == 6
    assert {p.strategy for p in plans} == {"none", "noise", "pct"}
    assert [p.seed for p in plans] == [run_seed(99, "a", k) for k in range(6)]
    assert len({p.seed for p in plans}) == 6
    assert run_seed(99, "a", 0) != run_seed(100, "a", 0)


def test_the_same_master_seed_plans_the_same_runs():
    def plan_with(seed):
        s = Scheduler(make_tests("a", "b", "c"), lambda t: ["noise", "pct"], seed, runs=8, deadline=None)
        return [(p.test.name, p.strategy, p.seed) for p in drain(s, lambda p: ("pass", 2, ()))]

    assert plan_with(5) == plan_with(5)
    assert plan_with(5) != plan_with(6)


def next_with(scheduler, strategy, duration=0.01):
    """Run passing runs until the scheduler plans one under `schedule`; return that plan, not yet finished."""
    while (plan := scheduler.next()).strategy != strategy:
        finish_record(scheduler, plan, duration=duration)
    return plan


def test_showing_a_known_intermittent_race_again_earns_no_more_runs_after_its_first_sightings():
    # "racy" shows the same race on every other run: its first HIT_CREDIT sightings count for the strategy that
    # showed it; after that it finds nothing new, and gets about the share of a test that never fails.
    s = Scheduler(make_tests("steady", "racy"), lambda t: SCHEDULES, 1, runs=None, deadline=time.monotonic() + 3600,
                  bucket_id=key)
    race = Finding("data race", "t", ["x"], [], "")
    started = []
    for _ in range(600):
        plan = s.next()
        started.append(plan.test.name)
        odd = plan.test.name == "racy" and started.count("racy") % 2 == 0
        finish(s, plan, "race" if odd else "pass", 2, [race] if odd else [])
    late = Counter(started[300:])
    assert late["racy"] < 1.5 * late["steady"]
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


def finish_record(scheduler, plan, outcome="pass", duration=0.01, findings=(), cut=None, overlapped=False):
    scheduler.record(RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, strategy=plan.strategy,
                               command=[], outcome=outcome, returncode=0, duration=duration, log_dir="",
                               threads=2, findings=list(findings), cut=cut, overlapped=overlapped))


def test_perturbed_runs_get_a_slowdown_limit_from_the_plain_run():
    s = Scheduler(make_tests("a"), lambda t: ["noise", "pct"], 1, runs=10, deadline=None)
    first = s.next()
    assert first.strategy == "none" and first.slowdown_limit is None
    finish_record(s, first, duration=4.0)
    second = next_with(s, "noise", duration=4.0)
    assert second.slowdown_limit == slowdown_limit(4.0) == 20.0
    assert slowdown_limit(0.05) == 10.05  # short tests get SLOWDOWN_MIN_EXTRA seconds more than their plain run


def test_a_strategy_that_slows_a_test_is_dropped_and_the_test_rechecked_plain():
    s = Scheduler(make_tests("spin"), lambda t: ["noise", "pct"], 1, runs=8, deadline=None)
    finish_record(s, s.next(), duration=1.0)  # plain
    pct = next_with(s, "pct", duration=1.0)
    finish_record(s, pct, outcome="cut", duration=10.0, cut="slow")
    recheck = s.next()
    assert recheck.strategy == "none" and recheck.purpose == "slowdown"
    finish_record(s, recheck)
    rest = drain(s, lambda p: ("pass", 2, ()))
    assert "pct" not in {p.strategy for p in rest}
    (note,) = s.notes()["spin"]
    assert note.startswith("pct slowed this test past 5x its plain run") and "pct disabled for it" in note


def test_a_failure_seen_only_under_perturbation_is_rechecked_plain_and_replayed():
    s = Scheduler(make_tests("a"), lambda t: ["noise", "pct"], 1, runs=10, deadline=None, bucket_id=key)
    finish_record(s, s.next())  # plain, passes
    noisy = next_with(s, "noise")
    failure = Finding("test failure", "t", ["a", "expected 3"], [], "")
    finish_record(s, noisy, outcome="fail", findings=[failure])
    planned = [s.next() for _ in range(PLAIN_RECHECKS + SEED_REPLAYS)]
    assert [(p.strategy, p.purpose) for p in planned] == (
        [("none", "recheck")] * PLAIN_RECHECKS + [("noise", "replay")] * SEED_REPLAYS)
    assert {p.seed for p in planned if p.purpose == "replay"} == {noisy.seed}
    for plan in planned:
        finish_record(s, plan)
    # Once per bucket: the same failure again plans no more re-checks.
    again = s.next()
    finish_record(s, again, outcome="fail", findings=[failure])
    assert all(p.purpose == "" for p in drain(s, lambda p: ("pass", 2, ())))


def test_a_failure_beside_another_copy_is_rechecked_alone_unless_its_run_had_a_tsan_report():
    # A run with a TSan report is that race's run (the failure its symptom, as a forked child's report turns into
    # its parent's failing exit): the race is the project's however many copies ran, so nothing is re-checked.
    race = Finding("data race", "t", ["a.cpp:put", "a.cpp:get"], [], "")
    failure = Finding("test failure", "t", ["a", "exited with status 1"], [], "")
    for findings, alone in (([race, failure], 0), ([failure], ALONE_RECHECKS)):
        s = Scheduler(make_tests("a"), lambda t: ["none"], 1, runs=3, deadline=None, bucket_id=key)
        finish_record(s, s.next(), outcome="fail", findings=findings, overlapped=True)
        planned = drain(s, lambda p: ("pass", 2, ()))
        assert sum(p.purpose == Purpose.ALONE for p in planned) == alone, findings
        assert (s.one_at_a_time() == ["a"]) == bool(alone)


def test_no_run_starts_after_the_deadline():
    s = Scheduler(make_tests("a", "b"), lambda t: SCHEDULES, 1, runs=None, deadline=time.monotonic() - 1)
    assert s.next() is None


# The adaptive rule's consequences (docs/scheduling.md, "Which run next"). Runs are synthetic and decided by
# their seed, which the master seed fixes: each of these plays out the same way every time.
RACE = Finding("data race", "r", ["x", "y"], [], "")
FAILURE = Finding("test failure", "f", ["t", "overdrawn"], [], "")
FAR = 3600.0


def budgeted(names, runs=None, strategies=("noise", "pct"), seed=11, history=None):
    return Scheduler(make_tests(*names), lambda t: list(strategies), seed, runs=runs,
                     deadline=time.monotonic() + FAR, bucket_id=key, history=history)


def play(scheduler, behaviour, n):
    """Start and finish `n` runs one at a time; `behaviour(plan)` gives (outcome, threads, findings)."""
    plans = []
    for _ in range(n):
        plan = scheduler.next()
        plans.append(plan)
        finish(scheduler, plan, *behaviour(plan))
    scheduler.stop()
    return plans


def suite(plan):
    name = plan.test.name
    if name == "steady":  # the same race on every run
        return "race", 4, [RACE]
    if name == "hidden":  # a race only noise shows, on a third of its runs
        found = plan.strategy == "noise" and plan.seed % 3 == 0
        return ("race" if found else "pass"), 2, [RACE] if found else []
    if name == "atomic":  # a check-then-act that plain runs show on a fifth of runs and noise hides
        found = plan.strategy == "none" and plan.seed % 5 == 0
        return ("fail" if found else "pass"), 2, [FAILURE] if found else []
    return "pass", (1 if name == "single" else 3), []


def test_a_test_showing_the_same_buckets_run_after_run_drops_to_a_maintenance_share():
    plans = play(budgeted(["steady", "clean"]), suite, 400)
    counts = Counter(p.test.name for p in plans)
    assert counts["clean"] > 5 * counts["steady"]
    assert counts["steady"] > SATURATED_AFTER  # a small share, not none: it may yet show more


def test_a_multi_threaded_test_that_never_failed_keeps_being_explored():
    plans = play(budgeted(["steady", "clean", "hidden"]), suite, 600)
    late = Counter(p.test.name for p in plans[400:])
    assert late["clean"] >= 20


def test_strategies_that_found_something_for_a_test_get_more_of_its_runs():
    plans = play(budgeted(["hidden"]), suite, 200)
    by_strategy = Counter(p.strategy for p in plans if p.purpose == "")
    assert by_strategy["noise"] > 1.3 * by_strategy["pct"]
    assert by_strategy["noise"] > 1.3 * by_strategy["none"]


def test_plain_repetition_competes_so_a_strategy_that_hurts_a_test_loses_to_it():
    plans = play(budgeted(["atomic"]), suite, 200)
    by_strategy = Counter(p.strategy for p in plans)
    assert by_strategy["none"] > 1.3 * by_strategy["noise"]
    assert by_strategy["none"] > 1.3 * by_strategy["pct"]


def test_single_threaded_passing_tests_run_exactly_once_under_a_budget():
    plans = play(budgeted(["single", "clean"]), suite, 50)
    assert Counter(p.test.name for p in plans)["single"] == 1


def test_runs_caps_every_test_under_a_budget_too():
    s = budgeted(["steady", "clean", "hidden"], runs=7)
    plans = drain(s, suite)
    assert Counter(p.test.name for p in plans if p.purpose == "") == {"steady": 7, "clean": 7, "hidden": 7}


def test_untried_arms_go_first_and_ties_follow_the_master_seed():
    s = budgeted(["clean"], strategies=("noise", "pct", "pin"))
    plans = play(s, suite, 4)
    assert sorted(p.strategy for p in plans[1:]) == ["noise", "pct", "pin"]


def test_an_explicit_schedule_list_is_used_as_is_without_plain_repeats():
    s = Scheduler(make_tests("a"), lambda t: ["pct"], 3, runs=6, deadline=None, plain_arm=False)
    plans = drain(s, lambda p: ("pass", 2, ()))
    assert [p.strategy for p in plans] == ["none"] + ["pct"] * 5


def test_the_single_thread_rule_says_why_it_kept_a_test_to_one_run():
    s = Scheduler(make_tests("single", "multi", "flaky1t"), lambda t: SCHEDULES, 7, runs=3, deadline=None)
    drain(s, lambda p: ("fail" if p.test.name == "flaky1t" else "pass", 2 if p.test.name == "multi" else 1, ()))
    assert s.single_thread_reasons() == {"single": SINGLE_THREADED}


def test_a_test_with_an_uncounted_process_is_repeated_as_multi_threaded():
    # A forking runner whose child exec'd a program without TSan: its first run counted one thread in the
    # processes it saw, later runs (with the shim still preloaded) one too; none of that proves one thread.
    s = Scheduler(make_tests("forks"), lambda t: SCHEDULES, 7, runs=4, deadline=None)
    runs = 0
    while (plan := s.next()) is not None:
        unobserved = "it ran true, which is not built with TSan" if runs == 0 else None
        s.record(RunRecord(test="forks", run=plan.run, seed=plan.seed, strategy=plan.strategy, command=[],
                           outcome="pass", returncode=0, duration=0.01, log_dir="",
                           threads=None if unobserved else 1, threads_unobserved=unobserved))
        runs += 1
    assert runs == 4
    assert s.single_thread_reasons() == {}
    assert s.notes() == {"forks": [f"{UNOBSERVED}: it ran true, which is not built with TSan"]}
