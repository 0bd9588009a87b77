"""Decide what runs next: every test once, then repetitions where races and flakiness can hide."""
from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from racegate.model import PlannedRun, RunRecord, TestCase
from racegate.stats import cautious_new_bucket_chance
from racegate.strategies import SHIM_SCHEDULES

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


@dataclass
class _TestState:
    test: TestCase
    schedules: list[str]
    started: int = 0
    finished: int = 0
    outcomes: Counter = field(default_factory=Counter)
    bucket_sets: set = field(default_factory=set)
    threads: int | None = None

    @property
    def nondeterministic(self) -> bool:
        return len(self.outcomes) > 1 or len(self.bucket_sets) > 1

    @property
    def failed(self) -> bool:
        return any(o != "pass" for o in self.outcomes)

    def weight(self) -> int | None:
        """How much repetition this test deserves; None when repeating it cannot find anything new."""
        if self.nondeterministic:
            return NONDETERMINISTIC_WEIGHT
        if self.threads is None or self.threads > 1:
            return MULTI_THREADED_WEIGHT
        # Single-threaded: no data race is possible; repeat only to tell a flaky failure from a steady one.
        return 1 if self.failed else None


class Scheduler:
    """Thread-safe source of planned runs for the worker threads."""

    def __init__(self, tests: list[TestCase], schedules_for: Callable[[TestCase], list[str]], master_seed: int,
                 runs: int | None, time_budget: float | None, until_confident: float | None = None,
                 bucket_id: Callable[[str, list[str]], str] | None = None):
        if runs is None and time_budget is None:
            # --until-confident alone runs until confident, within a generous cap; otherwise the default.
            runs = CONFIDENT_MAX_RUNS if until_confident is not None else DEFAULT_RUNS
        self.runs = runs
        self.deadline = time.monotonic() + time_budget if time_budget is not None else None
        self.master_seed = master_seed
        self.until_confident = until_confident
        self._bucket_id = bucket_id
        self._states = [_TestState(t, schedules_for(t)) for t in tests]
        self._by_name = {s.test.name: s for s in self._states}
        self._bucket_runs: Counter = Counter()
        self._next_run = 0
        self._total_finished = 0
        self._stopped = False
        self._cond = threading.Condition()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def next(self) -> PlannedRun | None:
        """The next run to start, or None when the budget is spent; waits while pending runs decide it."""
        with self._cond:
            while True:
                if self._stopped or self._out_of_time() or self._confident():
                    return None
                state = self._pick()
                if state is not None:
                    return self._plan(state)
                if not any(s.started > s.finished for s in self._states):
                    return None
                self._cond.wait(timeout=1.0)

    def record(self, record: RunRecord) -> None:
        with self._cond:
            state = self._by_name[record.test]
            state.finished += 1
            state.outcomes[record.outcome] += 1
            ids = frozenset(self._bucket_id(f.kind, f.signature) for f in record.findings) if self._bucket_id else ()
            state.bucket_sets.add(ids)
            for bucket in ids:
                self._bucket_runs[bucket] += 1
            if record.threads is not None:
                state.threads = max(state.threads or 0, record.threads)
            self._total_finished += 1
            self._cond.notify_all()

    def confidence_estimate(self) -> float:
        """A cautious chance that one more run shows a bucket not seen yet."""
        singletons = sum(1 for n in self._bucket_runs.values() if n == 1)
        return cautious_new_bucket_chance(singletons, self._total_finished)

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _confident(self) -> bool:
        if self.until_confident is None or any(s.started == 0 for s in self._states):
            return False
        return self.confidence_estimate() < self.until_confident

    def _pick(self) -> _TestState | None:
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
        schedule = state.schedules[k % len(state.schedules)]
        return PlannedRun(test=state.test, run=run, seed=run_seed(self.master_seed, state.test.name, k),
                          schedule=schedule, preload_shim=schedule in SHIM_SCHEDULES or state.threads is None)
