"""The assembly marks a failed check timing-sensitive by its behaviour: it fails plain at least as often as
perturbed, after a fixed sleep in the source above it (field tests #27); it then does not gate without --strict."""
from __future__ import annotations

from dataclasses import replace

from racegate.model import SourceFrame
from racegate.result import Evidence, RunConfig, TestResult
from result_factory import bucket, make_result

SOURCE = """#include "pool.h"
static int seen_workers(Pool& pool) {
  pool.start_tasks();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return pool.started();
}
TEST_CASE("both workers take a task") {
  Pool pool(2);
  REQUIRE(seen_workers(pool) == 2);
}
"""


def _result(tmp_path, plain_with: int, runs_with: int, strict: bool = False, runs: int = 10):
    (tmp_path / "pool_test.cpp").write_text(SOURCE)
    test = TestResult(name="Pool.Both", runs=runs, outcomes={"pass": runs - runs_with, "fail": runs_with},
                      threads=3, mean_seconds=0.1, command=["./t"])
    failure = replace(bucket("00000000000000aa", "Pool.Both", runs_with, kind="test failure",
                             evidence=Evidence(plain_runs=4, plain_runs_with_bucket=plain_with, replays=0,
                                               replays_with_bucket=0)),
                      frames=[SourceFrame("Pool.Both", "pool_test.cpp", 9)])
    config = RunConfig(seed=1, source_dir=str(tmp_path), source_root=str(tmp_path), strict=strict)
    return make_result([test], [failure], config=config)


def test_a_check_after_a_sleep_failing_plain_as_often_as_perturbed_does_not_gate(tmp_path):
    (b,) = _result(tmp_path, plain_with=1, runs_with=2).buckets  # plain 1/4, perturbed 1/6
    assert b.timing_sensitive and b.status == "timing-sensitive"
    assert _result(tmp_path, plain_with=1, runs_with=2, strict=True).buckets[0].status == "new"


def test_one_that_perturbation_makes_more_frequent_still_gates(tmp_path):
    (b,) = _result(tmp_path, plain_with=1, runs_with=25, runs=30).buckets  # plain 1/4, perturbed 24/26
    assert not b.timing_sensitive and b.status == "new"
