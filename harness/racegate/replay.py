"""Re-run the test, seed and schedule that first produced a bucket, and say whether it came back."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from racegate import outdir
from racegate.analyse import analyse_run
from racegate.errors import RacegateError
from racegate.execute import Executor
from racegate.model import PlannedRun, TestCase
from racegate.shim import preloads_shim
from racegate.signature import bucket_id
from racegate.strategies import SHIM_SCHEDULES


@dataclass
class ReplayOutcome:
    bucket: dict
    schedule: str
    seed: int
    runs: int
    reproduced: int


def find_bucket(result: dict, prefix: str) -> dict:
    matches = [b for b in result["buckets"] if b["id"].startswith(prefix.lower())]
    if not matches:
        raise RacegateError(f"no bucket {prefix!r} in the result")
    if len(matches) > 1:
        raise RacegateError(f"bucket prefix {prefix!r} is ambiguous: {', '.join(b['id'] for b in matches[:5])}")
    return matches[0]


def test_case(result: dict, name: str) -> TestCase:
    for entry in result["tests"]:
        if entry["name"] == name:
            return TestCase(name=name, command=tuple(entry["command"]), cwd=entry.get("cwd"),
                            env=tuple(entry.get("env", {}).items()), timeout=entry.get("timeout"),
                            labels=tuple(entry.get("labels", ())), will_fail=entry.get("will_fail", False),
                            skip_return_code=entry.get("skip_return_code"), run_serial=entry.get("run_serial", False),
                            is_gtest=entry.get("is_gtest", False))
    raise RacegateError(f"the result does not describe test {name!r}; cannot replay it")


def replay(result: dict, prefix: str, runs: int, out_dir: Path, shim_path: Path | None,
           schedule: str | None = None, timeout: float | None = None) -> ReplayOutcome:
    bucket = find_bucket(result, prefix)
    first = bucket["first_seen"]
    test = test_case(result, first["test"])
    schedule = schedule or first["schedule"]
    outdir.clear_logs(out_dir, reports=False)  # logs of an earlier replay must not count again
    executor = Executor(outdir.runs_dir(out_dir), shim_path, timeout)
    # As the first run had it: a plain run after the test's first went without the shim.
    preload = schedule in SHIM_SCHEDULES or preloads_shim(first.get("env", {}).get("LD_PRELOAD", ""))
    reproduced = 0
    try:
        for i in range(runs):
            plan = PlannedRun(test=test, run=i, seed=first["seed"], schedule=schedule, preload_shim=preload)
            with executor.run(plan) as execution:
                record = analyse_run(execution)
                execution.keep_logs = record.outcome != "pass"
            if any(bucket_id(f.kind, f.signature) == bucket["id"] for f in record.findings):
                reproduced += 1
    except KeyboardInterrupt:
        executor.stop()  # the test runs in its own session: Ctrl-C does not reach it
        raise
    finally:
        executor.close()
    return ReplayOutcome(bucket, schedule, first["seed"], runs, reproduced)
