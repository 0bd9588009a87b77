"""The gate: the exit code of a result, and the baseline of known buckets.

Which buckets fail the gate (the policy) is `result/policy.py`'s, decided when a result is assembled or loaded,
so the reporters, which come before the gate, read the verdict from the result (`Result.failing`) without
importing this module.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from racegate.errors import EXIT_CLEAN, EXIT_FOUND, EXIT_UNCOVERED, RacegateError
from racegate.jsonfile import JsonReader, read_json, write_json

if TYPE_CHECKING:  # annotations only
    from racegate.result.model import Result

BASELINE_SCHEMA = 1


def exit_code(result: Result) -> int:
    """1 for new problems; else 3 when some test completed no run (0 with --allow-uncovered); else 0."""
    if result.failing:
        return EXIT_FOUND
    if result.undecided and not result.config.allow_uncovered:
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
