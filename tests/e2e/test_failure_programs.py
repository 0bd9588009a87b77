"""Failures read from what real failing programs print, on TSan builds with clang and gcc, through `racegate run`:
a failed assert() is a test failure with its message (not a steady crash of the environment), doctest's two
failed checks of one run are one bucket titled by the first, and a forked child's race that makes its parent
fail is that race's symptom, not a problem of its own (issue 19, items 2, 3 and 8)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import LAUNCHER, REPO, TEST_CXX, TSAN_CXXFLAGS

pytestmark = pytest.mark.e2e

PROGRAMS = REPO / "tests" / "failure_corpus" / "programs"
C_COMPILERS = {"clang": "clang", "gcc": "gcc"}


def _build(compiler: str, source: Path, exe: Path) -> Path:
    c = source.suffix == ".c"
    argv = [C_COMPILERS[compiler] if c else TEST_CXX[compiler], *(("-std=c11",) if c else ("-std=c++17",)),
            *TSAN_CXXFLAGS[1:], str(source), "-o", str(exe)]
    subprocess.run(argv, check=True, timeout=600)
    return exe


@pytest.fixture(scope="module", params=sorted(TEST_CXX))
def result(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, Path]:
    out = tmp_path_factory.mktemp(f"failures-{request.param}")
    exes = {name: _build(request.param, PROGRAMS / source, out / name) for name, source in
            (("assert_fails", "assert_fails.c"), ("fork_child_race", "fork_child_race.cpp"))}
    exes["doctest_checks"] = out / "doctest_checks"
    subprocess.run([TEST_CXX[request.param], *TSAN_CXXFLAGS, str(PROGRAMS / "doctest_checks.cpp"), "-o",
                    str(exes["doctest_checks"])], check=True, timeout=600)
    suite = out / "suite"
    suite.mkdir()
    tests = {"Assert.Fails": [exes["assert_fails"]], "Assert.FailsToo": [exes["assert_fails"]],
             "Doctest.Ledger": [exes["doctest_checks"], "--test-case=ledger balances"],
             "Fork.Child": [exes["fork_child_race"]]}
    (suite / "CTestTestfile.cmake").write_text(
        "".join(f"add_test({name} {' '.join(json.dumps(str(a)) for a in argv)})\n" for name, argv in tests.items()))
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(out / "out"), "--build-dir",
                           str(suite), "--runs", "3", "--jobs", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    return proc.stdout, json.loads((out / "out" / "racegate.json").read_text()), out / "out"


def _buckets_of(result: dict, test: str) -> list[dict]:
    return [b for b in result["buckets"] if test in b["tests"]]


def test_a_failed_assert_is_a_test_failure_with_its_message_not_a_steady_crash(result):
    stdout, report, _ = result
    for test in ("Assert.Fails", "Assert.FailsToo"):
        (bucket,) = _buckets_of(report, test)
        assert bucket["kind"] == "test failure"
        assert bucket["title"] == (f"test failure: {test}: Assertion `balance >= 0 && \"balance went negative\"' "
                                   "failed (assert_fails.c:10)")
    assert report.get("steady_crashes", []) == []
    assert "racegate doctor" not in stdout


def test_two_failed_checks_of_one_run_are_one_bucket_titled_by_the_first(result):
    _, report, out = result
    (bucket,) = _buckets_of(report, "Doctest.Ledger")
    assert bucket["title"] == "test failure: Doctest.Ledger: CHECK: credits == debits (doctest_checks.cpp:10)"
    # Every run of it shows the failure: its 3, and any re-checks alone when two copies of it overlapped.
    runs = next(t["runs"] for t in report["tests"] if t["name"] == "Doctest.Ledger")
    assert runs >= 3 and bucket["runs_with_bucket"] == runs
    # Both failed checks are in the kept report.
    raw = (out / bucket["raw_report"]).read_text()
    assert "doctest_checks.cpp:10: ERROR" in raw and "doctest_checks.cpp:11: ERROR" in raw


def test_a_forked_childs_race_that_fails_its_parent_is_that_races_symptom(result):
    _, report, _ = result
    (race,) = _buckets_of(report, "Fork.Child")
    assert race["kind"] == "data race"
    (symptom,) = race["symptoms"]
    assert "Fork.Child exited with status 1" in symptom["title"]
