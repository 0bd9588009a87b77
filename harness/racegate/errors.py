"""Errors that end a racegate command with a documented exit code and one line on stderr."""
from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FOUND = 1  # new race(s), flaky or failed tests
EXIT_USAGE = 2  # usage or environment error
# No new problem, but some selected test completed no run (never ran, or every run was cut): the gate could not
# decide for it. Its own code, not 2: the session itself worked and its reports are whole; CI that treats 2 as
# "racegate is misconfigured" keeps that meaning, and 0 would be a pass resting on nothing (--allow-uncovered).
EXIT_UNCOVERED = 3
EXIT_INTERRUPTED = 130


class RacegateError(Exception):
    """A usage or environment problem: the CLI prints `racegate: <message>` and exits 2."""

    exit_code = EXIT_USAGE
