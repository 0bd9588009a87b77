"""Group the findings of all runs into buckets: one per distinct race or failure."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from racegate import outdir
from racegate.model import Finding, RunRecord
from racegate.signature import bucket_id


@dataclass
class Bucket:
    id: str
    finding: Finding  # the one from the earliest run, shown to people
    first: RunRecord
    occurrences: int = 0
    runs: set[int] = field(default_factory=set)
    tests: set[str] = field(default_factory=set)
    schedules: Counter = field(default_factory=Counter)


class Bucketer:
    """Accumulates buckets run by run and keeps one raw report per bucket under `reports_dir`."""

    def __init__(self, reports_dir: Path):
        self.reports_dir = reports_dir
        self.buckets: dict[str, Bucket] = {}

    def add(self, record: RunRecord) -> None:
        """Add a run's findings."""
        seen_in_run: set[str] = set()
        for finding in record.findings:
            key = bucket_id(finding.kind, finding.signature)
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = Bucket(key, finding, record)
                self._keep_raw(bucket)
            elif record.run < bucket.first.run:
                # Runs finish out of order: the earliest run is the one to replay.
                bucket.finding, bucket.first = finding, record
                self._keep_raw(bucket)
            bucket.occurrences += 1
            bucket.tests.add(record.test)
            if key not in seen_in_run:
                seen_in_run.add(key)
                bucket.runs.add(record.run)
                bucket.schedules[record.schedule] += 1

    def _keep_raw(self, bucket: Bucket) -> None:
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        header = (f"# racegate bucket {bucket.id}: {bucket.finding.title}\n"
                  f"# test {bucket.first.test}, run {bucket.first.run}, seed {bucket.first.seed}, "
                  f"schedule {bucket.first.schedule}, logs in {bucket.first.log_dir}\n\n")
        path = outdir.raw_report_file(self.reports_dir, bucket.id)
        path.write_text(header + bucket.finding.raw, encoding="utf-8", errors="backslashreplace")
