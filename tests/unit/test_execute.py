"""The executor on real processes: timeouts kill the whole process group, output is kept and capped, the logs of
runs that did not pass are kept at runs/<run>; the analyse stage reads them as the session has it do."""
import os
import re
import sys
import threading
import time
from dataclasses import replace

import pytest

from racegate import execute
from racegate.analyse import analyse_run
from racegate.errors import RacegateError
from racegate.execute import Executor, Stopped
from racegate.model import PlannedRun, TestCase
from racegate.tsan_parse import parse_reports
from samples_helpers import CORPUS, process_ends


def run_and_analyse(executor, plan):
    """Run and analyse as the session does: the logs of a run that did not pass are kept."""
    with executor.run(plan) as execution:
        record = analyse_run(execution)
        execution.keep_logs = record.outcome != "pass"
    record.log_dir = execution.log_dir
    return record


def run_python(tmp_path, code, timeout=None, name="t"):
    test = TestCase(name, (sys.executable, "-c", code), cwd=str(tmp_path))
    return run_and_analyse(Executor(tmp_path / "runs", None, timeout), PlannedRun(test, 0, 1234, "none"))


def test_hung_test_and_its_children_are_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    code = ("import subprocess, time, sys\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "time.sleep(600)\n")
    record = run_python(tmp_path, code, timeout=2)
    assert record.outcome == "timeout"
    assert record.findings[0].kind == "timeout"
    assert process_ends(int(pid_file.read_text()), within=5)


def test_crash_is_reported_with_its_signal(tmp_path):
    record = run_python(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGABRT)")
    assert record.outcome == "crash"
    assert record.findings[0].signature[-1] == "SIGABRT"


def test_huge_output_is_capped_on_disk_and_invalid_utf8_survives(tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "OUTPUT_HEAD", 1000)
    monkeypatch.setattr(execute, "OUTPUT_TAIL", 500)
    code = ("import sys\nsys.stdout.buffer.write(b'\\xff\\xfe start ' + b'x' * 200000 + b' end\\n')\n"
            "sys.exit(3)\n")
    record = run_python(tmp_path, code)
    assert record.outcome == "fail"
    output = (tmp_path / "runs" / "0" / "output.txt").read_bytes()
    assert len(output) < 2000 and b"bytes of output cut" in output and output.endswith(b" end\n")


def test_run_environment_carries_seed_schedule_and_per_run_log_path(tmp_path):
    code = ("import os, sys\nprint('SEED=' + os.environ['RACEGATE_SEED'])\n"
            "print('SCHED=' + os.environ['RACEGATE_SCHEDULE'])\nprint('OPTS=' + os.environ['TSAN_OPTIONS'])\n"
            "sys.exit(1)\n")
    record = run_python(tmp_path, code)
    assert record.outcome == "fail" and record.log_dir == str(tmp_path / "runs" / "0")
    text = (tmp_path / "runs" / "0" / "output.txt").read_text()
    assert "SEED=1234" in text and "SCHED=none" in text
    # The run wrote into a scratch dir, renamed to runs/<run> once it was known to be worth keeping.
    log_dir = re.search(r"log_path=(\S+)/tsan", text).group(1)
    assert re.fullmatch(re.escape(str(tmp_path / "runs" / "pending-")) + r"\d+", log_dir)
    assert not os.path.exists(log_dir)
    assert record.env["RACEGATE_SEED"] == "1234"
    # The reproduce environment lets TSan print to the terminal instead of the old run dir.
    assert "log_path" not in record.env["TSAN_OPTIONS"] and "halt_on_error=0" in record.env["TSAN_OPTIONS"]


# Where the run's TSan log goes, read back from the environment racegate gave it.
LOG_PATH = "os.environ['TSAN_OPTIONS'].rsplit('log_path=', 1)[1]"


def test_passing_runs_leave_nothing_behind(tmp_path):
    executor = Executor(tmp_path / "runs", None, None)
    # A log file where TSan would put one; without a report in it the run still passes.
    code = f"import os\nopen({LOG_PATH} + '.1', 'w').write('log')\n"
    test = TestCase("t", (sys.executable, "-c", code))
    for run in range(3):
        record = run_and_analyse(executor, PlannedRun(test, run, 1, "none"))
        assert record.outcome == "pass" and record.log_dir == ""
        (scratch,) = (tmp_path / "runs").iterdir()  # one dir, reused, and empty
        assert scratch.name.startswith("pending-") and not any(scratch.iterdir())
    executor.close()
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_stray_process_of_a_passing_run_cannot_write_into_the_next_runs_logs(tmp_path):
    # A timeout turns a broken handshake into a failed run instead of a hang.
    executor = Executor(tmp_path / "runs", None, 60)
    report = (CORPUS / "clang14" / "race_global.log").read_text()
    go, done, what = tmp_path / "go", tmp_path / "done", tmp_path / "what"
    os.mkfifo(go)
    os.mkfifo(done)
    # The first run leaves a child behind outside its process group, so killing the group does not stop it.
    # The child waits (on the `go` pipe) until the second run is under way, writes a TSan report where the
    # first run's log went, and tells the second run (on `done`) what became of the write before it ends.
    stray = ("import sys\npath, report, go, done = sys.argv[1:]\nopen(go).read()\n"
             "try:\n    open(path, 'w').write(report)\n    what = 'written'\n"
             "except FileNotFoundError:\n    what = 'no such dir'\nopen(done, 'w').write(what)\n")
    leave_stray = (f"import os, subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {stray!r}, "
                   f"{LOG_PATH} + '.99', {report!r}, {str(go)!r}, {str(done)!r}], start_new_session=True)\n")
    first = run_and_analyse(executor, PlannedRun(TestCase("first", (sys.executable, "-c", leave_stray)), 0, 1,
                                                 "none"))
    assert first.outcome == "pass"
    let_stray_write = (f"open({str(go)!r}, 'w').write('go')\n"
                       f"open({str(what)!r}, 'w').write(open({str(done)!r}).read())\n")
    second = run_and_analyse(executor, PlannedRun(TestCase("second", (sys.executable, "-c", let_stray_write)), 1,
                                                  1, "none"))
    assert second.outcome == "pass" and second.findings == []
    # The stray did write while the second run ran, to a path that no longer exists.
    assert what.read_text() == "no such dir"
    # Where the report does go, it is parsed as one: the test above is not passing for want of that.
    assert parse_reports(report)


def test_missing_binary_is_a_failed_run_not_a_crash_of_racegate(tmp_path):
    test = TestCase("gone", (str(tmp_path / "no-such-binary"),))
    record = run_and_analyse(Executor(tmp_path / "runs", None, None), PlannedRun(test, 0, 1, "none"))
    assert record.outcome == "fail" and "cannot start" in record.findings[0].raw


def test_stop_kills_running_tests(tmp_path, beacon):
    executor = Executor(tmp_path / "runs", None, None)
    code = f"import time\nopen({str(beacon.path)!r}, 'w').write('started\\n')\ntime.sleep(600)\n"
    test = TestCase("sleeper", (sys.executable, "-c", code))
    errors = []

    def work():
        try:
            run_and_analyse(executor, PlannedRun(test, 0, 1, "none"))
        except Stopped:
            errors.append("interrupted")

    worker = threading.Thread(target=work)
    worker.start()
    beacon.wait()
    started = time.monotonic()
    executor.stop()
    worker.join(timeout=10)
    assert not worker.is_alive() and errors == ["interrupted"]
    assert time.monotonic() - started < 10
    assert os.path.exists(tmp_path / "runs" / "0" / "output.txt")


def test_run_serial_tests_never_overlap_with_others(tmp_path):
    marker = tmp_path / "intervals"
    code = ("import time, sys\nstart = time.monotonic()\ntime.sleep(0.3)\n"
            f"open({str(marker)!r}, 'a').write(f'{{sys.argv[1]}} {{start}} {{time.monotonic()}}\\n')\n")
    executor = Executor(tmp_path / "runs", None, None)
    plans = [PlannedRun(TestCase(f"t{i}", (sys.executable, "-c", code, "serial" if i == 2 else "ordinary"),
                                 run_serial=i == 2), i, 1, "none") for i in range(5)]
    workers = [threading.Thread(target=run_and_analyse, args=(executor, p)) for p in plans]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    rows = [line.split() for line in marker.read_text().splitlines()]
    serial = next((float(a), float(b)) for kind, a, b in rows if kind == "serial")
    others = [(float(a), float(b)) for kind, a, b in rows if kind == "ordinary"]
    assert len(others) == 4
    assert all(end <= serial[0] or start >= serial[1] for start, end in others)
    assert any(a[0] < b[1] and b[0] < a[1] for a in others for b in others if a != b)  # the others do overlap


def test_an_old_tsan_runtime_under_a_new_kernel_is_a_clear_error_with_the_log_kept(tmp_path):
    code = ("import sys\nsys.stderr.write('FATAL: ThreadSanitizer: unexpected memory mapping 0x7f0000000000\\n')\n"
            "sys.exit(66)\n")
    with pytest.raises(RacegateError, match=r"sysctl -w vm\.mmap_rnd_bits=28"):
        run_python(tmp_path, code)
    assert "unexpected memory mapping" in (tmp_path / "runs" / "0" / "output.txt").read_text()


def test_an_execution_holds_the_exit_status_output_and_every_tsan_log_and_keeps_them_only_when_asked(tmp_path):
    executor = Executor(tmp_path / "runs", None, None)
    code = (f"import os, sys\nfor pid in (2, 1):\n    open({LOG_PATH} + f'.{{pid}}', 'w').write(f'log {{pid}}\\n')\n"
            "print('said')\nsys.exit(5)\n")
    plan = PlannedRun(TestCase("t", (sys.executable, "-c", code)), 3, 1, "none")
    with executor.run(plan) as execution:
        assert execution.returncode == 5 and not execution.timed_out
        assert execution.output == "said\n" and execution.tsan_log == "log 1\nlog 2\n"
        assert execution.shim_report == execution.run_dir / "shim.txt"
    assert execution.log_dir == "" and not (tmp_path / "runs" / "3").exists()  # not asked to keep them
    with executor.run(plan) as execution:
        execution.keep_logs = True
    assert execution.log_dir == str(tmp_path / "runs" / "3")
    assert sorted(p.name for p in (tmp_path / "runs" / "3").iterdir()) == ["output.txt", "tsan.1", "tsan.2"]


def test_each_run_has_a_private_tmpdir_named_by_racegate_run_dir_removed_unless_kept(tmp_path):
    """Two copies of one test at once get two dirs; a passing run's goes with it, a failing run's is kept."""
    executor = Executor(tmp_path / "runs", None, 60)
    ready = tmp_path / "ready"
    ready.mkdir()
    # Each copy writes its fixed file name, then waits (in the child, bounded) until the other copy has written
    # its own too, and reads its file back: with one shared dir one copy would read the other's.
    code = ("import os, sys, time\nassert os.environ['TMPDIR'] == os.environ['RACEGATE_RUN_DIR']\n"
            "open(os.path.join(os.environ['TMPDIR'], 'fixed.txt'), 'w').write(sys.argv[1])\n"
            f"open(os.path.join({str(ready)!r}, sys.argv[1]), 'w').close()\n"
            "end = time.monotonic() + 30\n"
            f"while len(os.listdir({str(ready)!r})) < 2 and time.monotonic() < end:\n    time.sleep(0.01)\n"
            "print('DIR=' + os.environ['TMPDIR'])\n"
            "ok = open(os.path.join(os.environ['TMPDIR'], 'fixed.txt')).read() == sys.argv[1]\n"
            "sys.exit(9 if not ok else int(sys.argv[2]))\n")
    records = {}

    def one(name, run, status):
        test = TestCase("same", (sys.executable, "-c", code, name, str(status)))
        records[name] = run_and_analyse(executor, PlannedRun(test, run, 1, "none"))

    workers = [threading.Thread(target=one, args=(name, run, 3 * run)) for run, name in enumerate(("a", "b"))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    # b exits 3 on purpose, to be kept; a clash would have made either exit 9.
    assert records["a"].outcome == "pass" and records["b"].returncode == 3
    ran_in = re.search(r"DIR=(\S+)", (tmp_path / "runs" / "1" / "output.txt").read_text()).group(1)
    assert (tmp_path / "runs" / "1" / "tmp" / "fixed.txt").read_text() == "b"  # kept with the failing run's logs
    assert not os.path.exists(ran_in)  # the scratch path it ran under became runs/1
    executor.close()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["1"]  # the passing run's dir is gone
    assert "RACEGATE_RUN_DIR" not in records["b"].env and "TMPDIR" not in records["b"].env


def test_the_tests_own_tmpdir_wins_but_racegate_run_dir_is_the_runs(tmp_path):
    code = "import os\nprint(os.environ['TMPDIR'], os.environ['RACEGATE_RUN_DIR'])\nraise SystemExit(1)\n"
    test = TestCase("t", (sys.executable, "-c", code), env=(("TMPDIR", "/somewhere"),))
    record = run_and_analyse(Executor(tmp_path / "runs", None, None), PlannedRun(test, 0, 1, "none"))
    mine, run_dir = (tmp_path / "runs" / "0" / "output.txt").read_text().split()
    assert mine == "/somewhere" and run_dir.endswith("/tmp") and record.env["TMPDIR"] == "/somewhere"


def _intervals(tmp_path, tests, jobs):
    """Run each test once, on its own thread; (test name, start, end) of each run, from the runs themselves."""
    marker = tmp_path / "intervals"
    code = ("import time, sys\nstart = time.monotonic()\ntime.sleep(0.3)\n"
            f"open({str(marker)!r}, 'a').write(f'{{sys.argv[1]}} {{start}} {{time.monotonic()}}\\n')\n")
    executor = Executor(tmp_path / "runs", None, None, jobs=jobs)
    plans = [PlannedRun(replace(t, command=(sys.executable, "-c", code, t.name)), i, 1, "none")
             for i, t in enumerate(tests)]
    records = []
    workers = [threading.Thread(target=lambda p=p: records.append(run_and_analyse(executor, p))) for p in plans]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    rows = [line.split() for line in marker.read_text().splitlines()]
    return [(name, float(a), float(b)) for name, a, b in rows], records


def _met(a, b):
    return a[1] < b[2] and b[1] < a[2]


def test_resource_locks_keep_tests_sharing_one_apart_and_copies_of_a_locked_test_too(tmp_path):
    tests = [TestCase("db1", (), resource_locks=("db",)), TestCase("db1", (), resource_locks=("db",)),
             TestCase("db2", (), resource_locks=("cache", "db")), TestCase("free", ()), TestCase("free", ())]
    rows, records = _intervals(tmp_path, tests, jobs=5)
    locked = [r for r in rows if r[0] != "free"]
    assert len(locked) == 3 and not any(_met(a, b) for a in locked for b in locked if a is not b)
    free = [r for r in rows if r[0] == "free"]
    assert _met(*free)  # tests without a lock still run side by side
    assert not any(r.overlapped for r in records if r.test.startswith("db"))  # a locked test never meets its copy
    assert all(r.overlapped for r in records if r.test == "free")


def test_processors_count_against_the_jobs(tmp_path):
    tests = [TestCase("wide", (), processors=2)] + [TestCase(f"narrow{i}", ()) for i in range(3)]
    rows, _ = _intervals(tmp_path, tests, jobs=2)
    wide = next(r for r in rows if r[0] == "wide")
    narrow = [r for r in rows if r[0] != "wide"]
    assert len(narrow) == 3 and not any(_met(wide, r) for r in narrow)  # it takes both slots
    assert any(_met(a, b) for a in narrow for b in narrow if a is not b)  # two narrow ones fill them together
    # More than there are is all of them, not a wait forever.
    more = tmp_path / "more"
    more.mkdir()
    rows, _ = _intervals(more, [TestCase("huge", (), processors=8)], jobs=2)
    assert [r[0] for r in rows] == ["huge"]
