#!/usr/bin/env python3
"""How often do the timing-dependent samples fail when run plainly (no perturbation)?

For each preset (compiler) it builds samples/ (or uses --build-dir), runs each chosen
test binary + gtest filter N times, one run at a time, and prints the fraction of runs
with a ThreadSanitizer report and the fraction with a failed assertion, as a Markdown
table. These are the baselines a perturbing scheduler has to beat.

    /usr/bin/python3 bench/plain_failure_rates.py                 # both compilers, 200 runs
    /usr/bin/python3 bench/plain_failure_rates.py --runs 50 --preset racegate-tsan-gcc
    /usr/bin/python3 bench/plain_failure_rates.py --build-dir /tmp/b --test account_test:AccountCheckThenAct.*
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
DEFAULT_PRESETS = ("racegate-tsan-clang", "racegate-tsan-gcc")
# binary:gtest-filter of the samples whose outcome depends on the schedule.
DEFAULT_TESTS = (
    "telemetry_test:TelemetryHiddenRace.*",
    "account_test:AccountCheckThenAct.*",
    "ticket_booth_test:TicketBoothCheckThenAct.*",
)
TSAN_MARK = "WARNING: ThreadSanitizer:"
GTEST_FAILED_MARK = "[  FAILED  ]"


@dataclass
class Tally:
    runs: int = 0
    tsan: int = 0
    failed: int = 0
    seconds: float = 0.0


def build(preset: str, targets: list[str], jobs: int) -> Path:
    build_dir = SAMPLES / "build" / preset
    subprocess.run(["cmake", "--preset", preset, "-S", str(SAMPLES), "-B", str(build_dir)],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "-j", str(jobs), "--target", *targets],
                   check=True, stdout=subprocess.DEVNULL)
    return build_dir


def run_many(binary: Path, gtest_filter: str, runs: int) -> Tally:
    env = dict(os.environ)
    # Plain runs: only keep going after a report so one run shows all of them.
    env["TSAN_OPTIONS"] = "halt_on_error=0"
    tally = Tally()
    for _ in range(runs):
        start = time.monotonic()
        proc = subprocess.run([str(binary), f"--gtest_filter={gtest_filter}"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=120)
        tally.seconds += time.monotonic() - start
        tally.runs += 1
        tally.tsan += TSAN_MARK in proc.stdout
        tally.failed += GTEST_FAILED_MARK in proc.stdout
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", help=f"repeatable; default: {' and '.join(DEFAULT_PRESETS)}")
    parser.add_argument("--build-dir", type=Path, help="already built samples dir (skips the build; one column)")
    parser.add_argument("--test", action="append", metavar="BINARY:FILTER",
                        help=f"repeatable; default: {' '.join(DEFAULT_TESTS)}")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--build-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    tests = [t.split(":", 1) for t in (args.test or DEFAULT_TESTS)]
    if any(len(t) != 2 for t in tests):
        parser.error("--test takes BINARY:GTEST_FILTER")
    if args.build_dir:
        configs = [(args.build_dir.name, args.build_dir)]
    else:
        presets = args.preset or list(DEFAULT_PRESETS)
        configs = [(p, build(p, [b for b, _ in tests], args.build_jobs)) for p in presets]

    # The rates depend on load: print it so a figure can be read in context.
    print(f"plain runs per cell: {args.runs} (TSAN_OPTIONS=halt_on_error=0, one run at a time, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start)")
    print("| build | test | runs | TSan report | failed assertion | mean s/run |")
    print("|---|---|---:|---:|---:|---:|")
    for label, build_dir in configs:
        for binary, gtest_filter in tests:
            tally = run_many(build_dir / binary, gtest_filter, args.runs)
            print(f"| {label} | {binary} `{gtest_filter}` | {tally.runs} | {tally.tsan / tally.runs:.1%} "
                  f"| {tally.failed / tally.runs:.1%} | {tally.seconds / tally.runs:.3f} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
