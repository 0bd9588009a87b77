"""The rule of `--changed-since`: the focus groups a test can be in, and the share of the budget each gets.

A leaf (rules as data): the scheduler, the result model and the reporters read it; changes.py decides which group
each test is in (docs/scheduling.md, "Changed code first")."""
from __future__ import annotations

from typing import Iterable, Mapping

# The groups, closest to the change first: tests whose executables compile a changed source or include a changed
# header; tests whose past buckets (--history) have frames in changed files; the rest.
CHANGED = "changed"
HISTORY = "history"
REST = "rest"
GROUPS = (CHANGED, HISTORY, REST)
# The share of the session's run seconds (first runs included) each group is given. A group with nothing left to
# run passes its share on to the others in proportion to theirs; every test's first run still comes before any
# repetition, so the shares rule the repetitions.
SHARES = {CHANGED: 0.80, HISTORY: 0.15, REST: 0.05}
# What the reports call each group.
GROUP_WORDS = {CHANGED: "builds the changed code", HISTORY: "past races in changed files", REST: "the rest"}


def first_run_order(group: str | None) -> int:
    """Where a group's first runs go: closest to the change first (no focus: all alike)."""
    return GROUPS.index(group) if group in GROUPS else 0


def group_to_serve(open_groups: Iterable[str], spent: Mapping[str, float]) -> str:
    """Of the groups with a run to make, the one furthest below its share of the seconds spent so far (on a tie,
    the closest to the change). `spent`: seconds of finished runs per group."""
    groups = [g for g in GROUPS if g in set(open_groups)]
    if not groups:
        raise ValueError("no group has a run to make")
    total_share = sum(SHARES[g] for g in groups)
    total_spent = sum(spent.get(g, 0.0) for g in groups)

    def deficit(group: str) -> float:
        target = SHARES[group] / total_share
        return target - (spent.get(group, 0.0) / total_spent if total_spent else 0.0)
    return max(groups, key=lambda g: (deficit(g), -GROUPS.index(g)))
