"""A live progress line: redrawn in place on a terminal, a short line every few seconds in CI logs."""
from __future__ import annotations

import time
from typing import TextIO

TTY_INTERVAL = 0.25
LOG_INTERVAL = 10.0


class Progress:
    def __init__(self, stream: TextIO, runs_planned: int | None, budget: float | None):
        self.stream = stream
        self.tty = stream.isatty()
        self.runs_planned = runs_planned
        self.budget = budget
        self.started = time.monotonic()
        self._last = 0.0
        self._width = 0

    def due(self) -> bool:
        """Whether the line is to be redrawn now: what it shows need only be counted then."""
        return time.monotonic() - self._last >= (TTY_INTERVAL if self.tty else LOG_INTERVAL)

    def update(self, runs: int, failed: int, problems: int) -> None:
        """Redraw the line, when due. `problems` are counted as the result counts them (Session.problems): a
        failure that is a race's symptom is no problem of its own."""
        if not self.due():
            return
        now = self._last = time.monotonic()
        elapsed = now - self.started
        done = f"{runs} of at most {self.runs_planned} runs" if self.runs_planned else f"{runs} runs"
        clock = f"{elapsed:.0f}/{self.budget:.0f} s" if self.budget else f"{elapsed:.0f} s"
        line = f"racegate: {done}, {failed} failed, {problems} problem{'' if problems == 1 else 's'}, {clock}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
