"""Small, valid results built through racegate's own assembly code, for tests of gate, merge and CLI."""
from __future__ import annotations

from racegate import result as results


def bucket(bid: str, test: str, runs_with: int, kind: str = "data race", schedule: str = "noise") -> dict:
    return {
        "id": bid, "kind": kind, "title": f"{kind}: f{bid} vs g{bid}", "signature": [f"a.cpp:f{bid}"],
        "frames": [{"function": f"f{bid}", "file": "/src/a.cpp", "line": 3}], "stacks": [],
        "tests": [test], "occurrences": runs_with * 2, "runs_with_bucket": runs_with,
        "first_seen": {"test": test, "run": 0, "seed": 1, "schedule": schedule, "command": ["./t"], "env": {},
                       "log_dir": "runs/0"},
        "schedules": {schedule: runs_with}, "new": True, "advice": {"what": "w", "fix": "f"},
        "raw_report": f"reports/{bid}.txt",
    }


def entry_for_test(name: str, runs: int, failed: int) -> dict:
    return {"name": name, "runs": runs, "failed_runs": failed,
            "outcomes": {"pass": runs - failed, "race": failed, "fail": 0, "crash": 0, "timeout": 0},
            "flaky": 0 < failed < runs, "threads": 2, "mean_seconds": 0.5, "command": ["./t"], "cwd": None,
            "env": {}, "timeout": None, "is_gtest": True}


def make_result(tests: list[dict], buckets: list[dict]) -> dict:
    runs = sum(t["runs"] for t in tests)
    return results.assemble({"seed": 1, "source_dir": "/src", "shard": None}, tests, buckets,
                            {"noise": {"runs": runs, "failed_runs": 0, "buckets_first_found": len(buckets)}},
                            [[runs, len(buckets)]], 1.5, False)
