"""Several tests that crash on every run, plain ones too, by one signal and without a TSan report: racegate says
once that this points at the environment (and at racegate doctor), keeps a failing bucket per test, and gives
those buckets advice for a steady crash; on real TSan builds with clang and gcc (field-test problem 16)."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import REPO

pytestmark = pytest.mark.e2e

PROGRAM = REPO / "tests" / "verdict_programs" / "steady_crash.cpp"
LAUNCHER = REPO / "racegate"
COMPILERS = {"clang": "clang++", "gcc": "g++"}


@pytest.fixture(scope="module", params=sorted(COMPILERS))
def program(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cxx = COMPILERS[request.param]
    if not shutil.which(cxx):
        pytest.skip(f"{cxx} not installed")
    exe = tmp_path_factory.mktemp(f"steady-crash-{request.param}") / "steady_crash"
    subprocess.run([cxx, "-std=c++17", "-fsanitize=thread", "-g", "-O1", "-pthread", str(PROGRAM), "-o", str(exe),
                    "-lanl"], check=True, timeout=600)
    return exe


def _suite(tmp_path: Path, exe: Path, tests: dict[str, str]) -> Path:
    """A hand-written CTest file registering the one program as several tests, each with its mode."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "CTestTestfile.cmake").write_text(
        "".join(f'add_test({name} "{exe}" "{mode}")\n' for name, mode in tests.items()))
    return suite


def _racegate(out: Path, suite: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(out), "--build-dir", str(suite),
                           "--runs", "3", "--jobs", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads((out / "racegate.json").read_text())


def _check(proc: subprocess.CompletedProcess[str], result: dict, crashing: list[str]) -> None:
    assert proc.returncode == 1  # crashes still fail the gate
    assert result["steady_crashes"] == [{"signal": "SIGSEGV", "tests": sorted(crashing)}]
    crash_buckets = [b for b in result["buckets"] if b["kind"] == "crash"]
    assert sorted(t for b in crash_buckets for t in b["tests"]) == sorted(crashing)  # one bucket per test
    for b in crash_buckets:
        assert b["evidence"]["plain_runs"] == b["evidence"]["plain_runs_with_bucket"] >= 1
        assert "killed by SIGSEGV on every run, plain ones too" in b["advice"]["what"]
        assert "racegate doctor" in b["advice"]["fix"]
        assert "shared between threads" not in b["advice"]["fix"]  # not the advice for a racy crash
    note = (f"note: {len(crashing)} tests crashed with SIGSEGV on every run, plain ones too, and TSan reported "
            f"nothing: that points at one cause rather than {len(crashing)} bugs, most often the environment")
    assert proc.stdout.count(note) == 1 and "run racegate doctor" in proc.stdout
    assert "Passes" not in proc.stdout.split(note)[1].splitlines()[0]


def test_tests_killed_alike_on_every_run_are_said_once_to_point_at_the_environment(program, tmp_path):
    crashing = ["Kill.1", "Kill.2", "Kill.3"]
    suite = _suite(tmp_path, program, {**{name: "segv" for name in crashing}, "Passes": "pass"})
    proc, result = _racegate(tmp_path / "out", suite)
    _check(proc, result, crashing)
    tests = {t["name"]: t for t in result["tests"]}
    assert tests["Passes"]["failed_runs"] == 0
    assert all(tests[name]["outcomes"]["crash"] == tests[name]["runs"] == 3 for name in crashing)


def test_the_getaddrinfo_a_resolver_thread_crash_of_the_field_test(program, tmp_path):
    # The field test's cause: glibc's resolver thread, started behind TSan's back, crashing in TSan's malloc.
    # A fixed glibc or TSan runtime would not crash: then there is nothing to check here.
    alone = subprocess.run([str(program), "resolve"], capture_output=True, text=True, timeout=60)
    if alone.returncode != -signal.SIGSEGV:
        pytest.skip(f"getaddrinfo_a does not crash under this TSan build (exit {alone.returncode})")
    assert "ThreadSanitizer" not in alone.stderr  # no report: what makes it look like one bug per test
    crashing = ["ServerTest.GetA", "ServerTest.GetB"]
    suite = _suite(tmp_path, program, {**{name: "resolve" for name in crashing}, "Passes": "pass"})
    proc, result = _racegate(tmp_path / "out", suite)
    _check(proc, result, crashing)
