"""A Boost.Test or Catch2 v2 program registered whole (a plain `add_test`, or `racegate run -- ./program`) runs
each case as a test of its own, on real TSan builds with clang and gcc: a case that takes longer than the budget
is cut and not covered, while the other job runs the racy case, whose race is found; a CTest test that already
selects a case stays as it is."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from racegate.discover import discover
from samples_helpers import LAUNCHER, REPO, TEST_CXX, compile_tsan_program, write_ctest_suite

pytestmark = pytest.mark.e2e

PROGRAMS = REPO / "tests" / "case_programs"
BUDGET = "10"  # the sleeping case takes 20 s


@pytest.fixture(scope="module", params=sorted(TEST_CXX))
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp(f"cases-{request.param}")
    return {"boost": compile_tsan_program(request.param, PROGRAMS / "boost_cases.cpp", out / "boost_cases",
                                          "-lboost_unit_test_framework"),
            "catch2": compile_tsan_program(request.param, PROGRAMS / "catch2_cases.cpp", out / "catch2_cases")}


# Per framework: the racy case and the long one as listed, and a command that selects the racy case itself.
CASES = {
    "boost": ("shared/counter_race", "slow/sleeps", ["--run_test=shared/counter_race"]),
    "catch2": ("counter race", "slow, sleeping [20 s]", ["counter race"]),
}


def racegate(out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(out), "--time-budget", BUDGET,
                           "--jobs", "2", *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads((out / "racegate.json").read_text())


def assert_race_found_in_its_case(proc: subprocess.CompletedProcess[str], result: dict, racy: str, long: str):
    tests = {t["name"]: t for t in result["tests"]}
    assert tests[racy]["outcomes"]["race"] >= 1, tests[racy]
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "data race" and racy in bucket["tests"]
    # The long case is cut at the budget, and that is its honest verdict; the racy one is covered.
    assert tests[long]["outcomes"]["cut"] == 1 and tests[long]["runs"] == 1
    assert f"{long}: not covered" in proc.stdout and f"{racy}: not covered" not in proc.stdout
    assert "NOT COVERED" not in proc.stdout


@pytest.mark.parametrize("framework", sorted(CASES))
def test_a_program_added_whole_to_ctest_runs_case_by_case(build, tmp_path, framework):
    racy, long, selects_racy = CASES[framework]
    exe = str(build[framework])
    ctest_dir = write_ctest_suite(tmp_path, {"whole": [exe], "one": [exe, *selects_racy]})
    proc, result = racegate(tmp_path / "out", "--build-dir", str(ctest_dir))
    names = {t["name"] for t in result["tests"]}
    extra = {"whole/shared/inner/adds"} if framework == "boost" else set()  # disabled and hidden cases: none
    assert names == {f"whole/{racy}", f"whole/{long}", "one"} | extra
    assert_race_found_in_its_case(proc, result, f"whole/{racy}", f"whole/{long}")
    tests = {t["name"]: t for t in result["tests"]}
    assert tests["one"]["outcomes"]["race"] >= 1  # it selected the case itself and ran as registered


@pytest.mark.parametrize("framework", sorted(CASES))
def test_tests_regex_selects_a_split_test_whole_or_its_cases_by_their_names(build, tmp_path, framework):
    racy, long, selects_racy = CASES[framework]
    exe = str(build[framework])
    ctest_dir = write_ctest_suite(tmp_path, {"whole": [exe], "one": [exe, *selects_racy]})
    assert {t.name for t in discover(ctest_dir, "^whole$")} >= {f"whole/{racy}", f"whole/{long}"}
    (case,) = discover(ctest_dir, "counter.race")
    assert case.name == f"whole/{racy}" and case.command[0] == exe


@pytest.mark.parametrize("framework", sorted(CASES))
def test_racegate_run_of_the_program_runs_case_by_case(build, tmp_path, framework):
    racy, long, _ = CASES[framework]
    proc, result = racegate(tmp_path / "out", "--", str(build[framework]))
    extra = {"shared/inner/adds"} if framework == "boost" else set()
    assert {t["name"] for t in result["tests"]} == {racy, long} | extra
    assert_race_found_in_its_case(proc, result, racy, long)
