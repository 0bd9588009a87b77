"""The CLI's contract: exit codes and one-line errors for what stops before anything runs (the tests that let
racegate run a test command are in tests/e2e/test_cli_runs.py)."""
from __future__ import annotations

import json

import pytest

from samples_helpers import racegate


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


def test_out_dir_that_is_not_racegates_is_not_cleared(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "precious.txt").write_text("mine")
    proc = racegate("run", "--runs", "1", "--out", str(tmp_path), "--", "true")
    assert proc.returncode == 2 and "not a racegate output dir" in proc.stderr
    assert (tmp_path / "runs" / "precious.txt").read_text() == "mine"


def test_an_empty_shard_writes_an_empty_result(tmp_path):
    proc = racegate("run", "--shard", "2/2", "--out", str(tmp_path), "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "racegate.json").read_text())["summary"]["tests"] == 0
