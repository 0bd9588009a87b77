"""Statistics: whether more runs would likely find more distinct buckets, and whether one set of runs shows a
bucket more often than another."""
from __future__ import annotations

import math


def new_bucket_chance(buckets_seen_once: int, runs: int) -> float:
    """Good-Turing estimate of the chance that the next run shows a bucket not seen yet.

    The share of runs that produced a bucket seen in no other run estimates the probability mass of everything
    not seen so far. With no runs nothing is known, so the answer is 1.0 (assume more can be found).
    """
    if runs <= 0:
        return 1.0
    return min(1.0, max(0.0, buckets_seen_once / runs))


# Below this many completed runs the estimate is not shown as a figure of its own: with n runs, a problem that
# shows in fewer than about 1 of n runs is most likely unseen, and Good-Turing's "0%" (no bucket seen exactly
# once) says nothing about it. A PASS that rests on fewer completed runs of a test names that test.
FEW_RUNS = 30


def cautious_new_bucket_chance(buckets_seen_once: int, runs: int) -> float:
    """Good-Turing with one imagined extra singleton, (N1 + 1) / (runs + 1): it only falls below P after
    at least 1/P - 1 runs, so `--until-confident` cannot stop on a lucky start."""
    return (buckets_seen_once + 1) / (max(runs, 0) + 1)


def discovery_points(first_seen_runs: list[int], total_runs: int) -> list[list[int]]:
    """Points [runs_done, distinct_buckets]: one per run that found a new bucket, plus the last run.

    `first_seen_runs` holds each bucket's 0-based first run index; several buckets found in one run make one point.
    """
    points: list[list[int]] = []
    for found, run in enumerate(sorted(first_seen_runs), start=1):
        done = run + 1
        if points and points[-1][0] == done:
            points[-1][1] = found
        else:
            points.append([done, found])
    last = max(total_runs, points[-1][0] if points else 0)
    if not points or points[-1][0] != last:
        points.append([last, len(first_seen_runs)])
    return points


def runs_since_last_discovery(points: list[list[int]]) -> int:
    """How many runs have passed since the last new bucket (a long flat tail means the search has saturated)."""
    if not points:
        return 0
    last_new = 0
    for i, (done, found) in enumerate(points):
        if found > (points[i - 1][1] if i else 0):
            last_new = done
    return points[-1][0] - last_new


def more_often_chance(a_with: int, a_runs: int, b_with: int, b_runs: int) -> float:
    """One-sided Fisher exact test: the chance that, with the runs that showed something spread over the two sets at
    random, set b would hold at least b_with of them. Small when b shows it more often than a by more than
    chance; near 1 with few runs, whatever the rates."""
    shown, total = a_with + b_with, a_runs + b_runs
    if not shown or not a_runs or not b_runs:
        return 1.0
    ways = math.comb(total, shown)
    return sum(math.comb(b_runs, k) * math.comb(a_runs, shown - k)
               for k in range(b_with, min(b_runs, shown) + 1)) / ways
