"""Reports of races inside the standard library's own state, known upstream: not the project's bug.

Each entry names the library functions whose accesses race and the upstream bug. A report matches an entry
only when every racing access is in one of those functions *and* the memory is the library's own (TSan's
"Location is global ... (libstdc++.so.6+0x...)"): the same functions racing on an object the project owns,
such as a facet or container the project shares between threads, stay the project's bug.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from racegate.model import ACCESS, LOCATION, PREVIOUS, TsanReport
from racegate.frame_kinds import qualified_name


@dataclass(frozen=True)
class LibraryIssue:
    rule: str  # stable id, recorded in results
    reference: str  # the upstream bug, as people cite it
    url: str
    affects: str  # the library versions known to report it
    functions: frozenset[str]  # racing functions, qualified, without templates or arguments
    what: str  # one sentence on the mechanism
    workaround: str = ""  # what a project can do if the report bothers it


LIBRARY_ISSUES = (
    LibraryIssue(
        rule="gcc-77704",
        reference="GCC bug 77704",
        url="https://gcc.gnu.org/bugzilla/show_bug.cgi?id=77704",
        affects="libstdc++ of GCC 5 and later, still reported with GCC 12 and 13",
        functions=frozenset({"std::ctype::narrow", "std::ctype::widen", "std::ctype::_M_widen_init",
                             "std::ctype::_M_narrow_init"}),
        what="std::ctype<char> fills its narrow/widen caches lazily inside the shared classic-locale facet; "
             "two threads using std::regex, iostreams or std::use_facet race on that cache with identical values",
        workaround="Nothing in the project to fix. To silence it in plain TSan runs too, fill the caches once before "
                   "starting threads (call narrow() and widen() of std::use_facet<std::ctype<char>>(std::locale()) "
                   "for every char value) or add `race:std::ctype<char>::narrow` to the TSan suppressions file.",
    ),
)
BY_RULE = {issue.rule: issue for issue in LIBRARY_ISSUES}

# Modules of the standard library, as TSan prints them in "(module+0xoffset)".
_STDLIB_MODULES = ("libstdc++.so", "libc++.so", "libc++abi.so")
_MODULE = re.compile(r"\(([^()\s]+)\+0x[0-9a-fA-F]+\)\s*$")


def library_issue(report: TsanReport) -> LibraryIssue | None:
    """The known library issue this report is, or None when it is (or may be) the project's."""
    if "race" not in report.kind:
        return None
    accesses = [s for s in report.stacks if s.role in (ACCESS, PREVIOUS) and s.frames]
    if not accesses or not _memory_of_stdlib(report):
        return None
    tops = {qualified_name(s.frames[0].function) for s in accesses}
    for issue in LIBRARY_ISSUES:
        if tops <= issue.functions:
            return issue
    return None


def _memory_of_stdlib(report: TsanReport) -> bool:
    """Whether TSan says the racing memory is a global of a standard-library module."""
    for stack in report.stacks:
        if stack.role == LOCATION and stack.header.startswith("Location is global"):
            module = _MODULE.search(stack.header)
            return module is not None and module.group(1).startswith(_STDLIB_MODULES)
    return False
