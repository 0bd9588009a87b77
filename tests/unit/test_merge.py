from pathlib import Path

import pytest

from racegate.errors import RacegateError
from racegate.merge import merge

from result_factory import bucket, make_result, entry_for_test


def test_merge_sums_counts_and_unions_buckets_by_id(tmp_path):
    shared = "cccc00000003"
    one = make_result([entry_for_test("A.x", 10, 3)], [bucket("aaaa00000001", "A.x", 2), bucket(shared, "A.x", 1)])
    two = make_result([entry_for_test("B.y", 6, 2)], [bucket(shared, "B.y", 2, schedule="pct")])
    out = tmp_path / "merged" / "racegate.json"
    merged = merge([(tmp_path / "s1" / "racegate.json", one), (tmp_path / "s2" / "racegate.json", two)], out)
    assert merged.summary.tests == 2 and merged.summary.runs == 16
    assert merged.summary.buckets == 2 and merged.summary.failed_runs == 5
    both = next(b for b in merged.buckets if b.id == shared)
    assert both.tests == ["A.x", "B.y"] and both.runs_with_bucket == 3 and both.occurrences == 6
    assert both.schedules == {"noise": 1, "pct": 2}
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
    two = make_result([entry_for_test("B.y", 1, 0)], [])
    two.signature_version = 1  # a shard of an earlier release
    with pytest.raises(RacegateError, match="signature versions"):
        merge([(tmp_path / "1.json", one), (tmp_path / "2.json", two)], tmp_path / "m.json")
