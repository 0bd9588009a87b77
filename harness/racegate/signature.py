"""TsanReport -> signature, bucket id, title and top frames (docs/contract.md, "Signature rules").

A signature is a short list of normalized frames, one per side of the bug, that names the
code involved and nothing that changes between runs, builds or compilers:
`<file basename>:<unqualified function name>`, e.g. `word_counter.cpp:add`, and, when every side is a
name that says nothing of the code (lambdas), the racing memory's location.
The rules of each signature version are data (`SignatureRules`); findings carry the id under the
current version and under every earlier one, so baselines written by earlier releases keep matching.
docs/bucketing.md explains the rules and their limits.
"""
from __future__ import annotations

import hashlib
import posixpath
import re
from functools import lru_cache

from dataclasses import dataclass
from typing import Mapping

from .kinds import LOCK_ORDER_KIND, THREAD_LEAK_KIND
from .model import ACCESS, LOCATION, MUTEX, PREVIOUS, THREAD, Finding, Frame, SourceFrame, Stack, StackTrace, TsanReport


@dataclass(frozen=True)
class SignatureRules:
    version: int
    # Allocation and deallocation functions and the libc functions TSan intercepts never name a side (a runtime
    # without debug info prints them with the test binary as their module and no file).
    skip_allocation: bool
    # In an inline chain, never move out to a frame whose name says nothing of the code: a lambda's operator()
    # or a test framework's generated test body (numbered, so a test added above it would change the id).
    skip_generic_callers: bool
    # Kinds folded together for bucket ids: the finding keeps TSan's own kind string.
    id_families: Mapping[str, str]
    # GoogleTest's TestBody names its test through its generated class (`Suite_Name_Test::TestBody`): it is virtual,
    # so never inlined, and every compiler prints it qualified.
    qualify_test_body: bool = False
    # A report whose sides are all generic names (lambda vs lambda) adds the racing memory: a global's name or the
    # allocating side of a heap block, so races of different lambdas of one file on different data are apart.
    locate_generic_sides: bool = False


V1 = SignatureRules(1, skip_allocation=False, skip_generic_callers=False, id_families={
    # clang reports a vptr race or a virtual call after free where gcc reports the plain kind.
    "data race on vptr (ctor/dtor vs virtual call)": "data race",
    "heap-use-after-free (virtual call vs free)": "heap-use-after-free",
})
# Version 2: a lifetime bug is one bucket whether TSan saw the use after the free (heap-use-after-free) or the
# two accesses unordered (data race): both name the same pair of project frames.
V2 = SignatureRules(2, skip_allocation=True, skip_generic_callers=True, id_families={
    "data race on vptr (ctor/dtor vs virtual call)": "data race",
    "heap-use-after-free": "data race",
    "heap-use-after-free (virtual call vs free)": "data race",
})
# Version 3: a test body keeps its test's name, and a report of generic sides only is told apart by its memory.
V3 = SignatureRules(3, skip_allocation=True, skip_generic_callers=True, id_families=V2.id_families,
                    qualify_test_body=True, locate_generic_sides=True)
CURRENT = V3
SIGNATURE_VERSION = CURRENT.version
# Findings carry their ids under these too: baselines of earlier releases (0.1.0: v1, the next ones: v2) hold them.
LEGACY = (V1, V2)

_DEADLOCK_EDGE = "acquired here while holding"

# Where frames that are not the user's code live.
_RUNTIME_FILE_PARTS = ("libsanitizer/", "compiler-rt/", "sanitizer_common/", "/tsan/rtl/")
_RUNTIME_FILE_PREFIXES = ("tsan_", "sanitizer_")
_LIBC_FILE_PARTS = ("sysdeps/", "nptl/", "csu/", "/glibc")
_STDLIB_FILE_PARTS = ("/usr/include/", "/include/c++/", "/usr/lib/gcc/", "/c++/v1/")
_GTEST_FILE_PARTS = ("/googletest/", "/googlemock/", "/gtest/", "/gmock/")
_SYSTEM_MODULE_PREFIXES = ("libtsan", "libclang_rt.", "libc.so", "libpthread", "ld-linux", "libstdc++", "libc++")
_RUNTIME_FUNCTION_PREFIXES = ("__tsan", "__interceptor_", "__sanitizer", "__interception")
_LIBRARY_NAMESPACES = ("std::", "__gnu_cxx::", "__cxxabiv1::", "__gthread", "testing::")
# What allocates, frees and what TSan intercepts in libc, by qualified name: never a project's frame.
_ALLOCATION_FUNCTIONS = frozenset({
    "operator new", "operator new[]", "operator delete", "operator delete[]", "malloc", "free", "calloc",
    "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc", "cfree",
    "memcpy", "memmove", "memset", "memcmp", "strlen", "strcmp", "strncmp", "strcpy", "strncpy", "strdup",
    "abort", "raise", "exit", "_exit", "atexit", "__cxa_atexit", "__cxa_finalize", "__libc_start_main",
})
_INTERCEPTED_PREFIXES = ("pthread_", "__libc_", "__pthread_")
# Frames that name no code of their own: lambdas, and test bodies GoogleTest, doctest and Catch2 generate.
_GENERIC_NAME = re.compile(r"operator\(\)|TestBody|DOCTEST_ANON_FUNC_\d+|C_A_T_C_H_T_E_S_T_\d+|"
                           r"____C_A_T_C_H____T_E_S_T____\d+")

# Compiler-specific spellings of lambdas and anonymous namespaces, made uniform.
_PARENS = r"\((?:[^()]|\([^()]*\))*\)"
_LAMBDA = re.compile(r"\{lambda" + _PARENS + r"#\d+\}|<lambda" + _PARENS + r">|'lambda\d*'" + _PARENS + r"|\$_\d+")
_ANON_NS = re.compile(r"\((?:anonymous namespace)\)|\{anonymous\}")
_OPERATOR = re.compile(
    r"operator(?:\s*(?:\(\)|\[\]|<=>|<<=|>>=|<<|>>|->\*|->|&&|\|\||\+\+|--|[-+*/%^&|~!=<>,]=?)"
    r"|\s+(?:new|delete)(?:\[\])?|\"\"\s*\w+|\s+[A-Za-z_][\w:]*(?:\s*[*&])*)"
)
_QUALIFIERS = {"const", "volatile", "&", "&&", "noexcept"}


@lru_cache(maxsize=65536)
def qualified_name(function: str) -> str:
    """`void ns::Foo<int>::bar(int) const` -> `ns::Foo::bar`: no return type, params or template args."""
    name = _ANON_NS.sub("anon", _LAMBDA.sub("lambda", function))
    out: list[str] = []
    depth = 0
    i = 0
    n = len(name)
    while i < n:
        c = name[i]
        at_word_start = i == 0 or not (name[i - 1].isalnum() or name[i - 1] == "_")
        if c == "o" and at_word_start and name.startswith("operator", i):
            m = _OPERATOR.match(name, i)
            if m is not None:
                if depth == 0:
                    # Keep the operator as one token; "\0" stands for its inner spaces.
                    out.append(re.sub(r"\s+", "\0", m.group(0)))
                i = m.end()
                continue
        if c in "<({[":
            depth += 1
        elif c in ">)}]":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(c)
        i += 1
    tokens = "".join(out).split()
    while tokens and tokens[-1] in _QUALIFIERS:
        tokens.pop()
    return tokens[-1].replace("\0", " ") if tokens else ""


def leaf_name(function: str) -> str:
    """The unqualified function name: `ns::Foo<int>::bar(int) const` -> `bar`."""
    return qualified_name(function).rsplit("::", 1)[-1]


def is_allocation_frame(frame: Frame) -> bool:
    """An allocation or deallocation function, or a libc function TSan intercepts (signature v2 skips them)."""
    name = qualified_name(frame.function)
    return name in _ALLOCATION_FUNCTIONS or (not frame.file and name.startswith(_INTERCEPTED_PREFIXES))


def is_runtime_frame(frame: Frame) -> bool:
    """TSan runtime, interceptors and libc/libpthread."""
    f = frame.file
    if f and (any(p in f for p in _RUNTIME_FILE_PARTS) or any(p in f for p in _LIBC_FILE_PARTS)):
        return True
    if f and posixpath.basename(f).startswith(_RUNTIME_FILE_PREFIXES):
        return True
    if frame.module.startswith(_SYSTEM_MODULE_PREFIXES) and not f:
        return True
    return frame.function.startswith(_RUNTIME_FUNCTION_PREFIXES)


def is_library_frame(frame: Frame) -> bool:
    """Standard library and GoogleTest internals."""
    f = frame.file
    if f and (any(p in f for p in _STDLIB_FILE_PARTS) or any(p in f for p in _GTEST_FILE_PARTS)):
        return True
    return qualified_name(frame.function).startswith(_LIBRARY_NAMESPACES)


def is_project_frame(frame: Frame) -> bool:
    """A frame of the user's own code: has a file, and is neither runtime nor library."""
    return bool(frame.file) and not is_runtime_frame(frame) and not is_library_frame(frame)


def _side_key(frames: list[Frame], rules: SignatureRules = CURRENT) -> tuple[str, Frame | None]:
    """Normalized frame naming one side of a report, and the frame to show for it."""
    if rules.skip_allocation:
        frames = [f for f in frames if not is_allocation_frame(f)]
    for i, frame in enumerate(frames):
        if is_project_frame(frame):
            return _project_key(frames, i, rules), frame
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


def _project_key(frames: list[Frame], top: int, rules: SignatureRules) -> str:
    # Inlined frames share their caller's pc. gcc often drops the inlined callee that clang
    # prints, so the outermost user frame of the inline chain is what both compilers agree on;
    # unless that frame is only a lambda or a generated test body, which would name every race
    # reached from it alike.
    chosen = frames[top]
    first = chosen
    for frame in frames[top + 1:]:
        if first.offset is None or frame.offset != first.offset or frame.module != first.module:
            break
        if is_project_frame(frame) and not (rules.skip_generic_callers
                                            and _GENERIC_NAME.fullmatch(leaf_name(frame.function))):
            chosen = frame
    name = leaf_name(chosen.function)
    if rules.qualify_test_body and name == "TestBody":
        # The generated class only: namespaces around a TEST are not the test's name.
        name = "::".join(qualified_name(chosen.function).split("::")[-2:])
    return f"{posixpath.basename(chosen.file)}:{name}"


_GLOBAL_LOCATION = re.compile(r"Location is global '(.+)' of size \d+ at ")


def _is_generic(key: str) -> bool:
    return bool(_GENERIC_NAME.fullmatch(key.split(":", 1)[-1]))


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
            return f"heap:{_project_key(stack.frames, project[-1], rules)}" if project else ""
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
    sides = [_side_key(s.frames, rules) for s in defining_stacks(report)]
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


def _signature(report: TsanReport, sides: list[tuple[str, Frame | None]], rules: SignatureRules) -> list[str]:
    keys = [key for key, _ in sides]
    if rules.locate_generic_sides and keys and all(_is_generic(k) for k in keys):
        location = _location_key(report, rules)
        if location:
            keys.append(location)
    return keys


def signature(report: TsanReport, rules: SignatureRules = CURRENT) -> list[str]:
    """The signature of a report: one normalized frame per side, in a canonical order, and the racing memory
    when the sides alone name nothing (signature v3)."""
    return _signature(report, _sides(report, rules), rules)


def bucket_id(kind: str, signature: list[str], rules: SignatureRules = CURRENT) -> str:
    """16 hex digits naming the bucket of (kind, signature) under a signature version."""
    family = rules.id_families.get(kind, kind)
    payload = "\n".join([f"racegate-signature-v{rules.version}", family, *signature])
    return hashlib.sha256(payload.encode("utf-8", "replace")).hexdigest()[:16]


def side_key(frames: list[Frame], rules: SignatureRules = CURRENT) -> tuple[str, Frame | None]:
    """The normalized frame naming a stack (a crash's, say) as it would name one side of a report."""
    return _side_key(frames, rules)


def top_frames(report: TsanReport) -> list[Frame]:
    """The top in-project frame (or its fallback) of each side, in signature order."""
    return [frame for _, frame in _sides(report) if frame is not None]


def _describe(frame: Frame) -> str:
    name = qualified_name(frame.function) or "<unknown>"
    if frame.file:
        where = posixpath.basename(frame.file) + (f":{frame.line}" if frame.line is not None else "")
    else:
        where = frame.module or "?"
    return f"{name} ({where})"


def title(report: TsanReport) -> str:
    """One line a person reads: `data race: Counter::add (counter.cpp:31) vs main (main.cpp:9)`."""
    return _title(report.kind, top_frames(report))


def describe(frame: Frame) -> str:
    """`Counter::add (counter.cpp:31)`: a frame as titles name it."""
    return _describe(frame)


def _title(kind: str, frames: list[Frame]) -> str:
    if not frames:
        return kind
    return f"{kind}: " + " vs ".join(_describe(f) for f in frames)


def source_frame(frame: Frame) -> SourceFrame:
    """A parsed frame as results show it."""
    return SourceFrame(frame.function, frame.file, frame.line)


def finding_from_report(report: TsanReport) -> Finding:
    sides = _sides(report)
    frames = [frame for _, frame in sides if frame is not None]
    return Finding(
        kind=report.kind,
        title=_title(report.kind, frames),
        signature=_signature(report, sides, CURRENT),
        legacy_ids=[bucket_id(report.kind, signature(report, rules), rules) for rules in LEGACY],
        frames=[source_frame(f) for f in frames],
        raw=report.text,
        # Stacks TSan printed without a header line are named by the report kind.
        stacks=[StackTrace(s.header or report.kind, tuple(source_frame(f) for f in s.frames))
                for s in defining_stacks(report)],
    )
