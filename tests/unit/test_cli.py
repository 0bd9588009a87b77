"""The CLI's contract: exit codes, one-line errors, partial results on interruption.

The tests that let racegate run a test command are e2e; the usage errors, which stop before anything
runs, are in the fast tier.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from samples_helpers import LAUNCHER, default_sigint, racegate


@pytest.mark.parametrize("args,message", [
    (["run"], "nothing to run"),
    (["run", "--build-dir", "/nonexistent"], "CTestTestfile"),
    (["run", "--shard", "3/2", "--", "true"], "--shard"),
    (["run", "--schedule", "chaos", "--", "true"], "unknown schedule"),
    (["run", "--format", "pdf", "--", "true"], "unknown report format"),
    (["run", "--baseline", "/nonexistent.json", "--", "true"], "cannot read baseline"),
    (["run", "--suppressions", "missing.supp", "--", "true"], "missing.supp (from --suppressions) does not exist"),
    (["report", "/nonexistent.json"], "cannot read"),
    (["replay", "abc", "--from", "/nonexistent.json"], "cannot read"),
    (["init", ".", "--racegate-dir", "/nonexistent"], "not a racegate checkout"),
])
def test_usage_and_environment_errors_exit_2_with_one_line(tmp_path, args, message):
    proc = racegate(*args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("racegate: ") and message in lines[0]


def test_invalid_result_file_is_rejected(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text('{"schema": 99}')
    proc = racegate("report", str(bad))
    assert proc.returncode == 2 and "schema 1" in proc.stderr


@pytest.mark.e2e
def test_clean_command_exits_0_and_failing_command_exits_1(tmp_path):
    ok = racegate("run", "--runs", "2", "--out", str(tmp_path / "ok"), "--", sys.executable, "-c", "pass")
    assert ok.returncode == 0, ok.stderr
    result = json.loads((tmp_path / "ok" / "racegate.json").read_text())
    assert result["summary"]["runs"] >= 1 and result["summary"]["buckets"] == 0
    bad = racegate("run", "--runs", "3", "--out", str(tmp_path / "bad"), "--", sys.executable, "-c",
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


def test_out_dir_that_is_not_racegates_is_not_cleared(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "precious.txt").write_text("mine")
    proc = racegate("run", "--runs", "1", "--out", str(tmp_path), "--", "true")
    assert proc.returncode == 2 and "not a racegate output dir" in proc.stderr
    assert (tmp_path / "runs" / "precious.txt").read_text() == "mine"


@pytest.mark.e2e
def test_what_an_earlier_run_left_in_the_out_dir_is_cleared(tmp_path):
    for leftover in ("runs/7", "runs/pending-3", "reports"):
        (tmp_path / leftover).mkdir(parents=True)
    (tmp_path / "runs" / "pending-3" / "output.txt").write_text("from a racegate that was killed")
    (tmp_path / "reports" / "0123abcd.txt").write_text("an old report")
    proc = racegate("run", "--runs", "1", "--out", str(tmp_path), "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert not list((tmp_path / "runs").iterdir()) and not (tmp_path / "reports").exists()


def test_an_empty_shard_writes_an_empty_result(tmp_path):
    proc = racegate("run", "--shard", "2/2", "--out", str(tmp_path), "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "racegate.json").read_text())["summary"]["tests"] == 0
