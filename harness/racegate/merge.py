"""Merge shard results into the result one run over all their tests would have written."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from racegate import steady_crash
from racegate.errors import RacegateError
from racegate.result import (BucketResult, Result, Spent, StrategyStats, SuppressionResult, TestResult, added,
                             build_result, discovery_curve_seconds)


def merge(inputs: list[tuple[Path, Result]], out_path: Path, known: dict[str, dict] | None = None) -> Result:
    """Merge (path, result) pairs; raw report paths are rebased to stay valid next to `out_path`. `known`: a
    baseline's entries, to mark the merged buckets by (None keeps each shard's marks)."""
    if not inputs:
        raise RacegateError("merge needs at least one result file")
    versions = {r.signature_version for _, r in inputs}
    if len(versions) > 1:
        # Ids from different signature versions never match: merging them would double every bucket.
        raise RacegateError(f"cannot merge results of different signature versions ({sorted(map(str, versions))})")
    out_dir = out_path.parent
    tests: dict[str, TestResult] = {}
    buckets: dict[str, BucketResult] = {}
    strategies: dict[str, StrategyStats] = {}
    discovery: list[list[int]] = []
    runs_before = buckets_before = 0
    for path, result in inputs:
        for test in result.tests:
            tests[test.name] = tests[test.name].merged(test) if test.name in tests else test
        new_here = 0
        for bucket in result.buckets:
            bucket = _rebased(bucket, path.parent, out_dir)
            if bucket.id in buckets:
                buckets[bucket.id] = buckets[bucket.id].merged(bucket)
            else:
                buckets[bucket.id] = bucket
                new_here += 1
        for name, stats in result.strategies.items():
            total = strategies.setdefault(name, StrategyStats(seconds=0.0))
            total.runs += stats.runs
            total.failed_runs += stats.failed_runs
            # Unknown when a shard of an earlier release did not time its runs: a part is not the sum.
            total.seconds = (None if total.seconds is None or stats.seconds is None
                             else round(total.seconds + stats.seconds, 3))
        # Shards ran side by side; the merged curve lays them end to end, counting only buckets new to it.
        shard_runs = result.summary.runs
        if new_here:
            discovery.append([runs_before + shard_runs, buckets_before + new_here])
        runs_before += shard_runs
        buckets_before += new_here
    if runs_before and (not discovery or discovery[-1][0] != runs_before):
        discovery.append([runs_before, buckets_before])
    # A bucket found first in two shards counts once, for the strategy of the first-seen run kept.
    for bucket in buckets.values():
        if bucket.first_seen.strategy in strategies:
            strategies[bucket.first_seen.strategy].buckets_first_found += 1
    config = replace(inputs[0][1].config, shard=None, out_dir=str(out_dir),
                     merged_from=[str(p) for p, _ in inputs], suppression_files=_suppression_files(inputs))
    wall = max(r.wall_seconds for _, r in inputs)
    # Seconds add up over the shards. Times since the start do not: shards run side by side, each timed from its
    # own start, so the curve in seconds takes each bucket's earliest time and ends at the longest shard's end.
    timed = all(r.discovery_seconds is not None for _, r in inputs)
    verification: dict[str, Spent] | None = None
    if all(r.verification is not None for _, r in inputs):
        verification = {}
        for _, result in inputs:
            verification = added(verification, result.verification or {})
    return build_result(config, sorted(tests.values(), key=lambda t: t.name), list(buckets.values()), strategies,
                        discovery, wall, any(r.interrupted for _, r in inputs), _merged_suppressions(inputs),
                        discovery_seconds=discovery_curve_seconds(buckets.values(), wall) if timed else None,
                        verification=verification,
                        steady_crashes=steady_crash.merged([r.steady_crashes for _, r in inputs]), known=known)


def _merged_suppressions(inputs: list[tuple[Path, Result]]) -> list[SuppressionResult] | None:
    """Each entry once, its counts added over the shards: stale only if it matched nothing on any shard."""
    entries: dict[str, SuppressionResult] = {}
    for _, result in inputs:
        for s in result.suppressions or ():
            entries[s.entry] = entries[s.entry].merged(s) if s.entry in entries else s
    if all(r.suppressions is None for _, r in inputs):
        return None
    return list(entries.values())


def _suppression_files(inputs: list[tuple[Path, Result]]) -> list[str] | None:
    files = [f for _, r in inputs for f in r.config.suppression_files or ()]
    return list(dict.fromkeys(files)) if any(r.config.suppression_files is not None for _, r in inputs) else None


def _rebased(bucket: BucketResult, in_dir: Path, out_dir: Path) -> BucketResult:
    def rebase(path: str | None) -> str | None:
        return os.path.relpath(os.path.join(in_dir, path), out_dir) if path else path

    return replace(bucket, raw_report=rebase(bucket.raw_report) or "",
                   first_seen=replace(bucket.first_seen, log_dir=rebase(bucket.first_seen.log_dir)),
                   symptoms=[replace(s, raw_report=rebase(s.raw_report) or "") for s in bucket.symptoms])
