#!/usr/bin/env python3
"""Time to first detection of a race in changed code, with and without `--changed-since`, side by side.

How the suite is made: a generated CMake project in a git repository, MODULES executables (one source file each,
built once under TSan with racegate's preset, included as docs/presets.md says), each registered as CASES CTest
tests that run it with a different argument (`add_test(NAME mod03_case07 COMMAND mod03 7)`): MODULES * CASES
tests (300 by default), every one two threads adding to a total under a lock. A second commit changes one
module's source (the middle one, so neither variant is favoured by CTest order): its middle case takes an
unlocked fast path, a data race on the changed line. The ranking comes from the real build: the codemodel
racegate asks CMake for, and the dependency files.

Each trial runs `racegate run --preset tsan --jobs JOBS` twice, in alternating order: plain, and with
`--changed-since HEAD~1`. It reads the racing bucket's `first_seen.seconds` (from the session's start) and run
index from racegate.json, and prints both, the median over trials (a miss counting as past the session's end)
and the ratio. By default the race shows on
every run of its test and each session is `--runs 1`, the first pass: what `--changed-since` changes there is the
order of first runs (the touched executable's tests first). With `--chance K` the fast path is taken on one run
in K (a random draw per process), so the race usually needs repetitions, and each session runs for
`--time-budget` seconds: that measures the share of the budget the focus gives the touched executable's tests.

    /usr/bin/python3 bench/changed_since.py                   # 10 modules x 30 cases, 2 jobs, clang, 3 trials
    /usr/bin/python3 bench/changed_since.py --modules 20 --cases 20 --trials 5 --compiler gcc
    /usr/bin/python3 bench/changed_since.py --chance 4 --time-budget 60    # a race that needs repetitions
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MODULE = """\
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

static std::mutex lock;
int total = 0;  // visible outside the file, so every store stays

static void add(int n) {
  for (int i = 0; i < 200; ++i) {
    std::lock_guard<std::mutex> guard(lock);
    total += n;
  }
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 0;
  std::thread a(add, n), b(add, n);
  a.join();
  b.join();
  return total > 0 ? 0 : 1;
}
"""
# The change: an unlocked fast path for one case, racing with itself in the other thread.
FAST_PATH = ("static bool fast_path_today() { static const bool taken = std::random_device{}() %% %d == 0; "
             "return taken; }\n\nstatic void add(int n) {\n"
             "  if (n == %d && fast_path_today()) { for (int i = 0; i < 200; ++i) total += n; return; }\n")


def generate(root: Path, modules: int, cases: int, compiler: str, chance: int) -> str:
    """The project at root, committed twice; returns the name of the racing test."""
    lines = ["cmake_minimum_required(VERSION 3.16)", "project(changed_bench LANGUAGES CXX)",
             "find_package(Threads REQUIRED)", "enable_testing()"]
    for m in range(modules):
        name = f"mod{m:02d}"
        (root / f"{name}.cpp").write_text(MODULE)
        lines += [f"add_executable({name} {name}.cpp)", f"target_link_libraries({name} PRIVATE Threads::Threads)"]
        lines += [f"add_test(NAME {name}_case{c:02d} COMMAND {name} {c})" for c in range(cases)]
    (root / "CMakeLists.txt").write_text("\n".join(lines) + "\n")
    base = {"clang": "racegate-tsan-clang", "gcc": "racegate-tsan-gcc"}[compiler]
    (root / "CMakePresets.json").write_text(json.dumps({
        "version": 6, "include": ["third_party/racegate/presets/racegate.json"],
        "configurePresets": [{"name": "tsan", "inherits": base}],
        "buildPresets": [{"name": "tsan", "configurePreset": "tsan"}],
        "testPresets": [{"name": "tsan", "inherits": base, "configurePreset": "tsan"}]}, indent=2))
    (root / ".gitignore").write_text("build/\n")
    vendored = root / "third_party" / "racegate" / "presets"
    vendored.parent.mkdir(parents=True)
    vendored.symlink_to(REPO / "presets", target_is_directory=True)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "every module locked")
    touched = f"mod{modules // 2:02d}"
    source = root / f"{touched}.cpp"
    racy_case = cases // 2  # the middle one: the touched module's own order favours neither variant
    source.write_text(source.read_text().replace("static void add(int n) {\n", FAST_PATH % (chance, racy_case)))
    git(root, "commit", "-qam", f"{touched}: an unlocked fast path")
    return f"{touched}_case{racy_case:02d}"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args], cwd=root,
                   check=True, capture_output=True)


def session(root: Path, out: Path, jobs: int, focus: bool, budget: float | None) -> dict:
    bound = ["--time-budget", str(budget)] if budget else ["--runs", "1"]
    argv = [sys.executable, str(REPO / "racegate"), "run", "--preset", "tsan", *bound, "--jobs", str(jobs),
            "--out", str(out), "--format", "markdown", "--no-gate"]
    if focus:
        argv += ["--changed-since", "HEAD~1"]
    env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL="2")
    env.pop("TSAN_OPTIONS", None)
    proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"racegate failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads((out / "racegate.json").read_text())


def first_detection(result: dict, racing_test: str) -> tuple[float | None, int | None, int]:
    """(seconds, run index) of the racing test's data race first seen, and the session's runs."""
    runs = result["summary"]["runs"]
    for bucket in result["buckets"]:
        if bucket["kind"] == "data race" and racing_test in bucket["tests"]:
            return bucket["first_seen"].get("seconds"), bucket["first_seen"]["run"], runs
    return None, None, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modules", type=int, default=10)
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--compiler", choices=("clang", "gcc"), default="clang")
    parser.add_argument("--chance", type=int, default=1, metavar="K",
                        help="the race's fast path is taken on one run in K (default 1: every run, --runs 1)")
    parser.add_argument("--time-budget", type=float, default=60.0,
                        help="seconds per session with --chance above 1 (default 60)")
    args = parser.parse_args()
    budget = args.time_budget if args.chance > 1 else None
    with tempfile.TemporaryDirectory(prefix="racegate-changed-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        racing = generate(root, args.modules, args.cases, args.compiler, args.chance)
        bound = f"--time-budget {budget:g}" if budget else "--runs 1"
        print(f"suite: {args.modules} executables x {args.cases} cases = {args.modules * args.cases} tests; "
              f"race in {racing} on 1 run in {args.chance}; {bound}; {args.jobs} jobs, {args.compiler}; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        times: dict[bool, list[float]] = {False: [], True: []}  # seconds per trial; math.inf when missed
        print(f"{'trial':>5}  {'variant':<16} {'s to detect':>11} {'run index':>9} {'runs':>5}")
        for trial in range(args.trials):
            # Alternating which goes first: the machine's load drifts, and the first session also builds.
            order = (False, True) if trial % 2 else (True, False)
            for focus in order:
                seconds, run, runs = first_detection(session(root, Path(tmp) / f"out-{trial}-{focus}", args.jobs,
                                                             focus, budget), racing)
                # A miss counts as past the session's end: the median is over every trial.
                times[focus].append(seconds if seconds is not None else math.inf)
                label = "--changed-since" if focus else "plain"
                shown = f"{seconds:.2f}" if seconds is not None else "missed"
                print(f"{trial + 1:>5}  {label:<16} {shown:>11} {run if run is not None else '-':>9} {runs:>5}",
                      flush=True)
        plain, focused = statistics.median(times[False]), statistics.median(times[True])
        end = f"> {budget:g}" if budget else "never"
        print()
        print(f"{'variant':<16} {'median s to first detection':>28} {'found':>6}")
        for focus, median in ((False, plain), (True, focused)):
            label = "--changed-since" if focus else "plain"
            text = f"{median:.2f}" if median != math.inf else end
            found = sum(t != math.inf for t in times[focus])
            print(f"{label:<16} {text:>28} {found}/{args.trials}")
        if focused != math.inf and plain != math.inf:
            print(f"ratio (plain / --changed-since): {plain / focused:.1f}x sooner (target >= 5x)")
        elif focused != math.inf and budget:
            print(f"ratio (plain / --changed-since): > {budget / focused:.1f}x sooner (target >= 5x)")


if __name__ == "__main__":
    main()
