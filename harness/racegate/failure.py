"""Turn a run's exit status and output into an outcome, and failures without a TSan report into findings."""
from __future__ import annotations

import os
import re
import signal

from racegate.kinds import CRASH
from racegate.model import Finding, Frame, SourceFrame, StackTrace, TestCase
from racegate.signature import LEGACY, V1, V2, V3, bucket_id, describe, side_key, source_frame
from racegate.tsan_parse import parse_frame

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
        name = signal_name(-returncode)
        findings.append(_finding("crash", test, f"crash: {test.name} killed by {name}", [name], output))
        return "crash", findings
    fatal = _fatal(tsan_log) or _fatal(output)
    if fatal:
        findings.append(_crash_finding(test, fatal))
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


def _crash_finding(test: TestCase, fatal: re.Match[str]) -> Finding:
    """A crash TSan reported (SEGV, abort, ...): keyed like any report on the top project frame of the stack
    TSan printed; on the test and what happened when there is no stack to key on."""
    text = fatal.string
    what = normalize_message(fatal.group("what").split(" on ")[0])
    frames = _crash_frames(text, fatal.end())
    key, top = side_key(frames)
    # The raw report: TSan's crash block, from its error line to its ABORTING line.
    aborting = text.find("==ABORTING", fatal.end())
    stop = text.find("\n", aborting) if aborting >= 0 else -1
    raw = text[text.rfind("\n", 0, fatal.start()) + 1:stop if stop >= 0 else len(text)]
    # Signature v1 keyed every crash on the test and what happened; baselines of earlier releases hold that id.
    legacy = [bucket_id(CRASH, [test.name, what], V1)]
    # Signature v2 keyed it on the top project frame as v2 named it (a test body without its class).
    legacy.append(bucket_id(CRASH, [side_key(frames, V2)[0]] if top is not None else [test.name, what], V2))
    legacy.append(bucket_id(CRASH, [side_key(frames, V3)[0]] if top is not None else [test.name, what], V3))
    if top is None:
        finding = _finding(CRASH, test, f"crash: {test.name}: ThreadSanitizer: {fatal.group('what')}", [what], raw)
    else:
        finding = Finding(kind=CRASH, title=f"crash: {what} in {describe(top)}", signature=[key],
                          frames=[source_frame(top)], raw=raw,
                          stacks=[StackTrace(fatal.group("what").strip(), tuple(map(source_frame, frames)))])
    finding.legacy_ids = legacy
    return finding


def _crash_frames(text: str, start: int) -> list[Frame]:
    """The frames TSan printed under a fatal error line: after its `==pid==` notes, until the first other line."""
    frames: list[Frame] = []
    for line in text[start:start + 64 * 1024].splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            frames.append(parse_frame(stripped))
        elif frames or not (stripped.startswith("==") or not stripped):
            break
    return frames


def _finding(kind: str, test: TestCase, title: str, key: list[str], raw: str,
             frames: list[SourceFrame] | None = None) -> Finding:
    # Non-TSan buckets are per test: the same message in two tests is usually two problems.
    signature = [test.name, *key]
    return Finding(kind=kind, title=title, signature=signature, frames=frames or [], raw=raw,
                   legacy_ids=[bucket_id(kind, signature, rules) for rules in LEGACY])


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
