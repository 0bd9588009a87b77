#!/usr/bin/env python3
"""Wall time of the spinning-queue samples plain, under noise and under pct, side by side.

The spin_queue samples' workers wait by spinning on atomics: no lock, no sleep, no system call, so
pct's shim sees no sync event between hand-offs (docs/scheduling.md, "Spinning"). This builds the
samples with the racegate-tsan-clang and racegate-tsan-gcc presets (or uses --build-dir), then runs
each spin-queue test under each schedule, interleaved round by round (the order rotates, so machine
drift hits all alike), and prints the median wall time per schedule, the ratios to plain and how
many runs had a TSan report. Plain runs get no shim at all.

    bench/spin_slowdown.py --rounds 7
    bench/spin_slowdown.py --build-dir clang=/tmp/b/racegate-tsan-clang --compilers clang
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))

from racegate import run_env  # noqa: E402
from racegate.model import TestCase  # noqa: E402
from racegate.shim import ensure_shim, read_shim_report  # noqa: E402

PRESETS = {"clang": "racegate-tsan-clang", "gcc": "racegate-tsan-gcc"}
TESTS = (("spin_queue_test", "SpinQueueRace.*"), ("release_spin_queue_test", "ReleaseSpinQueueFixed.*"))
SCHEDULES = ("plain", "noise", "pct")
TSAN_MARK = b"WARNING: ThreadSanitizer:"
# racegate's TSan defaults (execute.py); history_size=7 lets TSan name the earlier access of a race
# that spinning threads reach long after it.


def build(preset: str, build_dir: Path) -> Path:
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    subprocess.run(["cmake", "--preset", preset, "-S", str(REPO / "samples"), "-B", str(build_dir)], cwd=REPO, **quiet)
    subprocess.run(["cmake", "--build", str(build_dir), "-j", "2", "--target", *(b for b, _ in TESTS)], **quiet)
    return build_dir


def run_once(test: TestCase, schedule: str, seed: int, shim: Path, work: Path) -> tuple[float, bool, dict]:
    work.mkdir(parents=True, exist_ok=True)
    for old in work.iterdir():
        old.unlink()
    base = dict(os.environ, TSAN_OPTIONS=f"{run_env.TSAN_DEFAULTS} log_path={work / 'tsan'}")
    strategy, preload = ("none", None) if schedule == "plain" else (schedule, shim)
    argv, env = run_env.prepare_run(strategy, seed, test, base, preload, work / "shim.txt")
    start = time.monotonic()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    seconds = time.monotonic() - start
    reported = any(TSAN_MARK in p.read_bytes() for p in work.glob("tsan.*"))
    return seconds, reported, read_shim_report(work / "shim.txt")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="runs per schedule, test and compiler")
    ap.add_argument("--compilers", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    ap.add_argument("--build-dir", action="append", default=[], help="COMPILER=DIR, already built")
    args = ap.parse_args()

    given = dict(item.split("=", 1) for item in args.build_dir)
    tmp = Path(tempfile.mkdtemp(prefix="racegate-spin-bench-"))
    try:
        shim = ensure_shim(tmp / "shim")
        print("| compiler | test | plain s | noise s | pct s | noise/plain | pct/plain | runs with a report "
              "(plain/noise/pct) | pct runs that gave up priorities |")
        print("|---|---|---|---|---|---|---|---|---|")
        for compiler in args.compilers:
            build_dir = Path(given[compiler]) if compiler in given else build(PRESETS[compiler], tmp / compiler)
            for binary, gfilter in TESTS:
                test = TestCase(name=binary, command=(str(build_dir / binary), f"--gtest_filter={gfilter}"),
                                is_gtest=True)
                times: dict[str, list[float]] = {s: [] for s in SCHEDULES}
                reports = dict.fromkeys(SCHEDULES, 0)
                released = 0
                for i in range(args.rounds):
                    for schedule in SCHEDULES[i % 3:] + SCHEDULES[: i % 3]:
                        seconds, reported, info = run_once(test, schedule, 100 + i, shim, tmp / "run")
                        times[schedule].append(seconds)
                        reports[schedule] += reported
                        released += schedule == "pct" and info.get("pct_released", 0) > 0
                med = {s: statistics.median(times[s]) for s in SCHEDULES}
                counts = "/".join(str(reports[s]) for s in SCHEDULES)
                ratios = f"{med['noise'] / med['plain']:.1f}x | {med['pct'] / med['plain']:.1f}x"
                print(f"| {compiler} | {gfilter[:-2]} | {med['plain']:.2f} | {med['noise']:.2f} | {med['pct']:.2f} | "
                      f"{ratios} | {counts} of {args.rounds} | {released} of {args.rounds} |", flush=True)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
