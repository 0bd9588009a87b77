"""A stretch of one batch process's output: the shape every framework's splitter (gtest.py, doctest_xml.py) cuts
that output into, so that batch.py reads them all alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator


@dataclass
class Segment:
    """A stretch of one process's output: one test's, from its start marker to its end marker, or text outside
    any."""

    test: str | None  # the test's name as the framework prints it, None for text outside every test
    start: int
    end: int
    verdict: str | None = None  # "pass", "fail", "skip"; None while it never ended (the test crashed or hung)
    seconds: float | None = None  # the test's own time, as the framework printed it


def lines_at(text: str) -> Iterator[tuple[int, int, str]]:
    """Each line of `text` with where it starts and where the next begins (its newline kept): splitters cut
    segments at those offsets."""
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        line_end = len(text) if nl < 0 else nl + 1
        yield pos, line_end, text[pos:line_end]
        pos = line_end
