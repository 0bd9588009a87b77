"""What the planner knows of each test as its runs come back (schedule.py decides from it).

A `TestState` per test: its runs started and finished, what they showed, whether it is saturated (the same buckets
run after run), the single-thread rule, the re-checks queued for it, its place in the order of first runs; and an
`Arm` per strategy on it, the (test, strategy) pair the adaptive rule weighs: what its runs cost and showed, with
what an earlier session (--history) said of it as a prior (docs/scheduling.md, "Which run next").
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from racegate.focus import first_run_order
from racegate.history import TestHistory
from racegate.model import Purpose, TestCase
from racegate.strategies import NONE

# A test whose last SATURATED_AFTER runs all showed the same non-empty bucket set is saturated (schedule.py
# scales its index down to a maintenance share).
SATURATED_AFTER = 3
# Runs that earlier sessions (--history) count as, at most, per arm: enough to start from their weights, few
# enough that this session's own runs overrule a stale history within a handful of runs.
HISTORY_RUNS = 10.0
MIN_COST = 0.001  # seconds: no run is free, so no arm's index is infinite
# The single-thread rule (TestState.repeatable): what a result says of a test it kept to one run, and of one it
# repeated because some process's threads went uncounted.
SINGLE_THREADED = ("not repeated: one thread in every process of its runs, all of them counted by the shim, and "
                   "one thread cannot race")
UNOBSERVED = "treated as multi-threaded: the shim could not count the threads of every process"


@dataclass
class Recheck:
    """A run planned to weigh a finding, not to search: plain, or the same seed and strategy again."""

    strategy: str
    seed: int | None  # None: the test's next seed
    purpose: Purpose


@dataclass
class Arm:
    """One strategy on one test: what its runs cost and what they showed."""

    runs: int = 0  # finished search runs (re-checks and replays weigh a finding; they are not a sample)
    seconds: float = 0.0  # spent on it, re-checks included: they cost the budget like any run
    timed: int = 0  # runs whose duration `seconds` holds
    hits: int = 0  # search runs that found something about the test (history.is_hit)
    buckets: Counter = field(default_factory=Counter)  # bucket -> search runs that showed it
    prior_runs: float = 0.0  # from --history, scaled down to at most HISTORY_RUNS
    prior_hits: float = 0.0
    prior_cost: float | None = None

    def cost(self, fallback: float) -> float:
        if self.timed:
            return max(self.seconds / self.timed, MIN_COST)
        return max(self.prior_cost if self.prior_cost is not None else fallback, MIN_COST)

    def good_turing(self) -> float:
        """The chance that its next run shows a bucket its runs have not shown: singletons over runs."""
        if not self.runs:
            return 0.0
        return sum(1 for n in self.buckets.values() if n == 1) / self.runs


@dataclass
class TestState:
    """One test as the planner follows it through the session."""

    __test__ = False  # not a pytest test class

    test: TestCase
    strategies: list[str]  # the perturbation strategies still in use for this test
    started: int = 0
    finished: int = 0
    outcomes: Counter = field(default_factory=Counter)
    steady: frozenset | None = None  # the buckets every finished run showed; None before any
    sightings: Counter = field(default_factory=Counter)  # bucket -> finished runs that showed it
    recent: deque = field(default_factory=lambda: deque(maxlen=SATURATED_AFTER))
    threads: int | None = None
    unobserved: str | None = None  # why some run could not count the threads of every process (shim.thread_count)
    plain_seconds: float | None = None  # its first, plain run's duration
    rechecks: deque = field(default_factory=deque)
    notes: list[str] = field(default_factory=list)
    arms: dict[str, Arm] = field(default_factory=dict)
    past: TestHistory | None = None
    # Bucket ids of an older signature version, as `past` may hold them -> current ids (Scheduler.record).
    aliases: dict[str, str] = field(default_factory=dict)
    batched: bool = False  # its first run goes in a batch (Scheduler.add_batches), not on its own
    # One copy at a time: a failure was seen while another copy of it ran (this session or, through --history,
    # an earlier one); no run of it starts while another is running.
    solo: bool = False
    # Its first plain run was stopped at its timeout: it never finishes under TSan, so repeating it costs a whole
    # timeout per run and shows nothing new (result.unfinished_after names it in the result).
    unfinished: bool = False
    group: str | None = None  # its --changed-since focus group (focus.GROUPS); None without a focus
    terms_key: tuple | None = None  # what Scheduler._terms last computed `terms` from
    terms: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(o.is_failure for o in self.outcomes)

    @property
    def held_back(self) -> bool:
        """A run of it must wait: it runs one copy at a time and a copy is running."""
        return self.solo and self.started > self.finished

    @property
    def saturated(self) -> bool:
        """The same non-empty bucket set on its last SATURATED_AFTER runs: more of them tell nobody anything.
        A test whose history showed the same buckets on every run (no strategy ever had a hit) is saturated as
        soon as this session's runs show exactly those buckets again."""
        if not self.recent or len(set(self.recent)) != 1 or not self.recent[0]:
            return False
        return len(self.recent) == SATURATED_AFTER or self.recent[0] == self._steady_in_history()

    def _steady_in_history(self) -> frozenset | None:
        past = self.past
        if past is None or not past.buckets or any(s.hits for s in past.strategies.values()) or \
                sum(s.runs for s in past.strategies.values()) < SATURATED_AFTER:
            return None
        return frozenset(self.aliases.get(b, b) for b in past.buckets)

    def repeatable(self) -> bool:
        """Whether repeating it can find anything: not for a single-threaded test that passed, which can have no
        data race; a failing one is repeated to tell a flaky failure from a steady one. Single-threaded means one
        thread in every process of the test, each of them counted: a run in which some process went uncounted (a
        program without TSan, a child that wrote no report) makes it multi-threaded for the session, whatever
        other runs counted, as does a run that counted nothing. One whose plain run never finished is not
        repeated either: each repetition would cost a whole timeout and show nothing new."""
        if self.unfinished:
            return False
        return self.threads is None or self.threads > 1 or self.failed or self.unobserved is not None

    def single_thread_reason(self) -> str | None:
        """Why the single-thread rule kept it from being repeated, once it did; None when it did not."""
        if self.finished == 0 or self.unfinished or self.repeatable():
            return None
        return SINGLE_THREADED

    def candidates(self, plain_arm: bool) -> list[str]:
        # With the default portfolio plain repetition is an arm too: a strategy can hurt a test (noise's delays
        # at thread start stagger threads that must overlap), and the search notices only if plain runs compete.
        return list(dict.fromkeys([NONE, *self.strategies] if plain_arm else self.strategies or [NONE]))

    def arm(self, strategy: str) -> Arm:
        if strategy not in self.arms:
            arm = self.arms[strategy] = Arm()
            past = self.past.strategies.get(strategy) if self.past else None
            if past and past.runs:
                scale = min(1.0, HISTORY_RUNS / past.runs)
                arm.prior_runs, arm.prior_hits = past.runs * scale, past.hits * scale
                arm.prior_cost = past.seconds / past.runs
        return self.arms[strategy]

    def mean_cost(self, unit: float) -> float:
        """What a run of this test costs so far, whatever its strategy: the prior of an arm not yet run."""
        timed = sum(a.timed for a in self.arms.values())
        return sum(a.seconds for a in self.arms.values()) / timed if timed else unit

    def first_run_rank(self) -> int:
        """Order of first runs: what history says failed, then multi-threaded, unknown, single-threaded."""
        if self.past is None:
            return 2
        if self.past.failed:
            return 0
        if self.past.threads is None:
            return 2
        return 1 if self.past.threads > 1 else 3

    def first_run_key(self) -> tuple[int, int]:
        """First runs go closest to the change first (--changed-since), then by first_run_rank."""
        return first_run_order(self.group), self.first_run_rank()
