"""The result file, racegate.json (schema 1): build it from runs and buckets, save it, load it."""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from racegate import __version__
from racegate.advice import advice_for
from racegate.bucket import Bucket
from racegate.errors import RacegateError
from racegate.model import OUTCOMES, RunRecord, TestCase
from racegate.signature import SIGNATURE_VERSION
from racegate.stats import discovery_points, new_bucket_chance

SCHEMA = 1
RESULT_FILE = "racegate.json"


def test_entry(test: TestCase, records: list[RunRecord]) -> dict:
    outcomes = Counter({o: 0 for o in OUTCOMES})
    outcomes.update(r.outcome for r in records)
    failed = sum(n for o, n in outcomes.items() if o != "pass")
    threads = [r.threads for r in records if r.threads is not None]
    return {
        "name": test.name,
        "runs": len(records),
        "failed_runs": failed,
        "outcomes": dict(outcomes),
        "flaky": 0 < failed < len(records),
        "threads": max(threads) if threads else None,
        "mean_seconds": round(sum(r.duration for r in records) / len(records), 4) if records else 0.0,
        # What `racegate replay` needs to run the test again.
        "command": list(test.command),
        "cwd": test.cwd,
        "env": dict(test.env),
        "timeout": test.timeout,
        "labels": list(test.labels),
        "is_gtest": test.is_gtest,
        "will_fail": test.will_fail,
        "skip_return_code": test.skip_return_code,
        "run_serial": test.run_serial,
    }


def bucket_entry(bucket: Bucket, out_dir: Path) -> dict:
    finding, first = bucket.finding, bucket.first
    return {
        "id": bucket.id,
        "kind": finding.kind,
        "title": finding.title,
        "signature": list(finding.signature),
        "frames": finding.frames,
        "stacks": finding.stacks,
        "tests": sorted(bucket.tests),
        "occurrences": bucket.occurrences,
        "runs_with_bucket": len(bucket.runs),
        "first_seen": {"test": first.test, "run": first.run, "seed": first.seed, "schedule": first.schedule,
                       "command": list(first.command), "env": dict(first.env), "cwd": first.cwd,
                       "log_dir": os.path.relpath(first.log_dir, out_dir)},
        "schedules": dict(bucket.schedules),
        "new": True,
        "advice": advice_for(finding.kind, finding.frames, finding.signature, finding.stacks),
        "raw_report": os.path.join("reports", f"{bucket.id}.txt"),
    }


def strategy_entries(records: list[RunRecord], first_found: list[tuple[int, str]]) -> dict:
    """Runs, failed runs and buckets first found per strategy; `first_found` is (run, schedule) per bucket."""
    stats: dict[str, dict] = {}
    for r in records:
        entry = stats.setdefault(r.schedule, {"runs": 0, "failed_runs": 0, "buckets_first_found": 0})
        entry["runs"] += 1
        entry["failed_runs"] += r.outcome != "pass"
    for _, schedule in first_found:
        stats[schedule]["buckets_first_found"] += 1
    return dict(sorted(stats.items()))


def discovery_curve(first_found: list[tuple[int, str]], records: list[RunRecord]) -> list[list[int]]:
    """[runs done, distinct buckets] at each run that found a new bucket, and at the last run."""
    # Ranks, not run indices: an interrupted session leaves gaps in the indices.
    position = {run: i for i, run in enumerate(sorted(r.run for r in records))}
    return discovery_points([position[run] for run, _ in first_found], len(records))


def bucket_order(bucket: dict) -> tuple:
    """New buckets first, then the most frequent."""
    return (not bucket["new"], -bucket["runs_with_bucket"], bucket["id"])


def assemble(config: dict, tests: list[dict], buckets: list[dict], strategies: dict,
             discovery: list[list[int]], wall_seconds: float, interrupted: bool) -> dict:
    """The whole result, with the summary derived from its parts (shared by `run` and `merge`)."""
    runs_per_test = {t["name"]: t["runs"] for t in tests}
    for b in buckets:
        exposed = sum(runs_per_test.get(name, 0) for name in b["tests"])
        b["run_fraction"] = round(b["runs_with_bucket"] / exposed, 4) if exposed else 0.0
    buckets = sorted(buckets, key=bucket_order)
    runs = sum(t["runs"] for t in tests)
    return {
        "schema": SCHEMA,
        "tool": {"name": "racegate", "version": __version__},
        "signature_version": SIGNATURE_VERSION,
        "config": config,
        "summary": {
            "tests": len(tests),
            "runs": runs,
            "failed_runs": sum(t["failed_runs"] for t in tests),
            "buckets": len(buckets),
            "new_buckets": sum(1 for b in buckets if b["new"]),
            "wall_seconds": round(wall_seconds, 3),
            "interrupted": interrupted,
            "new_bucket_chance": new_bucket_chance(sum(1 for b in buckets if b["runs_with_bucket"] == 1), runs),
        },
        "tests": tests,
        "strategies": strategies,
        "discovery": discovery,
        "buckets": buckets,
    }


def save(result: dict, path: Path) -> None:
    """Write atomically, so an interrupted write never leaves half a file."""
    write_json(path, result)


def write_json(path: Path, data: dict) -> None:
    """Atomic JSON write. Names and paths that were not valid UTF-8 (surrogate escapes) are written as
    JSON \\u escapes rather than failing the whole write at the end of a run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8",
                   errors="backslashreplace")
    os.replace(tmp, path)


def load(path: Path) -> dict:
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RacegateError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RacegateError(f"{path} is not a racegate result: invalid JSON ({exc})") from None
    if not isinstance(result, dict) or result.get("schema") != SCHEMA or "buckets" not in result:
        raise RacegateError(f"{path} is not a racegate result with schema {SCHEMA}")
    return result
