"""What racegate needs of a test framework, as one record per framework; the registry in `__init__.py` lists
them. A `Lister` lists a program's test cases and selects one (boost_test.py, catch2.py: each case runs in a
process of its own); a `Framework` (gtest.py, doctest_xml.py) is one that also runs many in one process."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from racegate.frameworks.segments import Segment
from racegate.model import TestCase


@dataclass(frozen=True)
class Outcome:
    """A test's verdict and time, as its framework wrote them apart from its output (gtest's JSON file)."""

    verdict: str  # "pass", "fail", "skip"
    seconds: float


@dataclass(frozen=True)
class Lister:
    """One test framework as far as splitting a program into its test cases goes: how to recognise a program
    built with it, list its cases and select one."""

    name: str
    # Recognising: whether a command's own arguments say it runs such a program (None: only the program tells),
    # and the bytes a program built with it holds (its option names, the name of its shared library).
    named_by_command: Callable[[Sequence[str]], bool] | None
    program_marks: tuple[bytes, ...]
    # Listing: the option that makes a program print its tests, whether it prints them to stderr, which exit
    # statuses of the listing are a success (Catch2 v2 exits with the number of cases it listed), the names in
    # what it prints, and the command that runs one of them (the program's argv, a name).
    list_option: str
    lists_on_stderr: bool
    listing_ok: Callable[[int], bool]
    parse_listing: Callable[[str], list[str]]
    select_one: Callable[[Sequence[str], str], tuple[str, ...]]
    # Whether a test already selects cases (its arguments or environment; then it runs as given, unsplit), and
    # whether a CTest test running a whole program is split into its cases (gtest and doctest programs are
    # registered case by case by gtest_discover_tests and doctest_discover_tests).
    selects_cases: Callable[[TestCase], bool]
    splits_ctest_tests: bool


def exit_zero(status: int) -> bool:
    return status == 0


@dataclass(frozen=True)
class Framework(Lister):
    """A test framework whose cases also run many in one process (the batched first pass): how to select them,
    cut that process's output into its tests, and watch it for a test that hangs."""

    # Batching: the one test a command selects (else None), the argument that selects it, a name within the
    # selector's list and what separates them, and what a batch process adds to its command (given its run dir).
    selected: Callable[[TestCase], str | None]
    is_selector: Callable[[str], bool]
    quote: Callable[[str], str]
    separator: str
    batch_args: Callable[[Path], list[str]]
    # Cutting a batch process's output into its tests; {test: outcome} it wrote apart from its output, read from
    # its run dir (None when it wrote none); whether a report runs in the body of a test other than the one
    # running (the running test, the report's functions).
    split_output: Callable[[str], list[Segment]]
    read_outcomes: Callable[[Path], dict[str, Outcome] | None]
    in_other_body: Callable[[str, list[str]], bool]
    # Watching a running batch process (stall.py) by the rules split_output cuts by: the test a line starts
    # (else None), and whether a line ends the open test.
    starts_test: Callable[[str], str | None]
    ends_test: Callable[[str, str], bool]
