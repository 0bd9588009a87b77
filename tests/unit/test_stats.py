from __future__ import annotations

from racegate.stats import discovery_points, new_bucket_chance, runs_since_last_discovery


def test_good_turing_is_singletons_over_runs():
    assert new_bucket_chance(2, 200) == 0.01
    assert new_bucket_chance(0, 50) == 0.0
    assert new_bucket_chance(5, 3) == 1.0  # capped: a probability
    assert new_bucket_chance(0, 0) == 1.0  # nothing run, nothing known


def test_discovery_points_one_per_discovery_run_plus_last():
    assert discovery_points([4, 0, 4, 9], 30) == [[1, 1], [5, 3], [10, 4], [30, 4]]
    assert discovery_points([], 12) == [[12, 0]]
    assert discovery_points([11], 12) == [[12, 1]]


def test_runs_since_last_discovery():
    assert runs_since_last_discovery([[1, 1], [5, 3], [10, 4], [30, 4]]) == 20
    assert runs_since_last_discovery([[12, 1]]) == 0
    assert runs_since_last_discovery([[12, 0]]) == 12
    assert runs_since_last_discovery([]) == 0


def test_cautious_estimate_needs_at_least_one_over_p_runs():
    from racegate.stats import cautious_new_bucket_chance
    assert cautious_new_bucket_chance(0, 0) == 1.0
    assert cautious_new_bucket_chance(0, 19) == 0.05
    assert cautious_new_bucket_chance(2, 19) == 0.15
