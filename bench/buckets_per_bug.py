#!/usr/bin/env python3
"""Buckets per real bug on the samples, with each compiler: target exactly 1 per bug and no stray bucket.

Each racy sample test holds one bug (its header says which); fixed samples hold none. The script runs
`racegate run` on each TSan build given, then prints, per racy test, how many buckets name it, and the buckets
that name a fixed test (stray). A failure folded into a race as its symptom counts with the race, as racegate
reports it.

    /usr/bin/python3 bench/buckets_per_bug.py --build-dir samples/build/tsan-clang --build-dir samples/build/tsan-gcc
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RACY_SUITE = re.compile(r"^(\w+Race|\w+CheckThenAct)\.")
FIXED_SUITE = re.compile(r"^\w+Fixed\.")


def run(build_dir: Path, runs: int, jobs: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, str(REPO / "racegate"), "run", "--build-dir", str(build_dir),
                        "--runs", str(runs), "--jobs", str(jobs), "--seed", str(seed), "--out", out,
                        "--format", "junit"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return json.loads((Path(out) / "racegate.json").read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, action="append", required=True, help="a TSan build of samples/")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for build_dir in args.build_dir:
        result = run(build_dir.resolve(), args.runs, args.jobs, args.seed)
        racy = sorted(t["name"] for t in result["tests"] if RACY_SUITE.match(t["name"]))
        print(f"\n{build_dir} ({result['config'].get('compiler')}), {args.runs} runs per test, "
              f"{result['summary']['runs']} runs")
        print(f"{'racy test':<58} buckets  kinds / symptoms")
        for test in racy:
            buckets = [b for b in result["buckets"] if test in b["tests"]]
            detail = "; ".join(
                f"{b['kind']}" + (f" ({', '.join(b['kinds'])})" if b.get("kinds") else "")
                + (f", {sum(s['runs'] for s in b['symptoms'])} failing runs as symptoms" if b.get("symptoms") else "")
                for b in buckets)
            print(f"{test:<58} {len(buckets):>7}  {detail}")
        stray = [b for b in result["buckets"] if any(FIXED_SUITE.match(t) for t in b["tests"])]
        found = [t for t in racy if any(t in b["tests"] for b in result["buckets"])]
        print(f"bugs found {len(found)} of {len(racy)}; buckets per found bug "
              f"{sum(1 for b in result['buckets'] if set(b['tests']) & set(racy)) / max(len(found), 1):.2f} "
              f"(target 1.00); stray buckets {len(stray)} (target 0)")
        for b in stray:
            print(f"  stray: {b['id']} {b['title']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
