"""Result fixtures for the reporter tests: the hand-written sample and a generated 500-bucket result."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from racegate.reporters import RenderOptions

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SAMPLE_SOURCE_DIR = "/home/ci/project"
HOSTILE = "<img src=x onerror=alert(1)>"


def load_sample() -> dict:
    """The sample result with its source dir pointed at the fixture project, so source snippets can be read."""
    text = (FIXTURES / "result_samples.json").read_text(encoding="utf-8")
    return json.loads(text.replace(SAMPLE_SOURCE_DIR, str(FIXTURES / "project")))


def make_result(n: int, runs_per_test: int = 50) -> dict:
    """A large synthetic result: n buckets over 20 tests, every third one baselined."""
    src = "/src/big"
    tests = [
        {"name": f"Suite{t}.Case<{t}>", "runs": runs_per_test, "failed_runs": 10,
         "outcomes": {"pass": runs_per_test - 10, "race": 10, "fail": 0, "crash": 0, "timeout": 0},
         "flaky": True, "threads": 4, "mean_seconds": 0.2}
        for t in range(20)
    ]
    kinds = ["data race", "lock-order-inversion (potential deadlock)", "heap-use-after-free", "thread leak",
             "test failure", "crash", "timeout"]
    buckets = []
    for i in range(n):
        fn_a = f"ns{i}::Cache<std::map<int, std::vector<Item{i}>>>::put(int const&)"
        fn_b = f"ns{i}::Cache<std::map<int, std::vector<Item{i}>>>::get(int) const"
        frames = [{"function": fn_a, "file": f"{src}/src/cache{i % 40}.cpp", "line": 10 + i % 90},
                  {"function": fn_b, "file": f"{src}/src/cache{i % 40}.cpp", "line": 20 + i % 90}]
        stacks = [{"header": f"{h} of size 8 at 0x{i:x} by thread T{k}:",
                   "frames": [dict(f, line=f["line"] + d) for d in range(12) for f in frames[k - 1:k]]}
                  for k, h in ((1, "Write"), (2, "Previous read"))]
        test = tests[i % 20]["name"]
        buckets.append({
            "id": f"{i:016x}", "kind": kinds[i % len(kinds)], "title": f"problem {i} in {fn_a} vs {fn_b}",
            "signature": [kinds[i % len(kinds)], fn_a, fn_b], "frames": frames, "stacks": stacks,
            "tests": [test], "occurrences": 1 + i % 7, "runs_with_bucket": 1 + i % 5,
            "run_fraction": (1 + i % 5) / runs_per_test, "schedules": {"yield": 1 + i % 5},
            "first_seen": {"test": test, "run": i, "seed": i, "schedule": "yield", "command": ["./t", f"--case={i}"]},
            "new": i % 3 != 0, "raw_report": f"reports/{i:016x}.txt",
            **({} if i % 3 else {"baseline_note": "accepted"}),
        })
    total = runs_per_test * 20
    return {
        "schema": 1, "tool": {"name": "racegate", "version": "0.1.0"}, "signature_version": 1,
        "config": {"runs": runs_per_test, "time_budget": None, "jobs": 2, "seed": 1, "schedules": ["yield"],
                   "shard": None, "source_dir": src, "build_dir": src + "/build"},
        "summary": {"tests": 20, "runs": total, "failed_runs": 200, "buckets": n,
                    "new_buckets": sum(b["new"] for b in buckets), "wall_seconds": 600.0, "interrupted": False},
        "strategies": {"yield": {"runs": total, "failed_runs": 200, "buckets_first_found": n}},
        "tests": tests, "buckets": buckets,
    }


def with_times(data: dict) -> dict:
    """The sample as a session of this release writes it: every run timed, re-checks counted apart."""
    strategies = data["config"]["schedules"]
    for t in data["tests"]:
        per = [t["runs"] // len(strategies) + (i < t["runs"] % len(strategies)) for i in range(len(strategies))]
        t["strategies"] = {name: {"runs": n, "seconds": round(n * t["mean_seconds"] * (1 + i / 2), 3)}
                           for i, (name, n) in enumerate(zip(strategies, per))}
    for name in strategies:
        data["strategies"][name]["seconds"] = round(sum(t["strategies"][name]["seconds"] for t in data["tests"]), 3)
    for b in data["buckets"]:
        b["first_seen"]["seconds"] = round(0.4 * (b["first_seen"]["run"] + 1), 3)
    times = sorted(b["first_seen"]["seconds"] for b in data["buckets"])
    data["discovery_seconds"] = [[at, k] for k, at in enumerate(times, 1)] + [[data["summary"]["wall_seconds"],
                                                                              len(times)]]
    data["verification"] = {"recheck": {"runs": 6, "seconds": 2.5}, "replay": {"runs": 4, "seconds": 3.25}}
    return data


@pytest.fixture
def timed(sample) -> dict:
    return with_times(sample)


@pytest.fixture
def sample() -> dict:
    return load_sample()


@pytest.fixture
def options() -> RenderOptions:
    return RenderOptions(base_dir=FIXTURES)


@pytest.fixture(scope="session")
def big() -> dict:
    return make_result(500)
