#!/usr/bin/env python3
"""Parser and bucketing throughput on a large synthetic log built from the real TSan corpus.

    /usr/bin/python3 bench/parse_throughput.py [--mb 100] [--seed 1]

The log mixes every corpus report (clang 14, clang 19, gcc 12) with program output, and gives
each report copy its own pid, thread ids and data addresses, as repeated runs of one binary do
(module offsets in frames stay, as they do between runs of the same build).
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "harness"))

from racegate.signature import finding_from_report, signature  # noqa: E402
from racegate.signature_rules import bucket_id
from racegate.tsan_parse import parse_reports  # noqa: E402

_VOLATILE = re.compile(r"(?<=pid=)\d+|(?<=tid=)\d+|(?<= at )0x[0-9a-f]+|(?<=\()0x[0-9a-f]+(?=\))")
_OUTPUT = [
    "[ RUN      ] Suite.Case{n}",
    "[       OK ] Suite.Case{n} ({n} ms)",
    "worker {n}: processed {n} items",
    "iteration {n} done",
]


def build_log(target_bytes: int, seed: int) -> tuple[str, int]:
    """A log of about target_bytes; returns it and the number of reports in it."""
    rnd = random.Random(seed)
    templates = [r.text for p in sorted((ROOT / "tests" / "corpus").glob("*/*.log")) for r in parse_reports(p.read_text())]

    def fresh(match: re.Match[str]) -> str:
        token = match.group(0)
        return f"0x{rnd.getrandbits(44):012x}" if token.startswith("0x") else str(rnd.randrange(1000, 4_000_000))

    parts: list[str] = []
    size = 0
    count = 0
    while size < target_bytes:
        for _ in range(rnd.randrange(0, 4)):
            line = rnd.choice(_OUTPUT).format(n=rnd.randrange(10_000)) + "\n"
            parts.append(line)
            size += len(line)
        report = _VOLATILE.sub(fresh, rnd.choice(templates))
        parts.append(report)
        size += len(report)
        count += 1
    return "".join(parts), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of the synthetic log in MB (default 100)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    log, expected = build_log(int(args.mb * 1_000_000), args.seed)
    mb = len(log.encode()) / 1_000_000
    print(f"built {mb:.1f} MB log with {expected} reports in {time.perf_counter() - t0:.1f}s")

    t0 = time.perf_counter()
    reports = parse_reports(log)
    parse_s = time.perf_counter() - t0
    assert len(reports) == expected, (len(reports), expected)
    print(f"parse_reports: {parse_s:.2f}s  {mb / parse_s:.1f} MB/s  {len(reports) / parse_s:,.0f} reports/s")

    t0 = time.perf_counter()
    buckets: dict[str, int] = {}
    for r in reports:
        bid = bucket_id(r.kind, signature(r))
        buckets[bid] = buckets.get(bid, 0) + 1
    sig_s = time.perf_counter() - t0
    print(f"signature+bucket_id: {sig_s:.2f}s  {len(reports) / sig_s:,.0f} reports/s  -> {len(buckets)} buckets")

    t0 = time.perf_counter()
    for r in reports:
        finding_from_report(r)
    find_s = time.perf_counter() - t0
    print(f"finding_from_report: {find_s:.2f}s  {len(reports) / find_s:,.0f} reports/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
