"""Copies of one test do not collide: correct code that fails only when two copies run at once (a fixed file name
in its working directory, a fixed loopback port) stays green with --jobs 2, its interference named; with CTest's
RESOURCE_LOCK on it the copies never meet. Real TSan builds, clang and gcc."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import REPO, TEST_CXX, compile_tsan_program

pytestmark = pytest.mark.e2e

LAUNCHER = REPO / "racegate"


@pytest.fixture(scope="module", params=sorted(TEST_CXX))
def program(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"copies-{request.param}")
    return compile_tsan_program(request.param, REPO / "tests" / "copies_programs" / "copies.cpp", out / "copies")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def suite(tmp_path: Path, program: Path, mode: str, lock: bool) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    suite = tmp_path / "suite"
    suite.mkdir()
    lines = [f'add_test(Copies "{program}" "{mode}" "{free_port()}")',
             f'set_tests_properties(Copies PROPERTIES WORKING_DIRECTORY "{work}"'
             + (' RESOURCE_LOCK "shared")' if lock else ")")]
    (suite / "CTestTestfile.cmake").write_text("\n".join(lines) + "\n")
    return suite


def racegate(out: Path, build_dir: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(out), "--build-dir", str(build_dir),
                           "--jobs", "2", "--runs", "8", "--schedule", "none", "--timeout", "60"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads((out / "racegate.json").read_text())


@pytest.mark.parametrize("mode", ["file", "port"])
def test_copies_that_clash_are_named_interference_and_do_not_gate(program, tmp_path, mode):
    proc, result = racegate(tmp_path / "out", suite(tmp_path, program, mode, lock=False))
    assert proc.returncode == 0, proc.stdout
    (bucket,) = result["buckets"]
    assert bucket["interference"] is True and bucket["kind"] == "test failure"
    assert "RESOURCE_LOCK" in bucket["advice"]["fix"] and "fixed file name" in bucket["advice"]["what"]
    assert "[interference]" in proc.stdout
    assert result["verification"]["alone"]["runs"] >= 5


@pytest.mark.parametrize("mode", ["file", "port"])
def test_a_resource_lock_keeps_the_copies_apart(program, tmp_path, mode):
    proc, result = racegate(tmp_path / "out", suite(tmp_path, program, mode, lock=True))
    assert proc.returncode == 0 and result["buckets"] == [], proc.stdout
    assert result["tests"][0]["runs"] == 8
