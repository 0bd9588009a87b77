#!/usr/bin/env python3
"""The first pass over a large GoogleTest or doctest suite: per process against batched, beside plain ctest and one
process.

Generates a suite of N small tests (every 10th multi-threaded, three racy ones per executable: three distinct
races), in one executable per 500 tests, registered with gtest_discover_tests (or, with --framework doctest, as
doctest TEST_CASEs registered with doctest_discover_tests), and builds it under TSan.
For each size it prints, side by side:

    ctest -j       plain `ctest -j JOBS` under TSan, every test its own process
    per-process    `racegate run --runs 1 --no-batch`: racegate's first pass, one process per test
    batched        `racegate run --runs 1`: the first pass batched
    one process    every executable run once, all its tests in one process, one after the other
    sharded -j     the executables under gtest's own sharding, JOBS processes at a time, without racegate
                   (gtest only: doctest has no sharding of its own)
    target         one process / JOBS * 1.2: the issue's target for the batched first pass
    1st rep.       seconds until the first repetition starts (`--runs 2` under a time budget): batched, and
                   per process (with --full only; else the per-process first pass is its lower bound)

and whether both racegate passes found the same buckets.

    /usr/bin/python3 bench/large_suite.py                 # 100 and 1,000 tests, 2 jobs, clang
    /usr/bin/python3 bench/large_suite.py --sizes 3000 --full
    /usr/bin/python3 bench/large_suite.py --framework doctest --sizes 300
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TSAN_FLAGS = "-fsanitize=thread -g -O1"
TESTS_PER_EXECUTABLE = 500
TESTS_PER_FILE = 100
TSAN_ENV = dict(os.environ, TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=7")

WORK_CPP = r"""
#include <atomic>
#include <thread>
#include "work.hpp"

// Visible outside this file, so the compiler keeps every store to them (none is ever read).
int racy_a_value = 0;
int racy_b_value = 0;
int racy_c_value = 0;

long small_work(int seed) {
  long sum = 0;
  for (int i = 0; i < 2000; ++i) sum += (i ^ seed) % 7;
  return sum;
}

long threaded_work(int seed) {
  std::atomic<long> sum{0};
  std::thread other([&] { for (int i = 0; i < 500; ++i) sum += i ^ seed; });
  for (int i = 0; i < 500; ++i) sum += i;
  other.join();
  return sum.load();
}

// Three races, each on its own global from its own function: three distinct buckets.
void racy_a() { std::thread t([] { ++racy_a_value; }); ++racy_a_value; t.join(); }
void racy_b() { std::thread t([] { racy_b_value += 2; }); racy_b_value += 2; t.join(); }
void racy_c() { std::thread t([] { racy_c_value = 3; }); racy_c_value = 4; t.join(); }
"""

WORK_HPP = """#pragma once
long small_work(int seed);
long threaded_work(int seed);
void racy_a();
void racy_b();
void racy_c();
"""


def generate(root: Path, tests: int, framework: str = "gtest") -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "work.cpp").write_text(WORK_CPP)
    (root / "work.hpp").write_text(WORK_HPP)
    doctest = framework == "doctest"
    library = "doctest::doctest" if doctest else "GTest::gtest_main"
    cmake = ["cmake_minimum_required(VERSION 3.16)", "project(large_suite LANGUAGES CXX)",
             "set(CMAKE_CXX_STANDARD 17)",
             "find_package(doctest REQUIRED)" if doctest else "find_package(GTest REQUIRED)",
             "find_package(Threads REQUIRED)", "include(doctest)" if doctest else "include(GoogleTest)",
             "enable_testing()",
             "add_library(work STATIC work.cpp)", "target_link_libraries(work PUBLIC Threads::Threads)"]
    executables = max(1, round(tests / TESTS_PER_EXECUTABLE))
    per_exe = -(-tests // executables)
    made = 0
    for e in range(executables):
        sources = []
        count = min(per_exe, tests - made)
        for f in range(0, count, TESTS_PER_FILE):
            name = f"suite{e}_{f // TESTS_PER_FILE}.cpp"
            if doctest:  # the first file holds doctest's main
                lines = ["#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN"] if f == 0 else []
                lines += ['#include <doctest/doctest.h>', '#include "work.hpp"']
            else:
                lines = ['#include <gtest/gtest.h>', '#include "work.hpp"']
            for i in range(f, min(f + TESTS_PER_FILE, count)):
                n = made + i
                work = f"threaded_work({n})" if i % 10 == 5 else f"small_work({n})"
                body = f"CHECK({work} >= 0);" if doctest else f"EXPECT_GE({work}, 0);"
                # One test of each race per executable, in the middle of its tests.
                racy = {count // 4: "racy_a();", count // 2: "racy_b();", 3 * count // 4: "racy_c();"}
                body = racy.get(i, body)
                if doctest:
                    lines.append(f'TEST_CASE("Suite{e}_{i // 50}.Case{i}") {{ {body} }}')
                else:
                    lines.append(f"TEST(Suite{e}_{i // 50}, Case{i}) {{ {body} }}")
            (root / name).write_text("\n".join(lines) + "\n")
            sources.append(name)
        made += count
        cmake += [f"add_executable(suite{e} {' '.join(sources)})",
                  f"target_link_libraries(suite{e} PRIVATE work {library})",
                  f"{'doctest' if doctest else 'gtest'}_discover_tests(suite{e})"]
    (root / "CMakeLists.txt").write_text("\n".join(cmake) + "\n")


def build(src: Path, out: Path, compiler: str) -> None:
    cxx = {"clang": "clang++", "gcc": "g++"}[compiler]
    for argv in (["cmake", "-S", str(src), "-B", str(out), f"-DCMAKE_CXX_COMPILER={cxx}",
                  f"-DCMAKE_CXX_FLAGS={TSAN_FLAGS}", "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"],
                 ["cmake", "--build", str(out), "-j", "2"]):
        proc = subprocess.run(argv, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"{' '.join(argv)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def timed(argv: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", **kw)
    return time.monotonic() - started, proc


def racegate(build_dir: Path, jobs: int, *extra: str) -> tuple[float, dict]:
    """The session's wall time (from its first run to its last; not Python's start-up, discovery or the
    reports) and its result."""
    with tempfile.TemporaryDirectory() as out:
        _, proc = timed([sys.executable, str(REPO / "racegate"), "run", "--build-dir", str(build_dir),
                         "--jobs", str(jobs), "--out", out, "--format", "junit", "--no-gate", *extra])
        if proc.returncode not in (0, 1):
            sys.exit(f"racegate failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        result = json.loads((Path(out) / "racegate.json").read_text())
        return result["summary"]["wall_seconds"], result


def executables(build_dir: Path) -> list[Path]:
    return sorted(p for p in build_dir.glob("suite*") if p.is_file() and os.access(p, os.X_OK))


def sharded_wall(programs: list[Path], jobs: int) -> float:
    """The best a runner without racegate does with whole processes: gtest's own sharding, JOBS processes at a
    time, each executable split into enough shards that the jobs have work (on a loaded machine two processes
    side by side do not take half the time of one)."""
    shards = max(1, -(-jobs // len(programs)))
    tasks = [(exe, i) for exe in programs for i in range(shards)]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda task: subprocess.run(
            [str(task[0])], capture_output=True,
            env=dict(TSAN_ENV, GTEST_TOTAL_SHARDS=str(shards), GTEST_SHARD_INDEX=str(task[1]))), tasks))
    return time.monotonic() - started


def measure(build_dir: Path, tests: int, jobs: int, full: bool, batched_only: bool, framework: str) -> dict:
    ctest = per_process = None
    if not batched_only:
        ctest, _ = timed(["ctest", "--test-dir", str(build_dir), "-j", str(jobs)], env=TSAN_ENV)
    one = 0.0
    for exe in executables(build_dir):
        seconds, _ = timed([str(exe)], env=TSAN_ENV)
        one += seconds
    sharded = sharded_wall(executables(build_dir), jobs) if framework == "gtest" else None
    pp_result: dict = {"buckets": []}
    if not batched_only:
        per_process, pp_result = racegate(build_dir, jobs, "--runs", "1", "--no-batch")
    batched, b_result = racegate(build_dir, jobs, "--runs", "1")
    # A budget a little beyond the first pass: long enough for repetitions to begin, then it stops.
    _, b_rep = racegate(build_dir, jobs, "--runs", "2", "--time-budget", f"{batched + 5:.0f}")
    pp_rep = None
    if full and per_process is not None:
        _, pp_rep_result = racegate(build_dir, jobs, "--runs", "2", "--time-budget", f"{per_process + 5:.0f}")
        pp_rep = pp_rep_result.get("cost", {}).get("first_repetition_after")

    def buckets(result: dict) -> set[str]:
        return {b["id"] for b in result["buckets"]}

    return {
        "tests": tests, "ctest": ctest, "per_process": per_process, "batched": batched, "one": one,
        "sharded": sharded,
        "target": one / jobs * 1.2, "b_rep": b_rep.get("cost", {}).get("first_repetition_after"),
        "pp_rep": pp_rep, "same_buckets": None if batched_only else buckets(pp_result) == buckets(b_result),
        "buckets": len(buckets(b_result)), "pp_buckets": len(buckets(pp_result)),
        "startup": b_result.get("cost", {}).get("startup_seconds"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000", help="comma-separated test counts (default 100,1000)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--compiler", choices=("clang", "gcc"), default="clang")
    ap.add_argument("--framework", choices=("gtest", "doctest"), default="gtest")
    ap.add_argument("--full", action="store_true",
                    help="also measure when the first repetition starts per process (runs that first pass again)")
    ap.add_argument("--batched-only", action="store_true",
                    help="skip ctest and the per-process pass (for 3,000 tests they take a quarter of an hour)")
    ap.add_argument("--work", type=Path, help="keep the generated suites and builds here (default: a temp dir)")
    args = ap.parse_args()
    root = args.work.resolve() if args.work else Path(tempfile.mkdtemp(prefix="racegate-large-suite-"))
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            src, out = root / f"src{size}-{args.framework}", root / f"build{size}-{args.framework}-{args.compiler}"
            generate(src, size, args.framework)
            build(src, out, args.compiler)
            rows.append(measure(out, size, args.jobs, args.full, args.batched_only, args.framework))
    finally:
        if not args.work:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{args.framework}, {args.jobs} jobs, {args.compiler} TSan; seconds "
          "(ratio to the target: one process / jobs * 1.2)")
    head = (f"{'tests':>6}  {'ctest -j':>9}  {'per-process':>11}  {'batched':>9}  {'one process':>11}  "
            f"{'target':>7}  {'batched/target':>14}  {'sharded -j':>10}  {'batched/sharded':>15}  "
            f"{'per-proc/batched':>16}  {'1st rep. batched':>16}  "
            f"{'1st rep. per-proc':>17}  {'start-up':>8}  same buckets")
    print(head)
    print("-" * len(head))
    for r in rows:
        def num(value: float | None, suffix: str = "") -> str:
            return "-" if value is None else f"{value:.1f}{suffix}"

        if r["pp_rep"] is not None:
            pp_rep = num(r["pp_rep"])
        else:
            pp_rep = "-" if r["per_process"] is None else f">={r['per_process']:.1f}"
        ratio = None if r["per_process"] is None else r["per_process"] / r["batched"]
        sharded_ratio = "-" if r["sharded"] is None else f"{r['batched'] / r['sharded']:.2f}x"
        same = "-" if r["same_buckets"] is None else (
            f"{'yes' if r['same_buckets'] else 'NO'} ({r['buckets']} / {r['pp_buckets']})")
        print(f"{r['tests']:>6}  {num(r['ctest']):>9}  {num(r['per_process']):>11}  {r['batched']:>9.1f}  "
              f"{r['one']:>11.1f}  {r['target']:>7.1f}  {r['batched'] / r['target']:>13.2f}x  "
              f"{num(r['sharded']):>10}  {sharded_ratio:>15}  "
              f"{num(ratio, 'x'):>16}  {num(r['b_rep']):>16}  {pp_rep:>17}  "
              f"{'-' if r['startup'] is None else format(r['startup'], '.2f'):>8}  {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
