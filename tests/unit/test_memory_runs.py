"""Peak memory and OOM kills on real processes through the executor and the analyse stage, and what the result,
the history and the reports keep of them (docs/scheduling.md, "Memory")."""
from __future__ import annotations

import json
import threading
import time
import sys

import pytest

from racegate import history, memory
from racegate.analyse import analyse_run
from racegate.execute import Executor, Stopped
from racegate.model import CutCause, PlannedRun, RunRecord, TestCase
from racegate.reporters import console, sentences
from racegate.result import TestResult
from result_factory import entry_for_test, make_result
from racegate.result.codec import result_from_json, result_json

MIB = 1 << 20


def run(tmp_path, code, admission=None):
    test = TestCase("t", (sys.executable, "-c", code), cwd=str(tmp_path))
    executor = Executor(tmp_path / "runs", None, 60, admission=admission)
    with executor.run(PlannedRun(test, 0, 1, "none")) as execution:
        record = analyse_run(execution)
    return execution, record


def fake_cgroup(tmp_path, kills=0):
    group = tmp_path / "cgroup"
    group.mkdir(exist_ok=True)
    (group / "memory.max").write_text("max\n")
    (group / "memory.current").write_text("0\n")
    (group / "memory.events").write_text(f"oom 0\noom_kill {kills}\n")
    return group


def test_the_peak_of_a_process_and_of_a_child_it_waited_for_is_measured(tmp_path):
    _, small = run(tmp_path, "pass")
    _, big = run(tmp_path, "b = b'x' * (64 << 20)")
    child = ("import subprocess, sys\n"
             "subprocess.run([sys.executable, '-c', 'b = bytes(1) * (128 << 20)'], check=True)\n")
    _, parent = run(tmp_path, child)
    # No absolute bound on the small one: the kernel carries the spawning process's (pytest's) high-water mark
    # across exec into the child's ru_maxrss (docs/scheduling.md, "Memory").
    assert small.peak_memory and small.peak_memory < big.peak_memory
    assert big.peak_memory and big.peak_memory >= 64 * MIB
    assert parent.peak_memory and parent.peak_memory >= 128 * MIB  # the child's, which the parent waited for


def kill_with_evidence(group):
    """What the kernel does to a process the OOM killer picks: count it in memory.events, then SIGKILL it."""
    return ("import os, signal\n"
            f"open({str(group / 'memory.events')!r}, 'w').write('oom 1\\noom_kill 1\\n')\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")


def test_a_sigkill_with_the_cgroups_oom_evidence_is_a_cut_not_a_crash(tmp_path):
    group = fake_cgroup(tmp_path)
    gate = memory.Admission({}, [memory.Cgroup(group)], tmp_path / "no-meminfo")
    execution, record = run(tmp_path, kill_with_evidence(group), gate)
    assert execution.cut == CutCause.OOM
    assert record.outcome == "cut" and record.cut == "oom" and record.findings == []


def test_a_sigkill_without_evidence_stays_a_crash(tmp_path):
    group = fake_cgroup(tmp_path)
    gate = memory.Admission({}, [memory.Cgroup(group)], tmp_path / "no-meminfo")
    _, record = run(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", gate)
    assert record.outcome == "crash" and record.cut is None
    assert record.findings[0].signature[-1] == "SIGKILL"


def test_an_exit_of_its_own_while_the_count_went_up_is_the_tests_exit(tmp_path):
    group = fake_cgroup(tmp_path)
    gate = memory.Admission({}, [memory.Cgroup(group)], tmp_path / "no-meminfo")
    code = f"open({str(group / 'memory.events')!r}, 'w').write('oom_kill 3\\n'); raise SystemExit(1)"
    _, record = run(tmp_path, code, gate)
    assert record.outcome == "fail"


def test_the_admission_learns_the_peak_of_each_run(tmp_path):
    gate = memory.Admission({}, [memory.Cgroup(fake_cgroup(tmp_path))], tmp_path / "no-meminfo")
    run(tmp_path, "b = b'x' * (64 << 20)", gate)
    assert 64 * MIB <= gate.expected("t") < memory.UNKNOWN_FLOOR


def record(run: int, peak: int | None, cut: str | None = None) -> RunRecord:
    return RunRecord(test="T.a", run=run, seed=run, strategy="none", command=["./t"],
                     outcome="cut" if cut else "pass", returncode=0, duration=1.0, log_dir="", cut=cut,
                     peak_memory=peak)


def test_the_result_keeps_the_largest_peak_and_old_files_have_none():
    runs = [record(0, 300 * MIB), record(1, 500 * MIB), record(2, None)]
    entry = TestResult.from_runs(TestCase("T.a", ("./t",)), runs)
    assert entry.peak_memory == 500 * MIB
    data = json.loads(json.dumps(result_json(make_result([entry], []))))
    assert data["tests"][0]["peak_memory"] == 500 * MIB
    assert result_from_json(data).tests[0].peak_memory == 500 * MIB
    old = result_json(make_result([entry_for_test("T.b", 3, 0)], []))
    assert "peak_memory" not in old["tests"][0]
    assert result_from_json(old).tests[0].peak_memory is None
    merged = entry.merged(entry_for_test("T.a", 2, 0))
    assert merged.peak_memory == 500 * MIB


def test_the_history_keeps_the_latest_sessions_peak():
    first = history.from_session([record(0, 300 * MIB), record(1, 400 * MIB)], {})
    assert first.tests["T.a"].peak_memory == 400 * MIB
    again = history.History.from_json(json.loads(json.dumps(first.to_json())))
    assert again.tests["T.a"].peak_memory == 400 * MIB
    later = history.from_session([record(2, 100 * MIB)], {})
    assert first.merged(later).tests["T.a"].peak_memory == 100 * MIB
    assert first.merged(history.from_session([record(3, None)], {})).tests["T.a"].peak_memory == 400 * MIB
    data = first.to_json()
    del data["tests"]["T.a"]["peak_memory"]  # a history written before the field
    assert history.History.from_json(data).tests["T.a"].peak_memory is None


def test_oom_kills_are_named_as_the_environment_apart_from_racegates_cuts():
    runs = [record(0, 2 << 30), record(1, 3 << 30, CutCause.OOM), record(2, 1 << 30, "budget")]
    entry = TestResult.from_runs(TestCase("T.a", ("./t",)), runs)
    result = make_result([entry], [])
    notes = sentences.coverage_notes(result)
    assert notes[0] == ("memory: the out-of-memory killer ended runs of T.a (1 run, peak ~3.0 GiB): the environment "
                        "ran out of memory, the tests did not fail (those runs are neither a pass nor a failure and "
                        "never gate); run fewer --jobs, use a runner with more memory, or exclude the test")
    assert notes[1].startswith("1 run cut by racegate: 1 at the budget's deadline;")
    assert "note: memory: the out-of-memory killer ended runs of T.a" in console.render(result)
    assert result.summary.new_buckets == 0 and entry.failed_runs == 0


def test_a_held_runs_wait_is_no_part_of_its_time(tmp_path):
    group = fake_cgroup(tmp_path)
    (group / "memory.max").write_text(str(3 * memory.GIB))
    said: list[str] = []
    gate = memory.Admission({"t": 2 * memory.GIB}, [memory.Cgroup(group)], tmp_path / "no-meminfo", say=said.append)
    other = gate.admit(["t"])  # a copy in flight: a second one would not fit
    test = TestCase("t", (sys.executable, "-c", "pass"), cwd=str(tmp_path))
    executor = Executor(tmp_path / "runs", None, 0.5, admission=gate)
    # The hold must outlast the run's timeout to tell; the timer is the other copy's run ending.
    released = threading.Timer(0.8, gate.done, (other,))
    released.start()
    with executor.run(PlannedRun(test, 0, 1, "none")) as execution:
        record = analyse_run(execution)
    released.join()
    assert said and record.outcome == "pass" and execution.duration < 0.5


def test_a_run_held_past_the_deadline_does_not_start(tmp_path):
    group = fake_cgroup(tmp_path)
    (group / "memory.max").write_text(str(3 * memory.GIB))
    gate = memory.Admission({"t": 2 * memory.GIB}, [memory.Cgroup(group)], tmp_path / "no-meminfo")
    other = gate.admit(["t"])
    marker = tmp_path / "started"
    test = TestCase("t", (sys.executable, "-c", f"open({str(marker)!r}, 'w')"), cwd=str(tmp_path))
    executor = Executor(tmp_path / "runs", None, 60, deadline=time.monotonic() + 0.3, admission=gate)
    released = threading.Timer(0.6, gate.done, (other,))  # the other copy ends after the deadline
    released.start()
    with pytest.raises(Stopped):
        with executor.run(PlannedRun(test, 0, 1, "none")):
            pass
    released.join()
    assert not marker.exists()
