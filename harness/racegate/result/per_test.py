"""The result of each test: how its runs went (`TestResult`), and the runs and seconds a test, a strategy or the
re-checks cost (`Spent`); merged across shards. Values that follow from its runs are properties here.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable

from racegate.model import NOT_BUILT, OUTCOMES, Outcome, RunRecord, TestCase


@dataclass
class Spent:
    """Runs, and seconds summed over their durations: what a test, a strategy or the re-checks cost."""

    runs: int = 0
    seconds: float = 0.0

    def add(self, runs: int, seconds: float) -> None:
        self.runs += runs
        self.seconds = round(self.seconds + seconds, 3)


@dataclass(frozen=True)
class TestResult:
    """One test: how its runs went, and what `racegate replay` needs to run it again."""

    __test__ = False  # not a pytest test class

    name: str
    runs: int
    outcomes: dict[str, int]  # every OUTCOMES key (the Outcome members; their strings in a hand-made one)
    threads: int | None = None  # most threads alive at once, when known
    mean_seconds: float = 0.0
    command: list[str] = field(default_factory=list)
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    labels: list[str] = field(default_factory=list)
    is_gtest: bool = False
    will_fail: bool = False
    skip_return_code: int | None = None
    run_serial: bool = False
    not_run: str | None = None  # why the test never ran: not built, or the budget ran out first
    notes: list[str] = field(default_factory=list)  # what racegate changed for this test, and why
    not_repeated: str | None = None  # why the single-thread rule kept it to its first run; None in older results
    strategies: dict[str, Spent] = field(default_factory=dict)  # runs and seconds per strategy; {} in old results
    # Cut runs per cause (RunRecord.cut: CutCause); {} in results of earlier releases.
    cuts: dict[str, int] = field(default_factory=dict)
    peak_memory: int | None = None  # bytes, the largest RunRecord.peak_memory of its runs; None when none measured
    # Seconds after which its plain run under TSan was stopped at the test's timeout: it never finished, so it
    # was not repeated (None when it did finish, and in results of earlier releases).
    unfinished: float | None = None
    # Its focus group under --changed-since (focus.GROUPS); None without a focus, and in earlier releases' results.
    focus: str | None = None

    @property
    def seconds(self) -> float:
        """Seconds its runs took, summed; older results know only the mean, which gives nearly the same."""
        if self.strategies:
            return round(sum(s.seconds for s in self.strategies.values()), 3)
        return round(self.mean_seconds * self.runs, 3)

    @property
    def failed_runs(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if Outcome(outcome).is_failure)

    @property
    def cut_runs(self) -> int:
        return self.outcomes.get(Outcome.CUT, 0)

    @property
    def completed_runs(self) -> int:
        """Runs that ended by themselves (passed, failed, crashed or timed out): what a verdict on the test rests on."""
        return self.runs - self.cut_runs

    @property
    def covered(self) -> bool:
        """Whether some run of it completed; a test that never ran, or whose every run was cut, is not covered."""
        return self.completed_runs > 0

    @property
    def unbuilt(self) -> bool:
        """Never ran because its program was not built: set apart before the session (a partial build)."""
        return self.not_run is not None and self.not_run.startswith(NOT_BUILT)

    @property
    def flaky(self) -> bool:
        """Some runs failed and some passed (a cut run is neither)."""
        return 0 < self.failed_runs < self.runs - self.cut_runs

    @classmethod
    def from_runs(cls, test: TestCase, records: list[RunRecord]) -> TestResult:
        outcomes: Counter[str] = Counter({o: 0 for o in OUTCOMES})
        outcomes.update(r.outcome for r in records)
        threads = [r.threads for r in records if r.threads is not None]
        peaks = [r.peak_memory for r in records if r.peak_memory is not None]
        return cls(
            name=test.name, runs=len(records), outcomes=dict(outcomes), threads=max(threads) if threads else None,
            mean_seconds=round(sum(r.duration for r in records) / len(records), 4) if records else 0.0,
            command=list(test.command), cwd=test.cwd, env=dict(test.env), timeout=test.timeout,
            labels=list(test.labels), is_gtest=test.is_gtest, will_fail=test.will_fail,
            skip_return_code=test.skip_return_code, run_serial=test.run_serial,
            strategies=spent_per_strategy(records), cuts=dict(Counter(r.cut for r in records if r.cut)),
            peak_memory=max(peaks) if peaks else None)

    @classmethod
    def never_ran(cls, test: TestCase, reason: str) -> TestResult:
        """A selected test that did not run at all (its executable was not built, ...), with the reason."""
        return replace(cls.from_runs(test, []), not_run=reason)

    def test_case(self) -> TestCase:
        """The test as discovery described it, to run it again."""
        return TestCase(name=self.name, command=tuple(self.command), cwd=self.cwd, env=tuple(self.env.items()),
                        timeout=self.timeout, labels=tuple(self.labels), is_gtest=self.is_gtest,
                        will_fail=self.will_fail, skip_return_code=self.skip_return_code,
                        run_serial=self.run_serial)

    def merged(self, other: TestResult) -> TestResult:
        """The same test's runs on two shards as one."""
        runs = self.runs + other.runs
        threads = [t for t in (self.threads, other.threads) if t is not None]
        mean = self.mean_seconds
        if runs:
            mean = round((self.mean_seconds * self.runs + other.mean_seconds * other.runs) / runs, 4)
        return replace(self, runs=runs, outcomes={o: self.outcomes.get(o, 0) + other.outcomes.get(o, 0)
                                                  for o in OUTCOMES},
                       threads=max(threads) if threads else None, mean_seconds=mean,
                       not_run=self.not_run if other.not_run else None,
                       not_repeated=_not_repeated(self, other),
                       notes=self.notes + [n for n in other.notes if n not in self.notes],
                       # Per strategy only when both shards timed their runs; else seconds come from the mean.
                       strategies=added(self.strategies, other.strategies)
                       if _timed(self) and _timed(other) else {},
                       cuts=dict(Counter(self.cuts) + Counter(other.cuts)),
                       peak_memory=max(p for p in (self.peak_memory, other.peak_memory, 0) if p is not None) or None,
                       unfinished=self.unfinished if self.unfinished is not None else other.unfinished)


def _not_repeated(a: TestResult, b: TestResult) -> str | None:
    """The single-thread rule's reason for a test merged from two shards: only when each that ran it gave one."""
    reasons = {t.not_repeated for t in (a, b) if t.runs}
    return reasons.pop() if len(reasons) == 1 else None


def _timed(test: TestResult) -> bool:
    return bool(test.strategies) or not test.runs


def added(one: dict[str, Spent], other: dict[str, Spent]) -> dict[str, Spent]:
    """Two tallies of runs and seconds as one (shards, or a test's runs on two shards)."""
    total = {k: Spent(v.runs, v.seconds) for k, v in one.items()}
    for k, v in other.items():
        total.setdefault(k, Spent()).add(v.runs, v.seconds)
    return total


def spent_per_strategy(records: Iterable[RunRecord]) -> dict[str, Spent]:
    """Runs and seconds per strategy, in the order the strategies first ran."""
    spent: dict[str, Spent] = {}
    for r in records:
        spent.setdefault(r.strategy, Spent()).add(1, r.duration)
    return spent
