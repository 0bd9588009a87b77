"""Small, valid results built through racegate's own model, for tests of gate, merge and CLI."""
from __future__ import annotations

from typing import Any

from racegate.advice import Advice
from racegate.model import SourceFrame
from racegate.result import (BucketResult, FirstSeen, Result, RunConfig, StrategyStats, TestResult,
                             build_result)


def bucket(bid: str, test: str, runs_with: int, kind: str = "data race", strategy: str = "noise",
           **fields: Any) -> BucketResult:
    """A bucket of one test; `fields`: any other BucketResult field (evidence, symptoms, ...)."""
    return BucketResult(
        id=bid, kind=kind, title=f"{kind}: f{bid} vs g{bid}", signature=[f"a.cpp:f{bid}"],
        frames=[SourceFrame(f"f{bid}", "/src/a.cpp", 3)], stacks=[], tests=[test], occurrences=runs_with * 2,
        runs_with_bucket=runs_with,
        first_seen=FirstSeen(test=test, run=0, seed=1, strategy=strategy, command=["./t"], log_dir="runs/0"),
        strategies={strategy: runs_with}, advice=Advice("w", "f"), raw_report=f"reports/{bid}.txt", **fields)


def entry_for_test(name: str, runs: int, failed: int) -> TestResult:
    return TestResult(name=name, runs=runs,
                      outcomes={"pass": runs - failed, "race": failed, "fail": 0, "crash": 0, "timeout": 0},
                      threads=2, mean_seconds=0.5, command=["./t"], is_gtest=True)


def make_result(tests: list[TestResult], buckets: list[BucketResult], config: RunConfig | None = None,
                strategies: dict[str, StrategyStats] | None = None, wall_seconds: float = 1.5, **parts: Any) -> Result:
    """A result through the assembly; `parts`: what else build_result takes (steady_crashes, cost, known, ...)."""
    runs = sum(t.runs for t in tests)
    return build_result(config or RunConfig(seed=1, source_dir="/src"), tests, buckets,
                        strategies or {"noise": StrategyStats(runs, 0, len(buckets))}, [[runs, len(buckets)]],
                        wall_seconds, False, **parts)
