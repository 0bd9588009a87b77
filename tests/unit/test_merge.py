from dataclasses import replace
from pathlib import Path

import pytest

from racegate.errors import RacegateError
from racegate.merge import merge

from result_factory import bucket, make_result, entry_for_test
from racegate.result.codec import result_json


def test_merge_sums_counts_and_unions_buckets_by_id(tmp_path):
    shared = "cccc00000003"
    one = make_result([entry_for_test("A.x", 10, 3)], [bucket("aaaa00000001", "A.x", 2), bucket(shared, "A.x", 1)])
    two = make_result([entry_for_test("B.y", 6, 2)], [bucket(shared, "B.y", 2, strategy="pct")])
    out = tmp_path / "merged" / "racegate.json"
    merged = merge([(tmp_path / "s1" / "racegate.json", one), (tmp_path / "s2" / "racegate.json", two)], out)
    assert merged.summary.tests == 2 and merged.summary.runs == 16
    assert merged.summary.buckets == 2 and merged.summary.failed_runs == 5
    both = next(b for b in merged.buckets if b.id == shared)
    assert both.tests == ["A.x", "B.y"] and both.runs_with_bucket == 3 and both.occurrences == 6
    assert both.strategies == {"noise": 1, "pct": 2}
    assert merged.run_fraction(both) == round(3 / 16, 4)
    # Raw reports and logs stay reachable from the merged file's directory.
    assert both.raw_report == str(Path("..") / "s1" / "reports" / f"{shared}.txt")
    assert both.first_seen.log_dir == str(Path("..") / "s1" / "runs" / "0")
    assert merged.strategies["noise"].runs == 16
    # The shared bucket was first found in both shards but counts once.
    assert sum(e.buckets_first_found for e in merged.strategies.values()) == merged.summary.buckets
    assert merged.config.shard is None and merged.config.merged_from is not None
    assert len(merged.config.merged_from) == 2
    assert merged.discovery == [[10, 2], [16, 2]]
    # Merging does not change the shards it read.
    assert [b.runs_with_bucket for b in two.buckets] == [2] and one.tests[0].runs == 10


def test_merge_of_the_same_test_from_two_results_adds_runs(tmp_path):
    one = make_result([entry_for_test("A.x", 10, 0)], [])
    two = make_result([entry_for_test("A.x", 5, 5)], [bucket("dddd00000004", "A.x", 5)])
    merged = merge([(tmp_path / "1.json", one), (tmp_path / "2.json", two)], tmp_path / "m.json")
    (test,) = merged.tests
    assert test.runs == 15 and test.failed_runs == 5 and test.flaky
    assert merged.discovery == [[15, 1]]


def test_results_of_different_signature_versions_do_not_merge(tmp_path):
    one = make_result([entry_for_test("A.x", 1, 0)], [])
    two = replace(make_result([entry_for_test("B.y", 1, 0)], []), signature_version=1)  # of an earlier release
    with pytest.raises(RacegateError, match="signature versions"):
        merge([(tmp_path / "1.json", one), (tmp_path / "2.json", two)], tmp_path / "m.json")


def _timed_shard(test, buckets_at: dict[str, float], wall: float, seconds: float, rechecks: int):
    from racegate.result import Spent, StrategyStats, discovery_curve_seconds

    buckets = []
    for bid, at in buckets_at.items():
        b = bucket(bid, test.name, 1)
        b.first_seen.seconds = at
        buckets.append(b)
    return make_result([test], buckets, strategies={"noise": StrategyStats(test.runs, 0, len(buckets), seconds)},
                       wall_seconds=wall, discovery_seconds=discovery_curve_seconds(buckets, wall),
                       verification={"recheck": Spent(rechecks, rechecks * 0.5), "replay": Spent(0, 0.0)})


def test_merged_seconds_add_up_and_each_bucket_keeps_its_earliest_time(tmp_path):
    from racegate.result import Spent

    shared = "cccc00000003"
    one = _timed_shard(entry_for_test("A.x", 10, 3), {"aaaa00000001": 2.0, shared: 7.5}, 20.0, 30.0, 3)
    two = _timed_shard(entry_for_test("B.y", 6, 2), {shared: 4.25}, 12.0, 11.5, 1)
    merged = merge([(tmp_path / "s1.json", one), (tmp_path / "s2.json", two)], tmp_path / "m.json")
    assert merged.strategies["noise"].seconds == 41.5
    assert merged.verification == {"recheck": Spent(4, 2.0), "replay": Spent(0, 0.0)}
    both = next(b for b in merged.buckets if b.id == shared)
    # Shards run side by side, each timed from its own start: the earliest sighting stands.
    assert both.first_seen.seconds == 4.25 and both.first_seen.run == 0
    assert merged.discovery_seconds == [[2.0, 1], [4.25, 2], [20.0, 2]]
    data = result_json(merged)
    assert data["discovery_seconds"] == merged.discovery_seconds and data["verification"]["recheck"]["runs"] == 4


def test_merging_with_a_shard_of_an_earlier_release_leaves_out_what_it_did_not_time(tmp_path):
    timed = _timed_shard(entry_for_test("A.x", 10, 3), {"aaaa00000001": 2.0}, 20.0, 30.0, 3)
    old = make_result([entry_for_test("B.y", 6, 2)], [bucket("bbbb00000002", "B.y", 2)])
    merged = merge([(tmp_path / "s1.json", timed), (tmp_path / "s2.json", old)], tmp_path / "m.json")
    assert merged.discovery_seconds is None and merged.verification is None
    assert merged.strategies["noise"].seconds is None  # 30 s of the timed shard are not all the runs' seconds
    assert "discovery_seconds" not in result_json(merged) and "verification" not in result_json(merged)
