"""What a bucket's kind means: the one table that the signature, the advice and every report read.

A kind is TSan's own report type string ("data race", "heap-use-after-free", "lock-order-inversion
(potential deadlock)", ...) or one of racegate's own for failures without a TSan report.
"""
from __future__ import annotations

# racegate's kinds for failures without a TSan report; CRASH also names the category of crash bugs below.
TEST_FAILURE = "test failure"
CRASH = "crash"
TIMEOUT = "timeout"
# racegate's own kinds: what a test did, not what TSan reported.
FAILURE_KINDS = (TEST_FAILURE, CRASH, TIMEOUT)

# Categories: what kind of bug a kind is, whatever the wording of the runtime that reported it.
LIFETIME = "lifetime"
RACE = "race"
ASSERTION = "assertion"
LOCK_ORDER = "lock order"
HANG = "hang"
MUTEX_MISUSE = "mutex misuse"
SIGNAL = "signal"
THREAD_LEAK = "thread leak"

# (substring of the kind, category), first match wins: "data race on vptr" is a lifetime bug before it is a race,
# and a signal-handler report that names a mutex is a signal bug.
_CATEGORY_RULES = (
    (CRASH, CRASH),
    ("use-after-free", LIFETIME),
    ("vptr", LIFETIME),
    ("lock-order-inversion", LOCK_ORDER),
    ("deadlock", LOCK_ORDER),
    ("thread leak", THREAD_LEAK),
    ("signal", SIGNAL),
    ("mutex", MUTEX_MISUSE),
    ("lock of", MUTEX_MISUSE),
    ("unlock", MUTEX_MISUSE),
    (TEST_FAILURE, ASSERTION),
    (TIMEOUT, HANG),
    ("data race", RACE),
    ("race on", RACE),
)

# Severity rank per category (lower is worse): memory corruption, then races, then hangs and misuse.
_SEVERITY = {
    CRASH: 0, LIFETIME: 0, RACE: 1, ASSERTION: 2, LOCK_ORDER: 3, HANG: 3, MUTEX_MISUSE: 4, SIGNAL: 4,
    THREAD_LEAK: 5,
}
_UNKNOWN_SEVERITY = 2
SEVERITY_NAMES = ("critical", "high", "high", "medium", "low", "low")

LOCK_ORDER_KIND = "lock-order-inversion (potential deadlock)"
THREAD_LEAK_KIND = "thread leak"


def category(kind: str) -> str | None:
    """The category of a kind; None for a kind no rule knows (reported as a race-like problem)."""
    k = kind.lower()
    for needle, name in _CATEGORY_RULES:
        if needle in k:
            return name
    return None


def severity(kind: str) -> int:
    found = category(kind)
    return _SEVERITY[found] if found is not None else _UNKNOWN_SEVERITY


def severity_name(kind: str) -> str:
    return SEVERITY_NAMES[severity(kind)]
