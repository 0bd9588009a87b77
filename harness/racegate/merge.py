"""Merge shard results into the result one run over all their tests would have written."""
from __future__ import annotations

import os
from pathlib import Path

from racegate import result as results
from racegate.errors import RacegateError
from racegate.model import OUTCOMES


def merge(inputs: list[tuple[Path, dict]], out_path: Path) -> dict:
    """Merge (path, result) pairs; raw report paths are rebased to stay valid next to `out_path`."""
    if not inputs:
        raise RacegateError("merge needs at least one result file")
    versions = {r.get("signature_version") for _, r in inputs}
    if len(versions) > 1:
        # Ids from different signature versions never match: merging them would double every bucket.
        raise RacegateError(f"cannot merge results of different signature versions ({sorted(map(str, versions))})")
    out_dir = out_path.parent
    tests: dict[str, dict] = {}
    buckets: dict[str, dict] = {}
    strategies: dict[str, dict] = {}
    discovery: list[list[int]] = []
    runs_before = buckets_before = 0
    for path, result in inputs:
        in_dir = path.parent
        for test in result["tests"]:
            tests[test["name"]] = _merge_test(tests.get(test["name"]), test)
        new_here = 0
        for bucket in result["buckets"]:
            bucket = _rebase(bucket, in_dir, out_dir)
            if bucket["id"] in buckets:
                _merge_bucket(buckets[bucket["id"]], bucket)
            else:
                buckets[bucket["id"]] = bucket
                new_here += 1
        for name, entry in result.get("strategies", {}).items():
            total = strategies.setdefault(name, {"runs": 0, "failed_runs": 0, "buckets_first_found": 0})
            total["runs"] += entry.get("runs", 0)
            total["failed_runs"] += entry.get("failed_runs", 0)
        # Shards ran side by side; the merged curve lays them end to end, counting only buckets new to it.
        shard_runs = result["summary"]["runs"]
        if new_here:
            discovery.append([runs_before + shard_runs, buckets_before + new_here])
        runs_before += shard_runs
        buckets_before += new_here
    if runs_before and (not discovery or discovery[-1][0] != runs_before):
        discovery.append([runs_before, buckets_before])
    # A bucket found first in two shards counts once, for the strategy of the first-seen run kept.
    for bucket in buckets.values():
        schedule = bucket["first_seen"].get("schedule")
        if schedule in strategies:
            strategies[schedule]["buckets_first_found"] += 1
    config = dict(inputs[0][1].get("config", {}))
    config["shard"] = None
    config["out_dir"] = str(out_dir)
    config["merged_from"] = [str(p) for p, _ in inputs]
    return results.assemble(
        config, sorted(tests.values(), key=lambda t: t["name"]), list(buckets.values()),
        dict(sorted(strategies.items())),
        discovery, max(r["summary"]["wall_seconds"] for _, r in inputs),
        any(r["summary"]["interrupted"] for _, r in inputs))


def _merge_test(into: dict | None, test: dict) -> dict:
    if into is None:
        return dict(test, outcomes=dict(test["outcomes"]))
    runs = into["runs"] + test["runs"]
    merged = dict(into)
    merged["runs"] = runs
    merged["failed_runs"] = into["failed_runs"] + test["failed_runs"]
    merged["outcomes"] = {o: into["outcomes"].get(o, 0) + test["outcomes"].get(o, 0) for o in OUTCOMES}
    merged["flaky"] = 0 < merged["failed_runs"] < runs
    threads = [t for t in (into.get("threads"), test.get("threads")) if t is not None]
    merged["threads"] = max(threads) if threads else None
    if runs:
        merged["mean_seconds"] = round(
            (into["mean_seconds"] * into["runs"] + test["mean_seconds"] * test["runs"]) / runs, 4)
    return merged


def _merge_bucket(into: dict, bucket: dict) -> None:
    into["occurrences"] += bucket["occurrences"]
    into["runs_with_bucket"] += bucket["runs_with_bucket"]
    into["tests"] = sorted(set(into["tests"]) | set(bucket["tests"]))
    for name, n in bucket.get("schedules", {}).items():
        into["schedules"][name] = into["schedules"].get(name, 0) + n
    into["new"] = into["new"] or bucket["new"]


def _rebase(bucket: dict, in_dir: Path, out_dir: Path) -> dict:
    bucket = dict(bucket, schedules=dict(bucket.get("schedules", {})), first_seen=dict(bucket["first_seen"]))
    for holder, key in ((bucket, "raw_report"), (bucket["first_seen"], "log_dir")):
        if holder.get(key):
            holder[key] = os.path.relpath(os.path.join(in_dir, holder[key]), out_dir)
    return bucket
