"""What copies of one test running side by side mean for a failure: racegate repeats a test in parallel, which
CTest never does, so a failure seen only beside another copy and never with the test alone is the copies'
clash (a fixed file name or port), not the project's bug (docs/scheduling.md, "Copies of one test")."""
from __future__ import annotations

from typing import Iterable

from racegate.bucket import Bucket
from racegate.kinds import FAILURE_KINDS
from racegate.model import Outcome, RunRecord
from racegate.schedule import ALONE_RECHECKS


def interfering(bucket: Bucket, records: Iterable[RunRecord]) -> bool:
    """Whether a failure bucket is interference between copies: every run that showed it had another copy of its
    test running, and at least ALONE_RECHECKS finished runs of its tests alone after it was first seen showed
    nothing of it. A TSan report is the project's race however many copies ran: never interference. Without
    those runs alone (the session ended first) the failure gates as any other."""
    if bucket.finding.kind not in FAILURE_KINDS:
        return False
    alone = 0
    first = min(bucket.runs)
    for r in records:
        if r.test not in bucket.tests:
            continue
        if r.run in bucket.runs:
            if not r.overlapped:
                return False
        elif not r.overlapped and r.outcome != Outcome.CUT and r.run > first:
            alone += 1
    return alone >= ALONE_RECHECKS
