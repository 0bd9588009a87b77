#!/usr/bin/env python3
"""Why do racegate's plain runs (`--schedule none`) see a race less often than a shell loop? Both rates, side by side.

It builds tests/plain_rate (a race TSan reports only when both workers run at once) with each preset, then
runs the racy test under a shell-style loop (one run at a time, TSAN_OPTIONS=halt_on_error=0, output to a
pipe) and under variants that each change one thing towards what racegate does, then racegate's own executor
(run_env + execute, the path of a plain repetition) one and two at a time. Variants take turns, a block of
runs each per round (A B C .. A B C ..), so the drift of a shared machine's load hits them all alike. It prints
each variant's race rate, its count, and its ratio to the loop's rate.

    /usr/bin/python3 bench/plain_rate_gap.py                       # both compilers, 60 runs per variant
    /usr/bin/python3 bench/plain_rate_gap.py --runs 100 --preset racegate-tsan-gcc --variant loop --variant jobs2
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))

from racegate import shim  # noqa: E402
from racegate.execute import Executor  # noqa: E402
from racegate.model import PlannedRun, TestCase  # noqa: E402
from racegate.run_env import TSAN_DEFAULTS, TSAN_FORCED  # noqa: E402
from racegate.strategies import NONE  # noqa: E402

SOURCE = REPO / "tests" / "plain_rate"
BINARY = "overlap_race_test"
RACY_FILTER = "OverlapRace.UnlockedWrite"
DEFAULT_PRESETS = ("racegate-tsan-clang", "racegate-tsan-gcc")
USER_TSAN = "halt_on_error=0"  # what the shell loop sets, and racegate's user would
TSAN_MARK = "WARNING: ThreadSanitizer:"
BLOCK = 5  # runs of one variant in a row before the next variant's turn


@dataclass
class Tally:
    runs: int = 0
    races: int = 0
    seconds: float = 0.0


class Bench:
    """One build's binary, a scratch dir, the shim and an executor: what the variants run with."""

    def __init__(self, binary: Path, scratch: Path, shim_path: Path):
        self.binary = binary
        self.argv = [str(binary), f"--gtest_filter={RACY_FILTER}"]
        self.scratch = scratch
        self.shim_path = shim_path
        self.executor = Executor(scratch / "runs", shim_path, timeout=60.0)
        self.test = TestCase(name=RACY_FILTER, command=tuple(self.argv), is_gtest=True)
        self._count = 0
        self._lock = threading.Lock()

    def _fresh(self) -> Path:
        with self._lock:
            self._count += 1
            path = self.scratch / f"r{self._count}"
        path.mkdir()
        return path

    def loop(self, tsan: str = USER_TSAN, preload: bool = False, log_file: bool = False, setsid: bool = False,
             sink: str = "pipe") -> bool:
        """One run as a shell loop runs it, with the changes asked for; whether TSan reported the race."""
        run_dir = self._fresh()
        env = dict(os.environ, TSAN_OPTIONS=tsan)
        if log_file:
            env["TSAN_OPTIONS"] += f" log_path={run_dir / 'tsan'}"
        if preload:
            env.update(LD_PRELOAD=str(self.shim_path), RACEGATE_SCHEDULE=NONE, RACEGATE_SEED="1",
                       RACEGATE_SHIM_REPORT=str(run_dir / "shim"))
        if sink == "pipe":
            proc = subprocess.run(self.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  start_new_session=setsid, timeout=60)
            text = proc.stdout.decode(errors="replace")
        elif sink == "file":
            with open(run_dir / "out", "wb") as out:
                subprocess.run(self.argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=setsid, timeout=60)
            text = (run_dir / "out").read_text(errors="replace")
        else:  # a terminal, as a shell loop run by hand has
            text = _run_on_pty(self.argv, env, setsid)
        text += "".join(p.read_text(errors="replace") for p in run_dir.glob("tsan.*"))
        return TSAN_MARK in text

    def racegate(self) -> bool:
        """One plain repetition through racegate's own run_env and executor (no shim: the count is known)."""
        with self._lock:
            self._count += 1
            run = self._count
        plan = PlannedRun(test=self.test, run=run, seed=run, strategy=NONE, preload_shim=False)
        with self.executor.run(plan) as execution:
            return TSAN_MARK in execution.tsan_log or TSAN_MARK in execution.output

    def cli(self, jobs: int) -> tuple[bool, ...]:
        """A whole `racegate run --schedule none` session of BLOCK runs: its runs' outcomes, from racegate.json."""
        out = self._fresh()
        subprocess.run([sys.executable, str(REPO / "racegate"), "run", "--build-dir", str(self.binary.parent),
                        "-R", f"^{RACY_FILTER}$", "--runs", str(BLOCK), "--schedule", NONE, "--jobs", str(jobs),
                        "--no-gate", "--out", str(out), "--format", "junit"],
                       env=dict(os.environ, TSAN_OPTIONS=USER_TSAN), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        (test,) = json.loads((out / "racegate.json").read_text())["tests"]
        races = test["outcomes"]["race"]
        return (True,) * races + (False,) * (sum(test["outcomes"].values()) - races)


def _run_on_pty(argv: list[str], env: dict[str, str], setsid: bool) -> str:
    primary, secondary = os.openpty()
    try:
        proc = subprocess.Popen(argv, env=env, stdout=secondary, stderr=secondary, start_new_session=setsid)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
        return b"".join(chunks).decode(errors="replace")
    finally:
        os.close(primary)


def in_pairs(one: Callable[[], bool]) -> Callable[[], tuple[bool, bool]]:
    """Two runs at once, as racegate's --jobs 2 runs them (here: two copies of the same test)."""
    def pair() -> tuple[bool, bool]:
        seen: list[bool] = []
        threads = [threading.Thread(target=lambda: seen.append(one())) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return tuple(seen)  # type: ignore[return-value]
    return pair


RACEGATE_TSAN = " ".join([TSAN_DEFAULTS, USER_TSAN, *(f"{k}={v}" for k, v in TSAN_FORCED.items())])
# name -> (what it changes from the loop, how one run goes given a Bench). A pair variant runs two at once.
VARIANTS: dict[str, tuple[str, Callable[[Bench], Callable[[], object]]]] = {
    "loop": ("shell-style loop: one at a time, output to a pipe", lambda b: b.loop),
    "tty": ("output to a terminal (pty)", lambda b: lambda: b.loop(sink="pty")),
    "file": ("output to a file, stdin /dev/null", lambda b: lambda: b.loop(sink="file")),
    "setsid": ("own session and process group", lambda b: lambda: b.loop(setsid=True)),
    "log_path": ("TSan's log to a file (log_path)", lambda b: lambda: b.loop(log_file=True)),
    "defaults": (f"racegate's TSAN_OPTIONS ({RACEGATE_TSAN})", lambda b: lambda: b.loop(tsan=RACEGATE_TSAN)),
    "shim": ("shim preloaded, schedule none (a first run)", lambda b: lambda: b.loop(preload=True)),
    "jobs2": ("two runs at once (as --jobs 2)", lambda b: in_pairs(b.loop)),
    "racegate": ("racegate's executor, one at a time (--jobs 1)", lambda b: b.racegate),
    "racegate-jobs2": ("racegate's executor, two at once (--jobs 2)", lambda b: in_pairs(b.racegate)),
    "cli": (f"`racegate run --schedule none --jobs 1`, sessions of {BLOCK} runs", lambda b: lambda: b.cli(1)),
    "cli-jobs2": (f"`racegate run --schedule none --jobs 2`, sessions of {BLOCK} runs", lambda b: lambda: b.cli(2)),
}


def build(preset: str, root: Path, jobs: int) -> Path:
    build_dir = root / preset
    subprocess.run(["cmake", "--preset", preset, "--no-warn-unused-cli", "-S", str(SOURCE), "-B", str(build_dir)],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "-j", str(jobs), "--target", BINARY],
                   check=True, stdout=subprocess.DEVNULL)
    return build_dir / BINARY


def measure(bench: Bench, names: list[str], runs: int) -> dict[str, Tally]:
    """Each variant `runs` runs, in interleaved blocks of BLOCK."""
    go = {name: VARIANTS[name][1](bench) for name in names}
    tallies = {name: Tally() for name in names}
    while any(t.runs < runs for t in tallies.values()):
        for name in names:
            tally = tallies[name]
            block_end = min(tally.runs + BLOCK, runs)
            while tally.runs < block_end:
                start = time.monotonic()
                outcome = go[name]()
                seen = outcome if isinstance(outcome, tuple) else (outcome,)
                tally.seconds += time.monotonic() - start
                tally.runs += len(seen)
                tally.races += sum(seen)
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", help=f"repeatable; default: {' and '.join(DEFAULT_PRESETS)}")
    parser.add_argument("--build-root", type=Path, default=REPO / "tests" / "plain_rate" / "build")
    parser.add_argument("--variant", action="append", choices=list(VARIANTS),
                        help="repeatable; default: all (loop always included)")
    parser.add_argument("--runs", type=int, default=60, help="runs per variant (default 60)")
    parser.add_argument("--build-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    names = ["loop"] + [n for n in (args.variant or VARIANTS) if n != "loop"]
    shim_path = shim.ensure_shim()
    print(f"{args.runs} runs per variant of {BINARY} {RACY_FILTER}, in blocks of {BLOCK}, interleaved; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    for preset in args.preset or DEFAULT_PRESETS:
        binary = build(preset, args.build_root, args.build_jobs)
        with tempfile.TemporaryDirectory(prefix="plain-rate-") as scratch:
            bench = Bench(binary, Path(scratch), shim_path)
            started = time.monotonic()
            tallies = measure(bench, names, args.runs)
            bench.executor.close()
        loop_rate = tallies["loop"].races / tallies["loop"].runs
        print(f"\n{preset} ({time.monotonic() - started:.0f} s, load average {os.getloadavg()[0]:.2f} at end)")
        print("| variant | what changes from the loop | races / runs | rate | vs loop | s per run |")
        print("|---|---|---:|---:|---:|---:|")
        for name in names:
            t = tallies[name]
            rate = t.races / t.runs
            ratio = f"{rate / loop_rate:.2f}" if loop_rate else "-"
            print(f"| {name} | {VARIANTS[name][0]} | {t.races} / {t.runs} | {rate:.1%} | {ratio} "
                  f"| {t.seconds / t.runs:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
