"""The result of each bucket: one distinct race or failure (`BucketResult`) with the first run that showed it
(`FirstSeen`), the evidence it rests on (`Evidence`), the failures that are its symptoms (`Symptom`), the memory its
report says raced (`RacingMemory`) and the groups of related buckets (`RelatedGroup`); merged across shards.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from racegate.model import BucketStatus, Excerpt, SourceFrame, StackTrace

if TYPE_CHECKING:  # annotations only: these types belong to the stages that make them
    from racegate.advice import Advice
    from racegate.library_reports import LibraryIssue


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
