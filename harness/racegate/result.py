"""The result of a session, racegate.json (schema 1): one typed model from the bucketer to every reporter.

Values that follow from others (a test's failed runs and flakiness, a bucket's run fraction, the whole summary)
are properties computed here and nowhere else. `Result.from_json` is the one loader: it checks the schema,
fills every default, and so reads the files of every release; `to_json` writes the schema-1 layout that
docs/contract.md describes, key for key as earlier releases wrote it.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from racegate import __version__, outdir
from racegate.advice import Advice, advice_for
from racegate.bucket import Bucket
from racegate.errors import RacegateError
from racegate.kinds import FAILURE_KINDS
from racegate.library_reports import BY_RULE, LibraryIssue
from racegate.model import CUT, OUTCOMES, RunRecord, SourceFrame, StackTrace, TestCase
from racegate.signature import SIGNATURE_VERSION
from racegate.steady_crash import SteadyCrash
from racegate.stats import discovery_points, new_bucket_chance
from racegate.strategies import NONE
from racegate.suppressions import UNCOUNTED_TYPE

SCHEMA = 1


@dataclass
class FirstSeen:
    """The earliest run that showed a bucket: what `racegate replay` and the reproduce line need."""

    test: str
    run: int
    seed: int
    schedule: str
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    log_dir: str | None = None  # relative to the directory holding racegate.json
    # When the bucket was first seen: seconds from the session's start to the end of the earliest-ending run that
    # showed it (None in results of earlier releases). With several jobs that may be another run than `run`,
    # the earliest started. In a merged result: the earliest over the shards, each counted from its own start.
    seconds: float | None = None


@dataclass
class Spent:
    """Runs, and seconds summed over their durations: what a test, a strategy or the re-checks cost."""

    runs: int = 0
    seconds: float = 0.0

    def add(self, runs: int, seconds: float) -> None:
        self.runs += runs
        self.seconds = round(self.seconds + seconds, 3)


# The purposes of runs planned to weigh a finding rather than to search (PlannedRun.purpose): plain re-checks of a
# failure seen only under perturbation, and replays of its seed.
VERIFICATION_PURPOSES = ("recheck", "replay", "alone")


@dataclass
class TestResult:
    """One test: how its runs went, and what `racegate replay` needs to run it again."""

    __test__ = False  # not a pytest test class

    name: str
    runs: int
    outcomes: dict[str, int]  # every OUTCOMES key
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
    strategies: dict[str, Spent] = field(default_factory=dict)  # runs and seconds per strategy; {} in old results
    # Cut runs per cause (RunRecord.cut: execute.CUT_BUDGET, CUT_SLOW); {} in results of earlier releases.
    cuts: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Seconds its runs took, summed; older results know only the mean, which gives nearly the same."""
        if self.strategies:
            return round(sum(s.seconds for s in self.strategies.values()), 3)
        return round(self.mean_seconds * self.runs, 3)

    @property
    def failed_runs(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome not in ("pass", CUT))

    @property
    def cut_runs(self) -> int:
        return self.outcomes.get(CUT, 0)

    @property
    def flaky(self) -> bool:
        """Some runs failed and some passed (a cut run is neither)."""
        return 0 < self.failed_runs < self.runs - self.cut_runs

    @classmethod
    def from_runs(cls, test: TestCase, records: list[RunRecord]) -> TestResult:
        outcomes = Counter({o: 0 for o in OUTCOMES})
        outcomes.update(r.outcome for r in records)
        threads = [r.threads for r in records if r.threads is not None]
        return cls(
            name=test.name, runs=len(records), outcomes=dict(outcomes), threads=max(threads) if threads else None,
            mean_seconds=round(sum(r.duration for r in records) / len(records), 4) if records else 0.0,
            command=list(test.command), cwd=test.cwd, env=dict(test.env), timeout=test.timeout,
            labels=list(test.labels), is_gtest=test.is_gtest, will_fail=test.will_fail,
            skip_return_code=test.skip_return_code, run_serial=test.run_serial,
            strategies=spent_per_strategy(records), cuts=dict(Counter(r.cut for r in records if r.cut)))

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
                       notes=self.notes + [n for n in other.notes if n not in self.notes],
                       # Per strategy only when both shards timed their runs; else seconds come from the mean.
                       strategies=added(self.strategies, other.strategies)
                       if _timed(self) and _timed(other) else {},
                       cuts=dict(Counter(self.cuts) + Counter(other.cuts)))


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
    skipped: tuple[str, ...] = ()
    ended_by: str | None = None

    @classmethod
    def from_runs(cls, bucket: Bucket, records: list[RunRecord], ended_by: str | None = None) -> Evidence:
        """`ended_by`: why the session ended, when something other than running out of work ended it."""
        first = bucket.first
        plain = [r for r in records if r.test in bucket.tests and r.schedule == NONE and r.outcome != CUT]
        replays = [r for r in records if r.test == first.test and r.seed == first.seed
                   and r.schedule == first.schedule and r.run != first.run and r.outcome != CUT]
        seen_plain = sum(r.run in bucket.runs for r in plain)
        skipped: tuple[str, ...] = ()
        found = bucket.seconds
        # The runs that weigh a failure are planned once it is known, so only runs started after it count.
        if (ended_by and found is not None and first.schedule != NONE and not seen_plain
                and bucket.finding.kind in FAILURE_KINDS):
            plain_after = any(r.test == first.test and r.started is not None and r.started >= found for r in plain)
            skipped = tuple(purpose for purpose, done in zip(VERIFICATION_PURPOSES, (plain_after, bool(replays)))
                            if not done)
        return cls(len(plain), seen_plain, len(replays), sum(r.run in bucket.runs for r in replays),
                   skipped, ended_by if skipped else None)


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


@dataclass
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
    runs_with_bucket: int
    first_seen: FirstSeen
    schedules: dict[str, int]  # runs with the bucket per strategy
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

    @classmethod
    def from_bucket(cls, bucket: Bucket, out_dir: Path, evidence: Evidence | None = None,
                    symptoms: list[Symptom] | None = None) -> BucketResult:
        finding, first = bucket.finding, bucket.first
        return cls(
            id=bucket.id, kind=finding.kind, title=finding.title, signature=list(finding.signature),
            frames=list(finding.frames), stacks=list(finding.stacks), tests=sorted(bucket.tests),
            occurrences=bucket.occurrences, runs_with_bucket=len(bucket.runs),
            first_seen=FirstSeen(test=first.test, run=first.run, seed=first.seed, schedule=first.schedule,
                                 command=list(first.command), env=dict(first.env), cwd=first.cwd,
                                 log_dir=os.path.relpath(first.log_dir, out_dir), seconds=bucket.seconds),
            schedules=dict(bucket.schedules),
            advice=advice_for(finding.kind, finding.frames, finding.signature, finding.stacks, finding.library_rule,
                              finding.timing_sensitive),
            raw_report=os.path.relpath(outdir.raw_report_file(outdir.reports_dir(out_dir), bucket.id), out_dir),
            library_issue=BY_RULE.get(finding.library_rule or ""), timing_sensitive=finding.timing_sensitive,
            evidence=evidence, kinds=dict(bucket.kinds) if len(bucket.kinds) > 1 else {},
            legacy_ids=sorted(bucket.legacy_ids), symptoms=list(symptoms or []))

    def symptom(self, runs_with_cause: int) -> Symptom:
        """This failure bucket as a symptom of a race that showed in `runs_with_cause` of its runs."""
        return Symptom(self.id, self.kind, self.title, self.runs_with_bucket, runs_with_cause, self.raw_report)

    def merged(self, other: BucketResult) -> BucketResult:
        """The same bucket seen on two shards: counts add up, the first shard's first run stays."""
        schedules = dict(self.schedules)
        for name, n in other.schedules.items():
            schedules[name] = schedules.get(name, 0) + n
        kinds = dict(self.kinds)
        for name, n in other.kinds.items():
            kinds[name] = kinds.get(name, 0) + n
        symptoms = {s.id: s for s in self.symptoms}
        for s in other.symptoms:
            symptoms[s.id] = symptoms[s.id].merged(s) if s.id in symptoms else s
        # Each shard counts seconds from its own start; shards run side by side, so the earliest is kept.
        times = [t for t in (self.first_seen.seconds, other.first_seen.seconds) if t is not None]
        return replace(self, first_seen=replace(self.first_seen, seconds=min(times) if times else None),
                       occurrences=self.occurrences + other.occurrences,
                       runs_with_bucket=self.runs_with_bucket + other.runs_with_bucket,
                       tests=sorted(set(self.tests) | set(other.tests)), schedules=schedules,
                       new=self.new or other.new, kinds=kinds,
                       legacy_ids=sorted(set(self.legacy_ids) | set(other.legacy_ids)),
                       symptoms=list(symptoms.values()))


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


@dataclass
class RunConfig:
    """How the session was asked to run."""

    runs: int | None = None
    time_budget: float | None = None
    jobs: int | None = None
    seed: int | None = None
    schedules: list[str] = field(default_factory=list)
    shard: str | None = None
    until_confident: float | None = None
    source_dir: str | None = None
    build_dir: str | None = None
    out_dir: str | None = None
    compiler: str | None = None
    schedule_notes: list[str] = field(default_factory=list)  # e.g. pct falling back without CAP_SYS_NICE
    merged_from: list[str] | None = None  # only in merged results
    strict: bool = False  # timing-sensitive failures gate too
    gate_library_reports: bool = False  # known standard-library reports gate too
    suppression_files: list[str] | None = None  # the user's TSan suppressions files, when given


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

    def to_json(self) -> dict:
        data: dict[str, Any] = {"first_pass_seconds": self.first_pass_seconds,
                                "repetition_seconds": self.repetition_seconds, "processes": self.processes}
        if self.batch_processes:
            data.update(batched_tests=self.batched_tests, batch_processes=self.batch_processes)
        if self.startup_seconds is not None:
            data["startup_seconds"] = self.startup_seconds
            data["startup_share"] = round(self.startup_share or 0.0, 4)
        if self.first_repetition_after is not None:
            data["first_repetition_after"] = self.first_repetition_after
        return data


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
    cut_runs: int = 0  # runs racegate ended itself (budget deadline, slowdown limit)
    not_run: int = 0  # tests that never ran (not built, or the budget ran out first)


@dataclass
class Result:
    config: RunConfig
    tests: list[TestResult]
    buckets: list[BucketResult]
    strategies: dict[str, StrategyStats]
    discovery: list[list[int]]  # [runs done, distinct buckets] at each run that found one, and at the last run
    wall_seconds: float
    interrupted: bool
    tool_version: str = __version__
    signature_version: int = SIGNATURE_VERSION
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
            cut_runs=sum(t.cut_runs for t in self.tests), not_run=sum(1 for t in self.tests if t.not_run))

    def status(self, bucket: BucketResult) -> str:
        """Why a bucket fails the gate or does not: "new", "baselined", "library", "interference" or
        "timing-sensitive". Interference is racegate's own parallelism, never the project's: not gated by --strict."""
        if not bucket.new:
            return "baselined"
        if bucket.library_issue is not None and not self.config.gate_library_reports:
            return "library"
        if bucket.interference:
            return "interference"
        if bucket.timing_sensitive and not self.config.strict:
            return "timing-sensitive"
        return "new"

    def gates(self, bucket: BucketResult) -> bool:
        """Whether the bucket fails the gate."""
        return self.status(bucket) == "new"

    @property
    def known_buckets(self) -> int:
        """Buckets reported without failing the gate."""
        return sum(1 for b in self.buckets if not self.gates(b))

    def runs_exposed(self, bucket: BucketResult) -> int:
        """Runs of the tests a bucket affects: the M of "seen in N of M runs"."""
        names = set(bucket.tests)
        return sum(t.runs for t in self.tests if t.name in names)

    def run_fraction(self, bucket: BucketResult) -> float:
        exposed = self.runs_exposed(bucket)
        return round(bucket.runs_with_bucket / exposed, 4) if exposed else 0.0

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

    def sort_buckets(self) -> None:
        """New buckets first, then the most frequent: the order racegate.json keeps."""
        self.buckets.sort(key=lambda b: (not self.gates(b), -b.runs_with_bucket, b.id))

    # -- racegate.json -----------------------------------------------------------------------------------------

    def to_json(self) -> dict:
        summary = self.summary
        return {
            "schema": SCHEMA,
            "tool": {"name": "racegate", "version": self.tool_version},
            "signature_version": self.signature_version,
            "config": _config_json(self.config),
            "summary": {
                "tests": summary.tests, "runs": summary.runs, "failed_runs": summary.failed_runs,
                "buckets": summary.buckets, "new_buckets": summary.new_buckets,
                "wall_seconds": summary.wall_seconds, "interrupted": summary.interrupted,
                "new_bucket_chance": summary.new_bucket_chance,
                # Added within schema 1: written when they happened.
                **({"cut_runs": summary.cut_runs} if summary.cut_runs else {}),
                **({"not_run": summary.not_run} if summary.not_run else {}),
            },
            "tests": [_test_json(t) for t in self.tests],
            "strategies": {name: _strategy_json(s) for name, s in self.strategies.items()},
            "discovery": [list(point) for point in self.discovery],
            # Added within schema 1: written by sessions that timed their runs.
            **({"discovery_seconds": [list(point) for point in self.discovery_seconds]}
               if self.discovery_seconds is not None else {}),
            **({"verification": _spent_json(self.verification)} if self.verification is not None else {}),
            "buckets": [self._bucket_json(b) for b in self.buckets],
            # Added within schema 1: written only when the session ran with a suppressions file.
            **({"suppressions": [_suppression_json(s) for s in self.suppressions]}
               if self.suppressions is not None else {}),
            # Added within schema 1: written when some test crashed that way.
            **({"steady_crashes": [{"signal": c.signal, "tests": list(c.tests)} for c in self.steady_crashes]}
               if self.steady_crashes else {}),
            # Added within schema 1: written by `run`.
            **({"cost": self.cost.to_json()} if self.cost is not None else {}),
        }

    def _bucket_json(self, b: BucketResult) -> dict:
        seen = b.first_seen
        entry = {
            "id": b.id, "kind": b.kind, "title": b.title, "signature": list(b.signature),
            "frames": [_frame_json(f) for f in b.frames],
            "stacks": [{"header": s.header, "frames": [_frame_json(f) for f in s.frames]} for s in b.stacks],
            "tests": list(b.tests), "occurrences": b.occurrences, "runs_with_bucket": b.runs_with_bucket,
            "first_seen": {"test": seen.test, "run": seen.run, "seed": seen.seed, "schedule": seen.schedule,
                           "command": list(seen.command), "env": dict(seen.env), "cwd": seen.cwd,
                           "log_dir": seen.log_dir, **({"seconds": seen.seconds} if seen.seconds is not None else {})},
            "schedules": dict(b.schedules), "new": b.new, "advice": {"what": b.advice.what, "fix": b.advice.fix},
            "raw_report": b.raw_report, "run_fraction": self.run_fraction(b),
        }
        if not b.new and b.baseline_note is not None:
            entry["baseline_note"] = b.baseline_note
        # Fields added within schema 1 are written only where they hold something.
        if b.library_issue is not None:
            issue = b.library_issue
            entry["library_issue"] = {"rule": issue.rule, "reference": issue.reference, "url": issue.url,
                                      "affects": issue.affects}
        if b.timing_sensitive:
            entry["timing_sensitive"] = True
        if b.interference:
            entry["interference"] = True
        if b.evidence is not None:
            entry["evidence"] = _evidence_json(b.evidence)
        if b.kinds:
            entry["kinds"] = dict(b.kinds)
        if b.legacy_ids:
            entry["legacy_ids"] = list(b.legacy_ids)
        if b.symptoms:
            entry["symptoms"] = [asdict(s) for s in b.symptoms]
        return entry

    @classmethod
    def from_json(cls, data: Any, source: str = "the result") -> Result:
        """Load a racegate.json of any release: defaults for every field it lacks, one-line errors for the rest."""
        schema = data.get("schema") if isinstance(data, dict) else None
        if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
            raise RacegateError(f"{source} was written by a newer racegate (result schema {schema}); "
                                f"this racegate {__version__} reads schema {SCHEMA}")
        if schema != SCHEMA or "buckets" not in data:
            raise RacegateError(f"{source} is not a racegate result with schema {SCHEMA}")
        r = _Reader(source)
        summary = r.obj(data, "summary")
        tests = [_test_from(r, t, f"tests[{i}]") for i, t in enumerate(r.lst(data, "tests"))]
        buckets = [_bucket_from(r, b, f"buckets[{i}]") for i, b in enumerate(r.lst(data, "buckets"))]
        discovery = [[r.int_(p, 0, "discovery"), r.int_(p, 1, "discovery")] for p in r.lst(data, "discovery")]
        if not discovery:
            # Results that predate the curve: rebuild it from where each bucket was first seen.
            total = sum(t.runs for t in tests) or r.opt(summary, "runs", int, 0, "summary")
            discovery = discovery_points([b.first_seen.run for b in buckets], total)
        strategies = {str(name): StrategyStats(r.opt(s, "runs", int, 0, f"strategies.{name}"),
                                               r.opt(s, "failed_runs", int, 0, f"strategies.{name}"),
                                               r.opt(s, "buckets_first_found", int, 0, f"strategies.{name}"),
                                               r.nullable(s, "seconds", float, f"strategies.{name}"))
                      for name, s in r.obj(data, "strategies").items()}
        timed = data.get("discovery_seconds")
        discovery_seconds = None if timed is None else [
            [r.num(p, 0, "discovery_seconds"), r.int_(p, 1, "discovery_seconds")]
            for p in r.lst(data, "discovery_seconds")]
        tool = r.obj(data, "tool")
        return cls(
            config=_config_from(r, r.obj(data, "config")), tests=tests, buckets=buckets, strategies=strategies,
            discovery=discovery, wall_seconds=r.opt(summary, "wall_seconds", float, 0.0, "summary"),
            interrupted=r.opt(summary, "interrupted", bool, False, "summary"),
            tool_version=r.opt(tool, "version", str, "", "tool"),
            signature_version=r.opt(data, "signature_version", int, SIGNATURE_VERSION, ""),
            suppressions=_suppressions_from(r, data.get("suppressions")), discovery_seconds=discovery_seconds,
            verification=_spent_from(r, data["verification"], "verification")
            if data.get("verification") is not None else None,
            steady_crashes=[_steady_crash_from(r, c, f"steady_crashes[{i}]")
                            for i, c in enumerate(r.lst(data, "steady_crashes"))],
            cost=_cost_from(r, data.get("cost")))


def build_result(config: RunConfig, tests: list[TestResult], buckets: list[BucketResult],
                 strategies: dict[str, StrategyStats], discovery: list[list[int]], wall_seconds: float,
                 interrupted: bool, suppressions: list[SuppressionResult] | None = None,
                 discovery_seconds: list[list[float]] | None = None,
                 verification: dict[str, Spent] | None = None) -> Result:
    """A whole result in the order racegate.json keeps (shared by `run` and `merge`)."""
    result = Result(config=config, tests=tests, buckets=list(buckets), strategies=dict(sorted(strategies.items())),
                    discovery=discovery, wall_seconds=wall_seconds, interrupted=interrupted,
                    suppressions=suppressions, discovery_seconds=discovery_seconds, verification=verification)
    result.sort_buckets()
    return result


def strategy_stats(records: list[RunRecord], first_found: Iterable[str]) -> dict[str, StrategyStats]:
    """Runs, failed runs and buckets first found per strategy; `first_found` is the schedule of each bucket's
    first run."""
    stats: dict[str, StrategyStats] = {}
    for r in records:
        entry = stats.setdefault(r.schedule, StrategyStats(seconds=0.0))
        entry.runs += 1
        entry.failed_runs += r.outcome not in ("pass", CUT)
        entry.seconds = round((entry.seconds or 0.0) + r.duration, 3)
    for schedule in first_found:
        stats[schedule].buckets_first_found += 1
    return stats


def discovery_curve(first_runs: Iterable[int], records: list[RunRecord]) -> list[list[int]]:
    """[runs done, distinct buckets] at each run that found a new bucket, and at the last run."""
    # Ranks, not run indices: an interrupted session leaves gaps in the indices.
    position = {run: i for i, run in enumerate(sorted(r.run for r in records))}
    return discovery_points([position[run] for run in first_runs], len(records))


def discovery_curve_seconds(buckets: Iterable[BucketResult], wall_seconds: float) -> list[list[float]] | None:
    """[seconds since the start, distinct buckets] at each time a new bucket was first seen, and at the end;
    None when a bucket's time is unknown (a shard of an earlier release)."""
    given = [b.first_seen.seconds for b in buckets]
    times = [t for t in given if t is not None]
    if len(times) < len(given):
        return None
    points: list[list[float]] = []
    for found, at in enumerate(sorted(times), start=1):
        at = round(at, 3)
        if points and points[-1][0] == at:
            points[-1][1] = found
        else:
            points.append([at, found])
    end = round(max(wall_seconds, points[-1][0] if points else 0.0), 3)
    if not points or points[-1][0] != end:
        points.append([end, points[-1][1] if points else 0])
    return points


def spent_per_strategy(records: Iterable[RunRecord]) -> dict[str, Spent]:
    """Runs and seconds per strategy, in the order the strategies first ran."""
    spent: dict[str, Spent] = {}
    for r in records:
        spent.setdefault(r.schedule, Spent()).add(1, r.duration)
    return spent


def verification_spent(records: Iterable[RunRecord]) -> dict[str, Spent]:
    """What the runs that weighed findings cost, per purpose; every purpose listed, so 0 reads as none."""
    spent = {purpose: Spent() for purpose in VERIFICATION_PURPOSES}
    for r in records:
        if r.purpose in spent:
            spent[r.purpose].add(1, r.duration)
    return spent


def _timed(test: TestResult) -> bool:
    return bool(test.strategies) or not test.runs


def added(one: dict[str, Spent], other: dict[str, Spent]) -> dict[str, Spent]:
    """Two tallies of runs and seconds as one (shards, or a test's runs on two shards)."""
    total = {k: Spent(v.runs, v.seconds) for k, v in one.items()}
    for k, v in other.items():
        total.setdefault(k, Spent()).add(v.runs, v.seconds)
    return total


def save(result: Result, path: Path) -> None:
    write_json(path, result.to_json())


def write_json(path: Path, data: dict) -> None:
    """Write atomically, so an interrupted write never leaves half a file. Names and paths that were not valid
    UTF-8 (surrogate escapes) are written as JSON \\u escapes rather than failing the whole write at the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8",
                   errors="backslashreplace")
    os.replace(tmp, path)


def read_json(path: Path, what: str) -> Any:
    """A JSON file's data; a one-line error naming `what` the file should have been."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RacegateError(f"cannot read {what} {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RacegateError(f"{what} {path} is not valid JSON ({exc})") from None


def load(path: Path) -> Result:
    return Result.from_json(read_json(path, "result"), str(path))


# -- JSON details --------------------------------------------------------------------------------------------


def _frame_json(frame: SourceFrame) -> dict:
    return {"function": frame.function, "file": frame.file, "line": frame.line}


def _test_json(t: TestResult) -> dict:
    entry = {
        "name": t.name, "runs": t.runs, "failed_runs": t.failed_runs, "outcomes": _outcomes_json(t.outcomes),
        "flaky": t.flaky, "threads": t.threads, "mean_seconds": t.mean_seconds,
        "command": list(t.command), "cwd": t.cwd, "env": dict(t.env), "timeout": t.timeout,
        "labels": list(t.labels), "is_gtest": t.is_gtest, "will_fail": t.will_fail,
        "skip_return_code": t.skip_return_code, "run_serial": t.run_serial,
    }
    if t.not_run is not None:
        entry["not_run"] = t.not_run
    if t.notes:
        entry["notes"] = list(t.notes)
    if t.strategies:
        entry["strategies"] = _spent_json(t.strategies)
    if t.cuts:
        entry["cuts"] = dict(t.cuts)
    return entry


def _evidence_json(e: Evidence) -> dict:
    data: dict[str, Any] = {"plain_runs": e.plain_runs, "plain_runs_with_bucket": e.plain_runs_with_bucket,
                            "replays": e.replays, "replays_with_bucket": e.replays_with_bucket}
    if e.skipped:  # added within schema 1: written when a re-check was skipped
        data.update(skipped=list(e.skipped), ended_by=e.ended_by)
    return data


def _spent_json(spent: dict[str, Spent]) -> dict:
    return {k: {"runs": v.runs, "seconds": v.seconds} for k, v in spent.items()}


def _strategy_json(s: StrategyStats) -> dict:
    data: dict[str, Any] = {"runs": s.runs, "failed_runs": s.failed_runs, "buckets_first_found": s.buckets_first_found}
    if s.seconds is not None:
        data["seconds"] = s.seconds
    return data


def _outcomes_json(outcomes: dict[str, int]) -> dict[str, int]:
    # "cut" came after schema 1's first five outcomes: written when it happened, so older files write back as read.
    return {o: n for o, n in outcomes.items() if o != CUT or n}


def _config_json(c: RunConfig) -> dict:
    data = {
        "runs": c.runs, "time_budget": c.time_budget, "jobs": c.jobs, "seed": c.seed, "schedules": list(c.schedules),
        "shard": c.shard, "until_confident": c.until_confident, "source_dir": c.source_dir,
        "build_dir": c.build_dir, "out_dir": c.out_dir, "compiler": c.compiler,
        "schedule_notes": list(c.schedule_notes),
    }
    if c.merged_from is not None:
        data["merged_from"] = list(c.merged_from)
    for flag in ("strict", "gate_library_reports"):
        if getattr(c, flag):
            data[flag] = True
    if c.suppression_files is not None:
        data["suppression_files"] = list(c.suppression_files)
    return data


def _suppression_json(s: SuppressionResult) -> dict:
    return {"entry": s.entry, "file": s.file, "matched": s.matched, "stale": s.stale}


T = TypeVar("T")
_TYPE_WORDS: dict[Any, str] = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


class _Reader:
    """Typed field access with defaults; a field of the wrong type is a one-line error naming it."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, key: object, expected: str) -> RacegateError:
        path = f"{where}.{key}" if where else str(key)
        return RacegateError(f"{self.source} is not a valid racegate result: {path} should be {expected}")

    def opt(self, data: dict, key: str, kind: Callable[..., T], default: T, where: str) -> T:
        value = data.get(key)
        if value is None:
            return default
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return value  # type: ignore[return-value]  # an int is a float in JSON
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):  # type: ignore[arg-type]
            raise self.fail(where, key, _TYPE_WORDS.get(kind, "something else"))
        return value

    def nullable(self, data: dict, key: str, kind: Callable[..., T], where: str) -> T | None:
        return self.opt(data, key, kind, None, where)  # type: ignore[arg-type]

    def obj(self, data: dict, key: str, where: str = "") -> dict:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, key, "an object")
        return value

    def lst(self, data: dict, key: str, where: str = "") -> list:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, key, "a list")
        return value

    def num(self, point: Any, index: int, where: str) -> float:
        value = point[index] if isinstance(point, list) and len(point) > index else None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.fail(where, index, "a number")
        return value

    def int_(self, point: Any, index: int, where: str) -> int:
        if not isinstance(point, list) or len(point) <= index or not isinstance(point[index], int):
            raise self.fail(where, index, "an integer")
        return point[index]

    def strings(self, data: dict, key: str, where: str) -> list[str]:
        return [str(v) for v in self.lst(data, key, where)]

    def str_map(self, data: dict, key: str, where: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.obj(data, key, where).items()}

    def entry(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            raise RacegateError(f"{self.source} is not a valid racegate result: {where} should be an object")
        return value


def _frame_from(r: _Reader, value: Any, where: str) -> SourceFrame:
    d = r.entry(value, where)
    return SourceFrame(r.opt(d, "function", str, "", where), r.opt(d, "file", str, "", where),
                       r.nullable(d, "line", int, where))


def _test_from(r: _Reader, value: Any, where: str) -> TestResult:
    d = r.entry(value, where)
    name = r.opt(d, "name", str, "", where)
    if not name:
        raise r.fail(where, "name", "a test name")
    given = r.obj(d, "outcomes", where)
    outcomes = {o: r.opt(given, o, int, 0, f"{where}.outcomes") for o in OUTCOMES}
    runs = r.opt(d, "runs", int, sum(outcomes.values()), where)
    return TestResult(
        name=name, runs=runs, outcomes=outcomes, threads=r.nullable(d, "threads", int, where),
        mean_seconds=r.opt(d, "mean_seconds", float, 0.0, where), command=r.strings(d, "command", where),
        cwd=r.nullable(d, "cwd", str, where), env=r.str_map(d, "env", where),
        timeout=r.nullable(d, "timeout", float, where), labels=r.strings(d, "labels", where),
        is_gtest=r.opt(d, "is_gtest", bool, False, where), will_fail=r.opt(d, "will_fail", bool, False, where),
        skip_return_code=r.nullable(d, "skip_return_code", int, where),
        run_serial=r.opt(d, "run_serial", bool, False, where), not_run=r.nullable(d, "not_run", str, where),
        notes=r.strings(d, "notes", where), strategies=_spent_from(r, d.get("strategies"), f"{where}.strategies"),
        cuts={str(k): r.opt(r.obj(d, "cuts", where), k, int, 0, f"{where}.cuts") for k in r.obj(d, "cuts", where)})


def _spent_from(r: _Reader, value: Any, where: str) -> dict[str, Spent]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RacegateError(f"{r.source} is not a valid racegate result: {where} should be an object")
    spent = {}
    for key, item in value.items():
        d = r.entry(item, f"{where}.{key}")
        spent[str(key)] = Spent(r.opt(d, "runs", int, 0, f"{where}.{key}"),
                                r.opt(d, "seconds", float, 0.0, f"{where}.{key}"))
    return spent


def _bucket_from(r: _Reader, value: Any, where: str) -> BucketResult:
    d = r.entry(value, where)
    bid = r.opt(d, "id", str, "", where)
    if not bid:
        raise r.fail(where, "id", "a bucket id")
    kind = r.opt(d, "kind", str, "", where)
    frames = [_frame_from(r, f, f"{where}.frames") for f in r.lst(d, "frames", where)]
    stacks = []
    for i, s in enumerate(r.lst(d, "stacks", where)):
        s = r.entry(s, f"{where}.stacks[{i}]")
        stacks.append(StackTrace(r.opt(s, "header", str, "", f"{where}.stacks[{i}]"),
                                 tuple(_frame_from(r, f, f"{where}.stacks[{i}]") for f in r.lst(s, "frames"))))
    signature = r.strings(d, "signature", where)
    seen = r.obj(d, "first_seen", where)
    at = f"{where}.first_seen"
    given_advice = r.obj(d, "advice", where)
    library_issue = _library_issue_from(r, r.obj(d, "library_issue", where), f"{where}.library_issue")
    advice = (Advice(r.opt(given_advice, "what", str, "", where), given_advice["fix"])
              if isinstance(given_advice.get("fix"), str) and given_advice["fix"]
              else advice_for(kind, frames, signature, stacks, library_issue.rule if library_issue else None,
                              r.opt(d, "timing_sensitive", bool, False, where)))
    runs_with = r.opt(d, "runs_with_bucket", int, 0, where)
    new = r.opt(d, "new", bool, True, where)
    return BucketResult(
        id=bid, kind=kind, title=r.opt(d, "title", str, kind, where), signature=signature, frames=frames,
        stacks=stacks, tests=sorted(r.strings(d, "tests", where)),
        occurrences=r.opt(d, "occurrences", int, runs_with, where), runs_with_bucket=runs_with,
        first_seen=FirstSeen(
            test=r.opt(seen, "test", str, "", at), run=r.opt(seen, "run", int, 0, at),
            seed=r.opt(seen, "seed", int, 0, at), schedule=r.opt(seen, "schedule", str, "", at),
            command=r.strings(seen, "command", at), env=r.str_map(seen, "env", at),
            cwd=r.nullable(seen, "cwd", str, at), log_dir=r.nullable(seen, "log_dir", str, at),
            seconds=r.nullable(seen, "seconds", float, at)),
        schedules={str(k): int(v) for k, v in r.obj(d, "schedules", where).items() if isinstance(v, int)},
        advice=advice, raw_report=r.opt(d, "raw_report", str, "", where), new=new,
        baseline_note=r.nullable(d, "baseline_note", str, where) if not new else None,
        library_issue=library_issue,
        timing_sensitive=r.opt(d, "timing_sensitive", bool, False, where),
        interference=r.opt(d, "interference", bool, False, where),
        evidence=_evidence_from(r, d.get("evidence"), f"{where}.evidence"),
        kinds={str(k): v for k, v in r.obj(d, "kinds", where).items() if isinstance(v, int)},
        legacy_ids=r.strings(d, "legacy_ids", where),
        symptoms=[_symptom_from(r, s, f"{where}.symptoms[{i}]") for i, s in enumerate(r.lst(d, "symptoms", where))])


def _symptom_from(r: _Reader, value: Any, where: str) -> Symptom:
    d = r.entry(value, where)
    return Symptom(id=r.opt(d, "id", str, "", where), kind=r.opt(d, "kind", str, "", where),
                   title=r.opt(d, "title", str, "", where), runs=r.opt(d, "runs", int, 0, where),
                   runs_with_cause=r.opt(d, "runs_with_cause", int, 0, where),
                   raw_report=r.opt(d, "raw_report", str, "", where))


def _library_issue_from(r: _Reader, d: dict, where: str) -> LibraryIssue | None:
    if not d:
        return None
    rule = r.opt(d, "rule", str, "", where)
    if rule in BY_RULE:
        return BY_RULE[rule]
    # A rule this release does not list (written by a later one): keep what the file says of it.
    return LibraryIssue(rule=rule, reference=r.opt(d, "reference", str, rule, where),
                        url=r.opt(d, "url", str, "", where), affects=r.opt(d, "affects", str, "", where),
                        functions=frozenset(), what="")


def _evidence_from(r: _Reader, value: Any, where: str) -> Evidence | None:
    if value is None:
        return None
    d = r.entry(value, where)
    plain, plain_with, replays, replays_with = (r.opt(d, key, int, 0, where) for key in
                                                ("plain_runs", "plain_runs_with_bucket", "replays",
                                                 "replays_with_bucket"))
    skipped = tuple(r.strings(d, "skipped", where))
    return Evidence(plain, plain_with, replays, replays_with, skipped,
                    r.nullable(d, "ended_by", str, where) if skipped else None)


def _steady_crash_from(r: _Reader, value: Any, where: str) -> SteadyCrash:
    d = r.entry(value, where)
    return SteadyCrash(r.opt(d, "signal", str, "", where), sorted(r.strings(d, "tests", where)))


def _config_from(r: _Reader, d: dict) -> RunConfig:
    w = "config"
    merged = d.get("merged_from")
    return RunConfig(
        runs=r.nullable(d, "runs", int, w), time_budget=r.nullable(d, "time_budget", float, w),
        jobs=r.nullable(d, "jobs", int, w), seed=r.nullable(d, "seed", int, w), schedules=r.strings(d, "schedules", w),
        shard=r.nullable(d, "shard", str, w), until_confident=r.nullable(d, "until_confident", float, w),
        source_dir=r.nullable(d, "source_dir", str, w), build_dir=r.nullable(d, "build_dir", str, w),
        out_dir=r.nullable(d, "out_dir", str, w), compiler=r.nullable(d, "compiler", str, w),
        schedule_notes=r.strings(d, "schedule_notes", w),
        merged_from=[str(p) for p in merged] if isinstance(merged, list) else None,
        strict=r.opt(d, "strict", bool, False, w),
        gate_library_reports=r.opt(d, "gate_library_reports", bool, False, w),
        suppression_files=r.strings(d, "suppression_files", w) if "suppression_files" in d else None)


def _suppressions_from(r: _Reader, value: Any) -> list[SuppressionResult] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise r.fail("", "suppressions", "a list")
    entries = []
    for i, item in enumerate(value):
        where = f"suppressions[{i}]"
        d = r.entry(item, where)
        # "stale" is written for readers of the file; it follows from "matched" and is not read back.
        entries.append(SuppressionResult(r.opt(d, "entry", str, "", where), r.opt(d, "file", str, "", where),
                                         r.opt(d, "matched", int, 0, where)))
    return entries


def _cost_from(r: _Reader, value: Any) -> Cost | None:
    if value is None:
        return None
    d = r.entry(value, "cost")
    # "startup_share" follows from the others and is not read back.
    return Cost(first_pass_seconds=r.opt(d, "first_pass_seconds", float, 0.0, "cost"),
                repetition_seconds=r.opt(d, "repetition_seconds", float, 0.0, "cost"),
                processes=r.opt(d, "processes", int, 0, "cost"),
                batched_tests=r.opt(d, "batched_tests", int, 0, "cost"),
                batch_processes=r.opt(d, "batch_processes", int, 0, "cost"),
                startup_seconds=r.nullable(d, "startup_seconds", float, "cost"),
                first_repetition_after=r.nullable(d, "first_repetition_after", float, "cost"))
