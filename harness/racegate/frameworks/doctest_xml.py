"""doctest (DOCTEST): how a CTest command selects one test case, what a doctest program prints (its listing,
`--list-test-cases`; under `--reporters=xml` the `<TestCase>` elements that split one batch process's output into
the test cases it ran, with each case's verdict and time), and whether a report runs in several cases' bodies.

A batched first pass (batch.py) reads a process's output as one ordered stream, as for gtest (gtest.py).
doctest's XML reporter writes to std::cout and ends the line of each element that opens a test case
(`<TestCase name="...">`) and each that closes one (`</TestCase>`, after `<OverallResultsAsserts
test_case_success=...>`) with std::endl, which flushes stdout; TSan write()s each report to fd 2 unbuffered;
both fds are the same open file, so a report printed while a case ran lies between its two elements.

A crash (a signal) does not leave the case open: doctest's signal handler reports `<Exception crash="true">`,
closes the case and the run, and re-raises the signal. Whatever follows in the output (the reports TSan makes
of that handler's own calls) belongs to that case, as it would in a process of its own: a crashed case runs to
the end of the output, with no verdict.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from racegate.frameworks.framework import Framework, exit_zero
from racegate.frameworks.segments import Segment, lines_at

# doctest reads an option after any number of dashes, with or without its "dt-" prefix; the last one given wins.
_SELECTOR = re.compile(r"-+(?:dt-)?(?:test-case|tc)=")
# Options that send the output elsewhere or in another format: such a test's markers would not be in the stream.
_OUTPUT = re.compile(r"-+(?:dt-)?(?:reporters|r|out|o)=")
# What a batch process adds to its command: the XML reporter, and each case's time in it. Prefixed, so that a
# program built with DOCTEST_CONFIG_NO_UNPREFIXED_OPTIONS reads them too.
BATCH_FLAGS = ("--dt-reporters=xml", "--dt-duration=true")

_START = re.compile(r'<TestCase name="(?P<name>[^"]*)"[^>]*?(?P<empty>/?)>')
_END = "</TestCase>"
_CRASH = '<Exception crash="true">'
_RESULT = re.compile(r'<OverallResultsAsserts [^>]*test_case_success="(?P<ok>true|false)"(?: duration="(?P<s>[^"]*)")?')
# An unescaped comma separates the names of a filter; `*` and `?` are wildcards doctest cannot escape.
_LIST = re.compile(r"(?<!\\),|[*?]")


def is_selector(arg: str) -> bool:
    return bool(_SELECTOR.match(arg))


def case_name(command: tuple[str, ...]) -> str | None:
    """The one test case (its exact name) that a command selects with `--test-case=NAME`, as
    doctest_discover_tests and `racegate run -- ./program` register it; None when it selects by a pattern or a
    list, has no such filter or several, or sends doctest's output elsewhere (`--reporters=`, `--out=`)."""
    selectors = [arg for arg in command[1:] if is_selector(arg)]
    if len(selectors) != 1 or any(_OUTPUT.match(arg) for arg in command[1:]):
        return None
    value = selectors[0].split("=", 1)[1]
    if not value or _LIST.search(value):
        return None
    return value.replace("\\,", ",")


def escape(name: str) -> str:
    """A case's name within a filter: doctest splits a filter at commas, and a backslash keeps one in the name."""
    return name.replace(",", "\\,")


def _unescape(text: str) -> str:
    """An attribute's value as doctest's XML writer encodes it."""
    return text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def case_started(line: str) -> str | None:
    """The name of the case whose element this line opens (a case that is about to run), else None."""
    match = _START.search(line)
    return _unescape(match.group("name")) if match and not match.group("empty") else None


def case_ended(line: str) -> bool:
    return _END in line


def split_output(text: str) -> list[Segment]:
    """The output cut at the `<TestCase>` elements, in order. A case that never closed or that crashed runs to
    the end of the text. A case doctest skipped (`skip()`, or not selected) is an empty element
    `<TestCase ... skipped="true"/>`: one line, verdict "skip"."""
    segments: list[Segment] = []
    open_case: Segment | None = None
    crashed = False
    outside = 0  # where the current stretch outside every case began
    for pos, line_end, line in lines_at(text):
        if open_case is None:
            # Not only at the line's start: output of the program that did not end its line comes before it.
            match = _START.search(line)
            if match:
                if pos > outside:
                    segments.append(Segment(None, outside, pos))
                open_case = Segment(_unescape(match.group("name")), pos, len(text))
                if match.group("empty"):
                    open_case.end = line_end
                    open_case.verdict = "skip"
                    segments.append(open_case)
                    open_case, outside = None, line_end
        elif not crashed:
            result = _RESULT.search(line)
            if result:
                open_case.verdict = "pass" if result.group("ok") == "true" else "fail"
                open_case.seconds = _seconds(result.group("s"))
            if _CRASH in line:
                crashed = True  # the case runs to the end: the process dies once doctest has reported it
                open_case.verdict = open_case.seconds = None
            elif case_ended(line):
                open_case.end = line_end
                if open_case.verdict is None:  # closed without a result: doctest never does so
                    open_case.verdict = "fail"
                segments.append(open_case)
                open_case, outside = None, line_end
    if open_case is not None:
        open_case.end = len(text)
        if not crashed:
            open_case.verdict = open_case.seconds = None  # it never closed: it hung or the process died
        segments.append(open_case)
    elif len(text) > outside:
        segments.append(Segment(None, outside, len(text)))
    return segments


def _seconds(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


# A test case's body: doctest names the function of each TEST_CASE (and the class of each TEST_CASE_FIXTURE,
# TEST_CASE_TEMPLATE) DOCTEST_ANON_<KIND>_<counter>; nothing in the name says which case it is.
_BODY = re.compile(r"DOCTEST_ANON_[A-Z]+_\d+")


def runs_in_other_bodies(functions: list[str]) -> bool:
    """Whether a report's frames run in the bodies of more than one test case: then at most one of them is the
    case that was running, and the report belongs to no one case (a thread that outlived its case). A report
    in one body is the running case's: a body's name cannot be tied to its case, so a thread that outlived
    its case and races only with code outside every body is laid at the case running then."""
    return len({match.group(0) for function in functions for match in _BODY.finditer(function)}) > 1


def parse_listing(text: str) -> list[str]:
    """The names a doctest program's `--list-test-cases` prints: the lines between the rule under
    "[doctest] listing all test case names" and the next rule."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("[doctest] listing all test case names"))
    except StopIteration:
        return []
    names = []
    for line in lines[start + 2:]:
        if line.startswith("====="):
            break
        if line:
            names.append(line)
    return names


# doctest's options that select test cases by name (long and short forms), as a listed case's command drops them.
_LISTING_SELECTORS = ("--test-case=", "-tc=", "--dt-test-case=", "--dt-tc=")


def select_one(argv: Sequence[str], name: str) -> tuple[str, ...]:
    """The program's command selecting the one case, right after the program, in place of any selection given."""
    rest = [arg for arg in argv[1:] if not arg.startswith(_LISTING_SELECTORS)]
    return (argv[0], f"--test-case={escape(name)}", *rest)


def batch_args(run_dir: Path) -> list[str]:
    """A batch's markers and verdicts are the XML reporter's output; doctest's times are in it too."""
    return list(BATCH_FLAGS)


DOCTEST = Framework(
    name="doctest", named_by_command=None, program_marks=(b"list-test-cases",),
    list_option="--list-test-cases", lists_on_stderr=False, listing_ok=exit_zero, parse_listing=parse_listing,
    # Its listing honours a --test-case= given: a command that selects is split within its selection.
    select_one=select_one, selects_cases=lambda test: False, splits_ctest_tests=False,
    selected=lambda test: case_name(test.command), is_selector=is_selector, quote=escape, separator=",",
    batch_args=batch_args, split_output=split_output, read_outcomes=lambda run_dir: None,
    in_other_body=lambda test, functions: runs_in_other_bodies(functions),
    starts_test=case_started, ends_test=lambda line, _: case_ended(line))
