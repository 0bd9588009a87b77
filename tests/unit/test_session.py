"""Session: worker threads take runs until the budget is spent, count them, end on a worker's error and
wait for every worker when interrupted.

Driven through Session.run and Session.result only. The tests run real, cheap processes (`true`,
`false`, sh); the interrupt test wraps the session's scheduler to hold a worker at a known point.
"""
from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from racegate.errors import RacegateError
from racegate.history import History, TestHistory
from racegate.model import Finding, RunRecord, TestCase
from racegate.progress import Progress
from racegate.session import Session, SessionConfig
from racegate.result import RunConfig
from racegate.schedule import ALONE_RECHECKS, SOLO_AFTER_CLASH, SOLO_FROM_HISTORY
from samples_helpers import process_ends
from racegate.result.codec import result_from_json, result_json


def make_session(tmp_path: Path, tests: list[TestCase], **config) -> Session:
    settings = dict(out_dir=tmp_path / "out", jobs=2, master_seed=1, runs=3, time_budget=None,
                    timeout=60, until_confident=None, shim_path=None)
    settings.update(config)
    return Session(tests, lambda test: ["none"], SessionConfig(**settings))


def quiet() -> Progress:
    return Progress(io.StringIO(), None, None)


class _WatchedProgress(Progress):
    """A quiet progress line that tells when the session first updates it: by then every worker has been
    started and the main thread is in its loop waiting for them."""

    def __init__(self) -> None:
        super().__init__(io.StringIO(), None, None)
        self.updated = threading.Event()

    def due(self) -> bool:
        return True  # every look of the session's counts, not one each LOG_INTERVAL

    def update(self, runs: int, failed: int, problems: int) -> None:
        self.updated.set()
        super().update(runs, failed, problems)


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """Session.run ignores SIGINT and SIGTERM once interrupted (a second Ctrl-C must not cut short the
    writing of results); give pytest its handlers back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_every_test_gets_its_runs_and_every_run_is_counted(tmp_path):
    tests = [TestCase("passes", ("true",)), TestCase("fails", ("false",))]
    session = make_session(tmp_path, tests, runs=3)
    wall = session.run(quiet())
    assert wall > 0
    # With two jobs two copies of "fails" may have run at once: its failure is then re-checked alone too.
    alone = sum(r.purpose == "alone" for r in session.records)
    assert alone in (0, ALONE_RECHECKS)
    assert sorted(r.run for r in session.records) == list(range(6 + alone))  # each run index once
    assert sorted(r.test for r in session.records if not r.purpose) == ["fails"] * 3 + ["passes"] * 3
    assert session.failed_runs == 3 + alone and not session.interrupted
    result = session.result(RunConfig(), wall)
    assert result.summary.runs == 6 + alone and result.summary.failed_runs == 3 + alone
    runs = {t.name: (t.runs, t.failed_runs) for t in result.tests}
    assert runs == {"passes": (3, 0), "fails": (3 + alone, 3 + alone)}
    (bucket,) = result.buckets
    assert bucket.kind == "test failure" and bucket.runs_with_bucket == 3 + alone
    assert result.status(bucket) == "new"  # it fails alone as well: the project's own failure
    # Passing runs leave no logs; each failing one keeps its own.
    kept = sorted(p.name for p in (tmp_path / "out" / "runs").iterdir())
    assert kept == sorted(str(r.run) for r in session.records if r.outcome != "pass")


def test_workers_run_tests_at_the_same_time(tmp_path):
    # Opening a named pipe blocks until the other end is opened too: each test can only finish while the
    # other one runs. One worker at a time would leave the first hanging until its timeout.
    meet = tmp_path / "meet"
    os.mkfifo(meet)
    tests = [TestCase("writer", ("sh", "-c", 'echo hello > "$0"', str(meet))),
             TestCase("reader", ("sh", "-c", 'read line < "$0"', str(meet)))]
    session = make_session(tmp_path, tests, jobs=2, runs=1, timeout=30)
    session.run(quiet())
    assert sorted((r.test, r.outcome) for r in session.records) == [("reader", "pass"), ("writer", "pass")]


def test_an_environment_error_in_a_worker_ends_the_session(tmp_path):
    # An old TSan runtime under a new kernel: no later run can do better, so nothing more is started.
    broken = TestCase("broken", ("sh", "-c", "echo 'FATAL: ThreadSanitizer: unexpected memory mapping 0x7f00' >&2;"
                                             " exit 66"))
    session = make_session(tmp_path, [broken, TestCase("fine", ("true",))], jobs=1, runs=20)
    with pytest.raises(RacegateError, match="mmap_rnd_bits"):
        session.run(quiet())
    assert session.records == []  # the one worker stopped at the first run; the errored run does not count


class _Exploding:
    """Stands in for the session's bucketer: racegate's own bug in the middle of a worker's loop."""

    def __init__(self) -> None:
        self.buckets: dict = {}

    def add(self, record) -> None:
        raise RuntimeError("bucketer bug")


def test_a_crash_in_a_worker_ends_the_session_instead_of_hanging_it(tmp_path):
    # Two workers: the one that crashes must stop the scheduler, or the other would run on to the end.
    session = make_session(tmp_path, [TestCase("t", ("true",))], jobs=2, runs=500)
    session.bucketer = _Exploding()
    with pytest.raises(RuntimeError, match="bucketer bug"):
        session.run(quiet())
    # The first run was recorded, then its bucketing failed; the other worker, waiting for that first run
    # to decide on repeats, was let go.
    assert len(session.records) == 1


def run_interrupted(session: Session, progress: Progress, when: Callable[[], None]) -> None:
    """Run the session and Ctrl-C it (SIGINT to the main thread, where Python raises KeyboardInterrupt) once
    `when` returns; `when` runs in a thread of its own and waits for the moment on a readiness signal."""
    main = threading.get_ident()

    def interrupt() -> None:
        when()
        signal.pthread_kill(main, signal.SIGINT)

    signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupter = threading.Thread(target=interrupt)
    interrupter.start()
    session.run(progress)
    interrupter.join()


def test_an_interrupt_stops_the_running_test_and_keeps_its_logs(tmp_path, beacon, restore_signals):
    code = f"import os, time\nopen({str(beacon.path)!r}, 'w').write(f'{{os.getpid()}}\\n')\ntime.sleep(600)\n"
    session = make_session(tmp_path, [TestCase("hangs", (sys.executable, "-c", code))], jobs=1, runs=5,
                           timeout=600)
    pids: list[str] = []
    run_interrupted(session, quiet(), lambda: pids.extend(beacon.wait()))
    assert session.interrupted and session.records == []  # a run cut short does not count
    assert process_ends(int(pids[0]), within=10)
    assert (tmp_path / "out" / "runs" / "0" / "output.txt").exists()
    result = session.result(RunConfig(), 1.0)
    assert result.summary.interrupted is True
    assert [t.not_run for t in result.tests] == ["the session was interrupted before its first run"]


class _HeldScheduler:
    """Wraps the session's scheduler: hands out no run, and holds the worker that asks inside next()
    until released, as a worker still busy when the interrupt comes."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.worker_waiting = threading.Event()
        self.release = threading.Event()
        self.worker_done = threading.Event()

    def next(self):
        self.worker_waiting.set()
        self.release.wait()
        self.worker_done.set()
        return None

    def record(self, record) -> None:
        self.inner.record(record)

    def stop(self) -> None:
        self.inner.stop()


# Where a thread blocked on a lock inside threading.py sits in Python 3.11: Condition.wait (also under
# Event.wait and wait_for), and Thread.join's wait on the thread's state lock.
_CONDITION_WAIT = "wait"
_JOIN_WAIT = "_wait_for_tstate_lock"


def _blocked_in(frame, names: tuple[str, ...]) -> bool:
    return frame is not None and frame.f_code.co_filename == threading.__file__ and frame.f_code.co_name in names


def test_an_interrupted_session_waits_for_every_worker_before_it_returns(tmp_path, restore_signals):
    # In Python 3.11 a Thread.join cut short by Ctrl-C marks the thread it waited for as finished although
    # it still runs; a later join then returns at once and the results were written with a worker still
    # busy. That shows only when the interrupt lands while the main thread is blocked waiting for a worker,
    # so the interrupt is delivered exactly there: SIGUSR1 is sent until its handler finds the main thread
    # blocked in threading.py, and only then raises KeyboardInterrupt, as Ctrl-C would.
    session = make_session(tmp_path, [TestCase("t", ("true",))], jobs=1, runs=1)
    held = session.scheduler = _HeldScheduler(session.scheduler)
    progress = _WatchedProgress()
    main = threading.get_ident()
    interrupted, returned = threading.Event(), threading.Event()

    def on_signal(signum, frame) -> None:
        if not interrupted.is_set():
            if _blocked_in(frame, (_CONDITION_WAIT, _JOIN_WAIT)):
                interrupted.set()
                raise KeyboardInterrupt
        elif _blocked_in(frame, (_CONDITION_WAIT,)):
            # Interrupted, and the main thread waits again: for the held worker, which may go now.
            held.release.set()

    def probe() -> None:
        held.worker_waiting.wait()
        progress.updated.wait()  # not while Thread.start still waits for the worker to come up
        # The worker is released when the main thread is seen waiting for it, or after this long: a guard
        # against a hang should the session wait in some other way, not a timing the test relies on.
        give_up = time.monotonic() + 30
        while not returned.is_set() and not held.release.is_set() and time.monotonic() < give_up:
            signal.pthread_kill(main, signal.SIGUSR1)
            returned.wait(0.005)
        held.release.set()

    signal.signal(signal.SIGUSR1, on_signal)
    prober = threading.Thread(target=probe)
    prober.start()
    try:
        session.run(progress)
        worker_finished_first = held.worker_done.is_set()
    finally:
        returned.set()
        prober.join()
    assert interrupted.is_set() and session.interrupted
    assert worker_finished_first, "Session.run returned while a worker was still running"


def test_every_run_is_timed_from_the_session_start_and_each_bucket_knows_when_it_was_first_seen(tmp_path):
    tests = [TestCase("passes", ("true",)), TestCase("fails", ("sh", "-c", "sleep 0.05; exit 1"))]
    session = make_session(tmp_path, tests, runs=3)
    wall = session.run(quiet())
    assert all(r.started is not None and 0 <= r.started <= r.ended <= wall for r in session.records)
    result = session.result(RunConfig(), wall)
    (bucket,) = result.buckets
    fails = [r for r in session.records if r.test == "fails"]
    # The earliest end of a run that showed it, which with two jobs need not be its earliest-started run.
    assert bucket.first_seen.seconds == round(min(r.ended for r in fails), 3)
    assert result.discovery_seconds == [[bucket.first_seen.seconds, 1], [round(wall, 3), 1]]
    by_test = {t.name: t for t in result.tests}
    assert by_test["fails"].strategies["none"].runs == len(fails)  # 3, and any re-checks alone (overlapping copies)
    assert by_test["fails"].seconds == pytest.approx(sum(r.duration for r in fails), abs=0.002)
    assert by_test["fails"].seconds >= 0.15  # three runs that each sleep 50 ms
    assert result.strategies["none"].seconds == pytest.approx(sum(r.duration for r in session.records), abs=0.002)
    # Only search runs here, unless two copies of "fails" met: the re-checks of a finding cost nothing, and say so.
    alone = [r for r in fails if r.purpose == "alone"]
    expected = {"recheck": 0, "replay": 0, "alone": len(alone), "slowdown": 0}
    assert {k: v.runs for k, v in result.verification.items()} == expected
    assert result.verification["recheck"].seconds == 0.0


def test_the_runs_that_weigh_a_finding_are_counted_apart_from_the_search(tmp_path):
    # Fails only when perturbed: the scheduler re-checks it with plain runs and replays of the failing seed.
    test = TestCase("perturbed", ("sh", "-c", '[ "$RACEGATE_SCHEDULE" = none ]'))
    settings = dict(out_dir=tmp_path / "out", jobs=1, master_seed=1, runs=2, time_budget=None, timeout=60,
                    until_confident=None, shim_path=None)
    session = Session([test], lambda t: ["noise"], SessionConfig(**settings))
    wall = session.run(quiet())
    purposes = sorted(r.purpose for r in session.records)
    assert purposes == ["", "", "recheck", "recheck", "recheck", "replay", "replay"]
    result = session.result(RunConfig(), wall)
    spent = result.verification
    assert (spent["recheck"].runs, spent["replay"].runs) == (3, 2)
    assert spent["recheck"].seconds == pytest.approx(
        sum(r.duration for r in session.records if r.purpose == "recheck"), abs=0.002)


# A stand-in for a gtest executable: runs the tests its --gtest_filter lists, printing gtest's markers. S.Crash
# aborts its process; S.Hang tells the beacon it started and waits to be killed.
_FAKE_GTEST = '''import os, sys, time
names = next(a for a in sys.argv if a.startswith("--gtest_filter=")).split("=", 1)[1].split(":")
for name in names:
    print(f"[ RUN      ] {name}", flush=True)
    if name == "S.Crash":
        os.abort()
    if name == "S.Hang":
        open(sys.argv[1], "w").write(f"{os.getpid()}\\n")
        time.sleep(600)
    print(f"[       OK ] {name} (0 ms)", flush=True)
'''


def test_an_interrupt_in_a_batch_keeps_every_test_that_ended_before_it(tmp_path, beacon, restore_signals):
    script = tmp_path / "fake_gtest.py"
    script.write_text(_FAKE_GTEST)
    names = ["S.A", "S.Crash", "S.B", "S.Hang", "S.C"]
    tests = [TestCase(n, (sys.executable, str(script), str(beacon.path), f"--gtest_filter={n}"), is_gtest=True)
             for n in names]
    session = make_session(tmp_path, tests, jobs=1, runs=1, timeout=120)
    pids: list[str] = []
    run_interrupted(session, quiet(), lambda: pids.extend(beacon.wait()))  # once S.Hang runs
    assert process_ends(int(pids[0]), within=10)
    # The first process ran S.A and crashed in S.Crash; the second ran S.B and was interrupted in S.Hang. The
    # records of both processes' ended tests are kept; the test cut short and the one after it have none.
    assert session.interrupted
    assert [(r.test, r.outcome) for r in session.records] == [("S.A", "pass"), ("S.Crash", "crash"), ("S.B", "pass")]
    result = session.result(RunConfig(), 1.0)
    assert {t.name: t.not_run for t in result.tests} == {
        "S.A": None, "S.Crash": None, "S.B": None,
        "S.Hang": "the session was interrupted before its first run",
        "S.C": "the session was interrupted before its first run"}
    assert (result.cost.processes, result.cost.batch_processes, result.cost.batched_tests) == (2, 2, 3)


class _CountingProgress(Progress):
    """A quiet progress line that tells when it has counted `runs` runs."""

    def __init__(self, runs: int) -> None:
        super().__init__(io.StringIO(), None, None)
        self.runs = runs
        self.counted = threading.Event()

    def due(self) -> bool:
        return True  # every look of the session's counts, not one each LOG_INTERVAL

    def update(self, runs: int, failed: int, problems: int) -> None:
        if runs >= self.runs:
            self.counted.set()
        super().update(runs, failed, problems)


def test_the_progress_line_counts_a_batchs_tests_as_they_end(tmp_path, beacon, restore_signals):
    script = tmp_path / "fake_gtest.py"
    script.write_text(_FAKE_GTEST)
    tests = [TestCase(n, (sys.executable, str(script), str(beacon.path), f"--gtest_filter={n}"), is_gtest=True)
             for n in ["S.A", "S.B", "S.Hang"]]
    session = make_session(tmp_path, tests, jobs=1, runs=1, timeout=120)
    progress = _CountingProgress(2)
    counted: list[bool] = []

    def once_counted() -> None:
        beacon.wait()  # S.A and S.B have ended, S.Hang runs: the process is still going
        counted.append(progress.counted.wait(timeout=60))

    run_interrupted(session, progress, once_counted)
    # Counted while the process ran, before any record of it existed.
    assert counted == [True]
    assert [r.test for r in session.records] == ["S.A", "S.B"]


# A test that clashes with its own copies, as one writing a fixed file name in its working directory does: it marks
# itself present there, gives another copy half a second to show up, and fails when one did. Alone it passes.
CLASH = ("import glob, os, sys, time\n"
         "mine = f'present.{os.getpid()}'\nopen(mine, 'w').close()\n"
         "end = time.monotonic() + 0.5\n"
         "while time.monotonic() < end and glob.glob('present.*') == [mine]:\n    time.sleep(0.01)\n"
         "others = [p for p in glob.glob('present.*') if p != mine]\n"
         "time.sleep(0.05)\nos.unlink(mine)\nsys.exit(1 if others else 0)\n")


def test_a_failure_only_beside_another_copy_is_rechecked_alone_and_reported_as_interference(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    test = TestCase("clashes", (sys.executable, "-c", CLASH), cwd=str(work))
    session = make_session(tmp_path, [test], jobs=2, runs=3)
    wall = session.run(quiet())
    records = sorted(session.records, key=lambda r: r.run)
    failed = [r for r in records if r.outcome != "pass"]
    assert failed and all(r.overlapped for r in failed)  # it only ever failed beside another copy
    alone = [r for r in records if r.purpose == "alone"]
    assert len(alone) == ALONE_RECHECKS and all(r.outcome == "pass" and not r.overlapped for r in alone)
    # From the first clash on, no two copies ran at once: every run that started after it ended was alone.
    clash_end = min(r.ended for r in failed)
    assert all(not r.overlapped for r in records if r.started > clash_end)
    result = session.result(RunConfig(), wall)
    (bucket,) = result.buckets
    assert result.status(bucket) == "interference" and not result.gates(bucket)
    assert "RESOURCE_LOCK" in bucket.advice.fix and "fixed file name" in bucket.advice.what
    assert not result.config.strict and not result.gates(bucket)
    assert SOLO_AFTER_CLASH in next(t for t in result.tests if t.name == "clashes").notes
    assert session.learned().tests["clashes"].one_at_a_time
    assert result_from_json(result_json(result)).buckets[0].interference


def test_a_failure_beside_another_copy_that_also_fails_alone_gates(tmp_path):
    test = TestCase("fails", ("sh", "-c", "sleep 0.2; exit 1"))
    session = make_session(tmp_path, [test], jobs=2, runs=3)
    wall = session.run(quiet())
    assert any(r.overlapped for r in session.records)  # two copies did meet
    result = session.result(RunConfig(), wall)
    (bucket,) = result.buckets
    assert result.status(bucket) == "new" and result.gates(bucket) and not bucket.interference


def test_a_test_history_says_runs_one_copy_at_a_time_never_meets_its_copies(tmp_path):
    history = History({"clashes": TestHistory(threads=2, one_at_a_time=True)})
    work = tmp_path / "work"
    work.mkdir()
    test = TestCase("clashes", (sys.executable, "-c", CLASH), cwd=str(work))
    session = make_session(tmp_path, [test], jobs=2, runs=4, history=history)
    wall = session.run(quiet())
    assert len(session.records) == 4 and all(r.outcome == "pass" and not r.overlapped for r in session.records)
    assert SOLO_FROM_HISTORY in session.result(RunConfig(), wall).tests[0].notes


def _forked_race_run(index: int) -> RunRecord:
    """A run of a forking runner whose child raced: TSan's report, and the parent's failure the child's exit 66
    made (its symptom)."""
    race = Finding(kind="data race", title="data race: count", signature=["c.c:count", "c.c:count"], frames=[],
                   raw="WARNING: ThreadSanitizer: data race\n")
    failure = Finding(kind="test failure", title="test failure: runner exited with status 1",
                      signature=["runner", "exit 1"], frames=[], raw="exited with status 1\n",
                      from_race=True)  # what analyse_run says of an exit status beside a child's report
    return RunRecord(test="runner", run=index, seed=index, strategy="none", command=["./runner"], outcome="race",
                     returncode=1, duration=0.1, log_dir=f"runs/{index}", findings=[race, failure])


def test_the_progress_line_counts_the_problems_the_result_will(tmp_path):
    # Field #32: `2 buckets` all along, `1 new problem` in the result: the parent's failure is the race's symptom.
    session = make_session(tmp_path, [TestCase("runner", ("./runner",))])
    stream = io.StringIO()
    progress = Progress(stream, None, None)
    for index in range(3):
        session._settle(_forked_race_run(index))
    session._progress(progress)
    result = session.result(RunConfig(), 1.0)
    assert len(session.bucketer.buckets) == 2 and session.problems() == result.summary.new_buckets == 1
    assert stream.getvalue().startswith("racegate: 3 runs, 3 failed, 1 problem, ")


def test_the_progress_line_counts_its_figures_only_when_it_is_redrawn():
    progress = Progress(io.StringIO(), None, None)
    assert progress.due()
    progress.update(1, 0, 0)
    assert not progress.due()  # the next redraw is LOG_INTERVAL away off a terminal
