"""One `racegate run`: worker threads take planned runs from the scheduler until the budget is spent."""
from __future__ import annotations

import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from racegate import history as histories
from racegate import copies, memory, outdir, steady_crash
from racegate.advice import interference_advice, steady_crash_advice
from racegate import result as results
from racegate.analyse import run_analysed
from racegate.batch import OUTSIDE_NOTE, BatchResult, plan_batches, run_batch
from racegate.bucket import Bucketer
from racegate.execute import Executor, Stopped
from racegate.model import EndedBy, PlannedBatch, RunRecord, TestCase
from racegate.progress import Progress
from racegate.schedule import DEFAULT_RUNS, Scheduler
from racegate.signature_rules import bucket_id
from racegate.suppressions import SuppressionFile


@dataclass
class SessionConfig:
    out_dir: Path
    jobs: int
    master_seed: int
    runs: int | None
    time_budget: float | None
    timeout: float | None
    until_confident: float | None
    shim_path: Path | None
    suppressions: SuppressionFile | None = None  # the file every run gets, and its entries
    batch: bool = True  # the first runs of a gtest executable's tests share processes (batch.py)
    history: histories.History | None = None  # what earlier sessions learned (--history)
    plain_arm: bool = True  # plain repetition competes with the strategies (the default portfolio)
    focus: dict[str, str] | None = None  # --changed-since: each test's focus group (changes.test_groups)


class Session:
    def __init__(self, tests: list[TestCase], strategies_for, config: SessionConfig):
        self.tests = tests
        self.config = config
        outdir.clear_logs(config.out_dir)
        self.started = time.monotonic()
        # The budget is a deadline: no run starts after it, and runs still going then are cut.
        deadline = self.started + config.time_budget if config.time_budget is not None else None
        self.scheduler = Scheduler(tests, strategies_for, config.master_seed, config.runs, deadline,
                                   config.until_confident, bucket_id, config.history,
                                   config.plain_arm, config.focus)
        tsan_flags = {"suppressions": str(config.suppressions.path)} if config.suppressions else None
        # Memory admission (memory.Admission) starts from the peaks earlier sessions measured.
        peaks = {name: t.peak_memory for name, t in (config.history.tests if config.history else {}).items()
                 if t.peak_memory is not None}
        self.executor = Executor(outdir.runs_dir(config.out_dir), config.shim_path, config.timeout, deadline,
                                 tsan_flags, memory.Admission(peaks), config.jobs)
        self.bucketer = Bucketer(outdir.reports_dir(config.out_dir))
        if config.batch:
            self.scheduler.add_batches(plan_batches(tests, config.jobs))
        self.cost = results.Cost()
        self._ran: set[str] = set()  # tests with a finished run: a run of one of them is a repetition
        self._outside: dict[str, TestCase] = {}  # "<program> (outside its tests)" of the batches that had one
        self.records: list[RunRecord] = []
        self.failed_runs = 0
        self.interrupted = False
        self.strategy_notes: list[str] = []
        self._lock = threading.Lock()
        self._errors: list[BaseException] = []
        self._workers_left = 0
        self._workers_finished = threading.Condition()

    def run(self, progress: Progress) -> float:
        """Run until the budget is spent or a signal arrives; returns the wall time since the session began."""
        # Waited for through a condition, not Thread.join: in Python 3.11 a join cut short by Ctrl-C can
        # mark a thread that is still running as finished, and a later join then returns at once.
        self._workers_left = self.config.jobs
        for _ in range(self.config.jobs):
            threading.Thread(target=self._work, daemon=True).start()
        try:
            while not self._workers_done(timeout=0.1):
                self._progress(progress)
        except KeyboardInterrupt:
            # A second Ctrl-C or SIGTERM must not cut short the writing of the partial results.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.interrupted = True
            self.scheduler.stop()
            self.executor.stop()
            self._workers_done(timeout=None)
        finally:
            self.executor.close()
            progress.finish()
        if self._errors:
            raise self._errors[0]
        return time.monotonic() - self.started

    def _workers_done(self, timeout: float | None) -> bool:
        with self._workers_finished:
            return self._workers_finished.wait_for(lambda: self._workers_left == 0, timeout)

    def _progress(self, progress: Progress) -> None:
        if not progress.due():
            return
        with self._lock:
            done, failed, problems = len(self.records), self.failed_runs, self.problems()
        # A batch's tests are counted as its output shows them end, not all at once when its process ends.
        progress.update(done + self.executor.tests_ended_in_batches(), failed, problems)

    def problems(self) -> int:
        """The problems found so far, as the result will count them: the buckets, less the failures that are a
        race's symptoms (shown and gated with the race; a forked child's report fails its parent). Counting the
        buckets alone said `2 buckets` through a session whose result said `1 new problem` (field #32)."""
        return len(self.bucketer.buckets) - len(self.bucketer.symptoms())

    def _work(self) -> None:
        try:
            while True:
                plan = self.scheduler.next()
                if plan is None:
                    return
                if isinstance(plan, PlannedBatch):
                    try:
                        for done in run_batch(self.executor, plan, self.scheduler.reserve_run, self.started):
                            self._settle_batch(done)
                    except Stopped:
                        return
                    continue
                with self._lock:
                    if self.cost.first_repetition_after is None and plan.test.name in self._ran:
                        self.cost.first_repetition_after = round(time.monotonic() - self.started, 3)
                try:
                    _, (record,) = run_analysed(self.executor, plan, self.started)
                except Stopped:
                    return
                with self._lock:
                    self.cost.processes += 1
                    if record.test in self._ran:
                        self.cost.repetition_seconds += record.duration
                    else:
                        self.cost.first_pass_seconds += record.duration
                self._settle(record)
        except BaseException as exc:  # a worker's crash must end the session, not hang it
            self._errors.append(exc)
            self.scheduler.stop()
        finally:
            with self._workers_finished:
                self._workers_left -= 1
                self._workers_finished.notify_all()

    def _settle(self, record: RunRecord, scheduled: bool = True) -> None:
        """Count, bucket and hand a finished run to the scheduler (unless it is a batch's record of what none
        of its tests owns: the scheduler plans tests, not executables)."""
        with self._lock:
            self.records.append(record)
            self._ran.add(record.test)
            self.failed_runs += record.outcome.is_failure
            self.bucketer.add(record)
            if scheduled:
                self.scheduler.record(record)
            if record.strategy_note and record.strategy_note not in self.strategy_notes:
                # Said once, and kept in the result, e.g. pct falling back without CAP_SYS_NICE.
                self.strategy_notes.append(record.strategy_note)
                print(f"racegate: note: {record.strategy_note}", file=sys.stderr)

    def _settle_batch(self, done: BatchResult) -> None:
        """Settle what one process of a batch left, as soon as it ended."""
        with self._lock:
            process = done.process
            self.cost.add_process(process.seconds, process.tests_seconds, process.tests, process.batched)
            if done.outside:
                self._outside.setdefault(done.outside[0].name, done.outside[0])
        for record in done.records:
            self._settle(record)
        if done.outside:
            self._settle(done.outside[1], scheduled=False)

    def result(self, config: results.RunConfig, wall_seconds: float, not_built: Iterable[results.TestResult] = (),
               known: dict[str, dict] | None = None) -> results.Result:
        """The session's result, whole: `not_built` are the selected tests that never ran, `known` the baseline's
        entries (gate.load_baseline)."""
        every_test = self.tests + list(self._outside.values())
        by_test: dict[str, list[RunRecord]] = {t.name: [] for t in every_test}
        for r in self.records:
            by_test[r.test].append(r)
        notes = self.scheduler.notes()
        not_repeated = self.scheduler.single_thread_reasons()
        for name in self._outside:
            notes[name] = [OUTSIDE_NOTE]
        tests = []
        for t in every_test:
            never = None
            if not by_test[t.name]:
                never = ("the session was interrupted before its first run" if self.interrupted
                         else "the time budget ran out before its first run")
            tests.append(replace(results.TestResult.from_runs(t, by_test[t.name]), notes=notes.get(t.name, []),
                                 not_repeated=not_repeated.get(t.name),
                                 unfinished=results.unfinished_after(by_test[t.name]), not_run=never,
                                 focus=self.config.focus.get(t.name) if self.config.focus else None))
        buckets = list(self.bucketer.buckets.values())
        ended_by = self._ended_by(wall_seconds)
        entries = {b.id: results.bucket_result(b, self.config.out_dir,
                                               results.bucket_evidence(b, self.records, ended_by))
                   for b in buckets}
        # A failure that came with a race is the race's symptom: shown, counted and gated with it.
        for failure, of in self.bucketer.symptoms().items():
            entries[of.cause].symptoms.append(entries.pop(failure).symptom(of.runs_with_both))
        # A failure seen only beside another copy of its test, never alone: the copies' clash, not gated.
        for b in buckets:
            if b.id in entries and copies.interfering(b, self.records):
                entries[b.id] = replace(entries[b.id], interference=True, advice=interference_advice(b.finding.kind))
        # Tests killed by a signal on every run without a TSan report: advice for a steady crash, not a racy one.
        steady, steady_buckets = steady_crash.find(self.records)
        for bid, signal_name in steady_buckets.items():
            if bid in entries:
                entries[bid] = replace(entries[bid], advice=steady_crash_advice(signal_name))
        return results.build_result(
            replace(config, strategy_notes=list(self.strategy_notes)), tests, list(entries.values()),
            results.strategy_stats(self.records, (b.found.strategy for b in buckets if b.id in entries)),
            results.discovery_curve((b.found.run for b in buckets if b.id in entries), self.records),
            wall_seconds, self.interrupted, self._suppression_results(),
            # Time: when each bucket was first seen, and what weighing findings cost beside the search.
            discovery_seconds=results.discovery_curve_seconds(entries.values(), wall_seconds),
            verification=results.verification_spent(self.records), steady_crashes=steady, cost=self.cost,
            not_run=not_built, known=known)

    def _ended_by(self, wall_seconds: float) -> EndedBy | None:
        """Why the session ended while runs it planned may still have been waiting (Evidence.ended_by); None when
        it ran out of work."""
        if self.interrupted:
            return EndedBy.INTERRUPT
        if self.config.time_budget is not None and wall_seconds >= self.config.time_budget:
            return EndedBy.BUDGET
        return EndedBy.CONFIDENT if self.config.until_confident is not None else None

    def learned(self) -> histories.History:
        """The history to keep for the next session: the earlier one with this session's runs added."""
        with self._lock:
            # A batch's "(outside its tests)" entry is no test a later session runs.
            records = [r for r in self.records if r.test not in self._outside]
        ids = {r.run: [f.id for f in r.findings] for r in records}
        now = histories.from_session(records, ids, self.scheduler.one_at_a_time())
        past = self.config.history
        if past is None:
            return now
        # Ids an older history holds become current ones where this session's findings show their bug.
        findings = (f for r in records for f in r.findings)
        return past.translated(histories.aliases(findings, bucket_id, past.signature_version)).merged(now)

    def _suppression_results(self) -> list[results.SuppressionResult] | None:
        if self.config.suppressions is None:
            return None
        matched: Counter[str] = Counter()
        for record in self.records:
            matched.update(record.suppressed)
        return [results.SuppressionResult(entry, file, matched[entry])
                for entry, file in self.config.suppressions.entries]


def planned_runs(tests: int, runs: int | None, budget: float | None, until_confident: float | None) -> int | None:
    """The most runs the progress line counts towards, when a run count bounds the session."""
    if runs is None and (budget is not None or until_confident is not None):
        return None
    return tests * (runs if runs is not None else DEFAULT_RUNS)
