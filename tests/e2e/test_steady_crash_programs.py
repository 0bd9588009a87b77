"""Several tests that crash on every run, plain ones too, by one signal and without a TSan report: racegate says
once that this points at one cause (most often the environment; racegate doctor), keeps a failing bucket per test,
and gives those buckets advice for a steady crash; on real TSan builds with clang and gcc, as one program
registered as several CTest tests and as GoogleTest cases (field-test problem 16)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import REPO, TEST_CXX, compile_tsan_program

pytestmark = pytest.mark.e2e

PROGRAMS = REPO / "tests" / "verdict_programs"
LAUNCHER = REPO / "racegate"


@pytest.fixture(scope="module", params=sorted(TEST_CXX))
def programs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp(f"steady-crash-{request.param}")
    return {"plain": compile_tsan_program(request.param, PROGRAMS / "steady_crash.cpp", out / "steady_crash", "-lanl"),
            "gtest": compile_tsan_program(request.param, PROGRAMS / "steady_crash_gtest.cpp",
                                          out / "steady_crash_gtest", "-lgtest", "-lgtest_main", "-lanl")}


def _suite(tmp_path: Path, tests: dict[str, list[str]]) -> Path:
    """A hand-written CTest file: each test a command line."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "CTestTestfile.cmake").write_text(
        "".join(f"add_test({name} {' '.join(json.dumps(a) for a in argv)})\n" for name, argv in tests.items()))
    return suite


def _racegate(tmp_path: Path, tests: dict[str, list[str]]) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(out), "--build-dir",
                           str(_suite(tmp_path, tests)), "--runs", "3", "--jobs", "2"],
                          capture_output=True, text=True, timeout=600)
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
    tests = {t["name"]: t for t in result["tests"]}
    assert tests["Quiet.Passes"]["failed_runs"] == 0 and tests["Quiet.Passes"]["runs"] >= 1
    assert all(tests[name]["outcomes"]["crash"] == tests[name]["runs"] >= 1 for name in crashing)


def _skip_unless_resolving_crashes(argv: list[str]) -> None:
    # A fixed glibc or TSan runtime would not crash in getaddrinfo_a: then there is nothing to check.
    alone = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if alone.returncode != -signal.SIGSEGV:
        pytest.skip(f"getaddrinfo_a does not crash under this TSan build (exit {alone.returncode})")
    assert "ThreadSanitizer" not in alone.stdout + alone.stderr  # no report: what made it one bucket per test


def test_a_program_that_kills_itself_registered_as_several_tests(programs, tmp_path):
    exe = str(programs["plain"])
    crashing = ["Kill.1", "Kill.2", "Kill.3"]
    proc, result = _racegate(tmp_path, {**{name: [exe, "segv"] for name in crashing}, "Quiet.Passes": [exe, "pass"]})
    _check(proc, result, crashing)


def test_the_getaddrinfo_a_resolver_thread_of_the_field_test(programs, tmp_path):
    exe = str(programs["plain"])
    _skip_unless_resolving_crashes([exe, "resolve"])
    crashing = ["ServerTest.GetA", "ServerTest.GetB"]
    proc, result = _racegate(tmp_path, {**{name: [exe, "resolve"] for name in crashing},
                                        "Quiet.Passes": [exe, "pass"]})
    _check(proc, result, crashing)


@pytest.mark.parametrize("group", ["Kill", "Resolve"])
def test_googletest_cases_that_crash_alike(programs, tmp_path, group):
    exe = str(programs["gtest"])
    if group == "Resolve":
        _skip_unless_resolving_crashes([exe, "--gtest_filter=Resolve.First"])
    crashing = [f"{group}.First", f"{group}.Second"]
    proc, result = _racegate(tmp_path, {name: [exe, f"--gtest_filter={name}"] for name in [*crashing, "Quiet.Passes"]})
    _check(proc, result, crashing)
