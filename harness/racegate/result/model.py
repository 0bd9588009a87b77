"""The result model: one typed `Result` from the bucketer to every reporter, the gate, merge and replay.

Values that follow from others (a test's failed runs and flakiness, a bucket's run fraction, the whole summary)
are properties computed here and nowhere else. The model imports no pipeline stage (only the run model of
racegate/model.py, the statistics helpers and the one suppression type TSan does not count): the assembly
(result/assemble.py) builds a `Result` from a session's runs, once and whole (a `Result` and its `BucketResult`s
are frozen); the codec (result/codec.py) writes and reads racegate.json.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable

from racegate import __version__
from racegate.errors import RacegateError
from racegate.focus import GROUPS
from racegate.model import (NOT_BUILT, OUTCOMES, BucketStatus, Excerpt, Outcome, RunRecord, SourceFrame, StackTrace,
                            TestCase)
from racegate.stats import new_bucket_chance
from racegate.suppressions import UNCOUNTED_TYPE

if TYPE_CHECKING:  # annotations only: these types belong to the stages that make them
    from racegate.advice import Advice
    from racegate.library_reports import LibraryIssue
    from racegate.steady_crash import SteadyCrash


@dataclass
class FirstSeen:
    """The earliest run that showed a bucket: what `racegate replay` and the reproduce line need."""

    test: str
    run: int
    seed: int
    strategy: str
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    log_dir: str | None = None  # relative to the directory holding racegate.json
    # When the bucket was first seen: seconds from the session's start to the end of run `run`, the earliest-ending
    # run that showed it (None in results of earlier releases). In a merged result: the earliest over the shards,
    # each counted from its own start, with that shard's run.
    seconds: float | None = None


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


@dataclass(frozen=True)
class Evidence:
    """What a bucket rests on beside the runs that showed it: plain runs of its tests, and replays of its
    first run (same test, seed and strategy)."""

    plain_runs: int
    plain_runs_with_bucket: int
    replays: int
    replays_with_bucket: int
    # A failure first seen under perturbation is weighed by plain re-checks and replays of its seed. When the
    # session ended before they ran: which are missing (VERIFICATION_PURPOSES) and why the session ended
    # ("budget", "interrupt", or "confident": --until-confident's estimate fell below its threshold).
    # Empty and None otherwise, and in results of earlier releases.
    # Strings as the file holds them (Purpose, EndedBy values; a later release's may be others, which reports
    # name in general words).
    skipped: tuple[str, ...] = ()
    ended_by: str | None = None


@dataclass
class Symptom:
    """A failure that came with a race: counted, gated and baselined with the race, kept with its evidence."""

    id: str  # the bucket id it would have had on its own
    kind: str  # "test failure", "crash" or "timeout"
    title: str
    runs: int  # runs that showed the failure
    runs_with_cause: int  # of those, runs that also showed the race
    raw_report: str  # relative to the directory holding racegate.json

    def merged(self, other: Symptom) -> Symptom:
        return replace(self, runs=self.runs + other.runs, runs_with_cause=self.runs_with_cause + other.runs_with_cause)


@dataclass(frozen=True)
class RacingMemory:
    """The memory a TSan report says raced (its `Location is ...` block): a global by name, or a heap block by the
    project frame that allocated it; with where in it the first access fell. What relates buckets by memory."""

    global_name: str = ""  # the global's qualified name; "" for a heap block
    module: str = ""  # the global's module (a program and its libraries may each have a `g_count`)
    allocated_at: SourceFrame | None = None  # a heap block's allocation site: its innermost project frame
    block_size: int | None = None  # bytes of the global or the heap block
    offset: int | None = None  # of the first access, from the block's start
    access_size: int | None = None  # bytes of the first access

    @property
    def field(self) -> int | None:
        """The offset of the access when it is a part of a larger block (a field, an element); None otherwise."""
        if self.offset is None or self.block_size is None or self.access_size is None:
            return None
        return self.offset if self.access_size < self.block_size else None


@dataclass(frozen=True)
class RelatedGroup:
    """Buckets whose reports touch the same memory or share a side (result/related.py): shown under one heading,
    each keeping its own id and gate status."""

    id: str  # "G1", "G2", ...: numbered in the result's bucket order
    reasons: tuple[str, ...]  # "same global g_x", "same heap block allocated at ...", "same side ..."
    buckets: tuple[str, ...]  # bucket ids, in the result's order


@dataclass(frozen=True)
class BucketResult:
    """One distinct race or failure, with the first run that showed it and how often it came back."""

    id: str
    kind: str
    title: str
    signature: list[str]
    frames: list[SourceFrame]  # the top in-project frame of each side
    stacks: list[StackTrace]  # of the first report
    tests: list[str]  # sorted
    occurrences: int  # reports, over all runs
    runs_with_bucket: int  # completed runs that showed it (a run racegate cut counts in `cut_runs_with_bucket`)
    first_seen: FirstSeen
    strategies: dict[str, int]  # runs with the bucket per strategy
    advice: Advice
    raw_report: str  # one full raw report, relative to the directory holding racegate.json
    new: bool = True  # not in the baseline
    baseline_note: str | None = None  # only while the bucket is known from a baseline
    library_issue: LibraryIssue | None = None  # a known report of the standard library's own state
    timing_sensitive: bool = False  # a failed assertion on elapsed time or a deadline
    evidence: Evidence | None = None
    kinds: dict[str, int] = field(default_factory=dict)  # runs per report kind, when it was reported as several
    legacy_ids: list[str] = field(default_factory=list)  # its reports' ids under earlier signature versions
    symptoms: list[Symptom] = field(default_factory=list)
    # A failure seen only while another copy of its test ran, and not when the test ran alone (copies.py).
    interference: bool = False
    # The source lines of each side's frame (`frames`, index for index; None where the file was not at hand); [] in
    # results of earlier releases, which reports show without them.
    excerpts: list[Excerpt | None] = field(default_factory=list)
    # Runs racegate cut (the deadline, a slowdown limit) that printed it before they were stopped: the reports
    # count, the runs are no sample of the test; 0 in results of earlier releases, which counted them above.
    cut_runs_with_bucket: int = 0
    # New, with a frame of its report on a line the --changed-since change touched (changes.in_change).
    in_change: bool = False
    # The memory its report says raced; None for a failure, memory TSan does not name (the stack, TLS), and results of
    # earlier releases.
    memory: RacingMemory | None = None
    # Of a failure bucket: the other failures its runs printed after the one that keys it (a failing run is one
    # problem), first seen first; [] in results of earlier releases.
    further_messages: list[str] = field(default_factory=list)
    # Why it fails the gate or does not (result/policy.status), decided
    # when the result is assembled or loaded; not written, since it follows from the fields above and the config.
    status: BucketStatus = BucketStatus.NEW

    def symptom(self, runs_with_cause: int) -> Symptom:
        """This failure bucket as a symptom of a race that showed in `runs_with_cause` of its runs."""
        return Symptom(self.id, self.kind, self.title, self.runs_with_bucket, runs_with_cause, self.raw_report)

    def merged(self, other: BucketResult) -> BucketResult:
        """The same bucket seen on two shards: counts add up, the first shard's first run stays."""
        strategies = dict(self.strategies)
        for name, n in other.strategies.items():
            strategies[name] = strategies.get(name, 0) + n
        kinds = dict(self.kinds)
        for name, n in other.kinds.items():
            kinds[name] = kinds.get(name, 0) + n
        symptoms = {s.id: s for s in self.symptoms}
        for s in other.symptoms:
            symptoms[s.id] = symptoms[s.id].merged(s) if s.id in symptoms else s
        # Each shard counts seconds from its own start; shards run side by side, so the earliest is kept.
        # The first seen is one run's, with its time: the shard that saw it sooner, the first shard on a tie or when
        # a shard of an earlier release has no time.
        first_seen = self.first_seen
        if other.first_seen.seconds is not None and (first_seen.seconds is None
                                                     or other.first_seen.seconds < first_seen.seconds):
            first_seen = other.first_seen
        return replace(self, first_seen=first_seen,
                       occurrences=self.occurrences + other.occurrences,
                       runs_with_bucket=self.runs_with_bucket + other.runs_with_bucket,
                       cut_runs_with_bucket=self.cut_runs_with_bucket + other.cut_runs_with_bucket,
                       tests=sorted(set(self.tests) | set(other.tests)), strategies=strategies,
                       new=self.new or other.new, kinds=kinds,
                       legacy_ids=sorted(set(self.legacy_ids) | set(other.legacy_ids)),
                       symptoms=list(symptoms.values()), in_change=self.in_change or other.in_change,
                       further_messages=self.further_messages + [m for m in other.further_messages
                                                                 if m not in self.further_messages])


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
