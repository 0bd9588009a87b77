"""Watching a batch process for a test that hangs: the executor polls a StallWatch while the process runs.

The executor watches every batch alike, without knowing its framework, so the watch reads the markers of
each framework in frameworks.FRAMEWORKS (gtest's RUN and end lines, doctest's `<TestCase>` elements) with the
same rules their splitters cut the output by.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from racegate.frameworks import FRAMEWORKS


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
        for framework in FRAMEWORKS:
            test = framework.starts_test(line)
            if test is not None:
                self._open, self._since = test, now
                return
            if self._open is not None and framework.ends_test(line, self._open):
                self._open, self._since = None, now
                self.ended += 1
                return
