"""Turn a run's exit status and output into an outcome, and failures without a TSan report into findings."""
from __future__ import annotations

import html
import os
import re
import signal
from dataclasses import dataclass

from racegate.failure_rules import (FAILURE_RULES, FUNCTION_NAME, PERTURBED_MORE_OFTEN, SIGNAL_REPORT, SLEEP_CALL,
                                    SLEEP_WINDOW, SLOWDOWN_FACTORS, TEST_NAME_LINES, TIMING_LABEL, TIMING_RULES,
                                    TIMING_WORDS, VALUES_START, FailureRule, TimingRule)
from racegate.kinds import CRASH
from racegate.model import Finding, Frame, Outcome, SourceFrame, StackTrace, TestCase
from racegate.signature import describe, side_key, source_frame
from racegate.signature_rules import CURRENT, LEGACY, V1, SignatureRules, bucket_id
from racegate.stats import more_often_chance
from racegate.tsan_parse import parse_frame

# TSan's default `exitcode`: the process exits with it when it printed reports.
TSAN_EXITCODE = 66

_TSAN_FATAL = re.compile(r"^(?:==\d+==)?ERROR: ThreadSanitizer: (?P<what>[^\n]+)", re.MULTILINE)
_VOLATILE = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WHICH_IS = re.compile(r"^\s*Which is:[^\n]*$", re.MULTILINE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# How many further failures of a run a finding lists, after its first.
MAX_FURTHER = 8


@dataclass(frozen=True)
class FailureMessage:
    """One failure a test printed, as a rule of failure_rules.FAILURE_RULES read it."""

    rule: str
    text: str  # the message and its detail (values, logged context), stripped
    file: str  # "" when the format names none
    line: int | None
    block: str  # the output it was read from
    function: str = ""  # the function it failed in, when the format names it (assert()): function_name()

    @property
    def headline(self) -> str:
        return next((ln.strip() for ln in self.text.splitlines() if ln.strip()), "assertion failed")

    @property
    def where(self) -> str:
        return os.path.basename(self.file) if self.file else self.rule


def read_failures(output: str, aborted: bool = False) -> list[FailureMessage]:
    """The failures a test printed, in output order; with `aborted` also the lines that are failures only because
    the program aborted after them (failure_rules' abort_only rules), when nothing else explains the abort."""
    if "\x1b[" in output:
        output = _ANSI.sub("", output)  # Boost.Test colours its messages even into a pipe
    found = [m for m in _matches(output, [r for r in FAILURE_RULES if not r.abort_only])
             if not SIGNAL_REPORT.search(m.text)]
    if not found and aborted:
        found = _matches(output, [r for r in FAILURE_RULES if r.abort_only])[-1:]  # the last word before abort()
    return found


def _matches(output: str, rules: list[FailureRule]) -> list[FailureMessage]:
    hits: list[tuple[int, int, int, re.Match[str]]] = []
    for order, rule in enumerate(rules):
        if rule.marker in output:
            hits.extend((m.start(), order, m.end(), m) for m in rule.pattern.finditer(output))
    found: list[FailureMessage] = []
    covered = -1
    for start, order, end, match in sorted(hits, key=lambda h: h[:2]):
        if start < covered:
            continue  # inside a failure already read (a glibc line inside a gtest message)
        covered = end
        found.append(_message(rules[order], match))
    return found


def _message(rule: FailureRule, match: re.Match[str]) -> FailureMessage:
    groups = {k: (v or "").strip() for k, v in match.groupdict().items()}
    message, detail = groups.get("message", ""), groups.get("detail", "")
    if groups.get("type"):
        # What failed, its expression and the values it had: `CHECK: a == b` / `values: 3 == 5`.
        text = f"{groups['type']}: {message}" + (f"\nvalues: {detail}" if detail else "")
    else:
        text = "\n".join(part for part in (message, detail) if part)
    if rule.marker.startswith("<"):
        text = html.unescape(text)  # an XML reporter's text
    line = groups.get("line")
    return FailureMessage(rule.name, text, groups.get("file", ""), int(line) if line else None, match.group(0),
                          function_name(groups.get("function", "")))


def function_name(named: str) -> str:
    """The function a failure message names, as its key takes it (failure_rules.FUNCTION_NAME): `Ring::push` of
    `void Ring::push(T) [with T = int]`, `open_ctx` of clang's `void open_ctx(void)` and of gcc's `open_ctx`."""
    match = FUNCTION_NAME.search(named)
    return match.group("name") if match else named.strip()


def split_check(message: str) -> tuple[str, str]:
    """A failed check's expression and the values its framework printed (failure_rules.VALUES_START)."""
    values = "\n".join(m.group(0) for m in _WHICH_IS.finditer(message))
    parts = VALUES_START.split(_WHICH_IS.sub("", message), 1)
    return parts[0], "\n".join(p for p in (values, parts[1] if len(parts) > 1 else "") if p)


def timing_rules_matched(message: str) -> list[str]:
    """The names of the rules (failure_rules.TIMING_RULES, and "timing word" for TIMING_WORDS) that take a failed
    check for one on elapsed time or a deadline."""
    expression, values = split_check(message)
    words = re.findall(r"[a-z]+", _CAMEL.sub(" ", expression).lower())
    matched = ["timing word"] if not TIMING_WORDS.isdisjoint(words) else []
    for rule in TIMING_RULES:
        if rule.on == "ratio":
            if _slowdown_sized(rule, expression, values):
                matched.append(rule.name)
        elif rule.pattern.search(values if rule.on == "values" else expression):
            matched.append(rule.name)
    return matched


def _slowdown_sized(rule: TimingRule, expression: str, values: str) -> bool:
    """Fractional values over one another by a slowdown's factor, in a comparison of a difference (not of an
    absolute error, `abs(a - b) < eps`, the usual check of a computation's accuracy)."""
    if not re.search(r"\w\s*-\s*\w", expression) or re.search(r"\babs\s*\(|\bfabs\w*\s*\(", expression):
        return False
    low, high = SLOWDOWN_FACTORS
    for m in rule.pattern.finditer(values):
        a, b = float(m.group("a")), float(m.group("b"))
        if min(a, b) > 0 and low <= max(a, b) / min(a, b) <= high:
            return True
    return False


def is_timing_assertion(message: str) -> bool:
    """Whether a failed check is about elapsed time or a deadline: by its expression's words, clock calls, chrono
    types, time-point differences and duration literals, or by its values (time units, a slowdown's excess)."""
    return bool(timing_rules_matched(message))


def timing_by_behaviour(plain: tuple[int, int], perturbed: tuple[int, int], source: list[str] | None,
                        line: int | None) -> bool:
    """Whether a failed check whose words say nothing of time is one on time by how it behaves: it failed on a plain
    run (one is the least evidence that racegate's perturbation is not its cause), perturbed runs do not show it
    more often than plain ones beyond chance (an interleaving bug grows with perturbation; a one-sided Fisher test,
    failure_rules.PERTURBED_MORE_OFTEN, which few runs cannot pass), and the source above the check waits a fixed
    time (failure_rules.SLEEP_CALL). `plain` and `perturbed` are (runs, runs that showed it)."""
    (plain_runs, plain_with), (other_runs, other_with) = plain, perturbed
    if not plain_with or source is None or line is None or not 1 <= line <= len(source):
        return False
    if more_often_chance(plain_with, plain_runs, other_with, other_runs) < PERTURBED_MORE_OFTEN:
        return False
    return any(SLEEP_CALL.search(text) for text in source[max(0, line - SLEEP_WINDOW):line])


def normalize_message(text: str) -> str:
    """A failure message with values that change from run to run (numbers, addresses) masked."""
    return " ".join(_VOLATILE.sub("N", text).split())


def classify(test: TestCase, returncode: int | None, timed_out: bool, timeout: float, output: str,
             tsan_log: str, race_found: bool) -> tuple[Outcome, list[Finding]]:
    """The run's outcome (pass, race, fail, crash, timeout) and its non-TSan findings."""
    if timed_out:
        return Outcome.TIMEOUT, [_finding("timeout", test, f"timeout: {test.name} ran longer than {timeout:g} s",
                                          ["timeout"], output)]
    findings: list[Finding] = []
    outcome = Outcome.RACE if race_found else Outcome.PASS
    if returncode is not None and returncode < 0:
        name = signal_name(-returncode)
        messages = read_failures(output, aborted=True) if name == "SIGABRT" else []
        if messages:
            # An assert(), a Check failed, an uncaught exception: the program said why it aborted.
            outcome = Outcome.RACE if race_found else Outcome.FAIL
            return outcome, [_failure_finding(test, messages, _crash_ids(test, name))]
        findings.append(_finding("crash", test, f"crash: {test.name} killed by {name}", [name], output))
        return Outcome.CRASH, findings
    fatal = _fatal(tsan_log) or _fatal(output)
    if fatal:
        findings.append(_crash_finding(test, fatal))
        return Outcome.CRASH, findings
    if returncode is not None and returncode == test.skip_return_code:
        return outcome, []  # the test skipped itself
    if test.will_fail:
        if returncode == 0:
            return Outcome.FAIL, [_finding("test failure", test,
                                           f"test failure: {test.name} passed but is marked WILL_FAIL",
                                           ["unexpected pass"], "\n".join(output.strip().splitlines()[-20:]))]
        return outcome, []
    if returncode is None or returncode == 0:
        return outcome, []
    messages = read_failures(output)
    if messages:
        findings.append(_failure_finding(test, messages, _exit_ids(test, returncode)))
    elif not (race_found and returncode == TSAN_EXITCODE):
        tail = "\n".join(output.strip().splitlines()[-20:])
        findings.append(_finding("test failure", test, f"test failure: {test.name} exited with status {returncode}",
                                 [f"exit {returncode}"], tail))
    if findings and not race_found:
        outcome = Outcome.FAIL  # a run with a TSan report in any of its processes is a race, whatever else failed
    if TIMING_LABEL in test.labels:
        for finding in findings:
            finding.timing_sensitive = True  # the project says its failures are on time
    return outcome, findings


def named_tests(output: str) -> set[str]:
    """The framework tests a process's output names in their start or verdict lines (failure_rules.TEST_NAME_LINES)."""
    return {m.group("test").strip() for _, pattern in TEST_NAME_LINES for m in pattern.finditer(output)}


# What a failure is keyed on when the run said nothing but its exit status, and a tinytest child's failed exit.
_EXIT_KEY = re.compile(r"exit -?\d+|atexit failure")


def comes_from_race(finding: Finding, one_test: bool, child_reported: bool) -> bool:
    """Whether a run with a TSan report shows that its failure comes from that report: the run is one framework test
    (its own process naming at most one, or its stretch of a batch), or the failure is only an exit status (or a
    child's failed exit) and a child process printed the report: TSan's exitcode made the child fail, and its
    parent with it. A failure of a suite that also raced elsewhere proves nothing of the race."""
    if one_test:
        return True
    return child_reported and bool(finding.signature) and bool(_EXIT_KEY.fullmatch(finding.signature[-1]))


def _failure_finding(test: TestCase, messages: list[FailureMessage], earlier_ids: list[str]) -> Finding:
    """One finding for a run's failures: one failing run is one problem, keyed on its first failure; the others
    are its further messages. `earlier_ids` are the ids releases that read no message gave this failure."""
    first = messages[0]
    where = f"{first.where}:{first.line}" if first.line is not None else first.where
    title = f"test failure: {test.name}: {first.headline} ({where})"
    # A gtest key is its file and whole message block, as every release keyed it, so baselines keep matching.
    finding = _finding("test failure", test, title, failure_key(first),
                       "\n".join(m.block.rstrip("\n") for m in messages[:1 + MAX_FURTHER]),
                       frames=[SourceFrame(test.name, first.file, first.line)] if first.line is not None else [],
                       legacy_key=failure_key(first, LEGACY[-1]))
    finding.further_messages = [f"{m.headline} ({m.where}{f':{m.line}' if m.line is not None else ''})"
                                for m in messages[1:1 + MAX_FURTHER]]
    finding.legacy_ids += earlier_ids
    finding.timing_sensitive = is_timing_assertion(first.text)
    return finding


def failure_key(message: FailureMessage, rules: SignatureRules = CURRENT) -> list[str]:
    """What a failure is keyed on beside its test: its file, the function it failed in where its message names one
    and the rules key on it (signature v6), and its message with volatile values masked; never its line, which an
    edit above it moves."""
    function = [f"in {normalize_message(message.function)}"] if message.function and rules.key_failures_on_function \
        else []
    return [message.where, *function, normalize_message(message.text)]


def _exit_ids(test: TestCase, returncode: int) -> list[str]:
    """The ids of `exited with status N`: what a failure of a framework racegate did not read was keyed on."""
    return [bucket_id("test failure", [test.name, f"exit {returncode}"], rules) for rules in (*LEGACY, CURRENT)]


def _crash_ids(test: TestCase, signal: str) -> list[str]:
    """The ids of `killed by SIGABRT`: what a failed assert() was keyed on before its message was read."""
    return [bucket_id(CRASH, [test.name, signal], rules) for rules in (*LEGACY, CURRENT)]


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
    # Signature v2 and later key it on the top project frame as each names it (v2: a test body without its class).
    legacy += [bucket_id(CRASH, [side_key(frames, rules)[0]] if top is not None else [test.name, what], rules)
               for rules in LEGACY[1:]]
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
             frames: list[SourceFrame] | None = None, legacy_key: list[str] | None = None) -> Finding:
    """`legacy_key`: what the signature versions of LEGACY keyed it on, when that is not `key` (their ids are its
    legacy_ids, one per version in order, so baselines and histories of earlier releases know it)."""
    # Non-TSan buckets are per test: the same message in two tests is usually two problems.
    signature = [test.name, *key]
    legacy_signature = [test.name, *(key if legacy_key is None else legacy_key)]
    return Finding(kind=kind, title=title, signature=signature, frames=frames or [], raw=raw,
                   legacy_ids=[bucket_id(kind, legacy_signature, rules) for rules in LEGACY])


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
