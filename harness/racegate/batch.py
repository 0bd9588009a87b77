"""The batched first pass: the first, plain runs of many tests of one GoogleTest or doctest executable in a few
processes.

Under TSan a process costs far more to start than a small test costs to run (0.5 s and 340 MB for a real
HTTP library's test binary), so a suite of thousands of tests run one per process spends its first pass
starting processes. The tests `gtest_discover_tests` registers for one executable differ only in their
`--gtest_filter`: here they run as a few processes with a filter list, split across the jobs, and each
process's output is cut at gtest's `[ RUN      ]` markers into one record per test (frameworks/gtest.py says why
that order holds). The test cases `doctest_discover_tests` registers differ only in their `--test-case=`, and
their processes' output is cut at doctest's XML elements (frameworks/doctest_xml.py). What each framework gives
is its `Framework` record (frameworks/). Repetitions stay one test per process:
isolation is what they measure.

A report TSan printed outside every test (before the first, between two, after the last) or whose stacks run
in the body of another test (a thread that outlived its test; for doctest, whose bodies' names do not say their
case: in the bodies of two cases) cannot be laid at one test with certainty: it goes to a record of the
executable itself, the test "<program> (outside its tests)", which says so in a note.

A crash or hang ends the process at the test that was running: that test gets the crash or timeout, as it
would have run alone; the tests after it run again in a new process. A process that died before its first
test (a crash in global set-up) runs its tests one per process, so each gets the outcome it would have alone.
An interrupt (Ctrl-C) keeps the records of the tests that ended before it; the one it cut short gets none, as a
test run alone would not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

from racegate import failure
from racegate.analyse import Stretch, analyse_run, run_analysed, sign_report, suppressed
from racegate.execute import DEFAULT_TIMEOUT, Execution, Executor, Stopped
from racegate.model import Finding, Outcome, PlannedBatch, PlannedRun, RunRecord, TestCase, TsanReport
from racegate.run_env import replay_env
from racegate.frameworks import of_test
from racegate.frameworks.framework import Framework
from racegate.frameworks.gtest import GTEST
from racegate.frameworks.segments import Segment
from racegate.tsan_parse import parse_reports

# Linux caps one argument at 128 KiB (MAX_ARG_STRLEN): a batch's --gtest_filter or --test-case= stays well below.
FILTER_LIMIT = 100_000
OUTSIDE = " (outside its tests)"
OUTSIDE_NOTE = ("TSan reports printed by a batched first-pass process outside any one of its tests (before the "
                "first, between two, after the last, or from a thread that outlived its test); they belong to "
                "the executable as a whole")


def batch_key(test: TestCase) -> tuple | None:
    """What tests must share to run in one process: the command apart from the filter, the working
    directory and environment. None for a test that runs alone: not one gtest test or doctest case, RUN_SERIAL
    (nothing may run beside it), or WILL_FAIL / SKIP_RETURN_CODE (their meaning is the exit status of their own
    process)."""
    if test.run_serial or test.will_fail or test.skip_return_code is not None:
        return None
    fw = of_test(test)
    if fw is None or fw.selected(test) is None:
        return None
    base = tuple(arg for arg in test.command if not fw.is_selector(arg))
    return base, test.cwd, test.env


def plan_batches(tests: list[TestCase], jobs: int) -> list[list[TestCase]]:
    """The tests to run batched, as batches: tests of one executable (same key) together, split so that the
    jobs share them (about tests/jobs per batch) and each filter stays under FILTER_LIMIT. An executable with
    one selected test runs it alone."""
    groups: dict[tuple, list[TestCase]] = {}
    for test in tests:
        key = batch_key(test)
        if key is not None:
            groups.setdefault(key, []).append(test)
    groups = {k: g for k, g in groups.items() if len(g) > 1}
    total = sum(len(g) for g in groups.values())
    if not total:
        return []
    size = math.ceil(total / jobs)
    batches: list[list[TestCase]] = []
    for group in groups.values():
        count = math.ceil(len(group) / size)
        step = math.ceil(len(group) / count)
        for i in range(0, len(group), step):
            batches.extend(_within_filter_limit(group[i:i + step]))
    return batches


def _within_filter_limit(tests: list[TestCase]) -> list[list[TestCase]]:
    chunks: list[list[TestCase]] = [[]]
    length = 0
    for test in tests:
        fw = of_test(test)
        add = len(fw.quote(fw.selected(test) or "") if fw else "") + 1
        if chunks[-1] and length + add > FILTER_LIMIT:
            chunks.append([])
            length = 0
        chunks[-1].append(test)
        length += add
    return chunks


def batch_command(tests: list[TestCase]) -> tuple[str, ...]:
    """The shared command with one filter naming every test, where the first test had its filter, spelt as
    the first test spelt it."""
    fw = of_test(tests[0]) or GTEST
    first = tests[0].command
    where = next(i for i, arg in enumerate(first) if fw.is_selector(arg))
    flag = first[where][:first[where].index("=") + 1]
    names = fw.separator.join(fw.quote(fw.selected(t) or "") for t in tests)
    return first[:where] + (flag + names,) + first[where + 1:]


def outside_test(tests: list[TestCase], command: tuple[str, ...]) -> TestCase:
    """The pseudo test that holds what a batch process printed outside its tests."""
    first = tests[0]
    return TestCase(name=Path(first.command[0]).name + OUTSIDE, command=command, cwd=first.cwd, env=first.env,
                    is_gtest=first.is_gtest)


# -- cutting one process's output into its tests' records ---------------------------------------------------


@dataclass
class Split:
    """One batch process, cut into its tests: records of the tests it ran, what it printed outside them, and the
    tests it never reached (after the one that crashed or hung, or all when it died before its first)."""

    records: list[RunRecord] = field(default_factory=list)
    outside: RunRecord | None = None
    outside_test: TestCase | None = None  # the pseudo test `outside` is a record of
    rest: list[PlannedRun] = field(default_factory=list)
    started_any: bool = False
    # The tests' own seconds, as their framework timed them, when every test that started ended; else None.
    tests_seconds: float | None = None

    def every_record(self) -> list[RunRecord]:
        """What the process printed outside its tests first: it is taken to start with the process."""
        return ([self.outside] if self.outside else []) + self.records


def split_execution(execution: Execution, runs: list[PlannedRun], per_test_timeout: float) -> Split:
    """The records of one batch process: its output cut into one stretch per test, each read by the analyse
    stage as a test's own run is, with its outcome from gtest's JSON where it wrote one, else from the markers;
    reports by their place in the output."""
    fw = of_test(runs[0].test) or GTEST
    by_name = {fw.selected(p.test): p for p in runs}
    output = execution.output
    segments = fw.split_output(output)
    outcomes = fw.read_outcomes(execution.run_dir) or {}
    split = Split()
    outside_text: list[str] = []
    moved: list[TsanReport] = []
    ran: list[tuple[PlannedRun, Segment]] = []
    for segment in segments:
        plan = by_name.get(segment.test) if segment.test is not None else None
        if plan is None:  # outside every test, or a test the filter did not ask for
            outside_text.append(output[segment.start:segment.end])
            continue
        ran.append((plan, segment))
    split.started_any = bool(ran)
    reached = {id(plan) for plan, _ in ran}
    split.rest = [p for p in runs if id(p) not in reached] if ran else list(runs)

    def own_seconds(plan: PlannedRun, segment: Segment) -> float:
        name = fw.selected(plan.test) or ""
        return outcomes[name].seconds if name in outcomes else segment.seconds or 0.0

    open_seconds = execution.duration - sum(own_seconds(p, s) for p, s in ran if s.verdict is not None)
    ended = [s for _, s in ran if s.verdict is not None]
    # The process's own cost (start-up, set-up, exit) is shared by its tests when they all ended.
    overhead = 0.0 if len(ended) < len(ran) else max(0.0, open_seconds) / max(1, len(ran))
    if ran and len(ended) == len(ran):
        split.tests_seconds = execution.duration - open_seconds
    stretches: list[Stretch] = []
    for plan, segment in ran:
        if segment.verdict is None and execution.interrupted:
            continue  # cut short by the interrupt: no record, as for a test run alone
        text = output[segment.start:segment.end]
        own, others = _own_reports(fw, plan, text)
        moved.extend(others)
        name = fw.selected(plan.test) or ""
        if segment.verdict is None:  # it crashed, hung or was cut: the process's end is its end
            verdict, seconds = None, max(0.0, open_seconds)
        else:
            verdict = outcomes[name].verdict if name in outcomes else segment.verdict
            seconds = own_seconds(plan, segment) + overhead
        stretches.append(Stretch(plan, text, tuple(own), verdict, seconds, per_test_timeout))
    tests = [p.test for p in runs]
    pseudo = outside_test(tests, batch_command(tests))
    outside = [sign_report(r, pseudo.name) for r in parse_reports("".join(outside_text)) + moved]
    exit_failures = _exit_failures(execution, ran, per_test_timeout, "".join(outside_text))
    if outside or exit_failures:
        split.outside_test = pseudo
        split.outside = RunRecord(
            test=pseudo.name, run=execution.plan.run, seed=execution.plan.seed, strategy=execution.plan.strategy,
            command=list(pseudo.command), outcome=_outcome(outside, exit_failures, execution),
            returncode=execution.returncode, duration=0.0, log_dir="", findings=outside + exit_failures,
            env=replay_env(pseudo, execution.env), cwd=pseudo.cwd, cut=execution.cut,
            suppressed=suppressed(execution))
    elif stretches:
        # What TSan suppressed is counted per process, at its exit: once, on its last record.
        stretches[-1] = replace(stretches[-1], counts_suppressions=True)
    split.records = [analyse_run(execution, stretch) for stretch in stretches]
    return split


def _own_reports(fw: Framework, plan: PlannedRun, text: str) -> tuple[list[TsanReport], list[TsanReport]]:
    """The reports in a test's stretch of output that are its own, and those whose stacks run in another
    test's body (a thread that outlived its test): those are not laid at this test."""
    own: list[TsanReport] = []
    others: list[TsanReport] = []
    name = fw.selected(plan.test) or ""
    for report in parse_reports(text):
        functions = [f.function for s in report.stacks for f in s.frames]
        (others if fw.in_other_body(name, functions) else own).append(report)
    return own, others


def _exit_failures(execution: Execution, ran: list[tuple[PlannedRun, Segment]], per_test_timeout: float,
                   outside_text: str) -> list[Finding]:
    """A crash, hang or exit status of the process that no test of it explains: the executable's own."""
    if execution.cut is not None or execution.interrupted or any(s.verdict is None for _, s in ran) or not ran:
        return []  # a test that never ended carries it; a process that ran no test runs its tests alone
    status = execution.returncode
    explained = status == 0 or (status == failure.TSAN_EXITCODE) or (
        status == 1 and any(s.verdict == "fail" for _, s in ran))
    if explained and not execution.timed_out:
        return []
    pseudo = outside_test([p.test for p, _ in ran], tuple(execution.argv))
    _, findings = failure.classify(pseudo, status, execution.timed_out, per_test_timeout, outside_text,
                                   outside_text, False)
    return findings


def _outcome(findings: list[Finding], exit_failures: list[Finding], execution: Execution) -> Outcome:
    if execution.cut is not None:
        return Outcome.CUT
    for outcome in (Outcome.TIMEOUT, Outcome.CRASH):
        if any(f.kind == outcome for f in exit_failures):
            return outcome
    return Outcome.FAIL if exit_failures else Outcome.RACE


# -- running a batch ---------------------------------------------------------------------------------------


@dataclass
class Process:
    """One process the first pass of a batch started: its wall time, and its tests' own time when their
    framework said."""

    seconds: float
    tests_seconds: float | None  # None when the process did not end normally (its tests' times are partial)
    tests: int
    batched: bool = True  # False for a test run alone after its batch's process died before its first test


@dataclass
class BatchResult:
    """What one process of a batch left: the records of the tests that ran in it, and what it printed outside
    them."""

    records: list[RunRecord]  # one per test that ran
    # The pseudo test and its record, when the process printed something outside its tests.
    outside: tuple[TestCase, RunRecord] | None
    process: Process


def run_batch(executor: Executor, batch: PlannedBatch, reserve_run: Callable[[], int],
              session_started: float) -> Iterator[BatchResult]:
    """Run the batch's processes until every test has a record, re-running the tests after one that crashed or
    hung, and yield each process's result as it ends, so that an interrupt loses none that ended before it.
    A process that cannot tell its tests apart (it died before the first) gives way to one per test.
    Each record's `started` counts from `session_started` (time.monotonic()): a batched test is taken to start
    when the tests before it in its process have had their share of its time."""
    pending = list(batch.runs)
    while len(pending) > 1:
        tests = [p.test for p in pending]
        per_test = executor.timeout or max(t.timeout or DEFAULT_TIMEOUT for t in tests)
        first = pending[0]
        # The batch's own run index names its log dir; each test keeps the run index it was planned with.
        plan = PlannedRun(test=replace(tests[0], name=Path(tests[0].command[0]).name + " (batch)",
                                       command=batch_command(tests), timeout=per_test),
                          run=reserve_run(), seed=first.seed, strategy=first.strategy, preload_shim=True,
                          batch=len(pending))
        splits: list[Split] = []

        def read(execution: Execution) -> list[RunRecord]:
            splits.append(split_execution(execution, pending, per_test))
            return splits[0].every_record()

        execution, _ = run_analysed(executor, plan, session_started, read)
        split = splits[0]
        yield BatchResult(split.records,
                          (split.outside_test, split.outside) if split.outside and split.outside_test else None,
                          Process(execution.duration, split.tests_seconds, len(split.records)))
        if execution.interrupted:
            raise Stopped
        if execution.cut is not None:
            return  # the budget ran out: the tests not reached stay without a run
        if not split.started_any:
            break  # it died before its first test: each runs alone
        pending = split.rest
    for plan in pending:
        execution, records = run_analysed(executor, plan, session_started)
        yield BatchResult(records, None, Process(execution.duration, None, 1, batched=False))
