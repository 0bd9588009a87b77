"""The gate: known races from a baseline file do not fail the pipeline, new ones do."""
from __future__ import annotations

from pathlib import Path

from racegate.errors import EXIT_CLEAN, EXIT_FOUND, RacegateError
from racegate.result import Result, read_json, write_json

BASELINE_SCHEMA = 1


def load_baseline(path: Path | None) -> dict[str, dict]:
    """Known bucket ids with their entries ({"id", "kind", "title", "note"}); empty without a file."""
    if path is None:
        return {}
    data = read_json(path, "baseline")
    if not isinstance(data, dict) or not isinstance(data.get("known"), list):
        raise RacegateError(f"baseline {path} has no \"known\" list (write one with `racegate baseline`)")
    return {entry["id"]: entry for entry in data["known"] if isinstance(entry, dict) and "id" in entry}


def apply_baseline(result: Result, known: dict[str, dict]) -> None:
    """Mark each bucket new or known."""
    for bucket in result.buckets:
        # A baseline of an earlier release holds the bucket's ids under an earlier signature version (v1, v2).
        entry = known.get(bucket.id) or next((known[i] for i in bucket.legacy_ids if i in known), None)
        bucket.new = entry is None
        bucket.baseline_note = str(entry.get("note", "")) if entry is not None else None
    result.sort_buckets()


def exit_code(result: Result) -> int:
    return EXIT_FOUND if failing(result) else EXIT_CLEAN


def failing(result: Result) -> bool:
    """Whether the gate fails: a bucket that gates (new, and neither a known standard-library report nor, without
    --strict, a timing-sensitive failure; races and test failures are both buckets)."""
    return any(result.gates(b) for b in result.buckets)


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
