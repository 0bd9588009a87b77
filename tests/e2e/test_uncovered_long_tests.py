"""No pass without evidence, on real TSan builds with clang and gcc: a test whose run takes longer than the budget
completed no run, so the session never says PASS (exit 3, or 0 with --allow-uncovered) and names the test and its
fix; a race its cut run printed counts, as a cut run's; the other job keeps running the short test meanwhile; and a
test whose plain run never finishes is named as such and not repeated."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import REPO, TEST_CXX, compile_tsan_program, write_ctest_suite

pytestmark = pytest.mark.e2e

PROGRAMS = REPO / "tests" / "verdict_programs"
LAUNCHER = REPO / "racegate"


@pytest.fixture(scope="module", params=sorted(TEST_CXX))
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp(f"coverage-{request.param}")
    return {"long": compile_tsan_program(request.param, PROGRAMS / "long_run.cpp", out / "long_run"),
            "verdicts": compile_tsan_program(request.param, PROGRAMS / "verdicts.cpp", out / "verdicts")}


def racegate(out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1, 3), proc.stderr
    return proc, json.loads((out / "racegate.json").read_text())


def test_a_test_longer_than_the_budget_is_not_covered_and_the_other_job_keeps_working(build, tmp_path):
    exe = str(build["long"])
    ctest_dir = write_ctest_suite(tmp_path, {"LongSafe": [exe, "60", "safe"], "Short": [exe, "0", "safe"]})
    proc, result = racegate(tmp_path / "out", "--build-dir", str(ctest_dir), "--time-budget", "5", "--jobs", "2")
    assert proc.returncode == 3
    assert "PASS" not in proc.stdout
    assert "NOT COVERED: 1 of 2 tests completed no run" in proc.stdout
    assert ("LongSafe: not covered: 1 run, none completed (cut at the budget's deadline after"
            in proc.stdout and "raise --time-budget, shard, or exclude it" in proc.stdout)
    tests = {t["name"]: t for t in result["tests"]}
    assert tests["LongSafe"]["outcomes"]["cut"] == 1 and tests["LongSafe"]["runs"] == 1
    assert result["summary"]["uncovered"] == 1
    # While one job sat in the long run, the other kept repeating the short test.
    assert tests["Short"]["outcomes"]["pass"] >= 5
    summary = (tmp_path / "out" / "racegate-summary.md").read_text()
    assert "NOT COVERED" in summary and "LongSafe: not covered" in summary and "PASS" not in summary


def test_allow_uncovered_exits_0_and_still_names_the_test(build, tmp_path):
    ctest_dir = write_ctest_suite(tmp_path, {"LongSafe": [str(build["long"]), "60", "safe"]})
    proc, result = racegate(tmp_path / "out", "--build-dir", str(ctest_dir), "--time-budget", "3", "--jobs", "1",
                            "--allow-uncovered")
    assert proc.returncode == 0
    assert "PASS" not in proc.stdout and "NOT COVERED: 1 of 1 test completed no run" in proc.stdout
    assert "LongSafe: not covered" in proc.stdout
    assert result["config"]["allow_uncovered"] is True


def test_a_race_a_cut_run_printed_gates_and_counts_as_the_cut_run_it_was(build, tmp_path):
    ctest_dir = write_ctest_suite(tmp_path, {"Long": [str(build["long"]), "60", "racy"]})
    proc, result = racegate(tmp_path / "out", "--build-dir", str(ctest_dir), "--time-budget", "4", "--jobs", "1")
    assert proc.returncode == 1
    (bucket,) = result["buckets"]
    (test,) = result["tests"]
    # The table says "race 0, cut 1"; the bucket agrees: no completed run showed it, one cut run did.
    assert test["outcomes"]["race"] == 0 and test["outcomes"]["cut"] == 1
    assert bucket["runs_with_bucket"] == 0 and bucket["cut_runs_with_bucket"] == 1
    assert bucket["run_fraction"] == 0.0
    assert "seen in 1 run racegate cut, and no completed run" in proc.stdout
    assert "1 of 1 runs" not in proc.stdout


def test_a_test_whose_plain_run_never_finishes_is_named_and_not_repeated(build, tmp_path):
    proc, result = racegate(tmp_path / "out", "--runs", "3", "--timeout", "2", "--",
                            str(build["verdicts"]), "hang")
    (test,) = result["tests"]
    assert test["runs"] == 1 and test["outcomes"]["timeout"] == 1
    assert test["unfinished"] == pytest.approx(2.0, abs=0.5)
    assert "did not finish in 2" in proc.stdout
    assert "under TSan, plain; it is not repeated: raise its TIMEOUT, exclude it, or check it for a hang" \
        in proc.stdout
    summary = (tmp_path / "out" / "racegate-summary.md").read_text()
    assert "under TSan, plain; it is not repeated" in summary
