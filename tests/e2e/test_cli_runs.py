"""The CLI's contract on runs of test commands: exit codes, partial results on an interrupt, the output dir."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from samples_helpers import LAUNCHER, default_sigint, racegate


@pytest.mark.e2e
def test_clean_command_exits_0_and_failing_command_exits_1(tmp_path):
    ok = racegate("run", "--runs", "2", "--out", str(tmp_path / "ok"), "--", sys.executable, "-c", "pass")
    assert ok.returncode == 0, ok.stderr
    result = json.loads((tmp_path / "ok" / "racegate.json").read_text())
    assert result["summary"]["runs"] >= 1 and result["summary"]["buckets"] == 0
    # One job: no copy of it runs beside another, so no re-check alone adds runs (docs/scheduling.md).
    bad = racegate("run", "--runs", "3", "--jobs", "1", "--out", str(tmp_path / "bad"), "--", sys.executable, "-c",
                   "import sys; print('boom'); sys.exit(4)")
    assert bad.returncode == 1
    result = json.loads((tmp_path / "bad" / "racegate.json").read_text())
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "test failure" and bucket["occurrences"] == 3
    assert "boom" in (tmp_path / "bad" / bucket["raw_report"]).read_text()
    assert racegate("run", "--runs", "1", "--no-gate", "--out", str(tmp_path / "ng"), "--", "false").returncode == 0


def started_line(beacon, then: str) -> list[str]:
    """A test command that writes a line to the beacon as it starts, then runs the Python code `then`."""
    return [sys.executable, "-c", f"open({str(beacon.path)!r}, 'w').write('started\\n')\n{then}"]


@pytest.mark.e2e
def test_sigint_stops_the_run_and_writes_partial_results(tmp_path, beacon):
    out = tmp_path / "out"
    history = tmp_path / "history.json"
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "run", "--runs", "1000", "--jobs", "2", "--out", str(out),
                             "--history", str(history), "--", *started_line(beacon, "import time; time.sleep(0.3)")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    # With two workers a third run starts only once a first one has finished and been counted.
    beacon.wait(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    result = json.loads((out / "racegate.json").read_text())
    assert result["summary"]["interrupted"] is True
    assert 0 < result["summary"]["runs"] < 1000
    # The runs cut short keep what they printed; passing runs and scratch dirs leave nothing.
    kept = [p.name for p in (out / "runs").iterdir()]
    assert 1 <= len(kept) <= 2 and all(name.isdigit() for name in kept)
    # The runs that finished are in the history for the next session.
    (entry,) = json.loads(history.read_text())["tests"].values()
    assert sum(s["runs"] for s in entry["strategies"].values()) == result["summary"]["runs"]


@pytest.mark.e2e
def test_sigterm_is_handled_like_sigint(tmp_path, beacon):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "run", "--runs", "1000", "--out", str(out),
                             "--", *started_line(beacon, "import time; time.sleep(60)")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    beacon.wait()
    proc.terminate()
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert json.loads((out / "racegate.json").read_text())["summary"]["interrupted"] is True


@pytest.mark.e2e
def test_an_unreadable_history_is_a_warning_and_is_replaced(tmp_path):
    history = tmp_path / "history.json"
    history.write_text("not json")
    proc = racegate("run", "--runs", "1", "--history", str(history), "--out", str(tmp_path / "out"), "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert f"racegate: warning: ignoring history {history}: not JSON" in proc.stderr
    assert json.loads(history.read_text())["racegate_history"] == 1


@pytest.mark.e2e
def test_time_budget_stops_starting_runs(tmp_path):
    proc = racegate("run", "--time-budget", "2", "--out", str(tmp_path), "--", sys.executable, "-c", "pass")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "racegate.json").read_text())
    assert result["summary"]["runs"] >= 1 and result["summary"]["wall_seconds"] < 60


@pytest.mark.e2e
def test_a_command_with_bytes_that_are_not_utf8_still_gets_its_result(tmp_path):
    proc = racegate("run", "--runs", "1", "--out", str(tmp_path), "--", b"/bin/sh", b"-c", b"exit 3", b"\xff\xfe",
                    text=False)
    assert proc.returncode == 1, proc.stderr
    result = json.loads((tmp_path / "racegate.json").read_text(encoding="utf-8"))
    assert result["tests"][0]["command"][-1] == "\udcff\udcfe"


@pytest.mark.e2e
def test_what_an_earlier_run_left_in_the_out_dir_is_cleared(tmp_path):
    for leftover in ("runs/7", "runs/pending-3", "reports"):
        (tmp_path / leftover).mkdir(parents=True)
    (tmp_path / "runs" / "pending-3" / "output.txt").write_text("from a racegate that was killed")
    (tmp_path / "reports" / "0123abcd.txt").write_text("an old report")
    proc = racegate("run", "--runs", "1", "--out", str(tmp_path), "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert not list((tmp_path / "runs").iterdir()) and not (tmp_path / "reports").exists()
