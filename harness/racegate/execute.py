"""Run one planned test execution: its own process group, a timeout, and the output and TSan logs of
every run that found something kept on disk."""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from racegate import failure, shim, strategies
from racegate.errors import RacegateError
from racegate.model import PlannedRun, RunRecord, TestCase
from racegate.signature import finding_from_report
from racegate.tsan_parse import parse_reports

# racegate's TSan defaults: keep going after the first report, both deadlock stacks, the longest history.
TSAN_DEFAULTS = "halt_on_error=0 second_deadlock_stack=1 history_size=7"
DEFAULT_TIMEOUT = 300.0  # seconds, for tests without a TIMEOUT property
# Older TSan runtimes die with this under newer kernels' larger mmap randomization.
UNEXPECTED_MAPPING = "ThreadSanitizer: unexpected memory mapping"
# What is kept of a test's output: its start and its end, which is where failures and summaries are.
OUTPUT_HEAD = 4 << 20
OUTPUT_TAIL = 1 << 20
# Scratch dirs of runs in progress sit in runs/ beside the kept runs/<run> dirs.
SCRATCH_PREFIX = "pending-"


class Stopped(Exception):
    """The executor was stopped (interrupt): the run's result does not count."""


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


class Executor:
    """Runs planned runs; safe to call from several worker threads; `stop()` kills everything running.

    A run writes into a scratch dir. When it found something (or was cut short) the dir becomes
    runs/<run>; a passing run's files are deleted and the dir, renamed, serves the next run: making
    and removing a dir per run costs more than a short test's whole share of racegate's time."""

    def __init__(self, runs_dir: Path, shim_path: Path | None, timeout: float | None):
        self.runs_dir = runs_dir
        self.shim_path = shim_path
        self.timeout = timeout
        self._running: dict[int, subprocess.Popen] = {}
        self._serial = _SerialGate()
        self._lock = threading.Lock()
        self._stopped = False
        self._free_scratch: list[Path] = []
        self._scratch_made = 0

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for proc in self._running.values():
                _kill_group(proc.pid)

    def close(self) -> None:
        """Remove the scratch dirs; the kept runs/<run> dirs stay."""
        with self._lock:
            free, self._free_scratch = self._free_scratch, []
        for scratch in free:
            shutil.rmtree(scratch, ignore_errors=True)

    def run(self, plan: PlannedRun) -> RunRecord:
        scratch = self._take_scratch()
        try:
            record = self._run_in(scratch, plan)
        except BaseException:
            self._keep(scratch, plan.run)  # what a run that was stopped or went wrong left behind
            raise
        if record.outcome == "pass":
            self._recycle(scratch)
        else:
            record.log_dir = str(self._keep(scratch, plan.run))
        return record

    def _run_in(self, scratch: Path, plan: PlannedRun) -> RunRecord:
        argv, env = self.prepare(plan, scratch)
        timeout = self.timeout or plan.test.timeout or DEFAULT_TIMEOUT
        if plan.schedule == "repeat-in-process":
            timeout *= strategies.GTEST_REPEAT  # the timeout is for one iteration
        output_path = scratch / "output.txt"
        with self._serial.hold(plan.test.run_serial), open(output_path, "wb") as out:
            started = time.monotonic()
            returncode, timed_out = self._execute(argv, env, plan.test.cwd, out, timeout)
            duration = time.monotonic() - started
        output = _read_capped(output_path)
        tsan_logs = sorted(name for name in os.listdir(scratch) if name.startswith("tsan."))
        tsan_log = "".join((scratch / name).read_text(errors="replace") for name in tsan_logs)
        if UNEXPECTED_MAPPING in output or UNEXPECTED_MAPPING in tsan_log:
            raise RacegateError("the TSan runtime cannot run under this kernel's address-space randomization "
                                "(\"unexpected memory mapping\"): run `sudo sysctl -w vm.mmap_rnd_bits=28`")
        reports = parse_reports(tsan_log)
        findings = [finding_from_report(r) for r in reports]
        outcome, failures = failure.classify(plan.test, returncode, timed_out, timeout, output, tsan_log,
                                             bool(findings))
        report = shim.read_shim_report(scratch / "shim.txt")
        return RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, schedule=plan.schedule,
                         command=argv, outcome=outcome, returncode=returncode, duration=duration,
                         log_dir="", threads=report.get("max_threads"),
                         findings=findings + failures, env=_replay_env(plan.test, env),
                         schedule_note=report.get("note"), cwd=plan.test.cwd)

    def _new_scratch_path(self) -> Path:
        with self._lock:
            self._scratch_made += 1
            return self.runs_dir / f"{SCRATCH_PREFIX}{self._scratch_made}"

    def _take_scratch(self) -> Path:
        with self._lock:
            if self._free_scratch:
                return self._free_scratch.pop()
        scratch = self._new_scratch_path()
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch

    def _keep(self, scratch: Path, run: int) -> Path:
        kept = self.runs_dir / str(run)
        os.rename(scratch, kept)
        return kept

    def _recycle(self, scratch: Path) -> None:
        """Empty a passing run's dir for the next run, under a new name: a stray process of the run that
        left its process group and still writes to the old path cannot reach the next run's logs."""
        fresh = self._new_scratch_path()
        try:
            os.rename(scratch, fresh)
            for entry in os.scandir(fresh):
                os.unlink(entry.path)
        except OSError:  # something the run made that is not a plain file: the next run gets a new dir
            for path in (scratch, fresh):
                shutil.rmtree(path, ignore_errors=True)
            return
        with self._lock:
            self._free_scratch.append(fresh)

    def _execute(self, argv: list[str], env: dict[str, str], cwd: str | None, out, timeout: float) -> tuple[int, bool]:
        """Start the test in its own process group and wait for it: (exit status, timed out)."""
        with self._lock:
            if self._stopped:
                raise Stopped
            try:
                proc = subprocess.Popen(argv, cwd=cwd or None, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                out.write(f"racegate: cannot start {argv[0]}: {exc}\n".encode("utf-8", "backslashreplace"))
                return 127, False
            self._running[proc.pid] = proc
        timed_out = not _exited_within(proc, timeout)
        # Before reaping the leader, so the group id cannot have been reused: a hung test and any
        # stray children of the test (same process group) must not outlive it.
        _kill_group(proc.pid)
        returncode = proc.wait()
        with self._lock:
            self._running.pop(proc.pid, None)
            if self._stopped:
                raise Stopped
        return returncode, timed_out

    def prepare(self, plan: PlannedRun, run_dir: Path) -> tuple[list[str], dict[str, str]]:
        """The argv and environment of one run: ours, then the test's own (merged by the strategy), then the
        strategy's."""
        env = dict(os.environ)
        # Later options win in TSan's parser: user settings override our defaults; log_path stays ours
        # (quoted when the path holds a separator such as a space, comma or colon).
        options = " ".join(filter(None, (TSAN_DEFAULTS, env.get("TSAN_OPTIONS", ""))))
        env["TSAN_OPTIONS"] = strategies.merge_tsan_options(options, {"log_path": str(run_dir / "tsan")})
        shim_path = self.shim_path if plan.preload_shim else None
        return strategies.prepare_run(plan.schedule, plan.seed, plan.test, env, shim_path, run_dir / "shim.txt")


def _replay_env(test: TestCase, env: dict[str, str]) -> dict[str, str]:
    """The part of a run's environment that a person needs to reproduce it by hand: the test's own
    variables and racegate's; TSan then reports to the terminal rather than into the old run dir."""
    keys = {k for k in env if k.startswith("RACEGATE_") and k != "RACEGATE_SHIM_REPORT"}
    keys |= {k for k, _ in test.env} | ({"TSAN_OPTIONS", "LD_PRELOAD"} & env.keys())
    replay = {k: env[k] for k in sorted(keys) if k in env}
    if "TSAN_OPTIONS" in replay:
        replay["TSAN_OPTIONS"] = strategies.without_tsan_option(replay["TSAN_OPTIONS"], "log_path")
    return replay


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
