"""Text helpers every format shares: untrusted text made safe to print, counts, shares and durations in words,
and source paths shown relative to the project."""
from __future__ import annotations

import posixpath
import re

from racegate.model import SourceFrame
from racegate.result import FirstSeen, StrategyStats

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_control(text: str) -> str:
    """Drop control characters (terminal escapes, NUL) from untrusted text; keeps tab and newline."""
    return _CONTROL.sub("", text)


def one_line(text: object) -> str:
    return " ".join(strip_control(str(text)).split())


def count_of(n: int, word: str = "run") -> str:
    """"1 run", "3 runs": a count and its noun, plural unless one."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def percent(value: float) -> str:
    p = value * 100
    if p == 0:
        return "0%"
    if p < 0.1:
        return "<0.1%"
    return f"{p:.1f}%".replace(".0%", "%")


def share(fraction: float) -> str:
    """A part of a whole in whole percent: "36%", "<1%"."""
    if 0 < fraction < 0.005:
        return "<1%"
    return f"{fraction * 100:.0f}%"


def seconds(value: float) -> str:
    """A duration as reports print it: "0.42 s" below ten seconds, "12.3 s" above."""
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def strategy_seconds(stats: StrategyStats) -> str:
    return seconds(stats.seconds) if stats.seconds is not None else "-"


def found_after(seen: FirstSeen) -> str:
    """", after 3.4 s" when the result says when the bucket was first seen, else ""."""
    return f", after {seconds(seen.seconds)}" if seen.seconds is not None else ""


def repo_path(file: str, src: str | None) -> str | None:
    """`file` relative to the source dir (POSIX), or None when it lies outside the project or is unknown."""
    if not file:
        return None
    file = posixpath.normpath(file.replace("\\", "/"))
    if not posixpath.isabs(file):
        return None if file.startswith("../") else file
    if src:
        root = posixpath.normpath(src.replace("\\", "/"))
        if file.startswith(root.rstrip("/") + "/"):
            return file[len(root.rstrip("/")) + 1:]
    return None


def display_path(file: str, src: str | None) -> str:
    return repo_path(file, src) or file or "?"


def frame_location(frame: SourceFrame, src: str | None) -> str:
    where = display_path(frame.file, src)
    return f"{where}:{frame.line}" if frame.line else where


def frame_function(frame: SourceFrame) -> str:
    return frame.function or "<unknown function>"
