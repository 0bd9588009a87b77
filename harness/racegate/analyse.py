"""The analyse stage: what one run's exit status and logs mean. Parses its TSan reports, signs them,
classifies the outcome and failures without a TSan report, and reads the shim's report."""
from __future__ import annotations

from racegate import failure, shim
from racegate.errors import RacegateError
from racegate.execute import Execution
from racegate.library_reports import library_issue
from racegate.model import CUT, Finding, RunRecord, TsanReport
from racegate.run_env import replay_env
from racegate.signature import finding_from_report
from racegate.suppressions import matched_counts
from racegate.tsan_parse import parse_reports

# Older TSan runtimes die with this under newer kernels' larger mmap randomization.
UNEXPECTED_MAPPING = "ThreadSanitizer: unexpected memory mapping"


def analyse_run(execution: Execution) -> RunRecord:
    """The run's record, its log_dir left empty for the executor to fill once it has kept the logs.
    A TSan runtime that cannot run on this machine at all is an environment error, not a finding."""
    output, tsan_log = execution.output, execution.tsan_log
    if UNEXPECTED_MAPPING in output or UNEXPECTED_MAPPING in tsan_log:
        raise RacegateError("the TSan runtime cannot run under this kernel's address-space randomization "
                            "(\"unexpected memory mapping\"): run `sudo sysctl -w vm.mmap_rnd_bits=28`")
    plan = execution.plan
    findings = [sign_report(r) for r in parse_reports(tsan_log)]
    failures: list[Finding]
    if execution.cut is not None:
        # racegate ended the run: its exit status says nothing of the test; the races it printed still count.
        outcome, failures = CUT, []
    else:
        outcome, failures = failure.classify(plan.test, execution.returncode, execution.timed_out,
                                             execution.timeout, output, tsan_log, bool(findings))
    report = shim.read_shim_report(execution.shim_report)
    # Without the shim (a plain run of a test whose count is known) the run says nothing of its threads.
    threads, unobserved = shim.thread_count(report) if plan.preload_shim else (None, None)
    return RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, schedule=plan.schedule,
                     command=execution.argv, outcome=outcome, returncode=execution.returncode,
                     duration=execution.duration, log_dir="", threads=threads,
                     threads_unobserved=unobserved, findings=findings + failures,
                     env=replay_env(plan.test, execution.env),
                     schedule_note=report.get("note"), cwd=plan.test.cwd, cut=execution.cut,
                     suppressed=dict(matched_counts(output, tsan_log)), purpose=plan.purpose)


def sign_report(report: TsanReport) -> Finding:
    finding = finding_from_report(report)
    issue = library_issue(report)
    if issue is not None:
        finding.library_rule = issue.rule
    return finding
