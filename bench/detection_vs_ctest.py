#!/usr/bin/env python3
"""Detection on the samples: `racegate run` against `ctest --repeat until-fail:N`, same time budget.

Both get the same wall-clock budget and the same number of parallel jobs over the whole sample suite.
For every racy sample it prints whether each side caught it, and for racegate the distinct buckets it
filed (ctest only knows that a test failed, not which race or how many).

    /usr/bin/python3 bench/detection_vs_ctest.py --build-dir samples/build/tsan-clang --budget 60
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAILED_LINE = re.compile(r"Test\s+#\d+: (\S+) \.*\**(?:Failed|Exception|Timeout)")
RACY_SUITE = re.compile(r"^(\w+Race|\w+CheckThenAct)\.")


def ctest_detections(build_dir: Path, budget: float, jobs: int) -> set[str]:
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=7")
    proc = subprocess.Popen(["ctest", "--test-dir", str(build_dir), "--repeat", "until-fail:100000",
                             "-j", str(jobs)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace", start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return set(FAILED_LINE.findall(out))


def racegate_detections(build_dir: Path, budget: float, jobs: int) -> tuple[set[str], dict]:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, str(REPO / "racegate"), "run", "--build-dir", str(build_dir),
                        "--time-budget", str(budget), "--jobs", str(jobs), "--out", out, "--format", "junit"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result = json.loads((Path(out) / "racegate.json").read_text())
    detected = {t["name"] for t in result["tests"] if t["failed_runs"]}
    return detected, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, required=True, help="a TSan build of samples/")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for each side")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    build_dir = args.build_dir.resolve()
    by_ctest = ctest_detections(build_dir, args.budget, args.jobs)
    by_racegate, result = racegate_detections(build_dir, args.budget, args.jobs)
    racy = sorted(t["name"] for t in result["tests"] if RACY_SUITE.match(t["name"]))
    print(f"budget {args.budget:g} s, {args.jobs} jobs, build {build_dir}")
    print("| racy test | ctest until-fail | racegate | racegate runs (failed) | racegate buckets |")
    print("|---|---|---|---|---|")
    for name in racy:
        test = next(t for t in result["tests"] if t["name"] == name)
        buckets = sum(1 for b in result["buckets"] if name in b["tests"])
        print(f"| {name} | {'yes' if name in by_ctest else 'no'} | {'yes' if name in by_racegate else 'no'} "
              f"| {test['runs']} ({test['failed_runs']}) | {buckets} |")
    print(f"caught: ctest {len(by_ctest & set(racy))}/{len(racy)}, racegate {len(by_racegate & set(racy))}/{len(racy)}; "
          f"racegate: {result['summary']['runs']} runs, {result['summary']['buckets']} buckets; "
          f"false alarms on fixed samples: ctest {len(by_ctest - set(racy))}, racegate {len(by_racegate - set(racy))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
