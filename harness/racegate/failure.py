"""Turn a run's exit status and output into an outcome, and failures without a TSan report into findings."""
from __future__ import annotations

import os
import re
import signal

from racegate.model import Finding, SourceFrame, TestCase

# TSan's default `exitcode`: the process exits with it when it printed reports.
TSAN_EXITCODE = 66

# "file:line: Failure" and up to 12 message lines, until the next failure or the test's verdict line.
_GTEST_FAILURE = re.compile(r"^(?P<file>[^\n]*?):(?P<line>\d+): Failure\n"
                            r"(?P<message>(?:(?!\[  FAILED  \]|\[       OK \]|[^\n]*:\d+: Failure\n)[^\n]*\n?){0,12})",
                            re.MULTILINE)
_TSAN_FATAL = re.compile(r"^(?:==\d+==)?ERROR: ThreadSanitizer: (?P<what>[^\n]+)", re.MULTILINE)
_VOLATILE = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?")

# An assertion is on time when a word of its checked expression (the message before ", actual:" or
# "Which is:", split into lower-case words at every non-letter, so `elapsed_ms` is "elapsed" and "ms") is one
# of these. Under TSan every test runs 5-15 times slower, so such checks fail for racegate's reasons.
TIMING_WORDS = frozenset({
    "elapsed", "duration", "latency", "deadline", "timeout", "timed", "took", "ms", "msec", "millis",
    "milliseconds", "us", "usec", "micros", "microseconds", "ns", "nanoseconds", "sec", "secs", "seconds",
    "chrono", "steady", "clock", "walltime",
})
_EXPRESSION_END = re.compile(r",\s*actual:|\n\s*Which is:|\n\s*Actual:")


def is_timing_assertion(message: str) -> bool:
    """Whether a failed check is about elapsed time or a deadline (TIMING_WORDS in its expression)."""
    expression = _EXPRESSION_END.split(message, 1)[0]
    return not TIMING_WORDS.isdisjoint(re.findall(r"[a-z]+", expression.lower()))


def normalize_message(text: str) -> str:
    """A failure message with values that change from run to run (numbers, addresses) masked."""
    return " ".join(_VOLATILE.sub("N", text).split())


def classify(test: TestCase, returncode: int | None, timed_out: bool, timeout: float, output: str,
             tsan_log: str, race_found: bool) -> tuple[str, list[Finding]]:
    """The run's outcome (pass, race, fail, crash, timeout) and its non-TSan findings."""
    if timed_out:
        return "timeout", [_finding("timeout", test, f"timeout: {test.name} ran longer than {timeout:g} s",
                                    ["timeout"], output)]
    findings: list[Finding] = []
    outcome = "race" if race_found else "pass"
    if returncode is not None and returncode < 0:
        name = _signal_name(-returncode)
        findings.append(_finding("crash", test, f"crash: {test.name} killed by {name}", [name], output))
        return "crash", findings
    fatal = _fatal(tsan_log) or _fatal(output)
    if fatal:
        what = normalize_message(fatal.group("what").split(" on ")[0])
        findings.append(_finding("crash", test, f"crash: {test.name}: ThreadSanitizer: {fatal.group('what')}",
                                 [what], tsan_log or output))
        return "crash", findings
    if returncode is not None and returncode == test.skip_return_code:
        return outcome, []  # the test skipped itself
    if test.will_fail:
        if returncode == 0:
            return "fail", [_finding("test failure", test, f"test failure: {test.name} passed but is marked WILL_FAIL",
                                     ["unexpected pass"], "\n".join(output.strip().splitlines()[-20:]))]
        return outcome, []
    # Plain substring checks first: logs of racy runs are large and rarely hold either.
    failures = list(_GTEST_FAILURE.finditer(output)) if ": Failure\n" in output else []
    for failure in failures:
        message = failure.group("message").strip()
        first = message.splitlines()[0] if message else "assertion failed"
        where = os.path.basename(failure.group("file"))
        finding = _finding(
            "test failure", test,
            f"test failure: {test.name}: {first} ({where}:{failure.group('line')})",
            [where, normalize_message(message)], failure.group(0),
            frames=[SourceFrame(test.name, failure.group("file"), int(failure.group("line")))])
        finding.timing_sensitive = is_timing_assertion(message)
        findings.append(finding)
    if not failures and returncode not in (0, None) and not (race_found and returncode == TSAN_EXITCODE):
        tail = "\n".join(output.strip().splitlines()[-20:])
        findings.append(_finding("test failure", test, f"test failure: {test.name} exited with status {returncode}",
                                 [f"exit {returncode}"], tail))
    if findings:
        outcome = "fail"
    return outcome, findings


def _fatal(text: str) -> re.Match[str] | None:
    return _TSAN_FATAL.search(text) if "ERROR: ThreadSanitizer: " in text else None


def _finding(kind: str, test: TestCase, title: str, key: list[str], raw: str,
             frames: list[SourceFrame] | None = None) -> Finding:
    # Non-TSan buckets are per test: the same message in two tests is usually two problems.
    return Finding(kind=kind, title=title, signature=[test.name, *key], frames=frames or [], raw=raw)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
