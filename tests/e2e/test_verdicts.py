"""A verdict of the project's own, on real TSan builds with clang and gcc: the budget is a deadline, racegate's
own slowdown is no verdict, failures seen only under perturbation carry their evidence, timing assertions and
known standard-library races are reported without failing the gate."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samples_helpers import REPO, TEST_CXX, compile_tsan_program

pytestmark = pytest.mark.e2e

PROGRAMS = REPO / "tests" / "verdict_programs"
LAUNCHER = REPO / "racegate"
# Writing the result and reports after the deadline, plus starting racegate: documented as a few seconds.
GRACE = 5.0


@pytest.fixture(scope="module", params=sorted(TEST_CXX))
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp(f"verdicts-{request.param}")
    return {"verdicts": compile_tsan_program(request.param, PROGRAMS / "verdicts.cpp", out / "verdicts"),
            "timing": compile_tsan_program(request.param, PROGRAMS / "timing_test.cpp", out / "timing_test",
                                           "-lgtest", "-lgtest_main"),
            "dir": out}


def racegate(out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1, 3), proc.stderr
    return proc, json.loads((out / "racegate.json").read_text())


def test_the_budget_is_a_deadline_and_a_cut_run_is_no_verdict(build, tmp_path):
    # Hand-written CTest file: a test that hangs, then one the budget never reaches (one job).
    ctest_dir = tmp_path / "suite"
    ctest_dir.mkdir()
    exe = build["verdicts"]
    (ctest_dir / "CTestTestfile.cmake").write_text(
        f'add_test(Hangs "{exe}" "hang")\nadd_test(NeverReached "{exe}" "fail-perturbed")\n')
    started = time.monotonic()
    proc, result = racegate(tmp_path / "out", "--build-dir", str(ctest_dir), "--time-budget", "3", "--jobs", "1",
                            "--timeout", "300")
    wall = time.monotonic() - started
    assert wall < 3 + GRACE, wall
    # Neither a timeout nor a failure, and no pass either: neither test completed a run (exit 3, NOT COVERED).
    assert proc.returncode == 3 and result["buckets"] == []
    assert "NOT COVERED: 2 of 2 tests completed no run" in proc.stdout and "PASS" not in proc.stdout
    tests = {t["name"]: t for t in result["tests"]}
    assert tests["Hangs"]["outcomes"]["cut"] == 1 and tests["Hangs"]["failed_runs"] == 0
    assert tests["NeverReached"]["runs"] == 0
    assert tests["NeverReached"]["not_run"] == "the time budget ran out before its first run"
    assert result["summary"]["cut_runs"] == 1 and result["summary"]["not_run"] == 1
    assert result["summary"]["uncovered"] == 2
    assert "the time budget was too small for one pass" in proc.stdout


def test_racegates_own_slowdown_drops_the_strategy_and_is_no_verdict(build, tmp_path):
    proc, result = racegate(tmp_path / "out", "--schedule", "noise", "--runs", "3", "--jobs", "1", "--",
                            str(build["verdicts"]), "slow-perturbed")
    assert proc.returncode == 0 and result["buckets"] == []
    (test,) = result["tests"]
    # plain, noise stopped at its slowdown limit (plain + 10 s, far below the 300 s timeout), plain re-check
    assert test["outcomes"]["cut"] == 1 and test["outcomes"]["pass"] == 2
    (note,) = test["notes"]
    assert note.startswith("noise slowed this test past 5x its plain run") and "noise disabled for it" in note
    assert "noise disabled for it" in proc.stdout


def test_a_failure_only_perturbation_produces_gates_with_its_evidence(build, tmp_path):
    # One job: two copies of the test never overlap, so no re-check alone replays its seed beside the two replays.
    proc, result = racegate(tmp_path / "out", "--schedule", "noise", "--runs", "2", "--jobs", "1", "--",
                            str(build["verdicts"]), "fail-perturbed")
    assert proc.returncode == 1
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "test failure" and bucket["first_seen"]["schedule"] == "noise"
    evidence = bucket["evidence"]
    assert evidence["plain_runs"] >= 3 and evidence["plain_runs_with_bucket"] == 0
    assert evidence["replays"] == 2 and evidence["replays_with_bucket"] == 2
    seed = bucket["first_seen"]["seed"]
    assert f"never plain (0/{evidence['plain_runs']}); noise seed {seed} replays 2/2" in proc.stdout
    # What weighing it cost is counted apart from the search, and it was first seen before the session ended.
    spent = result["verification"]
    assert spent["recheck"]["runs"] == evidence["plain_runs"] - 1 and spent["replay"]["runs"] == 2  # 1 plain search
    assert spent["recheck"]["seconds"] > 0 and spent["replay"]["seconds"] > 0
    assert 0 < bucket["first_seen"]["seconds"] <= result["summary"]["wall_seconds"]
    assert result["discovery_seconds"][0] == [bucket["first_seen"]["seconds"], 1]
    assert "verification " in proc.stdout and " plain re-checks " in proc.stdout


def test_a_timing_assertion_is_reported_and_gates_only_with_strict(build, tmp_path):
    proc, result = racegate(tmp_path / "out", "--schedule", "noise", "--runs", "2", "--", str(build["timing"]))
    assert proc.returncode == 0
    (bucket,) = result["buckets"]
    assert bucket["timing_sensitive"] and "elapsed_ms" in bucket["title"]
    assert "[timing-sensitive] test failure" in proc.stdout and "--strict gates it" in proc.stdout
    strict, _ = racegate(tmp_path / "strict", "--strict", "--schedule", "noise", "--runs", "2", "--",
                         str(build["timing"]))
    assert strict.returncode == 1


def test_a_race_inside_the_standard_librarys_own_state_is_known_not_the_projects(build, tmp_path):
    proc, result = racegate(tmp_path / "out", "--schedule", "none", "--runs", "1", "--",
                            str(build["verdicts"]), "regex")
    assert proc.returncode == 0, proc.stdout
    assert result["buckets"] and all(b["library_issue"]["rule"] == "gcc-77704" for b in result["buckets"])
    assert "standard library (GCC bug 77704" in proc.stdout
    gated, _ = racegate(tmp_path / "gated", "--gate-library-reports", "--schedule", "none", "--runs", "1", "--",
                        str(build["verdicts"]), "regex")
    assert gated.returncode == 1


def test_a_race_inside_library_code_on_the_projects_own_object_gates(build, tmp_path):
    proc, result = racegate(tmp_path / "out", "--schedule", "none", "--runs", "1", "--",
                            str(build["verdicts"]), "shared-vector")
    assert proc.returncode == 1
    assert result["buckets"] and not any("library_issue" in b for b in result["buckets"])
