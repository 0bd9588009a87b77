#!/usr/bin/env python3
"""Timing recall and false-timing rate of failure.is_timing_assertion on a corpus of real failed-check messages
(tests/fixtures/timing/assertion_messages.json, labelled by hand), side by side with the rule of the releases
before it (a word of the expression, split at non-letters only, in their word list).

    /usr/bin/python3 bench/timing_recall.py [--list]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))

from racegate.failure import is_timing_assertion, timing_rules_matched  # noqa: E402

CORPUS = REPO / "tests" / "fixtures" / "timing" / "assertion_messages.json"

# The releases' rule, kept here only to measure against: words of the expression before `, actual:` / `Which is:`.
EARLIER_WORDS = frozenset({
    "elapsed", "duration", "latency", "deadline", "timeout", "timed", "took", "ms", "msec", "millis",
    "milliseconds", "us", "usec", "micros", "microseconds", "ns", "nanoseconds", "sec", "secs", "seconds",
    "chrono", "steady", "clock", "walltime",
})
_EARLIER_END = re.compile(r",\s*actual:|\n\s*Which is:|\n\s*Actual:")


def earlier_rule(message: str) -> bool:
    expression = _EARLIER_END.split(message, 1)[0]
    return not EARLIER_WORDS.isdisjoint(re.findall(r"[a-z]+", expression.lower()))


def rates(messages: list[dict], rule) -> tuple[int, int, int, int]:
    timing = [m for m in messages if m["timing"]]
    other = [m for m in messages if not m["timing"]]
    return sum(map(rule, (m["message"] for m in timing))), len(timing), \
        sum(map(rule, (m["message"] for m in other))), len(other)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print every message the current rules get wrong")
    args = parser.parse_args()
    messages = json.loads(CORPUS.read_text())["messages"]
    sources = {m["source"] for m in messages}
    print(f"corpus: {len(messages)} messages ({sum(m['timing'] for m in messages)} timing) from {len(sources)} "
          f"sources, {len({m['framework'] for m in messages})} frameworks")
    print(f"{'rules':<22}{'recall':>16}{'false timing':>18}")
    for name, rule in (("earlier releases", earlier_rule), ("current", is_timing_assertion)):
        hit, timing, wrong, other = rates(messages, rule)
        print(f"{name:<22}{f'{hit}/{timing} = {hit / timing:.2f}':>16}{f'{wrong}/{other} = {wrong / other:.2f}':>18}")
    if args.list:
        for m in messages:
            if is_timing_assertion(m["message"]) != m["timing"]:
                print(f"  {'missed' if m['timing'] else 'false timing'}: {m['source']}: {m['message'][:80]!r} "
                      f"{timing_rules_matched(m['message'])}")


if __name__ == "__main__":
    main()
