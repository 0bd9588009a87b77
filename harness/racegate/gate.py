"""The gate: which buckets fail the pipeline (the policy), the baseline of known ones, and the exit code.

`status` is the policy. The result assembly and the codec record it in every `BucketResult` they make, so the
reporters, the summary and the order of racegate.json all show the verdict this module gives; it reads only the
bucket and the result's config, and imports nothing of the result package but its types.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from racegate.errors import EXIT_CLEAN, EXIT_FOUND, EXIT_UNCOVERED, RacegateError
from racegate.jsonfile import JsonReader, read_json, write_json
from racegate.model import BucketStatus

if TYPE_CHECKING:  # annotations only: the result package asks this module for its policy
    from racegate.result.model import BucketResult, Result, RunConfig

BASELINE_SCHEMA = 1


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


def failing(result: Result) -> bool:
    """Whether the gate fails: some bucket gates (races and test failures are both buckets)."""
    return any(result.gates(b) for b in result.buckets)


def undecided(result: Result) -> bool:
    """Whether the gate could not decide: no new problem, but some selected test completed no run."""
    return not failing(result) and bool(result.uncovered)


def verdict_state(result: Result) -> str:
    """The session's verdict in one word, which every report's colour or icon reads: "fail", "uncovered" (no new
    problem, but the gate could not decide for some test) or "pass"."""
    return "fail" if failing(result) else "uncovered" if undecided(result) else "pass"


def exit_code(result: Result) -> int:
    """1 for new problems; else 3 when some test completed no run (0 with --allow-uncovered); else 0."""
    if failing(result):
        return EXIT_FOUND
    if undecided(result) and not result.config.allow_uncovered:
        return EXIT_UNCOVERED
    return EXIT_CLEAN


def load_baseline(path: Path | None) -> dict[str, dict]:
    """Known bucket ids with their entries ({"id", "kind", "title", "note"}); empty without a file."""
    if path is None:
        return {}
    reader = JsonReader(lambda _: RacegateError(
        f"baseline {path} has no \"known\" list (write one with `racegate baseline`)"))
    known = reader.required(reader.entry(read_json(path, "baseline"), "the file"), "known", list)
    return {entry["id"]: entry for entry in known if isinstance(entry, dict) and "id" in entry}


def known_entry(bucket: BucketResult, known: dict[str, dict]) -> dict | None:
    """The baseline's entry for a bucket: by its id, or by one of its ids under an earlier signature version (a
    baseline of an earlier release holds those, v1 or v2)."""
    return known.get(bucket.id) or next((known[i] for i in bucket.legacy_ids if i in known), None)


def write_baseline(result: Result, path: Path, note: str | None) -> tuple[int, int]:
    """Add the result's buckets to the baseline at `path` (keeping existing notes); (added, total)."""
    known = load_baseline(path) if Path(path).exists() else {}
    added = 0
    for bucket in result.buckets:
        if bucket.id not in known:
            known[bucket.id] = {"id": bucket.id, "kind": bucket.kind, "title": bucket.title,
                                "note": note or "known; tracked elsewhere"}
            added += 1
    write_json(Path(path), {"schema": BASELINE_SCHEMA, "known": sorted(known.values(), key=lambda e: e["id"])})
    return added, len(known)
