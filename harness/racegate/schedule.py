"""Decide what runs next: every test once, then repetitions where races and flakiness can hide."""
from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Callable

from racegate.batch import PlannedBatch
from racegate.execute import CUT_SLOW
from racegate.kinds import FAILURE_KINDS
from racegate.model import CUT, PlannedRun, RunRecord, TestCase
from racegate.run_env import run_timeout
from racegate.stats import cautious_new_bucket_chance
from racegate.strategies import NONE, SHIM_SCHEDULES

# Fair-share weights: a test that has shown nondeterminism gets this many runs for every run of a plain
# single-threaded one; a multi-threaded (or not yet known) test gets MULTI_THREADED_WEIGHT.
NONDETERMINISTIC_WEIGHT = 4
MULTI_THREADED_WEIGHT = 2
DEFAULT_RUNS = 10
CONFIDENT_MAX_RUNS = 1000  # per test, for --until-confident without --runs or --time-budget


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


def slowdown_limit(plain_seconds: float) -> float:
    return max(SLOWDOWN_FACTOR * plain_seconds, plain_seconds + SLOWDOWN_MIN_EXTRA)


@dataclass
class _Recheck:
    """A run planned to weigh a finding, not to search: plain, or the same seed and strategy again."""

    schedule: str
    seed: int | None  # None: the test's next seed
    purpose: str


@dataclass
class _TestState:
    test: TestCase
    schedules: list[str]  # the perturbation strategies still in use for this test
    started: int = 0
    finished: int = 0
    outcomes: Counter = field(default_factory=Counter)
    bucket_sets: set = field(default_factory=set)
    threads: int | None = None
    plain_seconds: float | None = None  # its first, plain run's duration
    rechecks: deque = field(default_factory=deque)
    notes: list[str] = field(default_factory=list)

    @property
    def nondeterministic(self) -> bool:
        return len(self.outcomes) > 1 or len(self.bucket_sets) > 1

    @property
    def failed(self) -> bool:
        return any(o not in ("pass", CUT) for o in self.outcomes)

    def weight(self) -> int | None:
        """How much repetition this test deserves; None when repeating it cannot find anything new."""
        if self.nondeterministic:
            return NONDETERMINISTIC_WEIGHT
        if self.threads is None or self.threads > 1:
            return MULTI_THREADED_WEIGHT
        # Single-threaded: no data race is possible; repeat only to tell a flaky failure from a steady one.
        return 1 if self.failed else None


class Scheduler:
    """Thread-safe source of planned runs for the worker threads.

    Every test's first run is plain: it measures the test's own duration and thread count. Repetitions then
    rotate the test's strategies, with runs that re-check a finding going first."""

    def __init__(self, tests: list[TestCase], schedules_for: Callable[[TestCase], list[str]], master_seed: int,
                 runs: int | None, deadline: float | None, until_confident: float | None = None,
                 bucket_id: Callable[[str, list[str]], str] | None = None):
        if runs is None and deadline is None:
            # --until-confident alone runs until confident, within a generous cap; otherwise the default.
            runs = CONFIDENT_MAX_RUNS if until_confident is not None else DEFAULT_RUNS
        self.runs = runs
        self.deadline = deadline  # time.monotonic() after which no run starts
        self.master_seed = master_seed
        self.until_confident = until_confident
        self._bucket_id = bucket_id
        self._states = [_TestState(t, list(schedules_for(t))) for t in tests]
        self._by_name = {s.test.name: s for s in self._states}
        self._bucket_runs: Counter = Counter()
        self._rechecked: set[str] = set()  # failure buckets whose re-check is planned
        self._seen_plain: set[str] = set()  # buckets a plain run showed: no re-check needed
        self._next_run = 0
        self._total_finished = 0
        self._stopped = False
        self._cond = threading.Condition()
        self._batches: deque[list[_TestState]] = deque()  # first runs to hand out as batches (batch.py)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def next(self) -> PlannedRun | PlannedBatch | None:
        """The next run to start, or None when the budget is spent; waits while pending runs decide it.
        The first-pass batches come first, while any are left."""
        with self._cond:
            while True:
                if self._stopped or self._out_of_time() or self._confident():
                    return None
                if self._batches:
                    return self._plan_batch(self._batches.popleft())
                state = self._pick()
                if state is not None:
                    return self._plan(state)
                if not any(s.started > s.finished for s in self._states):
                    return None
                self._cond.wait(timeout=1.0)

    # -- the batched first pass: kept apart from the search above --------------------------------------------

    def add_batches(self, batches: list[list[TestCase]]) -> None:
        """Run the first runs of these tests as batches, one process per batch, before any other run."""
        with self._cond:
            self._batches.extend([self._by_name[t.name] for t in batch] for batch in batches)

    def reserve_run(self) -> int:
        """A run index of its own, for a process of a batch (its log dir, its record of what no test owns)."""
        with self._cond:
            run = self._next_run
            self._next_run += 1
            return run

    def _plan_batch(self, states: list[_TestState]) -> PlannedBatch:
        # Each test's first run as _plan makes it (its run index, seed, plain schedule): the tests count as
        # started, so nothing else plans them until their records come back.
        return PlannedBatch(tuple(self._plan(state) for state in states if state.started == 0))

    def record(self, record: RunRecord) -> None:
        with self._cond:
            state = self._by_name[record.test]
            state.finished += 1
            state.outcomes[record.outcome] += 1
            if record.threads is not None:
                state.threads = max(state.threads or 0, record.threads)
            if record.schedule == NONE and state.plain_seconds is None and record.outcome != CUT:
                state.plain_seconds = record.duration
            if record.cut == CUT_SLOW:
                self._drop_slow_strategy(state, record)
            ids: frozenset[str] = frozenset(self._bucket_id(f.kind, f.signature) for f in record.findings) \
                if self._bucket_id else frozenset()
            if record.outcome != CUT:
                state.bucket_sets.add(ids)
            for bucket in ids:
                self._bucket_runs[bucket] += 1
            if record.schedule == NONE:
                self._seen_plain |= ids
            elif self._bucket_id is not None:
                self._recheck_perturbation_failures(state, record)
            self._total_finished += 1
            self._cond.notify_all()

    def notes(self) -> dict[str, list[str]]:
        """What the scheduler changed per test, and why (e.g. a strategy dropped for its slowdown)."""
        with self._cond:
            return {s.test.name: list(s.notes) for s in self._states if s.notes}

    def confidence_estimate(self) -> float:
        """A cautious chance that one more run shows a bucket not seen yet."""
        singletons = sum(1 for n in self._bucket_runs.values() if n == 1)
        return cautious_new_bucket_chance(singletons, self._total_finished)

    def _drop_slow_strategy(self, state: _TestState, record: RunRecord) -> None:
        if record.schedule not in state.schedules:
            return  # a run that started before the strategy was dropped
        state.schedules.remove(record.schedule)
        if not state.schedules:
            state.schedules.append(NONE)
        plain = state.plain_seconds or 0.0
        state.notes.append(
            f"{record.schedule} slowed this test past {SLOWDOWN_FACTOR:g}x its plain run "
            f"({plain:.2f} s plain; stopped after {record.duration:.1f} s): {record.schedule} disabled for it")
        # Whether the test hangs by itself is for a plain run with its normal timeout to say.
        state.rechecks.append(_Recheck(NONE, None, "recheck"))

    def _recheck_perturbation_failures(self, state: _TestState, record: RunRecord) -> None:
        """A failure first seen under perturbation is weighed before it is reported: plain runs, and its seed."""
        for finding in record.findings:
            if finding.kind not in FAILURE_KINDS:
                continue
            bucket = self._bucket_id(finding.kind, finding.signature)  # type: ignore[misc]
            if bucket in self._rechecked or bucket in self._seen_plain:
                continue
            self._rechecked.add(bucket)
            state.rechecks.extend([_Recheck(NONE, None, "recheck")] * PLAIN_RECHECKS)
            state.rechecks.extend([_Recheck(record.schedule, record.seed, "replay")] * SEED_REPLAYS)

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _confident(self) -> bool:
        if self.until_confident is None or any(s.started == 0 for s in self._states):
            return False
        return self.confidence_estimate() < self.until_confident

    def _pick(self) -> _TestState | None:
        # Re-checks of findings first: what is reported should rest on them.
        for state in self._states:
            if state.rechecks:
                return state
        # Every test runs once before any repeats.
        for state in self._states:
            if state.started == 0:
                return state
        best, best_key = None, None
        for state in self._states:
            if self.runs is not None and state.started >= self.runs:
                continue
            if state.finished == 0:
                continue  # its first run decides whether it is worth repeating
            weight = state.weight()
            if weight is None:
                continue
            key = state.started / weight
            if best_key is None or key < best_key:
                best, best_key = state, key
        return best

    def _plan(self, state: _TestState) -> PlannedRun:
        k = state.started
        state.started += 1
        run = self._next_run
        self._next_run += 1
        seed = run_seed(self.master_seed, state.test.name, k)
        purpose = ""
        if state.rechecks:
            recheck = state.rechecks.popleft()
            schedule, purpose = recheck.schedule, recheck.purpose
            seed = recheck.seed if recheck.seed is not None else seed
        elif k == 0:
            schedule = NONE
        else:
            schedule = state.schedules[(k - 1) % len(state.schedules)]
        limit = None
        if schedule != NONE and state.plain_seconds is not None:
            limit = run_timeout(schedule, slowdown_limit(state.plain_seconds))
        return PlannedRun(test=state.test, run=run, seed=seed, schedule=schedule,
                          preload_shim=schedule in SHIM_SCHEDULES or state.threads is None,
                          slowdown_limit=limit, purpose=purpose)
