"""Decide what runs next: every test once, then the runs most likely to find something new per second."""
from __future__ import annotations

import hashlib
import math
import statistics
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Callable

from racegate.arms import MIN_COST, UNOBSERVED, Recheck, TestState
from racegate.focus import REST, group_to_serve
from racegate.history import History, aliases, is_hit
from racegate.kinds import FAILURE_KINDS
from racegate.model import CutCause, Outcome, PlannedBatch, PlannedRun, Purpose, RunRecord, TestCase
from racegate.signature_rules import SIGNATURE_VERSION
from racegate.stats import cautious_new_bucket_chance
from racegate.strategies import NONE, SHIM_STRATEGIES, run_timeout

DEFAULT_RUNS = 10
CONFIDENT_MAX_RUNS = 1000  # per test, for --until-confident without --runs or --time-budget

# The adaptive rule (docs/scheduling.md, "Which run next"). An arm is one (test, strategy) pair (arms.py); its index
# is its optimistic count of new findings per second. EXPLORE scales the bonus for seconds not yet spent on an arm;
# a test whose last SATURATED_AFTER runs all showed the same non-empty bucket set has its index multiplied by
# MAINTENANCE: it keeps a small share (about MAINTENANCE**2 of an unsaturated test's time), in case it shows more.
EXPLORE = 1.0
MAINTENANCE = 0.2


def run_seed(master_seed: int, test: str, k: int) -> int:
    """The seed of the k-th run of `test`: the same master seed replays the same seeds."""
    digest = hashlib.sha256(f"{master_seed}/{test}/{k}".encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:4], "big")


# The slowdown rule: a perturbed run may take SLOWDOWN_FACTOR times the test's plain duration, and at least
# SLOWDOWN_MIN_EXTRA seconds more than it (short tests vary a lot on a loaded machine); past that it is stopped
# as racegate's own slowdown, the strategy is dropped for the test, and the test is re-checked plain.
SLOWDOWN_FACTOR = 5.0
SLOWDOWN_MIN_EXTRA = 10.0
# A failure seen only under perturbation is re-checked: this many plain runs, and replays of its seed.
PLAIN_RECHECKS = 3
SEED_REPLAYS = 2
# A failure first seen while another copy of its test ran is re-checked with the test running alone: a replay of
# its seed and strategy, then plain runs, ALONE_RECHECKS in all (docs/scheduling.md, "Copies of one test"). One
# that shows in a fraction p of runs alone escapes all of them with chance (1 - p) ** ALONE_RECHECKS (3 % at
# p = 0.5), and any later run of the test, alone from then on, that shows it makes it gate again.
ALONE_RECHECKS = 5


def slowdown_limit(plain_seconds: float) -> float:
    return max(SLOWDOWN_FACTOR * plain_seconds, plain_seconds + SLOWDOWN_MIN_EXTRA)


SOLO_AFTER_CLASH = ("a failure showed while another copy of this test ran: re-checked alone, and run one copy at a "
                    "time for the rest of the session")
SOLO_FROM_HISTORY = "run one copy at a time: an earlier session (--history) saw its copies interfere"


@dataclass(frozen=True)
class _Choice:
    state: TestState
    strategy: str | None  # None: the test's first run, or its next re-check


class Scheduler:
    """Thread-safe source of planned runs for the worker threads.

    Every test's first run is plain: it measures the test's own duration and thread count. Runs that re-check a
    finding go first; then the (test, strategy) arm with the highest optimistic new findings per second."""

    def __init__(self, tests: list[TestCase], strategies_for: Callable[[TestCase], list[str]], master_seed: int,
                 runs: int | None, deadline: float | None, until_confident: float | None = None,
                 bucket_id: Callable[[str, list[str]], str] | None = None, history: History | None = None,
                 plain_arm: bool = True, focus: dict[str, str] | None = None):
        if runs is None and deadline is None:
            # --until-confident alone runs until confident, within a generous cap; otherwise the default.
            runs = CONFIDENT_MAX_RUNS if until_confident is not None else DEFAULT_RUNS
        self.runs = runs
        self.deadline = deadline  # time.monotonic() after which no run starts
        self.master_seed = master_seed
        self.until_confident = until_confident
        self._bucket_id = bucket_id
        self._plain_arm = plain_arm  # plain runs compete with the strategies (False: only the listed ones)
        past = history.tests if history else {}
        # The history's ids are of this signature version or a later one (History.signature_version).
        self._history_version = history.signature_version if history else SIGNATURE_VERSION
        self._aliases: dict[str, str] = {}  # shared by every test: a bug may show in several
        self._states = [TestState(t, list(strategies_for(t)), past=past.get(t.name), aliases=self._aliases,
                                  group=focus.get(t.name, REST) if focus else None) for t in tests]
        # Seconds of finished runs per focus group: the shares of focus.py rule the repetitions.
        self._group_spent: dict[str, float] | None = {} if focus else None
        self._by_name = {s.test.name: s for s in self._states}
        for state in self._states:
            if state.past is not None and state.past.one_at_a_time:
                state.solo = True
                state.notes.append(SOLO_FROM_HISTORY)
        # First runs in CTest order, except that what history says failed or runs several threads goes first, and
        # under a focus (--changed-since) the group closest to the change before all that.
        self._first_order = sorted(self._states, key=TestState.first_run_key)
        self._bucket_runs: Counter = Counter()
        self._rechecked: set[str] = set()  # failure buckets whose re-check is planned
        self._checked_alone: set[str] = set()  # failure buckets whose re-check alone is planned
        self._seen_plain: set[str] = set()  # buckets a plain run showed: no re-check needed
        self._purpose: dict[int, Purpose] = {}  # run index -> why it was planned, for runs that are no sample
        self._spent = 0.0  # seconds of every finished run
        self._unit: float | None = None  # cached by _time_unit
        self._next_run = 0
        self._total_finished = 0
        self._stopped = False
        self._cond = threading.Condition()
        # First runs to hand out as batches (batch.py), each with its rank in history's order (add_batches).
        self._batches: deque[tuple[tuple[int, int], list[TestState]]] = deque()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def next(self) -> PlannedRun | PlannedBatch | None:
        """The next run to start, or None when the budget is spent; waits while pending runs decide it.
        The first-pass batches come before every repetition, in history's order of first runs (_next_batch)."""
        with self._cond:
            while True:
                if self._stopped or self._out_of_time() or self._confident():
                    return None
                batch = self._next_batch()
                if batch is not None:
                    return self._plan_batch(batch)
                state = self._pick()
                if state is not None:
                    return self._plan(state)
                if not any(s.started > s.finished for s in self._states):
                    return None
                self._cond.wait(timeout=1.0)

    # -- the batched first pass: kept apart from the search above --------------------------------------------

    def add_batches(self, batches: list[list[TestCase]]) -> None:
        """Run the first runs of these tests as batches, one process per batch, before any repetition.

        The first pass keeps history's order (first_run_rank): a batch ranks as its best test (gtest runs a
        process's tests in its own order, so a batch is one unit), and batches and tests outside every batch go
        by rank. A test alone that history saw fail goes before every batch, even one holding a failed test: it
        is one short process, and only alone is it sure to run first. Otherwise batches go first at equal rank:
        each holds many first runs, and starting the longest processes first spreads the pass over the jobs."""
        with self._cond:
            for batch in batches:
                states = [self._by_name[t.name] for t in batch]
                for state in states:
                    state.batched = True
                self._batches.append((min(s.first_run_key() for s in states), states))
            self._batches = deque(sorted(self._batches, key=lambda b: b[0]))

    def reserve_run(self) -> int:
        """A run index of its own, for a process of a batch (its log dir, its record of what no test owns)."""
        with self._cond:
            run = self._next_run
            self._next_run += 1
            return run

    def _next_batch(self) -> list[TestState] | None:
        """The next batch to hand out, unless a test outside every batch comes before it (add_batches)."""
        if not self._batches:
            return None
        alone = next((s for s in self._first_order if s.started == 0 and not s.batched), None)
        rank, states = self._batches[0]
        if alone is not None and (alone.first_run_key() < rank or (alone.past is not None and alone.past.failed
                                                                   and alone.first_run_key()[0] <= rank[0])):
            return None
        self._batches.popleft()
        return states

    def _plan_batch(self, states: list[TestState]) -> PlannedBatch:
        # Each test's first run as _plan makes it (its run index, seed, plain schedule): the tests count as
        # started, so nothing else plans them until their records come back.
        return PlannedBatch(tuple(self._plan(_Choice(state, None)) for state in states if state.started == 0))

    def record(self, record: RunRecord) -> None:
        with self._cond:
            state = self._by_name[record.test]
            state.finished += 1
            state.outcomes[record.outcome] += 1
            if record.threads is not None:
                state.threads = max(state.threads or 0, record.threads)
            if record.threads_unobserved and state.unobserved is None:
                state.unobserved = record.threads_unobserved
                state.notes.append(f"{UNOBSERVED}: {record.threads_unobserved}")
            if record.strategy == NONE and state.plain_seconds is None and record.outcome == "timeout":
                state.unfinished = True
            if record.strategy == NONE and state.plain_seconds is None and record.outcome != Outcome.CUT:
                state.plain_seconds = record.duration
                self._unit = None
            if record.cut == CutCause.SLOW:
                self._drop_slow_strategy(state, record)
            ids: frozenset[str] = frozenset(self._bucket_id(f.kind, f.signature) for f in record.findings) \
                if self._bucket_id else frozenset()
            if self._bucket_id is not None and self._history_version < SIGNATURE_VERSION:
                self._aliases.update(aliases(record.findings, self._bucket_id, self._history_version))
            if not ids and record.outcome.is_failure:
                ids = frozenset({record.outcome})  # no bucketer: the outcome is what the run showed
            arm = state.arm(record.strategy)
            arm.seconds += record.duration
            arm.timed += 1
            self._spent += record.duration
            if self._group_spent is not None:
                group = state.group or REST
                self._group_spent[group] = self._group_spent.get(group, 0.0) + record.duration
            searched = not self._purpose.pop(record.run, Purpose.SEARCH).verifies
            if record.outcome != Outcome.CUT:
                if searched:
                    state.recent.append(ids)
                    arm.runs += 1
                    arm.hits += is_hit(ids, state.steady, state.sightings)
                    arm.buckets.update(ids)
                state.steady = ids if state.steady is None else state.steady & ids
                state.sightings.update(ids)
            for bucket in ids:
                self._bucket_runs[bucket] += 1
            if record.strategy == NONE:
                self._seen_plain |= ids
            elif self._bucket_id is not None:
                self._recheck_perturbation_failures(state, record)
            if record.overlapped and record.outcome != Outcome.CUT and self._bucket_id is not None:
                self._recheck_alone(state, record)
            self._total_finished += 1
            self._cond.notify_all()

    def single_thread_reasons(self) -> dict[str, str]:
        """{test: why it was not repeated} for the tests the single-thread rule kept to their first run."""
        with self._cond:
            return {s.test.name: reason for s in self._states if (reason := s.single_thread_reason())}

    def notes(self) -> dict[str, list[str]]:
        """What the scheduler changed per test, and why (e.g. a strategy dropped for its slowdown)."""
        with self._cond:
            return {s.test.name: list(s.notes) for s in self._states if s.notes}

    def confidence_estimate(self) -> float:
        """A cautious chance that one more run shows a bucket not seen yet."""
        singletons = sum(1 for n in self._bucket_runs.values() if n == 1)
        return cautious_new_bucket_chance(singletons, self._total_finished)

    def _drop_slow_strategy(self, state: TestState, record: RunRecord) -> None:
        if record.strategy not in state.strategies:
            return  # a run that started before the strategy was dropped
        state.strategies.remove(record.strategy)
        plain = state.plain_seconds or 0.0
        state.notes.append(
            f"{record.strategy} slowed this test past {SLOWDOWN_FACTOR:g}x its plain run "
            f"({plain:.2f} s plain; stopped after {record.duration:.1f} s): {record.strategy} disabled for it")
        # Whether the test hangs by itself is for a plain run with its normal timeout to say.
        state.rechecks.append(Recheck(NONE, None, Purpose.SLOWDOWN))

    def _recheck_perturbation_failures(self, state: TestState, record: RunRecord) -> None:
        """A failure first seen under perturbation is weighed before it is reported: plain runs, and its seed."""
        for finding in record.findings:
            if finding.kind not in FAILURE_KINDS:
                continue
            bucket = self._bucket_id(finding.kind, finding.signature)  # type: ignore[misc]
            if bucket in self._rechecked or bucket in self._seen_plain:
                continue
            self._rechecked.add(bucket)
            state.rechecks.extend([Recheck(NONE, None, Purpose.RECHECK)] * PLAIN_RECHECKS)
            state.rechecks.extend([Recheck(record.strategy, record.seed, Purpose.REPLAY)] * SEED_REPLAYS)

    def _recheck_alone(self, state: TestState, record: RunRecord) -> None:
        """A failure first seen while another copy of the test ran is weighed with the test alone before it gates:
        its seed replayed, then plain runs, through the same queue of re-checks; the test runs one copy at a time
        from then on, so those runs and every later one are alone. A run with a TSan report is left as it is: the
        race is the project's however many copies ran, and its failures are that race's symptom (bucket.py)."""
        if any(f.kind not in FAILURE_KINDS for f in record.findings):
            return
        for finding in record.findings:
            bucket = self._bucket_id(finding.kind, finding.signature)  # type: ignore[misc]
            if bucket in self._checked_alone:
                continue
            self._checked_alone.add(bucket)
            if not state.solo:
                state.solo = True
                state.notes.append(SOLO_AFTER_CLASH)
            state.rechecks.append(Recheck(record.strategy, record.seed, Purpose.ALONE))
            state.rechecks.extend([Recheck(NONE, None, Purpose.ALONE)] * (ALONE_RECHECKS - 1))

    def one_at_a_time(self) -> list[str]:
        """The tests that run one copy at a time, for the next session's history."""
        with self._cond:
            return [s.test.name for s in self._states if s.solo]

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _confident(self) -> bool:
        if self.until_confident is None or any(s.started == 0 for s in self._states):
            return False
        return self.confidence_estimate() < self.until_confident

    def _pick(self) -> _Choice | None:
        # Re-checks of findings first: what is reported should rest on them.
        for state in self._states:
            if state.rechecks and not state.held_back:
                return _Choice(state, None)
        # Every test runs once before any repeats; a batched one with its batch (next).
        for state in self._first_order:
            if state.started == 0 and not state.batched:
                return _Choice(state, None)
        best: _Choice | None = None
        best_key: tuple[float, int] | None = None
        unit = self._time_unit()
        # The part of every arm's exploration bonus that does not depend on the arm (see _terms).
        bonus = EXPLORE / unit * math.sqrt(math.log(2.0 + self._spent / unit))
        for state in self._repeatable_now():
            for strategy, exploit, inverse_exposure, factor, tie in self._terms(state, unit):
                key = ((exploit + bonus * inverse_exposure) * factor, tie)
                if best_key is None or key > best_key:
                    best, best_key = _Choice(state, strategy), key
        return best

    def _repeatable_now(self) -> list[TestState]:
        """The tests a repetition may go to now; under a focus, only those of the group furthest below its share."""
        # A test's first run decides whether it is worth repeating; a solo test waits for its copy.
        states = [s for s in self._states if (self.runs is None or s.started < self.runs) and s.finished
                  and s.repeatable() and not s.held_back]
        if self._group_spent is not None and states:
            group = group_to_serve({s.group or REST for s in states}, self._group_spent)
            states = [s for s in states if s.group == group]
        return states

    def _terms(self, state: TestState, unit: float) -> list[tuple[str, float, float, float, int]]:
        """Per arm of the test, the parts of its index that change only when the test's own runs do.

        The index is the arm's optimistic new findings per second: exploit, what its runs showed per second of
        their cost, plus a bonus that shrinks with the seconds already spent on it (so that, without findings,
        arms share time evenly), times the saturation factor:
            (exploit + EXPLORE / unit * sqrt(ln(2 + spent / unit)) / sqrt(exposure)) * factor
        Cached per test: a pick compares thousands of arms in a large suite, and only one test changes per run."""
        cache_key = (state.finished, len(state.strategies), unit)
        if state.terms_key == cache_key:
            return state.terms
        terms = []
        factor = MAINTENANCE if state.saturated else 1.0
        for strategy in state.candidates(self._plain_arm):
            arm = state.arm(strategy)
            cost = arm.cost(state.mean_cost(unit))
            # Half a hit imagined on top of what was seen: an arm not yet run starts at 1/2 and comes first among
            # equally cheap ones; one that keeps showing nothing sinks towards 0.
            hit_rate = (arm.hits + arm.prior_hits + 0.5) / (arm.runs + arm.prior_runs + 1.0)
            exploit = (arm.good_turing() + hit_rate) / cost
            # An arm not yet run counts as one run's exposure: it is not infinitely uncertain, only optimistic.
            exposure = max(arm.seconds + arm.prior_runs * cost, cost) / unit
            terms.append((strategy, exploit, 1.0 / math.sqrt(exposure), factor, self._tie_break(state, strategy)))
        state.terms_key, state.terms = cache_key, terms
        return terms

    def _time_unit(self) -> float:
        """The session's typical run, which turns seconds spent into a count of runs for the exploration bonus:
        the median plain duration, computed again only when a test's first plain run ends."""
        if self._unit is None:
            plain = [s.plain_seconds for s in self._states if s.plain_seconds is not None]
            self._unit = max(statistics.median(plain), MIN_COST) if plain else 1.0
        return self._unit

    def _tie_break(self, state: TestState, strategy: str) -> int:
        # Equal indexes (arms nothing has told apart yet) are ordered by the master seed, not by dict order.
        digest = hashlib.sha256(f"{self.master_seed}/{state.test.name}/{strategy}".encode(
            "utf-8", "surrogateescape")).digest()
        return int.from_bytes(digest[:4], "big")

    def _plan(self, choice: _Choice) -> PlannedRun:
        state = choice.state
        k = state.started
        state.started += 1
        run = self._next_run
        self._next_run += 1
        seed = run_seed(self.master_seed, state.test.name, k)
        purpose = Purpose.SEARCH
        if state.rechecks:
            recheck = state.rechecks.popleft()
            strategy, purpose = recheck.strategy, recheck.purpose
            seed = recheck.seed if recheck.seed is not None else seed
            self._purpose[run] = purpose
        else:
            strategy = choice.strategy or NONE
        limit = None
        if strategy != NONE and state.plain_seconds is not None:
            limit = run_timeout(strategy, slowdown_limit(state.plain_seconds))
        return PlannedRun(test=state.test, run=run, seed=seed, strategy=strategy,
                          preload_shim=strategy in SHIM_STRATEGIES or state.threads is None,
                          slowdown_limit=limit, purpose=purpose)
