"""The gate: known races from a baseline file do not fail the pipeline, new ones do."""
from __future__ import annotations

import json
from pathlib import Path

from racegate.errors import EXIT_CLEAN, EXIT_FOUND, RacegateError
from racegate.result import bucket_order, write_json

BASELINE_SCHEMA = 1


def load_baseline(path: Path | None) -> dict[str, dict]:
    """Known bucket ids with their entries ({"id", "kind", "title", "note"}); empty without a file."""
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RacegateError(f"cannot read baseline {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RacegateError(f"baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("known"), list):
        raise RacegateError(f"baseline {path} has no \"known\" list (write one with `racegate baseline`)")
    return {entry["id"]: entry for entry in data["known"] if isinstance(entry, dict) and "id" in entry}


def apply_baseline(result: dict, known: dict[str, dict]) -> None:
    """Mark each bucket new or known, and recount the summary."""
    for bucket in result["buckets"]:
        entry = known.get(bucket["id"])
        bucket["new"] = entry is None
        if entry is not None:
            bucket["baseline_note"] = entry.get("note", "")
        else:
            bucket.pop("baseline_note", None)
    result["summary"]["new_buckets"] = sum(1 for b in result["buckets"] if b["new"])
    result["buckets"].sort(key=bucket_order)


def exit_code(result: dict) -> int:
    return EXIT_FOUND if result["summary"]["new_buckets"] else EXIT_CLEAN


def write_baseline(result: dict, path: Path, note: str | None) -> tuple[int, int]:
    """Add the result's buckets to the baseline at `path` (keeping existing notes); (added, total)."""
    known = load_baseline(path) if Path(path).exists() else {}
    added = 0
    for bucket in result["buckets"]:
        if bucket["id"] not in known:
            known[bucket["id"]] = {"id": bucket["id"], "kind": bucket["kind"], "title": bucket["title"],
                                   "note": note or "known; tracked elsewhere"}
            added += 1
    write_json(Path(path), {"schema": BASELINE_SCHEMA, "known": sorted(known.values(), key=lambda e: e["id"])})
    return added, len(known)
