"""The user's TSan suppressions file: which file every run gets, its entries, how often each matched (TSan prints
that at exit under print_suppressions=1), and a suppressions file written from a result's buckets."""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol, Sequence

from racegate import kinds
from racegate.errors import RacegateError
from racegate.model import SourceFrame
from racegate.tsan_options import tsan_option_dict

# TSan's suppression types (tsan_suppressions.cpp); any other type makes the runtime die at start.
SUPPRESSION_TYPES = ("race", "race_top", "mutex", "thread", "signal", "deadlock", "called_from_lib")
# Applied when a library is loaded, not to reports: TSan never counts a match, so such an entry is never stale.
UNCOUNTED_TYPE = "called_from_lib"

# What TSan prints at exit when print_suppressions=1 and at least one suppression matched, into the log_path file
# (stderr without one), alike in clang 14, clang 19 and gcc 12 (tests/fixtures/suppressions/):
#   ThreadSanitizer: Matched 2 suppressions (pid=28097):
#   1 race:bump
_MATCHED_MARK = "ThreadSanitizer: Matched "
_MATCHED_HEADER = re.compile(r"^ThreadSanitizer: Matched \d+ suppressions \(pid=\d+\):\n((?:\d+ \w+:.*\n?)*)", re.M)
_MATCHED_LINE = re.compile(r"^(\d+) (\w+:.*)$", re.M)


@dataclass(frozen=True)
class SuppressionFile:
    """The file every run gets (`path`), and each entry with the file the user wrote it in."""

    path: Path
    entries: tuple[tuple[str, str], ...]  # (entry as TSan prints it, "type:pattern"; the user's file)
    sources: tuple[str, ...]  # the user's files, in the order given


def read_entries(path: Path) -> list[str]:
    """The entries of a suppressions file as TSan reads it: one `type:pattern` a line, blank lines and `#`
    comments skipped, surrounding blanks trimmed; an entry TSan would refuse is a one-line error."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RacegateError(f"cannot read the suppressions file {path}: {exc.strerror}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, sep, _ = line.partition(":")
        if not sep or kind not in SUPPRESSION_TYPES:
            raise RacegateError(f"{path}:{number}: {line!r} is not a TSan suppression (`TYPE:PATTERN`, TYPE one "
                                f"of {', '.join(SUPPRESSION_TYPES)})")
        entries.append(line)
    return entries


def suppression_file(option: Path | None, tsan_options: str, out_dir: Path) -> SuppressionFile | None:
    """The suppressions every run gets: `--suppressions` and the user's TSAN_OPTIONS `suppressions=`, relative
    paths taken from the current directory (tests run elsewhere). TSan reads one file, so when both are given
    and differ they are joined into one file in `out_dir`."""
    given = []
    from_env = tsan_option_dict(tsan_options).get("suppressions")
    if from_env:
        given.append(Path(os.path.abspath(from_env)))
    if option is not None:
        given.append(Path(os.path.abspath(option)))
    files = list(dict.fromkeys(given))
    if not files:
        return None
    for path in files:
        if not path.is_file():
            where = "--suppressions" if option is not None and path == Path(os.path.abspath(option)) else \
                "TSAN_OPTIONS suppressions="
            raise RacegateError(f"the suppressions file {path} (from {where}) does not exist")
    entries = tuple((entry, str(path)) for path in files for entry in read_entries(path))
    if len(files) == 1:
        return SuppressionFile(files[0], entries, (str(files[0]),))
    joined = out_dir / "suppressions.txt"
    out_dir.mkdir(parents=True, exist_ok=True)
    joined.write_text("".join(f"# from {path}\n" + "".join(f"{e}\n" for e, p in entries if p == str(path))
                              for path in files), encoding="utf-8")
    return SuppressionFile(joined, entries, tuple(map(str, files)))


def matched_counts(*texts: str) -> Counter[str]:
    """Reports suppressed per entry ("race:foo" -> 3) in a run's output and TSan logs; one block per process
    (a test that forks prints one for each), so the counts add up."""
    counts: Counter[str] = Counter()
    for text in texts:
        if _MATCHED_MARK not in text:  # logs can be huge: no regex over them unless TSan printed a block
            continue
        for block in _MATCHED_HEADER.finditer(text):
            for count, entry in _MATCHED_LINE.findall(block.group(1)):
                counts[entry.strip()] += int(count)
    return counts


def suppression_type(kind: str) -> str | None:
    """The TSan suppression type that silences reports of a bucket kind; None for racegate's own kinds (test
    failures, crashes, timeouts), which no suppression can silence."""
    category = kinds.category(kind)
    return {kinds.LIFETIME: "race", kinds.RACE: "race", kinds.LOCK_ORDER: "deadlock", kinds.THREAD_LEAK: "thread",
            kinds.SIGNAL: "signal", kinds.MUTEX_MISUSE: "mutex"}.get(category or "")


def tsan_pattern(function: str) -> str:
    """A pattern TSan matches against `function` as it prints it. Patterns are substrings where `*` matches
    anything, a leading `^` anchors, and a `$` anywhere ends the match: clang names lambdas `$_0`, so each `$`
    becomes a `*`, which matches the `$` too."""
    return function.replace("$", "*")


def suppressions_text(buckets: Iterable[tuple[str, str, str, str | None]]) -> str:
    """A suppressions file for (id, kind, title, function) buckets: one `type:function` line each, the function
    being the bucket's top project frame as TSan prints it; TSan matches a pattern against every frame of the
    report's stacks, so the line silences that report (and any other passing through the function)."""
    lines = ["# TSan suppressions written by `racegate baseline --suppressions-out` (one line per bucket)."]
    for bucket_id, kind, title, function in buckets:
        stype = suppression_type(kind)
        lines.append(f"# {bucket_id[:12]} {title}")
        if stype is None:
            lines.append(f"#   not suppressible: {kind} is racegate's finding, not a TSan report")
        elif not function:
            lines.append("#   not written: the report has no function to match")
        else:
            lines.append(f"{stype}:{tsan_pattern(function)}")
    return "\n".join(lines) + "\n"


class SuppressibleBucket(Protocol):
    """What a suppression is written from: a result's bucket (result.BucketResult), named here by the fields
    used so that this stage does not import the result stage after it."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def frames(self) -> Sequence[SourceFrame]: ...


def write_for_buckets(buckets: Sequence[SuppressibleBucket], path: Path) -> int:
    """Write `racegate baseline --suppressions-out`'s file for a result's buckets; the number of suppressions
    written (the buckets that racegate found itself, or that have no function, are comments)."""
    text = suppressions_text((b.id, b.kind, b.title, next((f.function for f in b.frames if f.function), None))
                             for b in buckets)
    path.write_text(text, encoding="utf-8")
    return sum(1 for line in text.splitlines() if not line.startswith("#"))
