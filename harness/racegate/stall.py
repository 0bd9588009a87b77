"""Watching a batch process for a test that hangs: the executor polls a StallWatch while the process runs.

The executor watches every batch alike, without knowing its framework, so the watch reads the markers of
each framework batch.py batches (gtest's RUN and end lines, doctest's `<TestCase>` elements) with the same
rules their splitters cut the output by.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from racegate import doctest_xml, gtest

# Per framework: the test a line starts (else None), and whether a line ends the open test.
_MARKERS: tuple[tuple[Callable[[str], str | None], Callable[[str, str], bool]], ...] = (
    (gtest.test_started, lambda line, test: gtest.test_ended(line, test) is not None),
    (doctest_xml.case_started, lambda line, _: doctest_xml.case_ended(line)),
)


@dataclass
class StallWatch:
    """Tells when a test in a batch runs longer than one test may: polled while the process runs, it reads
    the output file's new bytes and times the test that is open (its start marker seen, its end not yet)."""

    path: Path
    per_test: float
    ended: int = 0  # tests whose end it has read: the progress line counts them before the process ends
    _offset: int = 0
    _pending: str = ""
    _open: str | None = None
    # When the open test began, or, between tests (set-up, tear-down), when the last one ended.
    _since: float = field(default_factory=time.monotonic)

    def __call__(self) -> bool:
        now = time.monotonic()
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except OSError:
            data = b""
        self._offset += len(data)
        text = self._pending + data.decode("utf-8", errors="replace")
        *lines, self._pending = text.split("\n")
        for line in lines:
            self._read(line, now)
        return now - self._since > self.per_test

    def _read(self, line: str, now: float) -> None:
        for started, ends in _MARKERS:
            test = started(line)
            if test is not None:
                self._open, self._since = test, now
                return
            if self._open is not None and ends(line, self._open):
                self._open, self._since = None, now
                self.ended += 1
                return
