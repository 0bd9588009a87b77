#!/usr/bin/env python3
"""Runner overhead: `racegate run` against a plain shell loop running the same test binary as often.

Both sides run one process at a time with the same TSAN_OPTIONS and no schedule perturbation, so
the ratio is what racegate adds per run (process group, log files, the shim on a test's first
run, parsing and bucketing) plus its start-up (Python, ctest discovery, reports) spread over the
runs. Target: <= 1.10. Python may keep its bytecode cache (PYTHONDONTWRITEBYTECODE is dropped),
as it does wherever racegate has run once; a warm-up run writes it.

    /usr/bin/python3 bench/runner_overhead.py --build-dir samples/build/tsan-clang --runs 300 --rounds 7
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = (
    ("locked_word_counter_test", "MutexWordCounterFixed.FourThreadsCountDifferentDocuments"),  # clean, ~17 ms
    ("word_counter_test", "WordCounterRace.TwoThreadsCountDifferentDocuments"),  # racy, 80-140 ms with reports
)


def plain_loop(binary: Path, test: str, runs: int) -> float:
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=7")
    # The binary and filter go in as arguments, never into the script text.
    loop = 'for ((i = 0; i < $0; i++)); do "$1" "$2" >/dev/null 2>&1; done'
    started = time.monotonic()
    subprocess.run(["bash", "-c", loop, str(runs), str(binary), f"--gtest_filter={test}"], env=env)
    return time.monotonic() - started


def racegate_runs(build_dir: Path, test: str, runs: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run([sys.executable, str(REPO / "racegate"), "run", "--build-dir", str(build_dir),
                        "-R", f"^{re.escape(test)}$", "--runs", str(runs), "--jobs", "1", "--schedule", "none",
                        "--seed", "1", "--out", out, "--format", "junit", "--no-gate"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
        return time.monotonic() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, required=True, help="a TSan build of samples/")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median ratio is printed")
    args = ap.parse_args()
    build_dir = args.build_dir.resolve()
    print("| test | runs | plain loop ms/run | racegate ms/run | added ms/run (median) | ratio per round | median ratio |\n"
          "|---|---|---|---|---|---|---|")
    for binary, test in TESTS:
        racegate_runs(build_dir, test, 1)  # warm-up: bytecode cache, shim build, page cache
        ratios, loops, gates = [], [], []
        for round_ in range(args.rounds):
            # Alternate which side goes first, so that machine drift hits both alike.
            sides = [lambda: loops.append(plain_loop(build_dir / binary, test, args.runs)),
                     lambda: gates.append(racegate_runs(build_dir, test, args.runs))]
            for side in sides if round_ % 2 == 0 else reversed(sides):
                side()
            ratios.append(gates[-1] / loops[-1])
        loop_ms, gate_ms = (statistics.median(xs) / args.runs * 1000 for xs in (loops, gates))
        added_ms = statistics.median(g - lp for g, lp in zip(gates, loops)) / args.runs * 1000
        rounds = " ".join(f"{r:.3f}" for r in ratios)
        print(f"| {test} | {args.runs} | {loop_ms:.2f} | {gate_ms:.2f} | {added_ms:.2f} | {rounds} "
              f"| {statistics.median(ratios):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
