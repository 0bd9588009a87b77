#!/usr/bin/env python3
"""Time to first detection of the samples' hard bugs: plain ctest in a loop, the static portfolio, adaptive search.

Side by side in one invocation, at the same --jobs and the same --budget, over the whole samples suite:
  plain     `ctest -j JOBS` run again and again until the budget is spent (what CI does without racegate)
  static    racegate as released at 5fe114e (every test once, then fixed fair-share weights, strategies rotated),
            extracted with `git archive` into a temporary dir (nothing in the repository changes)
  adaptive  this racegate, cold (no history)
  warm      this racegate with --history from --train earlier sessions of its own (previous CI runs)
Each runs --trials times (seeds 1..N, the same for every racegate variant). Detection of a bug = the first
failing run of its test (plain) or the first bucket first seen in its test (racegate); its time is seconds since
the command started, taken from the end of the run that showed it: ctest's "Failed" line for plain, the mtime of
the first-seen run's log dir for racegate (the same clock for all; racegate.json at 5fe114e has no time per
bucket). Prints, per hard bug, the median time to first detection per variant, the runs it was found in, and
the ratios, then which racy tests each variant caught at all.

    /usr/bin/python3 bench/search.py --build-dir samples/build/tsan-clang --budget 30 --jobs 2 --trials 3
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STATIC_COMMIT = "5fe114e"
TSAN_OPTIONS = "halt_on_error=0 second_deadlock_stack=1 history_size=7"
FAILED_LINE = re.compile(r"Test\s+#\d+: (\S+) \.*\**(?:Failed|Exception|Timeout)")
RACY_SUITE = re.compile(r"^(\w+Race|\w*CheckThenAct)\.")
FIXED_SUITE = re.compile(r"^\w+Fixed\.")
# The hard bugs: a test-name pattern each; one whose test is not in the build is skipped (e.g. a sample another
# branch adds).
HARD_BUGS = {
    "masked race (TelemetryHiddenRace)": r"^TelemetryHiddenRace\.",
    "atomics check-then-act (AccountCheckThenAct)": r"^AccountCheckThenAct\.",
    "atomics check-then-act, rare (TicketBoothCheckThenAct)": r"^TicketBoothCheckThenAct\.",
}
VARIANTS = ("plain", "static", "adaptive", "warm")


def ctest_names(build_dir: Path) -> list[str]:
    out = subprocess.run(["ctest", "--test-dir", str(build_dir), "--show-only=json-v1"], check=True,
                         capture_output=True, text=True).stdout
    return [t["name"] for t in json.loads(out)["tests"]]


def plain_loop(build_dir: Path, budget: float, jobs: int) -> dict[str, float]:
    """Seconds at which each test first failed, running the whole suite with ctest again and again."""
    env = dict(os.environ, TSAN_OPTIONS=TSAN_OPTIONS)
    start = time.monotonic()
    first: dict[str, float] = {}
    deadline = start + budget
    while time.monotonic() < deadline:
        proc = subprocess.Popen(["ctest", "--test-dir", str(build_dir), "-j", str(jobs)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                                start_new_session=True)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                match = FAILED_LINE.search(line)
                if match and match.group(1) not in first and time.monotonic() < deadline:
                    first[match.group(1)] = time.monotonic() - start
                if time.monotonic() >= deadline:
                    break
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return first


def racegate_session(racegate: Path, build_dir: Path, budget: float, jobs: int, seed: int, out: Path,
                     history: Path | None = None) -> dict[str, float]:
    """Seconds at which each test's first bucket was seen, since the racegate command started."""
    cmd = [sys.executable, str(racegate), "run", "--build-dir", str(build_dir), "--time-budget", str(budget),
           "--jobs", str(jobs), "--seed", str(seed), "--out", str(out), "--format", "junit"]
    if history is not None:
        cmd += ["--history", str(history)]
    started = time.time()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = json.loads((out / "racegate.json").read_text())
    first: dict[str, float] = {}
    for bucket in result["buckets"]:
        seen = bucket["first_seen"]
        log_dir = out / seen["log_dir"]
        ended = max((f.stat().st_mtime for f in log_dir.iterdir()), default=log_dir.stat().st_mtime)
        first[seen["test"]] = min(first.get(seen["test"], math.inf), ended - started)
    return first


def static_racegate(tmp: Path) -> Path:
    """racegate as it was at STATIC_COMMIT, extracted without touching the repository or its worktrees."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", STATIC_COMMIT, "racegate", "harness"],
                             check=True, capture_output=True).stdout
    tmp.mkdir()
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    return tmp / "racegate"


def detection(first: dict[str, float], pattern: str) -> float:
    return min((s for test, s in first.items() if re.search(pattern, test)), default=math.inf)


def fmt(seconds: float, budget: float) -> str:
    return f"> {budget:g}" if math.isinf(seconds) else f"{seconds:.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, required=True, help="a TSan build of samples/")
    ap.add_argument("--budget", type=float, default=30.0, help="seconds per session (default 30)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--train", type=int, default=1, help="sessions that write the history warm starts from")
    ap.add_argument("--racegate", type=Path, default=REPO / "racegate",
                    help="the racegate to measure as adaptive/warm (default: this checkout's)")
    ap.add_argument("--keep", type=Path, help="keep every session's output and the history here")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    args = ap.parse_args()
    build_dir = args.build_dir.resolve()
    names = ctest_names(build_dir)
    bugs = {bug: p for bug, p in HARD_BUGS.items() if any(re.search(p, n) for n in names)}
    skipped = [bug for bug in HARD_BUGS if bug not in bugs]
    racy = sorted(n for n in names if RACY_SUITE.match(n))
    fixed = sorted(n for n in names if FIXED_SUITE.match(n))
    times: dict[str, list[dict[str, float]]] = {v: [] for v in args.variants}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.keep.resolve() if args.keep else Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        static = static_racegate(tmp / "static") if "static" in args.variants else None
        history = tmp / "history.json"
        if "warm" in args.variants:
            # The previous CI runs: sessions of their own, with seeds no trial uses.
            for n in range(args.train):
                racegate_session(args.racegate, build_dir, args.budget, args.jobs, 1000 + n, tmp / f"train{n}",
                                 history)
        for trial in range(1, args.trials + 1):
            for variant in args.variants:
                out = tmp / f"{variant}-{trial}"
                if variant == "plain":
                    first = plain_loop(build_dir, args.budget, args.jobs)
                elif variant == "static":
                    assert static is not None
                    first = racegate_session(static, build_dir, args.budget, args.jobs, trial, out)
                elif variant == "adaptive":
                    first = racegate_session(args.racegate, build_dir, args.budget, args.jobs, trial, out)
                else:
                    # Each trial starts from the same learned history, not from the trials before it.
                    copy = tmp / f"history-{trial}.json"
                    copy.write_bytes(history.read_bytes())
                    first = racegate_session(args.racegate, build_dir, args.budget, args.jobs, trial, out, copy)
                times[variant].append(first)
                print(f"trial {trial} {variant}: " + ", ".join(
                    f"{bug.split(' (')[0]} {fmt(detection(first, p), args.budget)}" for bug, p in bugs.items()),
                    file=sys.stderr, flush=True)
    print(f"build {build_dir}, budget {args.budget:g} s, {args.jobs} jobs, {args.trials} trials, warm after "
          f"{args.train} training sessions; seconds since the command started (discovery included, so a bucket "
          f"found near the end of the budget can show a little over it)")
    header = ["hard bug"] + [f"{v}: median s (found)" for v in args.variants]
    comparisons = [(a, b) for a, b in (("plain", "adaptive"), ("static", "adaptive"), ("plain", "warm"),
                                       ("static", "warm")) if a in args.variants and b in args.variants]
    header += [f"{a}/{b}" for a, b in comparisons]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for bug, pattern in bugs.items():
        medians = {}
        cells = [bug]
        for v in args.variants:
            found = [detection(first, pattern) for first in times[v]]
            medians[v] = statistics.median(found)
            hits = sum(1 for s in found if not math.isinf(s))
            cells.append(f"{fmt(medians[v], args.budget)} ({hits}/{len(found)})")
        for a, b in comparisons:
            slow, fast = medians[a], medians[b]
            if math.isinf(fast):
                cells.append("-")
            elif math.isinf(slow):
                cells.append(f"> {args.budget / fast:.1f}x" if fast > 0 else "-")
            else:
                cells.append(f"{slow / fast:.1f}x")
        print("| " + " | ".join(cells) + " |")
    for bug in skipped:
        print(f"(skipped: {bug}, no such test in this build)")
    print("\nracy tests caught (trials with a detection), per variant:")
    for name in racy:
        print(f"  {name}: " + ", ".join(
            f"{v} {sum(1 for first in times[v] if name in first)}/{len(times[v])}" for v in args.variants))
    print(f"false alarms (a detection in one of the {len(fixed)} fixed tests), per variant: " + ", ".join(
        f"{v} {sum(1 for first in times[v] for name in fixed if name in first)}" for v in args.variants))
    return 0


if __name__ == "__main__":
    sys.exit(main())
