"""Failures beside races, on TSan builds with clang and gcc through `racegate run` (field tests #21, #22, #27):
a suite's unrelated failure stays its own problem beside the suite's two races, a forked child's race counts its
runs as `race` in the outcome table, and a correct pool whose check assumes a 2 ms sleep is enough does not make
the verdict red."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import LAUNCHER, REPO, TEST_CXX, TSAN_CXXFLAGS

pytestmark = pytest.mark.e2e

PROGRAMS = REPO / "tests" / "evidence_programs"
FORK_CHILD = REPO / "tests" / "failure_corpus" / "programs" / "fork_child_race.cpp"
C_COMPILERS = {"clang": "clang", "gcc": "gcc"}


def _build(compiler: str, source: Path, exe: Path) -> Path:
    c = source.suffix == ".c"
    argv = [C_COMPILERS[compiler] if c else TEST_CXX[compiler], *(("-std=c11",) if c else ("-std=c++17",)),
            *TSAN_CXXFLAGS[1:], str(source), "-o", str(exe)]
    subprocess.run(argv, check=True, timeout=600)
    return exe


def _session(out: Path, tests: dict[str, Path], *args: str) -> tuple[int, dict]:
    suite = out / "suite"
    suite.mkdir()
    (suite / "CTestTestfile.cmake").write_text("".join(f"add_test({name} {json.dumps(str(exe))})\n"
                                                       for name, exe in tests.items()))
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(out / "out"), "--build-dir",
                           str(suite), "-S", str(REPO), "--jobs", "2", *args],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads((out / "out" / "racegate.json").read_text())


@pytest.fixture(scope="module", params=sorted(TEST_CXX))
def races(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict]:
    out = tmp_path_factory.mktemp(f"evidence-{request.param}")
    tests = {"Suite.All": _build(request.param, PROGRAMS / "suite_races.c", out / "suite_races"),
             "Fork.Child": _build(request.param, FORK_CHILD, out / "fork_child_race")}
    return _session(out, tests, "--runs", "4")


def _test(result: dict, name: str) -> dict:
    return next(t for t in result["tests"] if t["name"] == name)


def test_a_suites_unrelated_failure_stays_its_own_problem_beside_its_races(races):
    code, result = races
    buckets = [b for b in result["buckets"] if "Suite.All" in b["tests"]]
    assert sorted(b["kind"] for b in buckets) == ["data race", "data race", "test failure"]
    (failure,) = [b for b in buckets if b["kind"] == "test failure"]
    assert failure["title"].startswith("test failure: Suite.All: closes: left == 0 (suite_races.c:")
    assert not failure.get("timing_sensitive") and code == 1
    assert not any(b.get("symptoms") for b in buckets)
    # Every run raced: the outcome table says so, whatever else failed.
    suite = _test(result, "Suite.All")
    assert suite["outcomes"]["race"] == suite["runs"] >= 4


def test_a_run_whose_only_failure_is_a_childs_tsan_exit_counts_as_a_race(races):
    _, result = races
    fork = _test(result, "Fork.Child")
    assert fork["outcomes"]["race"] == fork["runs"] >= 4 and fork["outcomes"]["fail"] == 0
    (race,) = [b for b in result["buckets"] if "Fork.Child" in b["tests"]]
    (symptom,) = race["symptoms"]
    assert "Fork.Child exited with status 1" in symptom["title"]


@pytest.mark.parametrize("compiler", sorted(TEST_CXX))
def test_a_check_after_a_fixed_sleep_failing_plain_too_does_not_make_a_correct_pool_red(compiler, tmp_path):
    exe = _build(compiler, PROGRAMS / "pool_timing.cpp", tmp_path / "pool_timing")
    code, result = _session(tmp_path, {"Pool.Both": exe}, "--runs", "12")
    (bucket,) = result["buckets"]
    assert bucket["title"].startswith("test failure: Pool.Both: Assertion `seen == 2' failed (pool_timing.cpp:")
    assert bucket["evidence"]["plain_runs_with_bucket"] >= 1
    assert bucket.get("timing_sensitive") is True
    assert code == 0
