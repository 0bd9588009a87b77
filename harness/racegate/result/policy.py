"""The gate's policy: which buckets fail the pipeline, and which a baseline knows. The assembly and the codec
record its verdict in every `BucketResult` they make, so the summary, the order of racegate.json, every reporter
and the exit code (gate.py) all show the one verdict this module gives; it reads only the bucket, the result's
config and the baseline's entries."""
from __future__ import annotations

from typing import TYPE_CHECKING

from racegate.model import BucketStatus

if TYPE_CHECKING:  # annotations only: the model's types, which the model builds with this policy's verdict
    from racegate.result.buckets import BucketResult
    from racegate.result.model import RunConfig


def status(bucket: BucketResult, config: RunConfig) -> BucketStatus:
    """Why a bucket fails the gate or does not: "new" (it fails), "baselined" (a baseline knows it), "library" (a
    known standard-library report, unless --gate-library-reports), "interference" (a failure seen only while
    another copy of its test ran: racegate's own parallelism, never the project's, so not gated by --strict either)
    or "timing-sensitive" (a failed check on elapsed time, unless --strict)."""
    if not bucket.new:
        return BucketStatus.BASELINED
    if bucket.library_issue is not None and not config.gate_library_reports:
        return BucketStatus.LIBRARY
    if bucket.interference:
        return BucketStatus.INTERFERENCE
    if bucket.timing_sensitive and not config.strict:
        return BucketStatus.TIMING_SENSITIVE
    return BucketStatus.NEW


def known_entry(bucket: BucketResult, known: dict[str, dict]) -> dict | None:
    """The baseline's entry for a bucket: by its id, or by one of its ids under an earlier signature version (a
    baseline of an earlier release holds those, v1 or v2)."""
    return known.get(bucket.id) or next((known[i] for i in bucket.legacy_ids if i in known), None)
