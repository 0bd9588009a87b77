#!/usr/bin/env python3
"""How much sooner each scheduling strategy exposes rare races than plain repetition.

Builds the samples (clang and gcc TSan), then for each sample test runs every strategy in turn,
run by run (the order rotates each round, so machine drift hits all strategies alike), and prints
per strategy: the per-run detection probability, the median time to first detection and its ratio
to `none`, and the mean run time and its ratio to `none` (the strategy's slowdown). A run detects
the bug when it shows a TSan report or the test fails (the atomics check-then-act sample has no
data race: only its assertion shows the bug). Time to first detection: walking through that
strategy's runs in order, the wall time spent until a detecting run; every detection starts a new
episode, and the median is taken over the episodes. The default portfolio is measured the same
way on the merged sequence of its strategies' runs. Finally it replays detected pct/noise/preempt
runs with their seed and schedule.

    bench/detection.py --runs 200
    bench/detection.py --build-dir clang=build/racegate-tsan-clang --tests telemetry_test:TelemetryHiddenRace.*
    bench/detection.py --runs 300 --tests ticket_booth_test:TicketBoothCheckThenAct.* --strategies none noise pct preempt
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
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))

from racegate import run_env, strategies  # noqa: E402
from racegate.model import TestCase  # noqa: E402
from racegate.shim import ensure_shim  # noqa: E402

COMPILERS = {"clang": ("clang", "clang++"), "gcc": ("gcc", "g++")}
DEFAULT_TESTS = ("telemetry_test:TelemetryHiddenRace.*", "ticket_booth_test:TicketBoothCheckThenAct.*")
TSAN_MARK = b"WARNING: ThreadSanitizer:"


@dataclass
class Run:
    strategy: str
    seed: int
    detected: bool
    seconds: float


def build(compiler: str, source: Path, build_dir: Path, targets: list[str]) -> Path:
    cc, cxx = COMPILERS[compiler]
    flags = "-fsanitize=thread -g -O1 -fno-omit-frame-pointer"
    subprocess.run(["cmake", "-S", str(source), "-B", str(build_dir), f"-DCMAKE_C_COMPILER={cc}",
                    f"-DCMAKE_CXX_COMPILER={cxx}", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                    f"-DCMAKE_CXX_FLAGS={flags}", f"-DCMAKE_C_FLAGS={flags}",
                    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "-j", "2", "--target", *targets], check=True,
                   stdout=subprocess.DEVNULL)
    return build_dir


def run_once(test: TestCase, strategy: str, seed: int, shim: Path, work: Path) -> Run:
    work.mkdir(parents=True, exist_ok=True)
    for old in work.iterdir():
        old.unlink()
    base = dict(os.environ, TSAN_OPTIONS=f"halt_on_error=0:log_path={work / 'tsan'}")
    argv, env = run_env.prepare_run(strategy, seed, test, base, shim, work / "shim.txt")
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    seconds = time.monotonic() - start
    detected = proc.returncode != 0 or any(TSAN_MARK in p.read_bytes() for p in work.glob("tsan.*"))
    return Run(strategy, seed, detected, seconds)


def median_time_to_detection(runs: list[Run]) -> float:
    episodes, spent = [], 0.0
    for run in runs:
        spent += run.seconds
        if run.detected:
            episodes.append(spent)
            spent = 0.0
    return statistics.median(episodes) if episodes else float("inf")


def fmt_seconds(s: float) -> str:
    return "never" if s == float("inf") else f"{s:.2f}"


def table(name: str, runs: list[Run], names: list[str], portfolio: tuple[str, ...]) -> list[str]:
    by = {s: [r for r in runs if r.strategy == s] for s in names}
    if portfolio:
        by["portfolio(" + "+".join(portfolio) + ")"] = [r for r in runs if r.strategy in portfolio]
    base = median_time_to_detection(by["none"])
    base_mean = statistics.mean(r.seconds for r in by["none"])
    lines = [f"### {name}", "", "| strategy | runs | detection / run | mean run s | slowdown vs none "
             "| median time to first detection s | vs none |", "|---|---|---|---|---|---|---|"]
    for strategy, rs in by.items():
        med = median_time_to_detection(rs)
        p = sum(r.detected for r in rs) / len(rs)
        ratio = "-" if med == float("inf") else ("inf" if base == float("inf") else f"{base / med:.1f}x")
        mean = statistics.mean(r.seconds for r in rs)
        lines.append(f"| {strategy} | {len(rs)} | {p:.3f} | {mean:.3f} | {mean / base_mean:.2f}x | {fmt_seconds(med)} "
                     f"| {ratio} |")
    return lines


def replay(test: TestCase, runs: list[Run], shim: Path, work: Path, seeds: int, repeats: int) -> list[str]:
    lines = ["", "| replayed | seeds | replays | reproduced |", "|---|---|---|---|"]
    for strategy in ("pct", "noise", "preempt"):
        found = [r.seed for r in runs if r.strategy == strategy and r.detected][:seeds]
        if not found:
            continue
        hits = sum(run_once(test, strategy, s, shim, work).detected for s in found for _ in range(repeats))
        lines.append(f"| {strategy} run, same seed | {len(found)} | {len(found) * repeats} | {hits / (len(found) * repeats):.2f} |")
    plain = [r for r in runs if r.strategy == "none"]
    lines.append(f"| plain run (any seed) | - | {len(plain)} | {sum(r.detected for r in plain) / len(plain):.2f} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs per strategy, test and compiler")
    ap.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), help="BINARY:GTEST_FILTER")
    ap.add_argument("--strategies", nargs="+", default=["none", "pin", "noise", "pct", "preempt", "repeat-in-process"])
    ap.add_argument("--compilers", nargs="+", default=list(COMPILERS), choices=list(COMPILERS))
    ap.add_argument("--build-dir", action="append", default=[], help="COMPILER=DIR, already built")
    ap.add_argument("--source", type=Path, default=REPO / "samples")
    ap.add_argument("--replay-seeds", type=int, default=5)
    ap.add_argument("--replay-repeats", type=int, default=10)
    args = ap.parse_args()

    given = dict(item.split("=", 1) for item in args.build_dir)
    tmp = Path(tempfile.mkdtemp(prefix="racegate-bench-"))
    try:
        shim = ensure_shim(tmp / "shim")
        for compiler in args.compilers:
            binaries = sorted({t.split(":", 1)[0] for t in args.tests})
            build_dir = Path(given[compiler]) if compiler in given else build(compiler, args.source, tmp / compiler, binaries)
            for spec in args.tests:
                binary, gfilter = spec.split(":", 1)
                test = TestCase(name=spec, command=(str(build_dir / binary), f"--gtest_filter={gfilter}"), is_gtest=True)
                names = [s for s in args.strategies if s in strategies.probe_applicable_strategies(list(test.command))]
                runs: list[Run] = []
                for i in range(args.runs):
                    order = names[i % len(names):] + names[: i % len(names)]
                    for strategy in order:
                        runs.append(run_once(test, strategy, 1000 + i, shim, tmp / "run"))
                portfolio = tuple(s for s in strategies.DEFAULT_PORTFOLIO if s in names)
                block = table(f"{spec} ({compiler})", runs, names, portfolio)
                block += replay(test, runs, shim, tmp / "run", args.replay_seeds, args.replay_repeats)
                print("\n".join(block) + "\n", flush=True)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
