"""Catch2 v2 (CATCH2): what a Catch2 program lists (`--list-test-names-only`, one name a line on stdout) and how a
command selects one case (its name as a test spec, escaped). Each case runs in a process of its own.

Catch2 v3 has no `--list-test-names-only`: its programs are not recognised and run whole."""
from __future__ import annotations

import re
from typing import Sequence

from racegate.frameworks.framework import Lister
from racegate.model import TestCase

# What a test spec reads as its syntax: `,` separates names, `[` `]` enclose a tag, `"` quotes, `*` is a
# wildcard, `\` escapes; a leading `~` negates and a leading `#` names a file tag. A backslash makes any
# character literal.
_SPEC_SYNTAX = re.compile(r'([\\,\[\]"*])')


def parse_listing(text: str) -> list[str]:
    """The names of `--list-test-names-only`: every line; Catch2 quotes a name that starts with `#`. Hidden
    cases (tagged `[.]`) are not listed: they run only when named, as without racegate."""
    names = []
    for line in text.splitlines():
        if len(line) > 2 and line.startswith('"#') and line.endswith('"'):
            line = line[1:-1]
        if line.strip():
            names.append(line)
    return names


def escape(name: str) -> str:
    """A name as a test spec that matches it alone."""
    spec = _SPEC_SYNTAX.sub(r"\\\1", name)
    return "\\" + spec if spec.startswith(("~", "#")) else spec


def selects_cases(test: TestCase) -> bool:
    """Any argument that is not an option: a test spec (catch_discover_tests registers each case so) or an
    option's value; without a parser of Catch2's options the two cannot be told apart, so such a test runs as
    given."""
    return any(not arg.startswith("-") for arg in test.command[1:])


def select_one(argv: Sequence[str], name: str) -> tuple[str, ...]:
    return (argv[0], escape(name), *argv[1:])


CATCH2 = Lister(
    name="catch2", named_by_command=None, program_marks=(b"list-test-names-only",),
    list_option="--list-test-names-only", lists_on_stderr=False,
    # Catch2 v2 exits with the number of cases it listed.
    listing_ok=lambda status: status >= 0, parse_listing=parse_listing,
    select_one=select_one, selects_cases=selects_cases, splits_ctest_tests=True)
