"""TsanReport -> Finding: signature, bucket id, title, frames (docs/contract.md, "Signature rules").

A signature is a short list of normalized frames, one per side of the bug, that names the
code involved and nothing that changes between runs, builds or compilers:
`<file basename>:<unqualified function name>`, e.g. `word_counter.cpp:add`, and, when every side is a
name that says nothing of the code (lambdas) or one function racing with itself, the racing memory's location.
A report that names no side of the program is keyed on what it has (its test, memory, creation sites), and a
partial one (a stack TSan could not restore, a report cut short) says what it lacks; bucket.py folds it into its
whole report's bucket.
The rules of each signature version are data (`SignatureRules`); findings carry the id under the
current version and under every earlier one, so baselines written by earlier releases keep matching.
docs/bucketing.md explains the rules and their limits.
"""
from __future__ import annotations

import posixpath
import re

from .kinds import LOCK_ORDER_KIND, THREAD_LEAK_KIND
from .model import (ACCESS, LOCATION, MUTEX, PREVIOUS, THREAD, Finding, Frame, Sides, SourceFrame, Stack, StackTrace,
                    TsanReport)
from .frame_kinds import (
    GENERIC_NAME, is_allocation_frame, is_allocator, is_allocator_wrapper, is_library_frame, is_project_frame,
    is_runtime_frame, leaf_name, project_modules, qualified_name
)
from .signature_rules import CURRENT, LEGACY, SignatureRules, bucket_id


# Why a report is partial (Sides.missing), and the element its signature ends with.
LOST_STACK = "stack not restored"
TRUNCATED = "truncated"

_DEADLOCK_EDGE = "acquired here while holding"


def _without_allocators(frames: list[Frame], rules: SignatureRules) -> list[Frame]:
    """The frames that may name a side: no allocator or intercepted libc function, and (v4) no allocator wrapper,
    that is a frame with an allocator's name right under an allocator or under such a wrapper."""
    kept: list[Frame] = []
    under_allocator = False
    for frame in frames:
        if is_allocation_frame(frame):
            under_allocator = is_allocator(frame)
            continue
        if rules.skip_allocator_wrappers and under_allocator and is_allocator_wrapper(frame):
            continue
        under_allocator = False
        kept.append(frame)
    return kept


def _report_modules(report: TsanReport) -> frozenset[str]:
    return project_modules(f for s in report.stacks for f in s.frames)


def _is_fileless_project_frame(frame: Frame, modules: frozenset[str]) -> bool:
    """A frame TSan printed without a file (`<null>`: its code was built without debug info) in a module that holds
    the project's frames, whose name is a C++ member or namespaced function of nobody else's. Plain C names are
    left out: clang links TSan's interceptors (`usleep`, `read`, ...) and annotations into the executable, where
    they print without a file like this; so is crt and compiler code (`_start`, `_GLOBAL__sub_I_...`)."""
    if frame.file or frame.module not in modules or is_runtime_frame(frame) or is_library_frame(frame):
        return False
    name = qualified_name(frame.function)
    return ("::" in name and not is_allocation_frame(frame) and not _RESERVED_NAME.match(name)
            and not name.startswith(_LINKED_LIBRARY_NAMESPACES))


# Names the implementation reserves (a leading `__`, or `_` and a capital).
_RESERVED_NAME = re.compile(r"_[_A-Z]")
# Libraries a test links statically, so that their code, built without debug info, is in the test's own module:
# test frameworks (Catch2 v3, doctest, Boost.Test, GoogleTest) and Boost.
_LINKED_LIBRARY_NAMESPACES = ("Catch::", "doctest::", "boost::", "testing::")


def _names_side(frame: Frame, rules: SignatureRules, modules: frozenset[str]) -> bool:
    """A frame that may name a side: a project frame, or (v5) a fileless one of the project's own modules."""
    return is_project_frame(frame) or (rules.fileless_project_frames and _is_fileless_project_frame(frame, modules))


def side_key(frames: list[Frame], rules: SignatureRules = CURRENT) -> tuple[str, Frame | None]:
    """The normalized frame naming one side of a report (or a crash's stack), and the frame to show for it."""
    return _side_key(frames, rules, cut=False, modules=project_modules(frames))


def _side_key(frames: list[Frame], rules: SignatureRules, cut: bool,
              modules: frozenset[str]) -> tuple[str, Frame | None]:
    """`cut`: the stack a truncated log ends in, which names a side only if its top project frame's inline chain
    is printed whole (a frame of another pc follows it), as the full report would name it. `modules`: the report's
    project modules (project_modules)."""
    if rules.skip_allocation:
        frames = _without_allocators(frames, rules)
    for i, frame in enumerate(frames):
        if _names_side(frame, rules, modules):
            key, closed = _project_key(frames, i, rules, modules)
            return (key, frame) if closed or not cut else ("", None)
    if cut:
        return "", None  # the fallbacks below read the whole stack
    # No user frame: the first named frame outside runtime and libraries (a stripped library
    # still exports some names), then just its module, then the first library function.
    own = [f for f in frames if not is_runtime_frame(f) and not is_library_frame(f)]
    for frame in own:
        if frame.function:
            return f"{frame.module}:{leaf_name(frame.function)}", frame
    for frame in own:
        if frame.module:
            return frame.module, frame
    for frame in frames:
        if frame.function and not is_runtime_frame(frame):
            where = posixpath.basename(frame.file) or frame.module
            return f"{where}:{leaf_name(frame.function)}", frame
    return "", None


def _touches_directly(frames: list[Frame], rules: SignatureRules, modules: frozenset[str]) -> bool:
    """Whether a stack's access is in the code that names its side: its first frame outside the runtime (after
    allocators) names a side, where a library's code (a container's) would make the memory the library's."""
    if rules.skip_allocation:
        frames = _without_allocators(frames, rules)
    first = next((f for f in frames if not is_runtime_frame(f)), None)
    return first is not None and _names_side(first, rules, modules)


def _project_key(frames: list[Frame], top: int, rules: SignatureRules,
                 modules: frozenset[str] = frozenset()) -> tuple[str, bool]:
    """The key of the project frame at `top`, and whether its inline chain ended before the stack did."""
    # Inlined frames share their caller's pc. gcc often drops the inlined callee that clang
    # prints, so the outermost user frame of the inline chain is what both compilers agree on;
    # unless that frame is only a lambda or a generated test body, which would name every race
    # reached from it alike.
    chosen = frames[top]
    first = chosen
    closed = False
    for frame in frames[top + 1:]:
        if first.offset is None or frame.offset != first.offset or frame.module != first.module:
            closed = True
            break
        if _names_side(frame, rules, modules) and not (rules.skip_generic_callers
                                                       and GENERIC_NAME.fullmatch(leaf_name(frame.function))):
            chosen = frame
    name = leaf_name(chosen.function)
    if rules.qualify_test_body and name == "TestBody":
        # The generated class only: namespaces around a TEST are not the test's name.
        name = "::".join(qualified_name(chosen.function).split("::")[-2:])
    # A fileless frame (v5) is named by its module, as the fallbacks name a stripped library's.
    where = posixpath.basename(chosen.file) if chosen.file else chosen.module
    return f"{where}:{name}", closed


_GLOBAL_LOCATION = re.compile(r"Location is global '(.+)' of size \d+ at ")


def _is_generic(key: str) -> bool:
    return bool(GENERIC_NAME.fullmatch(key.split(":", 1)[-1]))


def _location_key(report: TsanReport, rules: SignatureRules) -> str:
    """The racing memory, named as stably as the frames are: `global:<qualified name>` or `heap:<allocating code>`;
    "" for the stack, TLS, or a global without a name (clang prints `'??'`, gcc `'<null>'`, neither with a size)."""
    for stack in report.stacks:
        if stack.role != LOCATION:
            continue
        m = _GLOBAL_LOCATION.match(stack.header)
        if m is not None:
            name = qualified_name(m.group(1))
            return f"global:{name}" if name else ""
        if stack.header.startswith("Location is heap block"):
            # The outermost project frame of the allocation (main, a thread's entry, a test body): the compilers
            # disagree on inlining a small allocating helper (clang 19 folds `open_tally` into main, gcc 12 keeps it
            # a frame of its own), but never on the frame the runtime or a library called.
            project = [i for i, frame in enumerate(stack.frames) if is_project_frame(frame)]
            return f"heap:{_project_key(stack.frames, project[-1], rules)[0]}" if project else ""
        return ""  # a global TSan could not name, or memory it describes another way
    # The stack and TLS lines ("Location is stack of thread T1.") carry no frames and are not kept by the parser;
    # gcc 12 follows the stack line with a nameless global one, which has no size.
    return ""


def defining_stacks(report: TsanReport) -> list[Stack]:
    """The stacks that define the bug: the conflicting accesses, the lock-order edges, the
    leaked thread's creation, or the offending call."""
    stacks = report.stacks
    if report.kind == LOCK_ORDER_KIND:
        edges = [s for s in stacks if _DEADLOCK_EDGE in s.header]
        return edges or [s for s in stacks if s.role == MUTEX]
    accesses = [s for s in stacks if s.role in (ACCESS, PREVIOUS)]
    if accesses:
        return accesses
    if report.kind == THREAD_LEAK_KIND:
        return [s for s in stacks if s.role == THREAD][:1]
    for s in stacks:
        if s.role not in (LOCATION, MUTEX, THREAD) and s.frames:
            return [s]
    return [s for s in stacks if s.frames][:1]


def _sides(report: TsanReport, rules: SignatureRules = CURRENT) -> list[tuple[str, Frame | None]]:
    # A truncated log ends inside its last stack (v4 reads that one only as far as it surely goes).
    cut = report.stacks[-1] if rules.anchor_sideless and report.truncated and report.stacks else None
    modules = _report_modules(report)
    sides = [_side_key(s.frames, rules, cut=s is cut, modules=modules) for s in defining_stacks(report)]
    sides = [side for side in sides if side[0]]
    # Sorting makes the order in which TSan printed the threads irrelevant.
    sides.sort(key=lambda side: side[0])
    if report.kind == LOCK_ORDER_KIND:
        # A cycle is the set of its edges, wherever TSan started printing it.
        unique: dict[str, tuple[str, Frame | None]] = {}
        for side in sides:
            unique.setdefault(side[0], side)
        sides = list(unique.values())
    return sides


def _is_self_race(report: TsanReport, keys: list[str], rules: SignatureRules) -> bool:
    """(v5) Two or more sides, all one key, each touching the memory in that code: a function racing with itself,
    which only the memory tells from the same function racing with itself elsewhere."""
    if not rules.locate_self_races or len(keys) < 2 or len(set(keys)) != 1:
        return False
    modules = _report_modules(report)
    return all(_touches_directly(s.frames, rules, modules) for s in defining_stacks(report))


def missing(report: TsanReport) -> str:
    """Why a report is partial: a defining stack TSan could not restore (LOST_STACK), or a report cut short
    (TRUNCATED); "" for a whole report."""
    if any(s.lost for s in defining_stacks(report)):
        return LOST_STACK
    return TRUNCATED if report.truncated else ""


# Where a report says its thread or mutex was made: a key for a report that names no side of the program.
_CREATION_HEADERS = ("created by", "created at")


def _anchors(report: TsanReport, rules: SignatureRules, test: str, memory: str) -> list[str]:
    """What keys a report none of whose sides names the program (a leak created through a preloaded library without
    frame pointers, a mutex misuse called through one): the test, the memory, where its threads and mutexes were
    created; failing those, the program's module; never nothing."""
    anchors = [f"test:{test}"] if test else []
    if memory:
        anchors.append(memory)
    for stack in report.stacks:
        if stack.role in (THREAD, MUTEX) and any(h in stack.header for h in _CREATION_HEADERS):
            key = _side_key(stack.frames, rules, cut=False, modules=_report_modules(report))[0]
            if key and f"created:{key}" not in anchors:
                anchors.append(f"created:{key}")
    if not anchors:
        modules = [f.module for s in report.stacks for f in s.frames if f.module and not is_runtime_frame(f)]
        anchors.append(f"module:{modules[0]}" if modules else "(no frame of the program)")
    return anchors


def _signature(report: TsanReport, sides: list[tuple[str, Frame | None]], rules: SignatureRules,
               test: str = "") -> list[str]:
    keys = [key for key, _ in sides]
    memory = _location_key(report, rules) if rules.locate_generic_sides else ""
    if memory and keys and (all(_is_generic(k) for k in keys) or _is_self_race(report, keys, rules)):
        keys.append(memory)
    if not rules.anchor_sideless:
        return keys
    if not keys:
        keys = _anchors(report, rules, test, memory)
    why = missing(report)
    if why:
        # A partial report's own bucket (until its full report is seen) is told apart by its memory, and by what
        # it lacks from the full report's.
        if memory and memory not in keys:
            keys.append(memory)
        keys.append(f"({why})")
    return keys


def signature(report: TsanReport, rules: SignatureRules = CURRENT, test: str = "") -> list[str]:
    """The signature of a report: one normalized frame per side, in a canonical order, and the racing memory
    when the sides alone name nothing (v3); what the report does have when it names no side (v4), `test` being
    the test it came from; never empty under v4."""
    return _signature(report, _sides(report, rules), rules, test)


def describe(frame: Frame) -> str:
    """`Counter::add (counter.cpp:31)`: a frame as titles name it."""
    name = qualified_name(frame.function) or "<unknown>"
    if frame.file:
        where = posixpath.basename(frame.file) + (f":{frame.line}" if frame.line is not None else "")
    else:
        where = frame.module or "?"
    return f"{name} ({where})"


def _title(kind: str, frames: list[Frame], why: str) -> str:
    """One line a person reads: `data race: Counter::add (counter.cpp:31) vs main (main.cpp:9)`."""
    title = f"{kind}: " + " vs ".join(describe(f) for f in frames) if frames else kind
    return f"{title} ({why})" if why else title


def source_frame(frame: Frame) -> SourceFrame:
    """A parsed frame as results show it."""
    return SourceFrame(frame.function, frame.file, frame.line)


def finding_from_report(report: TsanReport, test: str = "") -> Finding:
    """The finding of a report of `test` (the test keys a report that names nothing of the program)."""
    sides = _sides(report)
    frames = [frame for _, frame in sides if frame is not None]
    why = missing(report)
    return Finding(
        kind=report.kind,
        title=_title(report.kind, frames, why),
        signature=_signature(report, sides, CURRENT, test),
        legacy_ids=[bucket_id(report.kind, signature(report, rules), rules) for rules in LEGACY],
        frames=[source_frame(f) for f in frames],
        raw=report.text,
        # Stacks TSan printed without a header line are named by the report kind.
        stacks=[StackTrace(s.header or report.kind, tuple(source_frame(f) for f in s.frames))
                for s in defining_stacks(report)],
        sides=Sides(tuple(key for key, _ in sides), _location_key(report, CURRENT), why),
    )
