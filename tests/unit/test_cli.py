"""The CLI's contract: exit codes, one-line errors, partial results on interruption."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "racegate"


def racegate(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(LAUNCHER), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("args,message", [
    (["run"], "nothing to run"),
    (["run", "--build-dir", "/nonexistent"], "CTestTestfile"),
    (["run", "--shard", "3/2", "--", "true"], "--shard"),
    (["run", "--schedule", "chaos", "--", "true"], "unknown schedule"),
    (["run", "--format", "pdf", "--", "true"], "unknown report format"),
    (["run", "--baseline", "/nonexistent.json", "--", "true"], "cannot read baseline"),
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


def test_sigint_stops_the_run_and_writes_partial_results(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "run", "--runs", "1000", "--jobs", "2", "--out", str(out),
                             "--", sys.executable, "-c", "import time; time.sleep(0.3)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    result = json.loads((out / "racegate.json").read_text())
    assert result["summary"]["interrupted"] is True
    assert 0 < result["summary"]["runs"] < 1000
    # The runs cut short keep what they printed; passing runs and scratch dirs leave nothing.
    kept = [p.name for p in (out / "runs").iterdir()]
    assert 1 <= len(kept) <= 2 and all(name.isdigit() for name in kept)


def test_sigterm_is_handled_like_sigint(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "run", "--runs", "1000", "--out", str(out),
                             "--", sys.executable, "-c", "import time; time.sleep(60)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.terminate()
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert json.loads((out / "racegate.json").read_text())["summary"]["interrupted"] is True


def test_an_interrupted_session_waits_for_every_worker_before_writing(tmp_path):
    # A worker still running after the result is written shows as a scratch dir left behind. In Python
    # 3.11 that happened on about one interrupt in four when the main thread waited with Thread.join.
    for attempt in range(5):
        out = tmp_path / str(attempt)
        proc = subprocess.Popen([sys.executable, str(LAUNCHER), "run", "--runs", "1000", "--jobs", "2", "--out",
                                 str(out), "--", sys.executable, "-c", "import time; time.sleep(0.05)"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1 + attempt / 10)
        proc.terminate()
        assert proc.wait(timeout=60) == 130
        assert json.loads((out / "racegate.json").read_text())["summary"]["interrupted"] is True
        assert not list((out / "runs").glob("pending-*"))


def test_time_budget_stops_starting_runs(tmp_path):
    proc = racegate("run", "--time-budget", "2", "--out", str(tmp_path), "--", sys.executable, "-c", "pass")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "racegate.json").read_text())
    assert result["summary"]["runs"] >= 1 and result["summary"]["wall_seconds"] < 60


def test_a_command_with_bytes_that_are_not_utf8_still_gets_its_result(tmp_path):
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--runs", "1", "--out", str(tmp_path), "--",
                           b"/bin/sh", b"-c", b"exit 3", b"\xff\xfe"], capture_output=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    result = json.loads((tmp_path / "racegate.json").read_text(encoding="utf-8"))
    assert result["tests"][0]["command"][-1] == "\udcff\udcfe"


def test_out_dir_that_is_not_racegates_is_not_cleared(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "precious.txt").write_text("mine")
    proc = racegate("run", "--runs", "1", "--out", str(tmp_path), "--", "true")
    assert proc.returncode == 2 and "not a racegate output dir" in proc.stderr
    assert (tmp_path / "runs" / "precious.txt").read_text() == "mine"


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
