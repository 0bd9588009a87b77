"""GoogleTest (GTEST): how a command selects one test (`--gtest_filter=`), what a gtest executable prints (its
test listing, `--gtest_list_tests`; the `[ RUN      ]` markers that split one process's output into the tests it
ran; its `--gtest_output=json` file), and which test's body a report's frames run in.

A batched first pass (batch.py) reads a process's output as one ordered stream: gtest prints each marker line
with printf and fflush()es stdout before and after every test, and TSan write()s each report to fd 2 unbuffered;
both fds are the same open file, so the bytes land in the file in the order they were written.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

from racegate import outdir
from racegate.frameworks.framework import Framework, Outcome, exit_zero
from racegate.frameworks.segments import Segment, lines_at
from racegate.model import TestCase

RUN = "[ RUN      ] "
# How a test ends in gtest's output: passed, failed, skipped (GTEST_SKIP).
ENDS = {"[       OK ] ": "pass", "[  FAILED  ] ": "fail", "[  SKIPPED ] ": "skip"}


def split_output(text: str) -> list[Segment]:
    """The output cut at the markers, in order; a test that never ended runs to the end of the text.
    Lines that merely look like an end (the summary's `[  FAILED  ] Suite.Test` list) end nothing."""
    segments: list[Segment] = []
    open_test: Segment | None = None
    outside = 0  # where the current stretch outside every test began
    for pos, line_end, line in lines_at(text):
        started = test_started(line)
        if started is not None:
            if open_test is not None:  # a RUN without an end: the previous test's output is unterminated
                open_test.end = pos
                segments.append(open_test)
            elif pos > outside:
                segments.append(Segment(None, outside, pos))
            open_test = Segment(started, pos, len(text))
        elif open_test is not None and open_test.test is not None:
            verdict = test_ended(line, open_test.test)
            if verdict is not None:
                open_test.end, open_test.verdict = line_end, verdict
                took = _TOOK.search(line)
                open_test.seconds = int(took.group(1)) / 1000 if took else None
                segments.append(open_test)
                open_test, outside = None, line_end
    if open_test is not None:
        segments.append(open_test)
    elif len(text) > outside:
        segments.append(Segment(None, outside, len(text)))
    return segments


_TOOK = re.compile(r"\((\d+) ms\)\s*$")


def test_started(line: str) -> str | None:
    """The test whose RUN line this is, else None."""
    return _marker_name(line[len(RUN):]) if line.startswith(RUN) else None


def test_ended(line: str, test: str) -> str | None:
    """The verdict ("pass", "fail", "skip") when this line holds `test`'s end marker, else None. Not only at
    the line's start: a test whose own output did not end its line (printf("x") without "\n") leaves gtest's
    end marker in the middle of that line."""
    for prefix, verdict in ENDS.items():
        at = line.find(prefix)
        if at >= 0 and _marker_name(line[at + len(prefix):]) == test:
            return verdict
    return None


def _marker_name(rest: str) -> str:
    """`Suite.Test (12 ms)` or `Suite.Test/0, where GetParam() = 3 (0 ms)` -> the test's name."""
    return rest.strip().split(" ", 1)[0].rstrip(",")


def read_json(path: Path) -> dict[str, Outcome] | None:
    """{Suite.Test: outcome} from a --gtest_output=json file; None when it is missing or unreadable
    (the process died before gtest wrote it at the end)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    outcomes: dict[str, Outcome] = {}
    for suite in data.get("testsuites", []) if isinstance(data, dict) else []:
        for test in suite.get("testsuite", []):
            if test.get("status") == "NOTRUN":
                continue
            verdict = "fail" if test.get("failures") else "skip" if test.get("result") == "SKIPPED" else "pass"
            outcomes[f"{suite.get('name')}.{test.get('name')}"] = Outcome(verdict, _seconds(test.get("time")))
    return outcomes


def _seconds(text: object) -> float:
    """gtest writes times as "0.012s"."""
    try:
        return float(str(text).rstrip("s"))
    except ValueError:
        return 0.0


def parse_listing(text: str) -> list[str]:
    """The test names (Suite.Test) of a `--gtest_list_tests` listing:

        Suite.
          Test
        Inst/Param.  # TypeParam = int
          Case/0  # GetParam() = 3

    Disabled tests are left out (they run only with --gtest_also_run_disabled_tests); lines that are not part
    of the listing (the program's own output, a sanitizer's warning) end the current suite."""
    names: list[str] = []
    suite: str | None = None
    for raw in text.splitlines():
        line = raw.split("  #", 1)[0].rstrip()
        if not line:
            continue
        if line.startswith("  ") and not line.startswith("   "):
            if suite is not None and " " not in line.strip():
                name = line.strip()
                if not (suite.split("/")[-1].startswith("DISABLED_") or name.startswith("DISABLED_")):
                    names.append(f"{suite}.{name}")
            continue
        suite = line[:-1] if line.endswith(".") and " " not in line else None
    return names


# A test's body: gtest names the class of TEST(Suite, Name) `Suite_Name_Test`, with TestBody() its body.
_TEST_BODY = re.compile(r"(\w+_Test)(?:<[^()]*>)?::TestBody\(")


def body_class(test: str) -> str:
    """The class gtest names the body of a test: Suite_Name_Test for `Suite.Name`, for `Inst/Suite.Name/2`
    (TEST_P) and for `Suite/1.Name` or `Inst/Suite/1.Name` (typed tests)."""
    suite, _, name = test.partition(".")
    parts = suite.split("/")
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    return f"{parts[-1]}_{name.split('/')[0]}_Test"


def bodies_named(functions: list[str]) -> set[str]:
    """The test body classes (Suite_Name_Test) that frames of a report run in."""
    return {match.group(1) for function in functions for match in _TEST_BODY.finditer(function)}


def in_other_body(test: str, functions: list[str]) -> bool:
    """Whether a report's frames run in the body of a test other than `test` (a thread that outlived its test)."""
    return bool(bodies_named(functions) - {body_class(test)})


FILTER_FLAG = "--gtest_filter="
# A filter that is a pattern or a list selects more than one test: such a test is not one gtest test.
_PATTERN = re.compile(r"[*?:\-]")


def is_gtest_command(command: Sequence[str]) -> bool:
    return any(arg.startswith("--gtest_") for arg in command[1:])


def selected(test: TestCase) -> str | None:
    """The one gtest test (Suite.Test) that the test's `--gtest_filter=` selects, or None."""
    filters = [arg[len(FILTER_FLAG):] for arg in test.command[1:] if arg.startswith(FILTER_FLAG)]
    if len(filters) != 1 or not filters[0] or _PATTERN.search(filters[0]) or "." not in filters[0]:
        return None
    return filters[0]


def select_one(argv: Sequence[str], name: str) -> tuple[str, ...]:
    """The program's command with a filter for the one test: right after the program, where
    gtest_discover_tests puts it, in place of any filter given."""
    rest = [arg for arg in argv[1:] if not arg.startswith(FILTER_FLAG)]
    return (argv[0], f"{FILTER_FLAG}{name}", *rest)


def batch_args(run_dir: Path) -> list[str]:
    """Outcomes and times in a JSON file, last on the line: gtest takes the last of repeated flags."""
    return [f"--gtest_output=json:{outdir.gtest_json_file(run_dir)}"]


GTEST = Framework(
    name="gtest", named_by_command=is_gtest_command, program_marks=(b"gtest_list_tests", b"libgtest.so"),
    list_option="--gtest_list_tests", lists_on_stderr=False, listing_ok=exit_zero, parse_listing=parse_listing,
    # Its listing honours a --gtest_filter given: a command that selects is split within its selection.
    select_one=select_one, selects_cases=lambda test: False, splits_ctest_tests=False,
    selected=selected, is_selector=lambda arg: arg.startswith(FILTER_FLAG), quote=lambda name: name, separator=":",
    batch_args=batch_args, split_output=split_output,
    read_outcomes=lambda run_dir: read_json(outdir.gtest_json_file(run_dir)), in_other_body=in_other_body,
    starts_test=test_started, ends_test=lambda line, test: test_ended(line, test) is not None)
