"""The schedule perturbation strategies: their names, the default portfolio, and which apply to a test.

The shim (shim/racegate_sched.c) changes the schedule for pin, noise, pct and preempt. Under the other
strategies it only counts threads, so the runner preloads it there until it knows a test's count.
run_env.py turns (strategy, seed, test) into the argv and environment of one run.
"""
from __future__ import annotations

from typing import Iterable

from racegate.discover import is_gtest_command
from racegate.model import TestCase
from racegate.probe import probe_tsan_runtime_flags

# The one list of strategy names; the shim's parser in racegate_sched.c is checked against it by a test.
STRATEGIES = NONE, PIN, NOISE, PCT, PREEMPT, TSAN_DELAY, REPEAT_IN_PROCESS = (
    "none", "pin", "noise", "pct", "preempt", "tsan-delay", "repeat-in-process")

# From bench/detection.py (docs/scheduling.md): pct detects the ordering-masked sample race on the
# most runs with both compilers, pin next; noise is the one that keeps threads on all CPUs, so races
# that need real parallelism stay visible; preempt is the only one that reaches code synchronizing
# through atomics alone (the ticket booth: about half of its runs, none of noise's or pct's) and
# it finds the hidden race about as often as noise.
DEFAULT_PORTFOLIO = (NOISE, PCT, PREEMPT)
SHIM_STRATEGIES = (PIN, NOISE, PCT, PREEMPT)  # the strategies the shim carries out

# The TSan runtime flag tsan-delay sets (LLVM 23+).
TSAN_DELAY_FLAG = "enable_adaptive_delay"
GTEST_REPEAT = 20  # iterations per process under repeat-in-process


def probe_applicable_strategies(test_command: list[str], wanted: Iterable[str] = STRATEGIES) -> list[str]:
    """The strategies of `wanted` that apply to this command, in STRATEGIES order.

    tsan-delay needs a TSan runtime with enable_adaptive_delay: asking for it probes the binary,
    which starts it (once per binary); repeat-in-process needs a GoogleTest command (one with a
    --gtest_ argument, as CTest registers them).
    """
    result = []
    for name in STRATEGIES:
        if name not in wanted:
            continue
        if name == TSAN_DELAY and TSAN_DELAY_FLAG not in probe_tsan_runtime_flags(list(test_command)):
            continue
        if name == REPEAT_IN_PROCESS and not is_gtest_command(test_command):
            continue
        result.append(name)
    return result


def probe_strategies_for_test(test: TestCase, wanted: list[str], have_shim: bool) -> list[str]:
    """The schedules of `wanted`, in its order, that can apply to this test; a plain run when none can.
    Probes the test's binary as probe_applicable_strategies does."""
    applicable = set(probe_applicable_strategies(list(test.command), wanted))
    if not have_shim:
        applicable -= set(SHIM_STRATEGIES)
    return [s for s in wanted if s in applicable] or [NONE]


def run_timeout(strategy: str, one_pass: float) -> float:
    """The timeout of a run whose test, run once, may take `one_pass` seconds."""
    return one_pass * GTEST_REPEAT if strategy == REPEAT_IN_PROCESS else one_pass
