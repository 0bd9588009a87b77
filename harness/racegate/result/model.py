"""The result model: one typed `Result` from the bucketer to every reporter, the gate, merge and replay.

This module holds the whole session: `Result` with its `RunConfig`, `Summary`, `Cost`, `StrategyStats` and
`SuppressionResult`s; the parts of one test are result/per_test.py's, those of one bucket result/buckets.py's.
Values that follow from others (a test's failed runs and flakiness, a bucket's run fraction, the whole summary)
are properties computed in these three modules and nowhere else. They import no pipeline stage (only the run model of
racegate/model.py, the statistics helpers and the one suppression type TSan does not count): the assembly
(result/assemble.py) builds a `Result` from a session's runs, once and whole (a `Result` and its `BucketResult`s
are frozen); the codec (result/codec.py) writes and reads racegate.json.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from racegate import __version__
from racegate.errors import RacegateError
from racegate.focus import GROUPS
from racegate.model import BucketStatus
from racegate.result.buckets import BucketResult, RelatedGroup
from racegate.result.per_test import Spent, TestResult
from racegate.stats import new_bucket_chance
from racegate.suppressions import UNCOUNTED_TYPE

if TYPE_CHECKING:  # annotations only: the type belongs to the stage that makes it
    from racegate.steady_crash import SteadyCrash


@dataclass
class StrategyStats:
    runs: int = 0
    failed_runs: int = 0
    buckets_first_found: int = 0
    seconds: float | None = None  # summed over its runs; None in results of earlier releases


@dataclass
class SuppressionResult:
    """One entry of the user's TSan suppressions file, and how many reports it silenced over the session."""

    entry: str  # "type:pattern", as written in the file
    file: str  # the user's file holding it
    matched: int = 0  # reports TSan suppressed with it, summed over every run

    @property
    def stale(self) -> bool:
        """Matched nothing in any run: a candidate for pruning. TSan never counts called_from_lib entries."""
        return self.matched == 0 and not self.entry.startswith(UNCOUNTED_TYPE + ":")

    def merged(self, other: SuppressionResult) -> SuppressionResult:
        """The same entry on two shards: stale only when it is stale on both."""
        return replace(self, matched=self.matched + other.matched)


@dataclass(frozen=True)
class ChangeFocus:
    """`--changed-since REF`: what the session focused on (changes.py, focus.py), or why it could not."""

    ref: str
    base: str | None = None  # the merge-base commit of REF and HEAD; None when there was no focus
    files: list[str] = field(default_factory=list)  # changed, relative to the source root where under it
    note: str | None = None  # why there was no focus (no git, a REF git does not know)


@dataclass(frozen=True)
class GroupSpent:
    """One focus group's part of the budget (Result.budget_split)."""

    group: str
    tests: int
    runs: int
    seconds: float
    share: float  # of the run seconds of every test in a focus group


@dataclass
class RunConfig:
    """How the session was asked to run."""

    runs: int | None = None
    time_budget: float | None = None
    jobs: int | None = None
    seed: int | None = None
    strategies: list[str] = field(default_factory=list)
    shard: str | None = None
    until_confident: float | None = None
    source_dir: str | None = None  # -S, as given (the working directory by default)
    # The root of the project's paths (sourcetree.source_root: CMAKE_HOME_DIRECTORY, the git top level or -S); None
    # in results of earlier releases, whose reports place paths under source_dir.
    source_root: str | None = None
    # In GitHub Actions: the web address of the source root at the commit (".../blob/<sha>[/<subdir>]"); a path
    # and "#L<n>" after it link a location. None elsewhere.
    source_url: str | None = None
    build_dir: str | None = None
    out_dir: str | None = None
    compiler: str | None = None
    strategy_notes: list[str] = field(default_factory=list)  # e.g. pct falling back without CAP_SYS_NICE
    merged_from: list[str] | None = None  # only in merged results
    strict: bool = False  # timing-sensitive failures gate too
    gate_library_reports: bool = False  # known standard-library reports gate too
    suppression_files: list[str] | None = None  # the user's TSan suppressions files, when given
    allow_uncovered: bool = False  # tests without a completed run leave the exit code alone (--allow-uncovered)
    changed_since: ChangeFocus | None = None  # --changed-since; None without it, and in earlier releases' results

    @property
    def root(self) -> str | None:
        """The directory every report places the project's paths under."""
        return self.source_root or self.source_dir


@dataclass
class Cost:
    """Where the session's process time went: every test's first run, and the repetitions after it; and what
    starting a process costs, as the batched first pass measured it (its processes' time beyond their tests')."""

    first_pass_seconds: float = 0.0  # process seconds of the first runs (a batch's processes counted whole)
    repetition_seconds: float = 0.0  # process seconds of every later run
    processes: int = 0  # processes started
    batched_tests: int = 0  # tests whose first run shared a process with others
    batch_processes: int = 0  # processes those first runs took (more than the batches when one crashed)
    startup_seconds: float | None = None  # one process's own cost (start-up, set-up, exit); None when unmeasured
    first_repetition_after: float | None = None  # seconds from the session's start until a repetition started
    _overheads: list[float] = field(default_factory=list, repr=False)

    def add_process(self, seconds: float, tests_seconds: float | None, tests: int, batched: bool) -> None:
        """A first-pass process of a batch: its seconds, its tests' own seconds (None when not all of them ended)
        and how many tests it ran; `batched` False for a test that ran alone after its batch's process died
        before its first test."""
        self.processes += 1
        self.first_pass_seconds += seconds
        if not batched:
            return
        self.batch_processes += 1
        self.batched_tests += tests
        if tests_seconds is not None:
            self._overheads.append(max(0.0, seconds - tests_seconds))
            ordered = sorted(self._overheads)
            self.startup_seconds = ordered[len(ordered) // 2]

    @property
    def startup_share(self) -> float | None:
        """The share of all process time that went on starting processes, by the measured start-up cost."""
        total = self.first_pass_seconds + self.repetition_seconds
        if self.startup_seconds is None or not total:
            return None
        return min(1.0, self.startup_seconds * self.processes / total)

    def rounded(self) -> Cost:
        return replace(self, first_pass_seconds=round(self.first_pass_seconds, 3),
                       repetition_seconds=round(self.repetition_seconds, 3),
                       startup_seconds=None if self.startup_seconds is None else round(self.startup_seconds, 3),
                       _overheads=[])


@dataclass(frozen=True)
class Summary:
    tests: int
    runs: int
    failed_runs: int
    buckets: int
    new_buckets: int
    wall_seconds: float
    interrupted: bool
    new_bucket_chance: float  # Good-Turing: buckets seen in exactly one run / runs
    completed_runs: int = 0  # runs that ended by themselves: what the estimate and the verdict rest on
    cut_runs: int = 0  # runs racegate ended itself (budget deadline, slowdown limit)
    not_run: int = 0  # tests that never ran (not built, or the budget ran out first)
    uncovered: int = 0  # tests without a completed run: never ran, or every run was cut


@dataclass(frozen=True)
class Result:
    """A whole session (or merged shards), as racegate.json holds it. Built by the assembly or the codec, never
    changed after: `racegate report` on the written file sees what the run's own reporters saw."""

    config: RunConfig
    tests: list[TestResult]
    buckets: list[BucketResult]  # gating buckets first, then the most frequent (assemble.bucket_order)
    strategies: dict[str, StrategyStats]
    discovery: list[list[int]]  # [runs done, distinct buckets] at each run that found one, and at the last run
    wall_seconds: float  # rounded to the millisecond, as written
    interrupted: bool
    signature_version: int  # the signature rules its bucket ids were made by (signature.SIGNATURE_VERSION)
    tool_version: str = __version__
    suppressions: list[SuppressionResult] | None = None  # each entry of the user's file; None without one
    # [seconds since the session started, distinct buckets] at each bucket's first_seen.seconds, and at the end;
    # None in results of earlier releases.
    discovery_seconds: list[list[float]] | None = None
    # Runs and seconds of the runs that weighed findings rather than searched, per VERIFICATION_PURPOSES;
    # None in results of earlier releases.
    verification: dict[str, Spent] | None = None
    # Tests that crashed on every run by one signal without a TSan report, per signal; [] in earlier releases.
    steady_crashes: list[SteadyCrash] = field(default_factory=list)
    cost: Cost | None = None  # where the process time went; None in results that predate it, and merged ones
    # Groups of related buckets (result/related.py), decided when the result is assembled; [] in earlier releases.
    related: list[RelatedGroup] = field(default_factory=list)

    def related_group(self, bucket_id: str) -> RelatedGroup | None:
        """The group of related buckets a bucket belongs to, if any."""
        return next((g for g in self.related if bucket_id in g.buckets), None)

    @property
    def problem_groups(self) -> int:
        """How many groups the buckets fall into: each related group once, each bucket outside one on its own."""
        grouped = {bid for g in self.related for bid in g.buckets}
        return len(self.related) + sum(1 for b in self.buckets if b.id not in grouped)

    @property
    def run_seconds(self) -> float:
        """Seconds of test runs, summed over every run: with several jobs, more than the wall time."""
        return round(sum(t.seconds for t in self.tests), 3)

    @property
    def summary(self) -> Summary:
        runs = sum(t.runs for t in self.tests)
        return Summary(
            tests=len(self.tests), runs=runs, failed_runs=sum(t.failed_runs for t in self.tests),
            buckets=len(self.buckets), new_buckets=sum(1 for b in self.buckets if self.gates(b)),
            wall_seconds=round(self.wall_seconds, 3), interrupted=self.interrupted,
            new_bucket_chance=new_bucket_chance(sum(1 for b in self.buckets if b.runs_with_bucket == 1), runs),
            completed_runs=sum(t.completed_runs for t in self.tests),
            cut_runs=sum(t.cut_runs for t in self.tests), not_run=sum(1 for t in self.tests if t.not_run),
            uncovered=len(self.uncovered))

    @property
    def budget_split(self) -> list[GroupSpent]:
        """How --changed-since's focus split the run seconds between its groups (focus.GROUPS order, the empty ones
        left out); [] without a focus."""
        grouped = [t for t in self.tests if t.focus is not None]
        total = sum(t.seconds for t in grouped)
        split = []
        for group in GROUPS:
            tests = [t for t in grouped if t.focus == group]
            if tests:
                seconds = round(sum(t.seconds for t in tests), 3)
                split.append(GroupSpent(group, len(tests), sum(t.runs for t in tests), seconds,
                                        round(seconds / total, 4) if total else 0.0))
        return split

    @property
    def uncovered(self) -> list[TestResult]:
        """The tests the session was to run that no completed run speaks for: the verdict rests on nothing for them.
        Tests not built are not among them: the built ones' verdict is the session's (contract, partial builds)."""
        return [t for t in self.tests if not t.covered and not t.unbuilt]

    def status(self, bucket: BucketResult) -> BucketStatus:
        """Why a bucket fails the gate or does not, as result/policy.status decided it for this result."""
        return bucket.status

    def gates(self, bucket: BucketResult) -> bool:
        """Whether the bucket fails the gate."""
        return bucket.status.gates

    @property
    def failing(self) -> bool:
        """Whether the gate fails: some bucket gates (races and test failures are both buckets)."""
        return any(self.gates(b) for b in self.buckets)

    @property
    def undecided(self) -> bool:
        """Whether the gate could not decide: no new problem, but some selected test completed no run."""
        return not self.failing and bool(self.uncovered)

    @property
    def verdict_state(self) -> str:
        """The session's verdict in one word, which every report's colour or icon reads: "fail", "uncovered" (no
        new problem, but the gate could not decide for some test) or "pass"."""
        return "fail" if self.failing else "uncovered" if self.undecided else "pass"

    @property
    def known_buckets(self) -> int:
        """Buckets reported without failing the gate."""
        return sum(1 for b in self.buckets if not self.gates(b))

    def runs_exposed(self, bucket: BucketResult) -> int:
        """Completed runs of the tests a bucket affects: the M of "seen in N of M runs" (cut runs count apart, in
        both). A bucket whose tests the result does not list (a hand-trimmed file) is measured against all tests."""
        names = set(bucket.tests)
        listed = [t for t in self.tests if t.name in names] or self.tests
        return sum(t.completed_runs for t in listed)

    def run_fraction(self, bucket: BucketResult) -> float:
        """The share of `runs_exposed` that showed the bucket, to four places: racegate.json's and every report's.
        At most 1: a result of an earlier release counted cut runs among the runs with the bucket."""
        exposed = self.runs_exposed(bucket)
        return round(min(1.0, bucket.runs_with_bucket / exposed), 4) if exposed else 0.0

    def test(self, name: str) -> TestResult:
        for test in self.tests:
            if test.name == name:
                return test
        raise RacegateError(f"the result does not describe test {name!r}")

    def find_bucket(self, prefix: str) -> BucketResult:
        """The bucket whose id starts with `prefix` (ids are long; a unique prefix is enough)."""
        matches = [b for b in self.buckets if b.id.startswith(prefix.lower())]
        if not matches:
            raise RacegateError(f"no bucket {prefix!r} in the result")
        if len(matches) > 1:
            raise RacegateError(f"bucket prefix {prefix!r} is ambiguous: {', '.join(b.id for b in matches[:5])}")
        return matches[0]
