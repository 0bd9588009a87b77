"""Group the findings of all runs into buckets: one per distinct race or failure."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from racegate import outdir
from racegate.kinds import FAILURE_KINDS, severity
from racegate.model import Finding, Outcome, RunRecord
from racegate.signature_rules import kind_family


@dataclass
class Bucket:
    id: str
    finding: Finding  # shown to people: of the most severe kind the bucket was reported as, its earliest run
    first: RunRecord  # the run of `finding`, whose raw report the bucket keeps
    # The run that first showed it: the earliest to end (then the lowest index). Its "found by", its time, the one
    # to replay; `first` may be a later run when that one printed the report whole or as a more severe kind.
    found: RunRecord
    occurrences: int = 0
    runs: set[int] = field(default_factory=set)  # completed runs that showed it
    cut_runs: set[int] = field(default_factory=set)  # runs racegate cut that showed it before they were stopped
    tests: set[str] = field(default_factory=set)
    strategies: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)  # runs per report kind (a lifetime bug: race, use-after-free)
    legacy_ids: set[str] = field(default_factory=set)  # the ids of its reports under earlier signature versions
    # The failures its runs showed after the one that keys it (a failing run is one problem): first seen first.
    further_messages: list[str] = field(default_factory=list)
    # Of a failure bucket: the completed runs that showed it come from their TSan report (Finding.from_race).
    runs_from_race: set[int] = field(default_factory=set)

    @property
    def seconds(self) -> float | None:
        """When it was first seen: the end of `found`, in seconds since the session started (None outside one)."""
        ended = self.found.ended
        return None if ended is None else round(ended, 3)


def ends_before(record: RunRecord, other: RunRecord) -> bool:
    """Whether `record` ended before `other`: the order in which what runs showed became known. Runs finish out of
    order with several jobs; a record without a start (outside a session) goes by its index."""
    return end_order(record) < end_order(other)


def end_order(record: RunRecord) -> tuple[bool, float, int]:
    ended = record.ended
    return (ended is None, round(ended, 3) if ended is not None else 0.0, record.run)


def _shows_before(finding: Finding, record: RunRecord, bucket: Bucket) -> bool:
    """Whether a finding should be the one a bucket shows: a whole report before a partial one, then a more severe
    kind, or the same kind earlier."""
    if finding.partial != bucket.finding.partial:
        return bucket.finding.partial
    mine, shown = severity(finding.kind), severity(bucket.finding.kind)
    return mine < shown or (mine == shown and record.run < bucket.first.run)


def _completes(bucket: Bucket, partial: Finding, test: str) -> bool:
    """Whether a bucket of a whole report agrees with all that a partial report of `test` names: the kind's family,
    every side it names, its memory where both name one, and its test when it names no side at all."""
    whole = bucket.finding.sides
    if whole is None or whole.missing or partial.sides is None:
        return False
    if kind_family(bucket.finding.kind) != kind_family(partial.kind):
        return False
    if not set(partial.sides.names) <= set(whole.names):
        return False
    if partial.sides.memory and whole.memory and partial.sides.memory != whole.memory:
        return False
    return bool(partial.sides.names) or test in bucket.tests


def _count_run(bucket: Bucket, record: RunRecord) -> None:
    """One more run that showed the bucket: a sample of its test when it completed, a cut run apart otherwise."""
    if record.outcome == Outcome.CUT:
        bucket.cut_runs.add(record.run)
        return
    bucket.runs.add(record.run)
    bucket.strategies[record.strategy] += 1


# A failure (assertion, crash, hang) is a symptom of a race when at least this share of the runs that showed it
# also showed a TSan report of the same test, and showed that the failure comes from it (Finding.from_race):
# "the sum assertion failed in 33 of the 66 runs that had this race".
SYMPTOM_SHARE = 0.9


@dataclass(frozen=True)
class SymptomOf:
    cause: str  # the race bucket's id
    runs_with_both: int


class Bucketer:
    """Accumulates buckets run by run and keeps one raw report per bucket under `reports_dir`."""

    def __init__(self, reports_dir: Path):
        self.reports_dir = reports_dir
        self.buckets: dict[str, Bucket] = {}
        # Buckets of partial reports no full report has matched yet, with what they hold, to fold when one does.
        self._partial: dict[str, list[tuple[RunRecord, Finding]]] = {}

    def add(self, record: RunRecord) -> None:
        """Add a run's findings."""
        seen_in_run: set = set()  # bucket ids, and (bucket id, kind) pairs
        for finding in record.findings:
            key = self._bucket_of(finding, record)
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = Bucket(key, finding, record, record)
                self._keep_raw(bucket)
            elif _shows_before(finding, record, bucket):
                # Runs finish out of order: the earliest run is the one to replay; a lifetime bug is shown as the
                # use after free it is, though TSan reports it as a race on other runs.
                bucket.finding, bucket.first = finding, record
                self._keep_raw(bucket)
            bucket.occurrences += 1
            bucket.tests.add(record.test)
            bucket.legacy_ids.update(i for i in finding.legacy_ids if i)
            bucket.further_messages += [m for m in finding.further_messages if m not in bucket.further_messages]
            if (key, finding.kind) not in seen_in_run and record.outcome != Outcome.CUT:
                seen_in_run.add((key, finding.kind))
                bucket.kinds[finding.kind] += 1
            if finding.from_race and record.outcome != Outcome.CUT:
                bucket.runs_from_race.add(record.run)
            if key not in seen_in_run:
                seen_in_run.add(key)
                _count_run(bucket, record)
                if ends_before(record, bucket.found):
                    bucket.found = record
            if key in self._partial:
                self._partial[key].append((record, finding))
            elif not finding.partial:
                self._fold_partials_into(bucket)

    def _bucket_of(self, finding: Finding, record: RunRecord) -> str:
        """The bucket a finding goes in: its own, or for a partial report the one bucket of a whole report that
        agrees with all it names (docs/bucketing.md, "Partial reports"); the finding carries that id from then on."""
        if finding.partial:
            matches = [b for b in self.buckets.values() if _completes(b, finding, record.test)]
            if len(matches) == 1:
                finding.id = matches[0].id
            elif finding.id not in self.buckets:
                self._partial[finding.id] = []
        return finding.id

    def _fold_partials_into(self, whole: Bucket) -> None:
        """Fold the buckets of partial reports that `whole` (a whole report's bucket) is now the one match of."""
        for key, members in list(self._partial.items()):
            if not members or key == whole.id:
                continue
            record, finding = members[0]
            if not _completes(whole, finding, record.test):
                continue
            if sum(_completes(b, finding, record.test) for b in self.buckets.values()) != 1:
                continue
            del self._partial[key]
            folded = self.buckets.pop(key)
            outdir.raw_report_file(self.reports_dir, key).unlink(missing_ok=True)
            for record, finding in members:
                finding.id = whole.id
                if record.run not in whole.runs | whole.cut_runs:
                    _count_run(whole, record)
                    if record.outcome != Outcome.CUT:
                        whole.kinds[finding.kind] += 1
            whole.occurrences += folded.occurrences
            whole.tests |= folded.tests
            whole.legacy_ids |= folded.legacy_ids
            if ends_before(folded.found, whole.found):
                whole.found = folded.found

    def symptoms(self) -> dict[str, SymptomOf]:
        """Failure buckets that are symptoms of a race, by id: SYMPTOM_SHARE of their runs had a TSan report of the
        same test, in any of its processes, and showed that the failure comes from it (`runs_from_race`: one
        framework test that failed and reported, or a forked child's report whose exit 66 made its parent fail);
        a suite's unrelated failure beside a race stays a problem of its own. Their cause is the race bucket that
        shares most of those runs; with several races in them (a child that races in two places) no one of them
        need cover the share alone."""
        found: dict[str, SymptomOf] = {}
        races = [b for b in self.buckets.values() if b.finding.kind not in FAILURE_KINDS]
        for failure in self.buckets.values():
            if failure.finding.kind not in FAILURE_KINDS:
                continue
            related = [race for race in races if failure.tests & race.tests]
            with_a_report = failure.runs_from_race & set().union(*(race.runs for race in related))
            best = max(((len(with_a_report & race.runs), race.id) for race in related), default=(0, ""))
            if best[0] and len(with_a_report) >= SYMPTOM_SHARE * len(failure.runs):
                found[failure.id] = SymptomOf(best[1], best[0])
        return found

    def _keep_raw(self, bucket: Bucket) -> None:
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        header = (f"# racegate bucket {bucket.id}: {bucket.finding.title}\n"
                  f"# test {bucket.first.test}, run {bucket.first.run}, seed {bucket.first.seed}, "
                  f"schedule {bucket.first.strategy}, logs in {bucket.first.log_dir}\n\n")
        path = outdir.raw_report_file(self.reports_dir, bucket.id)
        path.write_text(header + bucket.finding.raw, encoding="utf-8", errors="backslashreplace")
