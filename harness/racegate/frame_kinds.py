"""Whose code a TSan frame is: the project's, a library's (the standard library, GoogleTest) or the runtime's (TSan,
its interceptors, libc, racegate's shim), which functions allocate and which only wrap an allocator, and function
names normalized across compilers. The signature rules (signature.py), the advice and the reports read frames
through these alone, so a frame is classified the same way everywhere."""
from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import Iterable

from .errors import RacegateError
from .model import Frame, SourceFrame

# Where frames that are not the user's code live.
_RUNTIME_FILE_PARTS = ("libsanitizer/", "compiler-rt/", "sanitizer_common/", "/tsan/rtl/")
_RUNTIME_FILE_PREFIXES = ("tsan_", "sanitizer_")
_LIBC_FILE_PARTS = ("sysdeps/", "nptl/", "csu/", "/glibc")
_STDLIB_FILE_PARTS = ("/usr/include/", "/include/c++/", "/usr/lib/gcc/", "/c++/v1/")
_GTEST_FILE_PARTS = ("/googletest/", "/googlemock/", "/gtest/", "/gmock/")
# racegate_sched: racegate's own scheduling shim, preloaded into every run (shim.py).
_SYSTEM_MODULE_PREFIXES = ("libtsan", "libclang_rt.", "libc.so", "libpthread", "ld-linux", "libstdc++", "libc++",
                           "racegate_sched")
_RUNTIME_FUNCTION_PREFIXES = ("__tsan", "__interceptor_", "__sanitizer", "__interception")
_LIBRARY_NAMESPACES = ("std::", "__gnu_cxx::", "__cxxabiv1::", "__gthread", "testing::")
# What allocates and frees, by qualified name: never a project's frame, and what an allocator wrapper forwards to.
_ALLOCATORS = frozenset({
    "operator new", "operator new[]", "operator delete", "operator delete[]", "malloc", "free", "calloc",
    "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc", "cfree",
    "strdup", "strndup",
})
# The other libc functions TSan intercepts, by qualified name: never a project's frame either.
_INTERCEPTED_FUNCTIONS = frozenset({
    "memcpy", "memmove", "memset", "memcmp", "strlen", "strcmp", "strncmp", "strcpy", "strncpy",
    "abort", "raise", "exit", "_exit", "atexit", "__cxa_atexit", "__cxa_finalize", "__libc_start_main",
})
# Allocator wrappers, by leaf name (signature v4): a frame right under an allocator (or under another wrapper) whose
# name is one of these only forwards to it. Each entry: (pattern, what it covers). A project adds its own with
# `racegate run --allocator-wrappers REGEX`.
ALLOCATOR_WRAPPERS: tuple[tuple[str, str], ...] = (
    (r"x(?:malloc|calloc|realloc|free|strdup|strndup|memdup)", "checked allocators of GNU and BSD code (xmalloc)"),
    (r"g_(?:malloc0?(?:_n)?|try_malloc0?(?:_n)?|realloc(?:_n)?|free|slice_alloc0?|slice_free1|strdup|memdup2?)",
     "GLib"),
    (r"av_(?:malloc|mallocz|calloc|realloc|realloc_f|reallocp|free|freep|strdup|memdup)", "FFmpeg"),
    (r"\w+_(?:alloc|malloc|calloc|realloc|zalloc|free|dealloc|freep|release_memory)",
     "a library's own: lib_free, ctx_alloc, json_free"),
    (r"(?:pool|arena|slab|region|mem)_\w+", "pool, arena and slab allocators: pool_put, arena_release, mem_get"),
    (r"(?i:(?:de)?allocate|alloc|free)", "an allocator class's members: Arena::Allocate, Pool::Free"),
)
_WRAPPER_NAME = re.compile("|".join(f"(?:{pattern})" for pattern, _ in ALLOCATOR_WRAPPERS))
# The project's own wrappers (racegate run --allocator-wrappers), fully matched against the leaf or qualified name.
_project_wrappers: re.Pattern[str] | None = None
_INTERCEPTED_PREFIXES = ("pthread_", "__libc_", "__pthread_")
# Frames that name no code of their own: lambdas, and test bodies GoogleTest, doctest and Catch2 generate.
GENERIC_NAME = re.compile(r"operator\(\)|TestBody|DOCTEST_ANON_FUNC_\d+|C_A_T_C_H_T_E_S_T_\d+|"
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


def use_allocator_wrappers(pattern: str | None) -> None:
    """A project's own allocator wrappers (`racegate run --allocator-wrappers`), a regular expression fully matched
    against a frame's leaf or qualified function name; None for the built-in list only. A process-wide setting: it
    is the project's, and every report of a session is signed under it."""
    global _project_wrappers
    try:
        _project_wrappers = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise RacegateError(f"--allocator-wrappers {pattern!r} is not a regular expression: {exc}") from None


def is_allocation_frame(frame: Frame) -> bool:
    """An allocation or deallocation function, or a libc function TSan intercepts (signature v2 skips them)."""
    name = qualified_name(frame.function)
    return (name in _ALLOCATORS or name in _INTERCEPTED_FUNCTIONS
            or (not frame.file and name.startswith(_INTERCEPTED_PREFIXES)))


def is_allocator(frame: Frame) -> bool:
    """An allocation or deallocation function itself (malloc, operator delete, ...), what a wrapper forwards to."""
    return qualified_name(frame.function) in _ALLOCATORS


def is_allocator_wrapper(frame: Frame) -> bool:
    """A function whose name says it allocates or frees (ALLOCATOR_WRAPPERS, or the project's own list)."""
    name = qualified_name(frame.function)
    leaf = name.rsplit("::", 1)[-1]
    if _project_wrappers is not None and (_project_wrappers.fullmatch(leaf) or _project_wrappers.fullmatch(name)):
        return True
    return bool(_WRAPPER_NAME.fullmatch(leaf))


def is_runtime_frame(frame: Frame) -> bool:
    """TSan runtime, interceptors, libc/libpthread and racegate's shim."""
    f = frame.file
    if f and (any(p in f for p in _RUNTIME_FILE_PARTS) or any(p in f for p in _LIBC_FILE_PARTS)):
        return True
    if f and posixpath.basename(f).startswith(_RUNTIME_FILE_PREFIXES):
        return True
    if frame.module.startswith(_SYSTEM_MODULE_PREFIXES) and not f:
        return True
    return frame.function.startswith(_RUNTIME_FUNCTION_PREFIXES)


def is_library_frame(frame: Frame | SourceFrame) -> bool:
    """Standard library and GoogleTest internals, and the sanitizer runtime's own functions, by file or name: a frame
    the project did not write (the advice reads result frames through this too)."""
    f = frame.file
    if f and (any(p in f for p in _STDLIB_FILE_PARTS) or any(p in f for p in _GTEST_FILE_PARTS)):
        return True
    name = qualified_name(frame.function)
    return name.startswith(_LIBRARY_NAMESPACES) or name.startswith(_RUNTIME_FUNCTION_PREFIXES)


def library_family(frame: Frame | SourceFrame) -> str:
    """Whose a frame the project did not write is, in the words reports fold such frames under: "standard-library",
    "GoogleTest" or (anything else: the sanitizer runtime, libc, an unknown module) "runtime"."""
    f, name = frame.file or "", qualified_name(frame.function)
    if any(p in f for p in _GTEST_FILE_PARTS) or name.startswith("testing::"):
        return "GoogleTest"
    if any(p in f for p in _STDLIB_FILE_PARTS) or name.startswith(_LIBRARY_NAMESPACES):
        return "standard-library"
    return "runtime"


def is_project_frame(frame: Frame) -> bool:
    """A frame of the user's own code: has a file, and is neither runtime nor library."""
    return bool(frame.file) and not is_runtime_frame(frame) and not is_library_frame(frame)


def project_modules(frames: Iterable[Frame]) -> frozenset[str]:
    """The modules that hold a project frame (one with a file) among `frames`: the test's own executable, a project
    library built with debug info; never the runtime's or a library's, which print no project file."""
    return frozenset(f.module for f in frames if f.module and is_project_frame(f))
