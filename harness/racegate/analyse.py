"""The analyse stage: what one test's run means, whether it ran in a process of its own or in a batch process
with other tests (batch.py cuts such a process's output into one `Stretch` per test). `analyse_run` is the one
place that parses a run's TSan reports, signs them, classifies its outcome and failures without a TSan report,
reads the shim's report, keeps the environment to replay it and counts matched suppressions; `run_analysed`
runs a plan and settles its records (their log dir, their start)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from racegate import failure, shim
from racegate.errors import RacegateError
from racegate.execute import Execution, Executor
from racegate.library_reports import library_issue
from racegate.model import Finding, Outcome, PlannedRun, RunRecord, TsanReport
from racegate.run_env import replay_env
from racegate.signature import finding_from_report
from racegate.suppressions import matched_counts
from racegate.tsan_parse import parse_reports

# Older TSan runtimes die with this under newer kernels' larger mmap randomization.
UNEXPECTED_MAPPING = "ThreadSanitizer: unexpected memory mapping"


@dataclass(frozen=True)
class Stretch:
    """One test's part of a batch process: its stretch of the output (its TSan reports are in it) and what its
    framework said of it. The process's exit status, thread count and shim note are not the test's own."""

    plan: PlannedRun  # the test's own planned run
    text: str
    reports: tuple[TsanReport, ...]  # the reports laid at this test (batch.py leaves out another test's)
    verdict: str | None  # "pass", "fail", "skip"; None when it never ended: the process's end is its end
    seconds: float  # its share of the process's time
    timeout: float  # seconds one test of the batch may take
    counts_suppressions: bool = False  # what TSan suppressed is counted per process, on one of its records


def analyse_run(execution: Execution, stretch: Stretch | None = None) -> RunRecord:
    """The record of a test's run: of the whole execution, or of the test's stretch of a batch process's. Its
    log_dir and started are left for `run_analysed` to fill once the logs are kept. A TSan runtime that cannot
    run on this machine at all is an environment error, not a finding."""
    if UNEXPECTED_MAPPING in execution.output or UNEXPECTED_MAPPING in execution.tsan_log:
        raise RacegateError("the TSan runtime cannot run under this kernel's address-space randomization "
                            "(\"unexpected memory mapping\"): run `sudo sysctl -w vm.mmap_rnd_bits=28`")
    alone = stretch is None  # the process was the test's own: its status, threads and shim note are the test's
    plan = stretch.plan if stretch else execution.plan
    if stretch is None:
        output, tsan_log, reports = execution.output, execution.tsan_log, parse_reports(execution.tsan_log)
    else:
        output = tsan_log = stretch.text  # a batch's TSan reports are in its output, at the test's place
        reports = list(stretch.reports)
    findings = [sign_report(r, plan.test.name) for r in reports]
    failures: list[Finding]
    if execution.cut is not None and (stretch is None or stretch.verdict is None):
        # racegate ended the run: its exit status says nothing of the test; the races it printed still count.
        outcome, failures = Outcome.CUT, []
    else:
        status, timed_out = _exit(execution, stretch)
        timeout = stretch.timeout if stretch else execution.timeout
        outcome, failures = failure.classify(plan.test, status, timed_out, timeout, output, tsan_log, bool(findings))
    if findings and failures:
        # Whether each failure comes from this run's reports: one framework test, or a child's TSan exit.
        one_test = stretch is not None or len(failure.named_tests(output)) <= 1
        child = execution.pid is not None and any(r.pid not in (None, execution.pid) for r in reports)
        for finding in failures:
            finding.from_race = failure.comes_from_race(finding, one_test, child)
    report = shim.read_shim_report(execution.shim_report)
    threads, unobserved = _threads(plan, report, execution.cut)
    counted = stretch is None or stretch.counts_suppressions
    return RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, strategy=plan.strategy,
                     command=execution.argv if alone else list(plan.test.command), outcome=outcome,
                     # A batched test's exit status is its process's: said only where it ended the test.
                     returncode=execution.returncode if alone or outcome in (Outcome.CRASH, Outcome.TIMEOUT) else None,
                     duration=execution.duration if stretch is None else round(stretch.seconds, 4), log_dir="",
                     # One thread all along the process: none of its tests had more.
                     threads=threads if alone or threads == 1 else None,
                     threads_unobserved=unobserved if alone else None,
                     findings=findings + failures, env=replay_env(plan.test, execution.env),
                     strategy_note=report.get("note") if alone else None, cwd=plan.test.cwd,
                     cut=execution.cut if outcome == Outcome.CUT else None,
                     suppressed=suppressed(execution) if counted else {},
                     purpose=plan.purpose, peak_memory=execution.peak_memory if alone else None,
                     overlapped=execution.overlapped)


def _threads(plan: PlannedRun, report: dict, cut: str | None) -> tuple[int | None, str | None]:
    """The run's thread count and why some process of it went uncounted (shim.thread_count), as far as the run can
    tell. Without the shim (a plain run of a test whose count is known) it tells nothing: its missing shim file is
    by design, no process the shim failed to see. Nor does a run racegate cut say what went uncounted: killed
    before its program started, or before a forked child wrote its block, its file lacks what a whole run's has.
    The threads a cut run did count are still counted."""
    if not plan.preload_shim:
        return None, None
    threads, unobserved = shim.thread_count(report)
    return threads, unobserved if cut is None else None


def _exit(execution: Execution, stretch: Stretch | None) -> tuple[int | None, bool]:
    """(exit status, timed out) as they tell how the test ended: its process's, unless its framework said it
    ended within a batch (then its verdict is its status)."""
    if stretch is None or stretch.verdict is None:
        return execution.returncode, execution.timed_out
    return (1 if stretch.verdict == "fail" else 0), False


def suppressed(execution: Execution) -> dict[str, int]:
    """How often each suppression matched in the process, as TSan printed it at exit."""
    return dict(matched_counts(execution.output, execution.tsan_log))


def sign_report(report: TsanReport, test: str = "") -> Finding:
    """The finding of a report of `test`, which keys a report that names nothing of the program."""
    finding = finding_from_report(report, test)
    issue = library_issue(report)
    if issue is not None:
        finding.library_rule = issue.rule
    return finding


def run_analysed(executor: Executor, plan: PlannedRun, session_started: float,
                 read: Callable[[Execution], list[RunRecord]] = lambda execution: [analyse_run(execution)],
                 ) -> tuple[Execution, list[RunRecord]]:
    """Run the plan and read its records (by default the one of a test's own process; a batch's reader gives
    one per test): its logs are kept when a record shows something or an interrupt cut it short; each record
    says where they are and when it started, counted from `session_started` (time.monotonic()): records of one
    process start one after another, each when the ones before it have had their share of its time."""
    with executor.run(plan) as execution:
        records = read(execution)
        execution.keep_logs = execution.interrupted or any(r.outcome != Outcome.PASS for r in records)
    offset = execution.started - session_started
    for record in records:
        record.log_dir = execution.log_dir
        record.started = round(offset, 3)
        offset += record.duration
    return execution, records
