"""Tests that crashed on every run by the same signal, plain runs too, without any TSan report.

One such test may be a bug of its own. Several crashing alike point at one cause outside them: the build, the
TSan runtime or the machine (cpp-httplib's getaddrinfo_a resolver thread, which glibc starts behind TSan's
back, crashed every test that resolved a name). racegate keeps a bucket per test, since the gate must still
fail, but says once that they crash alike and gives their buckets advice that fits a steady crash.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from racegate.failure import signal_name
from racegate.kinds import CRASH
from racegate.model import Outcome, RunRecord
from racegate.strategies import NONE

# How many tests must crash alike before racegate points at one cause (most often the environment) rather than at
# each test. An abort with a message of the program's own (a failed assert(), a Check failed, an uncaught
# exception) is no crash but a test failure with that message (failure.classify), so it never counts here.
MIN_TESTS = 2


@dataclass
class SteadyCrash:
    """The tests that crashed on every finished run by one signal, with a plain run among those runs."""

    signal: str  # e.g. "SIGSEGV"
    tests: list[str]  # sorted

    @property
    def alike(self) -> bool:
        """Whether enough tests crash alike to point at the environment."""
        return len(self.tests) >= MIN_TESTS


def find(records: list[RunRecord]) -> tuple[list[SteadyCrash], dict[str, str]]:
    """The steady crashes, one per signal, and the signal of each bucket their runs made, by bucket id."""
    runs: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        if r.outcome != Outcome.CUT:
            runs[r.test].append(r)
    tests: dict[str, list[str]] = defaultdict(list)
    buckets: dict[str, str] = {}
    for test, finished in runs.items():
        signals = {_bare_signal(r) for r in finished}
        name = signals.pop() if len(signals) == 1 else None
        if name is None or not any(r.strategy == NONE for r in finished):
            continue
        tests[name].append(test)
        buckets.update((f.id, name) for r in finished for f in r.findings)
    return [SteadyCrash(name, sorted(names)) for name, names in sorted(tests.items())], buckets


def merged(parts: list[list[SteadyCrash]]) -> list[SteadyCrash]:
    """Shards' steady crashes as one: shards run different tests, so each signal's tests add up."""
    tests: dict[str, set[str]] = defaultdict(set)
    for part in parts:
        for crash in part:
            tests[crash.signal] |= set(crash.tests)
    return [SteadyCrash(name, sorted(names)) for name, names in sorted(tests.items())]


def _bare_signal(record: RunRecord) -> str | None:
    """The signal that killed the run, when it crashed by one and TSan reported nothing."""
    if record.outcome != "crash" or record.returncode is None or record.returncode >= 0:
        return None
    if any(f.kind != CRASH for f in record.findings):
        return None  # TSan reported something: that report is the lead to follow
    return signal_name(-record.returncode)
