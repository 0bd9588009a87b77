"""The batched first pass on a real doctest suite (tests/batch_programs/doctest, registered by
doctest_discover_tests) built under TSan with clang and gcc: a racy case in the middle of a batch is the one
named, a crash or hang does not lose the cases after it, a thread that outlives its case is laid at the
executable, and the buckets are those of one process per case."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from samples_helpers import TESTS, TEST_CXX, build_tsan_cmake_project, outcomes, racegate, run_first_pass

pytestmark = pytest.mark.e2e

SUITE = TESTS / "batch_programs" / "doctest"
# In the order doctest runs them (the file's): "aborts" ends its process with "hangs when asked" and "after" to go.
MIDDLE = "^(calm|threads|racy|broken|aborts|hangs|after)"


@pytest.fixture(scope="module", params=list(TEST_CXX))
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tsan_cmake_project(request.param, SUITE, tmp_path_factory.mktemp("doctest-batch-" + request.param))


def test_a_racy_case_in_a_batch_is_named_and_a_crash_loses_no_other_case(build, tmp_path):
    batched = run_first_pass(build, tmp_path / "batched", "-R", MIDDLE, "--jobs", "1")
    assert outcomes(batched) == {
        "calm one": "pass", "threads joined": "pass", "racy, counter": "race", "broken": "fail",
        "calm two": "pass", "aborts": "crash", "hangs when asked": "pass", "after": "pass"}
    # One process up to the crash, one for the cases after it.
    assert (batched["cost"]["batch_processes"], batched["cost"]["batched_tests"]) == (2, 8)
    races = [b for b in batched["buckets"] if b["kind"] == "data race"]
    assert [b["tests"] for b in races] == [["racy, counter"]]
    # Reproduced by its own case's command, its comma escaped as doctest_discover_tests wrote it.
    assert races[0]["first_seen"]["command"][1] == "--test-case=racy\\, counter"
    crash = next(t for t in batched["tests"] if t["name"] == "aborts")
    assert crash["outcomes"]["crash"] == 1
    alone = run_first_pass(build, tmp_path / "alone", "-R", MIDDLE, "--jobs", "2", "--no-batch")
    assert outcomes(alone) == outcomes(batched)
    assert sorted(b["id"] for b in alone["buckets"]) == sorted(b["id"] for b in batched["buckets"])
    assert "batch_processes" not in alone["cost"]


def test_a_hanging_case_is_stopped_at_its_own_timeout_and_the_rest_run(build, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCTEST_SUITE_HANG", "1")
    result = run_first_pass(build, tmp_path / "out", "-R", "^(calm|hangs|after)", "--jobs", "1", "--timeout", "3")
    assert outcomes(result) == {"calm one": "pass", "calm two": "pass", "hangs when asked": "timeout",
                                "after": "pass"}
    (hang,) = result["buckets"]
    assert hang["kind"] == "timeout" and hang["tests"] == ["hangs when asked"]
    assert result["summary"]["wall_seconds"] < 4 * 3  # its own timeout, not the batch's four


def test_a_thread_outliving_its_case_is_laid_at_the_executable(build, tmp_path):
    result = run_first_pass(build, tmp_path / "out", "-R", "^(leaky|calm)", "--jobs", "1")
    found = outcomes(result)
    assert found["leaky writer"] == "pass" and found["leaky reader"] == "pass"
    assert found["doctest_suite (outside its tests)"] == "race"
    (race,) = result["buckets"]
    assert race["tests"] == ["doctest_suite (outside its tests)"]


def test_run_on_a_doctest_binary_batches_its_cases(build, tmp_path):
    out = tmp_path / "out"
    proc = racegate("run", "--runs", "1", "--jobs", "1", "--out", str(out), "--format", "junit", "--",
                    str(build / "doctest_suite"), "--test-case=calm*,racy*", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-4000:]
    result = json.loads((out / "racegate.json").read_text())
    assert outcomes(result) == {"calm one": "pass", "racy, counter": "race", "calm two": "pass"}
    racy = next(t for t in result["tests"] if t["name"] == "racy, counter")
    assert racy["command"] == [str(build / "doctest_suite"), "--test-case=racy\\, counter"]
    assert result["cost"]["batched_tests"] == 3
