"""Related buckets: buckets whose reports touch the same memory or share a side, grouped once when the result is
assembled (docs/bucketing.md, "Related buckets"). Each bucket keeps its own id and gate status; a group only says
that one fix may close several of them.

The memory comes from the report's own `Location is ...` block (`racing_memory`); the sides are the buckets' top
project frames. Which evidence relates two buckets, and in what words, is the table `RULES`.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Callable

from racegate.kinds import FAILURE_KINDS
from racegate.model import ACCESS, LOCATION, PREVIOUS, Frame, SourceFrame
from racegate.result.buckets import BucketResult, RacingMemory, RelatedGroup
from racegate.frame_kinds import is_allocation_frame, is_allocator_wrapper, is_project_frame, qualified_name
from racegate.signature import source_frame
from racegate.tsan_parse import parse_reports

_GLOBAL = re.compile(r"Location is global '(.+)' of size (\d+) at (0x[0-9a-fA-F]+)(?: \(([^+()]*)\+0x[0-9a-fA-F]+\))?")
_HEAP = re.compile(r"Location is heap block of size (\d+) at (0x[0-9a-fA-F]+)")
_ACCESS = re.compile(r"of size (\d+) at (0x[0-9a-fA-F]+)")


def racing_memory(raw: str) -> RacingMemory | None:
    """The memory the first TSan report in `raw` says raced; None when it names none (stack, TLS, a nameless
    global) or `raw` holds no report."""
    reports = parse_reports(raw)
    if not reports:
        return None
    stacks = reports[0].stacks
    access = next((_ACCESS.search(s.header) for s in stacks if s.role in (ACCESS, PREVIOUS)), None)
    for stack in stacks:
        if stack.role != LOCATION:
            continue
        m = _GLOBAL.match(stack.header)
        if m is not None:
            name = qualified_name(m.group(1))
            return _placed(RacingMemory(global_name=name, module=m.group(4) or ""), m.group(2), m.group(3),
                           access) if name else None
        m = _HEAP.match(stack.header)
        if m is not None:
            site = _allocation_site(stack.frames)
            return _placed(RacingMemory(allocated_at=site), m.group(1), m.group(2), access) if site else None
        return None
    return None


def _placed(memory: RacingMemory, size: str, start: str, access: re.Match[str] | None) -> RacingMemory:
    """The memory with its size and where in it the access fell."""
    if access is None:
        return RacingMemory(memory.global_name, memory.module, memory.allocated_at, int(size))
    offset = int(access.group(2), 16) - int(start, 16)
    return RacingMemory(memory.global_name, memory.module, memory.allocated_at, int(size),
                        offset if offset >= 0 else None, int(access.group(1)))


def _allocation_site(frames: list[Frame]) -> SourceFrame | None:
    """The innermost project frame of an allocation stack, past the allocator and any allocator wrapper: the line
    that asked for the block."""
    under_allocator = False
    for frame in frames:
        if is_allocation_frame(frame):
            under_allocator = True
            continue
        if under_allocator and is_allocator_wrapper(frame):
            continue
        under_allocator = False
        if is_project_frame(frame) and frame.line is not None:
            return source_frame(frame)
    return None


def where(frame: SourceFrame) -> str:
    """`Ring::push (ring.cpp:20)`: a frame as a reason names it."""
    return f"{qualified_name(frame.function) or '<unknown>'} ({posixpath.basename(frame.file)}:{frame.line})"


@dataclass(frozen=True)
class RelationRule:
    """One kind of evidence that relates buckets: the keys a bucket has under it (each with the words for it);
    buckets sharing a key are related."""

    name: str
    keys: Callable[[BucketResult], list[tuple[str, str]]]


def _global_keys(b: BucketResult) -> list[tuple[str, str]]:
    m = b.memory
    if m is None or not m.global_name:
        return []
    return [(f"global:{m.module}:{m.global_name}", f"same global {m.global_name}")]


def _heap_keys(b: BucketResult) -> list[tuple[str, str]]:
    m = b.memory
    if m is None or m.allocated_at is None:
        return []
    site = m.allocated_at
    return [(f"heap:{site.file}:{site.line}:{qualified_name(site.function)}",
             f"same heap block allocated at {where(site)}")]


def _side_keys(b: BucketResult) -> list[tuple[str, str]]:
    """A side of the project's own code, at its racing line: a library or runtime frame relates nothing (every race
    through std::vector would share it)."""
    keys = {}
    for f in b.frames:
        if f.line is not None and is_project_frame(Frame(f.function, f.file, f.line)):
            keys[f"side:{f.file}:{f.line}:{qualified_name(f.function)}"] = f"same side {where(f)}"
    return list(keys.items())


# The memory first (what one fix most likely closes), then a shared side.
RULES: tuple[RelationRule, ...] = (
    RelationRule("global", _global_keys),
    RelationRule("heap", _heap_keys),
    RelationRule("side", _side_keys),
)


def _field_words(reason: str, members: list[BucketResult]) -> str:
    """The memory reason narrowed to one field when every member's access fell at the same offset of a larger
    block: "same field (offset 8) of global g_stats"."""
    fields = {b.memory.field if b.memory is not None else None for b in members}
    if len(fields) != 1 or None in fields:
        return reason
    what = reason.removeprefix("same ")
    return f"same field (offset {fields.pop()}) of {'the ' if what.startswith('heap') else ''}{what}"


def related_groups(buckets: list[BucketResult]) -> list[RelatedGroup]:
    """The groups of related TSan-report buckets (failures are tied to their races as symptoms, not here): buckets
    sharing a key of any rule are one group, and so are buckets linked through others. Numbered in `buckets`' order."""
    races = [b for b in buckets if b.kind not in FAILURE_KINDS]
    parent = {b.id: b.id for b in races}

    def root(bid: str) -> str:
        while parent[bid] != bid:
            parent[bid] = parent[parent[bid]]
            bid = parent[bid]
        return bid

    shared: list[tuple[str, list[BucketResult]]] = []  # (reason, members) of each key shared by several buckets
    for rule in RULES:
        by_key: dict[str, tuple[str, list[BucketResult]]] = {}
        for b in races:
            for key, reason in rule.keys(b):
                by_key.setdefault(key, (reason, []))[1].append(b)
        for key, (reason, members) in by_key.items():
            if len(members) < 2:
                continue
            shared.append((_field_words(reason, members) if rule.name != "side" else reason, members))
            for other in members[1:]:
                parent[root(other.id)] = root(members[0].id)
    groups: dict[str, list[str]] = {}
    for b in races:
        groups.setdefault(root(b.id), []).append(b.id)
    result: list[RelatedGroup] = []
    for ids in (ids for ids in groups.values() if len(ids) > 1):
        reasons = tuple(dict.fromkeys(reason for reason, members in shared if members[0].id in ids))
        result.append(RelatedGroup(f"G{len(result) + 1}", reasons, tuple(ids)))
    return result
