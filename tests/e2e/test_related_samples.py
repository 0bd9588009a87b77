"""End-to-end: one array racing in three ways (samples/racy/work_ring) is three buckets in one group of related
buckets, with the reason, in racegate.json, the Markdown summary and the console; each bucket keeps its id and gate."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from samples_helpers import racegate

pytestmark = pytest.mark.e2e

# Each test races on the ring's one array through another pair of functions; TSan reports it on every run of a
# test alone (a batched first run of all three reports one: TSan reports one race per address in a process).
PAIRS = {
    "WorkRingRace.PushThenPop": {"WorkRing::push", "WorkRing::pop"},
    "WorkRingRace.TryPushThenPop": {"WorkRing::try_push", "WorkRing::pop"},
    "WorkRingRace.PushThenSteal": {"WorkRing::push", "WorkRing::steal"},
}
# "same heap block ...", or "same field (offset N) of the heap block ..." when every first report fell on one slot.
BLOCK = "heap block allocated at WorkRing::WorkRing (work_ring.cpp:6)"


def test_the_ring_buffer_races_are_one_group_of_three_buckets(samples_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = racegate("run", "--build-dir", str(samples_build), "--out", str(out), "--seed", "7", "--jobs", "2",
                    "-R", r"^WorkRingRace\.", "--runs", "3")
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads((out / "racegate.json").read_text())
    by_pair = {frozenset(f["function"].split("(")[0] for f in b["frames"]): b for b in result["buckets"]}
    for test, pair in PAIRS.items():
        bucket = by_pair[frozenset(pair)]
        assert test in bucket["tests"] and bucket["new"]
        assert bucket["memory"]["allocated_at"]["function"].startswith("WorkRing::WorkRing")
    (group,) = result["related"]
    assert set(group["buckets"]) == {b["id"] for b in result["buckets"]} and len(group["buckets"]) >= 3
    assert group["reasons"][0].startswith("same ") and group["reasons"][0].endswith(BLOCK)
    # Sides shared between pairs are reasons too (push in two buckets, pop in two).
    assert any(r.startswith("same side WorkRing::push (work_ring.cpp:") for r in group["reasons"])
    # The gate counts buckets: every one is new.
    assert result["summary"]["new_buckets"] == len(result["buckets"])
    summary = (out / "racegate-summary.md").read_text()
    heading = f"Related G1: {len(group['buckets'])} buckets, "
    assert f"#### {heading}" in summary and "heap block allocated at WorkRing::WorkRing" in summary
    assert f"{len(group['buckets'])} in 1 group" in summary
    assert heading + "; ".join(group["reasons"]) in proc.stdout
    assert f"{len(group['buckets'])} distinct problems in 1 group" in proc.stdout
