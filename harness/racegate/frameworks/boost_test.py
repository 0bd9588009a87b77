"""Boost.Test (BOOST_TEST): what a Boost.Test program lists (`--list_content`, its test tree on stderr) and how a
command selects one case (`--run_test=suite/case`). Each case runs in a process of its own: its output is not cut
(Boost.Test's log has no per-case markers racegate reads yet)."""
from __future__ import annotations

import re
from typing import Sequence

from racegate.frameworks.framework import Lister, exit_zero
from racegate.model import TestCase

# `--list_content` (HRF, Boost 1.74) prints one unit a line, indented four spaces a level, its name followed by
# `*` when it is enabled and a space when it is not; the master suite is not printed.
_UNIT = re.compile(r"(?P<indent>(?: {4})*)(?P<name>\S(?:.*\S)?)(?P<mark>[* ])$")
# Characters `--run_test=` reads as a filter's syntax (a list, a wildcard, a label, a negation, a range):
# a name holding one cannot be selected exactly.
_FILTER_SYNTAX = re.compile(r"[,:*@!]")
_SELECTOR = re.compile(r"--run_test(?:=|$)|-t")
_RUN_FILTERS_ENV = "BOOST_TEST_RUN_FILTERS"


def parse_listing(text: str) -> list[str]:
    """The paths (`suite/case`, `case` at the top) of the enabled cases in a `--list_content` listing: the units
    no deeper unit follows, marked `*`, in enabled suites. Empty when a case cannot be selected by its path
    alone: then the program is not split (a case would be lost). Lines of other output are skipped."""
    units = [(len(m.group("indent")) // 4, m.group("name"), m.group("mark") == "*")
             for m in map(_UNIT.fullmatch, text.splitlines()) if m]
    paths: list[str] = []
    stack: list[tuple[str, bool]] = []  # the suites above the current unit: name, enabled
    for i, (depth, name, enabled) in enumerate(units):
        del stack[depth:]
        is_suite = i + 1 < len(units) and units[i + 1][0] > depth
        if is_suite:
            stack.append((name, enabled))
        elif enabled and all(on for _, on in stack):
            paths.append("/".join([*(suite for suite, _ in stack), name]))
    if any(_FILTER_SYNTAX.search(path) for path in paths):
        return []
    return paths


def selects_cases(test: TestCase) -> bool:
    """A `--run_test=`/`-t` argument or BOOST_TEST_RUN_FILTERS in the test's environment: Boost's listing does
    not honour either, so such a test runs as given."""
    return any(_SELECTOR.match(arg) for arg in test.command[1:]) or any(k == _RUN_FILTERS_ENV for k, _ in test.env)


def select_one(argv: Sequence[str], path: str) -> tuple[str, ...]:
    return (argv[0], f"--run_test={path}", *argv[1:])


BOOST_TEST = Lister(
    name="boost_test", named_by_command=None,
    # The option's name in a program that holds Boost.Test (header-only or static), else its shared library's.
    program_marks=(b"list_content", b"libboost_unit_test_framework"),
    list_option="--list_content", lists_on_stderr=True, listing_ok=exit_zero, parse_listing=parse_listing,
    select_one=select_one, selects_cases=selects_cases, splits_ctest_tests=True)
