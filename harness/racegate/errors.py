"""Errors that end a racegate command with a documented exit code and one line on stderr."""
from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FOUND = 1  # new race(s), flaky or failed tests
EXIT_USAGE = 2  # usage or environment error
EXIT_INTERRUPTED = 130


class RacegateError(Exception):
    """A usage or environment problem: the CLI prints `racegate: <message>` and exits 2."""

    exit_code = EXIT_USAGE
