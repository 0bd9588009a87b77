"""Run one planned test execution: its own process group, a timeout, and its output and TSan logs on disk,
kept for every run that found something. Reading what the logs mean is the analyse stage's job."""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from racegate import memory, outdir
from racegate.stall import StallWatch
from racegate.model import CutCause, PlannedRun
from racegate.run_env import prepare_planned_run
from racegate.strategies import run_timeout

DEFAULT_TIMEOUT = 300.0  # seconds, for tests without a TIMEOUT property
# What is kept of a test's output: its start and its end, which is where failures and summaries are.
OUTPUT_HEAD = 4 << 20
OUTPUT_TAIL = 1 << 20

# (exit status, killed when still running, killed by stop(), peak memory in bytes or None)
_Exit = tuple[int, bool, bool, "int | None", "int | None"]


class Stopped(Exception):
    """The executor was stopped (interrupt): the run's result does not count."""


@dataclass
class Execution:
    """What one run did, before anyone has read its logs."""

    plan: PlannedRun
    argv: list[str]
    env: dict[str, str]
    returncode: int
    timed_out: bool
    timeout: float  # seconds the run was allowed
    duration: float
    output: str  # stdout and stderr, capped to their head and tail
    tsan_log: str  # every TSan log file of the run, in name order
    shim_report: Path  # the shim's report file; absent when the shim was not loaded
    run_dir: Path  # the scratch dir holding the logs while the run is being looked at
    keep_logs: bool = False  # set by the caller: keep the logs at runs/<run> rather than recycle the dir
    log_dir: str = ""  # where the logs were kept, once the run is settled; "" when they were not
    cut: CutCause | None = None  # when racegate ended the run itself; neither a pass nor a failure of the test
    # The session was stopped (Ctrl-C, SIGTERM) while the process ran and racegate killed it. Only a batch's
    # caller sees such an execution: its tests that ended before the kill are as good as any.
    interrupted: bool = False
    started: float = 0.0  # time.monotonic() when the test's process was started (after any RUN_SERIAL wait)
    # Bytes: the largest resident set of the test's process and of the descendants it waited for (wait4's
    # ru_maxrss); None when it could not be measured.
    peak_memory: int | None = None
    # Another copy of the same test ran at some moment of this run: what it showed may be the copies' clash
    # (a fixed file name or port), which CTest, never running a test beside itself, would not show.
    overlapped: bool = False
    # The process racegate started: a TSan report of another pid is a child's (forked or exec'd), whose exit status
    # after the report (TSan's exitcode) may be what made this one fail.
    pid: int | None = None


class _Admitted:
    """One process let start by the admission: its peak, once measured, and the OOM kill count when it started."""

    def __init__(self, admission: memory.Admission | None):
        self._admission = admission
        self._kills = admission.oom_kills() if admission is not None else None
        self.peak: int | None = None

    def oom_killed(self) -> bool:
        """Whether the OOM kill count that covers the process went up since it started (the kernel's evidence)."""
        if self._admission is None or self._kills is None:
            return False
        after = self._admission.oom_kills()
        return after is not None and after > self._kills


class _Copy:
    """One running copy of a test, marked when another copy of it runs at any moment of its life."""

    overlapped = False


class _SerialGate:
    """Shared for ordinary tests, exclusive for RUN_SERIAL ones; a waiting serial test holds off new
    ordinary ones so it is not starved."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting_exclusive = 0

    @contextmanager
    def hold(self, exclusive: bool):
        with self._cond:
            if exclusive:
                self._waiting_exclusive += 1
                while self._exclusive or self._shared:
                    self._cond.wait()
                self._waiting_exclusive -= 1
                self._exclusive = True
            else:
                while self._exclusive or self._waiting_exclusive:
                    self._cond.wait()
                self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                if exclusive:
                    self._exclusive = False
                else:
                    self._shared -= 1
                self._cond.notify_all()


class _Slots:
    """The --jobs slots a run takes (CTest PROCESSORS; never more than there are, or it would never start). Without
    a job count (an executor outside a session) nothing waits."""

    def __init__(self, jobs: int | None) -> None:
        self._cond = threading.Condition()
        self._free = self.jobs = max(1, jobs) if jobs is not None else 0

    @contextmanager
    def hold(self, wanted: int):
        if not self.jobs:
            yield
            return
        wanted = min(max(1, wanted), self.jobs)
        with self._cond:
            self._cond.wait_for(lambda: self._free >= wanted)
            self._free -= wanted
        try:
            yield
        finally:
            with self._cond:
                self._free += wanted
                self._cond.notify_all()


class _ResourceLocks:
    """CTest RESOURCE_LOCK: one lock per name, taken in name order (so two runs never wait on each other); two
    copies of one test with a lock never run together either."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, names: tuple[str, ...]):
        with self._guard:
            locks = [self._locks.setdefault(name, threading.Lock()) for name in sorted(set(names))]
        for lock in locks:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(locks):
                lock.release()


class Executor:
    """Runs planned runs; safe to call from several worker threads; `stop()` kills everything running.

    A run writes into a scratch dir. When it found something (or was cut short) the dir becomes
    runs/<run>; a passing run's files are deleted and the dir, renamed, serves the next run: making
    and removing a dir per run costs more than a short test's whole share of racegate's time."""

    def __init__(self, runs_dir: Path, shim_path: Path | None, timeout: float | None,
                 deadline: float | None = None, tsan_flags: dict[str, str] | None = None,
                 admission: memory.Admission | None = None, jobs: int | None = None):
        self.runs_dir = runs_dir
        self.tsan_flags = tsan_flags or {}  # set over the user's TSAN_OPTIONS in every run (the suppressions)
        self.shim_path = shim_path
        self.timeout = timeout
        self.deadline = deadline  # time.monotonic() at which every run still going is cut (the budget)
        self._running: dict[int, subprocess.Popen] = {}
        self._watches: list[StallWatch] = []  # those of the batch processes running now
        self._serial = _SerialGate()
        # Holds a process whose expected peak would not fit in the memory available (None: never held).
        self.admission = admission
        # Taken in this order, each after the one before: RUN_SERIAL, then RESOURCE_LOCKs, then job slots. Whoever
        # holds slots holds every lock it needs and is running, so no cycle of waits can form.
        self._resources = _ResourceLocks()
        self._slots = _Slots(jobs)
        self._lock = threading.Lock()
        self._stopped = False
        self._free_scratch: list[Path] = []
        self._scratch_made = 0
        self._copies: dict[str, list[_Copy]] = {}  # test name -> its copies running now

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self.admission is not None:
                self.admission.stop()
            for proc in self._running.values():
                _kill_group(proc.pid)

    def tests_ended_in_batches(self) -> int:
        """Tests of the batch processes running now that have ended, as their output has said so far (their
        records come when the process ends)."""
        with self._lock:
            return sum(w.ended for w in self._watches)

    def close(self) -> None:
        """Remove the scratch dirs; the kept runs/<run> dirs stay."""
        with self._lock:
            free, self._free_scratch = self._free_scratch, []
        for scratch in free:
            shutil.rmtree(scratch, ignore_errors=True)

    @contextmanager
    def run(self, plan: PlannedRun) -> Iterator[Execution]:
        """Run the plan; the caller looks at the Execution inside the `with` and sets `keep_logs`.
        On leaving, the logs are kept at runs/<run> (`log_dir` says so) or the dir is recycled; they are
        always kept when the run or the caller's look at it was cut short or went wrong."""
        scratch = self._take_scratch()
        try:
            execution = self._run_in(scratch, plan)
            if execution.interrupted and not plan.batch:
                raise Stopped  # one test's run cut short by the interrupt tells nothing about the test
            yield execution
        except BaseException:
            self._keep(scratch, plan.run)  # what a run that was stopped or went wrong left behind
            raise
        if execution.keep_logs:
            execution.log_dir = str(self._keep(scratch, plan.run))
        else:
            self._recycle(scratch)

    def _run_in(self, scratch: Path, plan: PlannedRun) -> Execution:
        argv, env = prepare_planned_run(plan, scratch, self.shim_path, tsan_flags=self.tsan_flags)
        per_test = self.timeout or plan.test.timeout or DEFAULT_TIMEOUT
        # A batch may take each of its tests' time, but no one test of it more than its own.
        timeout = run_timeout(plan.strategy, per_test * max(1, plan.batch))
        output_path = outdir.output_file(scratch)
        outdir.run_tmp_dir(scratch).mkdir(exist_ok=True)
        watch = StallWatch(output_path, per_test) if plan.batch else None
        # Held for memory before the clock starts: a run's wait for memory is no part of its time.
        with self._serial.hold(plan.test.run_serial), self._resources.hold(plan.test.resource_locks), \
                self._slots.hold(plan.test.processors), self._admitted(plan) as admitted, \
                open(output_path, "wb") as out:
            started = time.monotonic()
            # The run ends at the first of: its timeout (the test hangs), its slowdown limit (racegate's
            # perturbation made it far slower than it runs plain), the session's deadline (the budget).
            ends: list[tuple[float, CutCause | None]] = [(started + timeout, None)]
            if plan.slowdown_limit is not None and plan.slowdown_limit < timeout:
                ends.append((started + plan.slowdown_limit, CutCause.SLOW))
            if self.deadline is not None and self.deadline < started + timeout:
                ends.append((self.deadline, CutCause.BUDGET))
            end, cut = min(ends, key=lambda e: e[0])
            if watch is not None:
                with self._lock:
                    self._watches.append(watch)
            copy = self._copy_started(plan)
            try:
                returncode, stopped_early, interrupted, peak, pid = self._execute(
                    argv, env, plan.test.cwd, out, max(0.0, end - started), watch)
                admitted.peak = peak
            finally:
                self._copy_ended(plan, copy)
                if watch is not None:
                    with self._lock:
                        self._watches.remove(watch)
            duration = time.monotonic() - started
        timed_out = stopped_early and cut is None and not interrupted
        cut = cut if stopped_early and not interrupted else None
        if admitted.oom_killed() and returncode == -signal.SIGKILL and not stopped_early and not interrupted:
            # SIGKILL while the cgroup's or the machine's OOM kill count went up: cut, never a crash
            # (docs/scheduling.md, "Memory").
            cut = CutCause.OOM
        tsan_log = "".join(path.read_text(errors="replace") for path in outdir.tsan_logs(scratch))
        return Execution(plan=plan, argv=argv, env=env, returncode=returncode, timed_out=timed_out, timeout=timeout,
                         duration=duration, output=_read_capped(output_path), tsan_log=tsan_log,
                         shim_report=outdir.shim_report_file(scratch), run_dir=scratch, cut=cut,
                         interrupted=interrupted, started=started, peak_memory=peak,
                         overlapped=copy.overlapped, pid=pid)

    @contextmanager
    def _admitted(self, plan: PlannedRun) -> Iterator[_Admitted]:
        """Hold until the admission lets a process of `plan` start; on leaving, its reservation is freed and the
        peak the caller set becomes what its test is expected to need. A batch process's peak is no one test's:
        it is kept under the batch's own name."""
        admission = self.admission
        asked = time.monotonic()
        token = admission.admit([plan.test.name]) if admission is not None else None
        if admission is not None and token is None:
            raise Stopped
        if admission is not None and token is not None and self.deadline is not None \
                and asked < self.deadline <= time.monotonic():
            # Held past the budget's deadline: no run starts after it (the session's end, not the test's cut).
            admission.done(token)
            raise Stopped
        admitted = _Admitted(admission)
        try:
            yield admitted
        finally:
            if admission is not None and token is not None:
                admission.done(token, plan.test.name, admitted.peak)

    def _copy_started(self, plan: PlannedRun) -> _Copy:
        """Count the run as a running copy of its test, marking it and the copies running now when they meet. A
        batch holds each of its tests' first runs, which no other copy of them can meet."""
        copy = _Copy()
        if plan.batch:
            return copy
        with self._lock:
            running = self._copies.setdefault(plan.test.name, [])
            if running:
                copy.overlapped = True
                for other in running:
                    other.overlapped = True
            running.append(copy)
        return copy

    def _copy_ended(self, plan: PlannedRun, copy: _Copy) -> None:
        with self._lock:
            running = self._copies.get(plan.test.name, [])
            if copy in running:
                running.remove(copy)

    def _new_scratch_path(self) -> Path:
        with self._lock:
            self._scratch_made += 1
            return outdir.scratch_dir(self.runs_dir, self._scratch_made)

    def _take_scratch(self) -> Path:
        with self._lock:
            if self._free_scratch:
                return self._free_scratch.pop()
        scratch = self._new_scratch_path()
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch

    def _keep(self, scratch: Path, run: int) -> Path:
        kept = outdir.kept_run_dir(self.runs_dir, run)
        try:
            outdir.run_tmp_dir(scratch).rmdir()  # an empty private dir tells nothing; one with files is kept
        except OSError:
            pass
        os.rename(scratch, kept)
        return kept

    def _recycle(self, scratch: Path) -> None:
        """Empty a passing run's dir for the next run, under a new name: a stray process of the run that
        left its process group and still writes to the old path cannot reach the next run's logs."""
        fresh = self._new_scratch_path()
        try:
            os.rename(scratch, fresh)
            for entry in os.scandir(fresh):
                if entry.name == outdir.RUN_TMP and entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)  # the run's private dir goes with it: the next run gets a new one
                else:
                    os.unlink(entry.path)
        except OSError:  # something the run made that is not a plain file: the next run gets a new dir
            for path in (scratch, fresh):
                shutil.rmtree(path, ignore_errors=True)
            return
        with self._lock:
            self._free_scratch.append(fresh)

    def _execute(self, argv: list[str], env: dict[str, str], cwd: str | None, out, timeout: float,
                 watch: Callable[[], bool] | None = None) -> _Exit:
        """Start the test in its own process group and wait for it at most `timeout` seconds, or until `watch`
        says it hangs: (exit status, whether it was still running then and was killed, whether stop() killed
        it, its peak memory in bytes or None). Raises Stopped when the executor was stopped before the process
        could start."""
        with self._lock:
            if self._stopped:
                raise Stopped
            try:
                proc = subprocess.Popen(argv, cwd=cwd or None, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                out.write(f"racegate: cannot start {argv[0]}: {exc}\n".encode("utf-8", "backslashreplace"))
                return 127, False, False, None, None
            self._running[proc.pid] = proc
        timed_out = not _exited_within(proc, timeout) if watch is None else _watched(proc, timeout, watch)
        # Before reaping the leader, so the group id cannot have been reused: a hung test and any
        # stray children of the test (same process group) must not outlive it.
        _kill_group(proc.pid)
        returncode, peak = _reap(proc)
        with self._lock:
            self._running.pop(proc.pid, None)
            # Killed by stop() rather than ended on its own: a process that exited just before the stop keeps
            # its outcome.
            interrupted = self._stopped and returncode == -signal.SIGKILL
        return returncode, timed_out, interrupted, peak, proc.pid


def _reap(proc: subprocess.Popen) -> tuple[int, int | None]:
    """Wait for the process: (its exit status, its peak memory). wait4's ru_maxrss (KiB on Linux) is the largest
    resident set of the process and of each descendant it waited for itself; a descendant it left to init, or
    one that left the group, is not in it, and neither are kernel pages nobody maps (docs/scheduling.md)."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:  # reaped already (Popen.wait's fallback without a pidfd): no usage to read
        return proc.wait(), None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss * 1024 or None


def _exited_within(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for the process to exit, at most `timeout` seconds. A pidfd wakes us the moment it exits;
    Popen.wait(timeout) sleeps in growing steps instead, which cost milliseconds on every short run."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    finally:
        os.close(pidfd)


WATCH_INTERVAL = 0.5  # seconds between looks at a batch's output for a test that hangs


def _watched(proc: subprocess.Popen, timeout: float, watch: Callable[[], bool]) -> bool:
    """Whether the process was still running after `timeout` seconds or when `watch` said it hangs."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if _exited_within(proc, max(0.0, min(left, WATCH_INTERVAL))):
            return False
        if left <= WATCH_INTERVAL or watch():
            return True


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_capped(path: Path) -> str:
    """The output's text; a huge output is cut to its head and tail, on disk too."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size <= OUTPUT_HEAD + OUTPUT_TAIL:
            data = f.read()
        else:
            head = f.read(OUTPUT_HEAD)
            f.seek(size - OUTPUT_TAIL)
            tail = f.read()
            data = head + f"\n[racegate: {size - OUTPUT_HEAD - OUTPUT_TAIL} bytes of output cut]\n".encode() + tail
            path.write_bytes(data)
    return data.decode("utf-8", errors="replace")
