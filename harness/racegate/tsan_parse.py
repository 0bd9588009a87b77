"""TSan log text -> list[TsanReport].

A report is the block TSan prints between two `==================` lines:

    ==================
    WARNING: ThreadSanitizer: <kind> (pid=N)
      <header ending in ':'>
        #0 function file:line[:col] (module+0xoff) [(BuildId: ...)]
      ...
    SUMMARY: ThreadSanitizer: <kind> <where>
    ==================

Logs may hold reports of several processes, program output between them, and reports cut
short by a crash or a full disk; none of that, nor arbitrary garbage, makes this raise.
Speed matters (logs of long runs reach gigabytes): report starts are found with str.find,
lines are handled with str methods, and frame lines, which repeat a lot, are parsed once.
"""
from __future__ import annotations

import re

from .model import ACCESS, LOCATION, MUTEX, OTHER, PREVIOUS, THREAD, Frame, Stack, TsanReport

_WARNING = "WARNING: ThreadSanitizer: "
_SUMMARY = "SUMMARY: ThreadSanitizer: "
_SEPARATOR = "=================="
_LOST_STACK = "[failed to restore the stack]"
# Only the text up to the closing parenthesis of the pid is looked at, so a prefix of a log
# never matches where the whole log does not: truncation cannot invent a report.
_START = re.compile(r"WARNING: ThreadSanitizer: ([^\n]*?) \(pid=(\d+)\)")

# "(module+0xoff)" at the end of a frame, with an optional "(BuildId: ...)" after it.
_MODULE_TAIL = re.compile(r"(?:^|\s)\(([^()]*)\+0x([0-9a-fA-F]+)\)(?:\s+\(BuildId: [0-9a-fA-F]*\))?$")
_BUILD_ID_TAIL = re.compile(r"\s*\(BuildId: [0-9a-fA-F]*\)$")
# "file:line" or "file:line:col" at the end of a location token.
_LINE_COL = re.compile(r"^(.*?):(\d+)(?::(\d+))?$")
# Custom stack_trace_format values (ASan style) put the pc before the function: "0x4a2b in f".
_PC_PREFIX = re.compile(r"^0x[0-9a-fA-F]+(?: in |\s*$)")

_ACCESS_PREFIXES = ("Write ", "Read ", "Atomic ", "Modifying ", "Read-only ")

_frame_cache: dict[str, Frame] = {}
_FRAME_CACHE_LIMIT = 200_000


def find_report_start(text: str, pos: int) -> re.Match[str] | None:
    """The next `WARNING: ThreadSanitizer: <kind> (pid=N)` at a line start, from pos on."""
    while True:
        i = text.find(_WARNING, pos)
        if i < 0:
            return None
        if i == 0 or text[i - 1] == "\n":
            m = _START.match(text, i)
            if m is not None:
                return m
        pos = i + 1


def _find_summary(text: str, pos: int, end: int) -> int:
    """Index of the next SUMMARY line start in text[pos:end], or -1."""
    while True:
        i = text.find(_SUMMARY, pos, end)
        if i < 0 or text[i - 1] == "\n":
            return i
        pos = i + 1


def parse_reports(text: str) -> list[TsanReport]:
    """Every TSan report in the log text, in order of appearance."""
    reports: list[TsanReport] = []
    m = find_report_start(text, 0)
    while m is not None:
        nxt = find_report_start(text, m.end())
        limit = nxt.start() if nxt is not None else len(text)
        body_start = text.find("\n", m.end(), limit)
        body_start = limit if body_start < 0 else body_start + 1
        summary_at = _find_summary(text, body_start, limit)
        # A report is whole once its SUMMARY line is; a log cut inside that line is not.
        truncated = summary_at < 0
        if summary_at >= 0:
            summary_end = text.find("\n", summary_at, limit)
            if summary_end < 0:
                summary_end = limit
                truncated = True
            summary = text[summary_at + len(_SUMMARY):summary_end].strip()
            body = text[body_start:summary_at]
            block_end = _after_closing_separator(text, summary_end, limit)
        else:
            summary = ""
            body = text[body_start:limit]
            block_end = limit
        block_start = m.start()
        sep_at = block_start - len(_SEPARATOR) - 1
        if sep_at >= 0 and text.startswith(_SEPARATOR, sep_at) and (sep_at == 0 or text[sep_at - 1] == "\n"):
            block_start = sep_at
        reports.append(
            TsanReport(
                kind=m.group(1).strip(),
                pid=int(m.group(2)),
                stacks=_parse_stacks(body),
                summary=summary,
                text=text[block_start:block_end],
                truncated=truncated,
            )
        )
        m = nxt
    return reports


def _after_closing_separator(text: str, summary_end: int, limit: int) -> int:
    """End of the block: past the `==================` line that follows SUMMARY, if any."""
    if summary_end >= limit:
        return limit
    nl = summary_end + 1
    if text.startswith(_SEPARATOR, nl, limit):
        end = text.find("\n", nl, limit)
        return limit if end < 0 else end + 1
    return nl


def _role(header: str) -> str | None:
    """Role of a stack header line; None for lines ending in ':' that TSan does not emit."""
    if header.startswith("Previous "):
        return PREVIOUS
    if header.startswith(_ACCESS_PREFIXES):
        return ACCESS
    if header.startswith("Mutex "):
        return MUTEX
    if header.startswith("Location is "):
        return LOCATION
    if header.startswith("Thread "):
        return THREAD
    if header == "and:" or header.startswith("As if synchronized via sleep"):
        return OTHER
    return None


def _parse_stacks(body: str) -> list[Stack]:
    stacks: list[Stack] = []
    current: Stack | None = None
    # Stacks printed straight under the WARNING line (mutex misuse, signal reports) have no
    # header; an unrecognised "...:" line is kept as the header in case frames follow it.
    pending_header = ""
    cache = _frame_cache
    for raw in body.split("\n"):
        line = raw.strip()
        if not line:
            current = None
            pending_header = ""
            continue
        if line[0] == "#":
            if current is None:
                current = Stack(header=pending_header, role=OTHER)
                stacks.append(current)
            key = line[line.find(" ") + 1:] if " " in line else ""
            frame = cache.get(key)
            if frame is None:
                frame = parse_frame(line)
                if len(cache) >= _FRAME_CACHE_LIMIT:
                    cache.clear()
                cache[key] = frame
            current.frames.append(frame)
        elif line == _LOST_STACK:
            # The access is known, its stack is not: the runtime's history of that thread was overwritten.
            if current is not None:
                current.lost = True
        elif line.startswith("Location is global "):
            # A global's location is one line with no frames: it says whose memory raced (module+offset).
            stacks.append(Stack(header=line, role=LOCATION))
            current = None
            pending_header = ""
        elif line[-1] == ":":
            role = _role(line)
            if role is None:
                current = None
                pending_header = line
            else:
                current = Stack(header=line, role=role)
                stacks.append(current)
    return stacks


def parse_frame(line: str) -> Frame:
    """One frame line (`#N function location (module+0xoff) (BuildId: ...)`) -> Frame."""
    line = line.strip()
    # Drop the "#N" frame number.
    rest = line.split(None, 1)[1] if line.startswith("#") and " " in line else ("" if line.startswith("#") else line)
    module = ""
    offset: int | None = None
    mm = _MODULE_TAIL.search(rest)
    if mm is not None:
        module = mm.group(1).rsplit("/", 1)[-1]
        offset = int(mm.group(2), 16)
        rest = rest[: mm.start()].rstrip()
    else:
        rest = _BUILD_ID_TAIL.sub("", rest)
    pc = _PC_PREFIX.match(rest)
    if pc is not None:
        rest = rest[pc.end():]
    function, location = _split_function_location(rest)
    file, line_no, column = _split_location(location)
    return Frame(function=function, file=file, line=line_no, column=column, module=module, offset=offset)


def _split_function_location(rest: str) -> tuple[str, str]:
    """Split `function location`; both may contain spaces (templates, lambdas, paths)."""
    if not rest:
        return "", ""
    if rest.endswith(" <null>"):
        function, location = rest[:-7], ""
    else:
        # An absolute path starts at the first " /" (function names never contain one), so
        # paths with spaces survive; anything else is a single token such as "../src/x.cpp:3".
        slash = rest.find(" /")
        if slash >= 0:
            function, location = rest[:slash], rest[slash + 1:]
        elif " " in rest:
            function, location = rest.rsplit(" ", 1)
        else:
            function, location = rest, ""
    function = function.strip()
    if function == "<null>":
        function = ""
    return function, location.strip()


def _split_location(location: str) -> tuple[str, int | None, int | None]:
    if not location or location == "<null>":
        return "", None, None
    lc = _LINE_COL.match(location)
    if lc is None:
        return location, None, None
    column = int(lc.group(3)) if lc.group(3) else None
    return lc.group(1), int(lc.group(2)), column
