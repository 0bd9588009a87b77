"""The batched first pass on a real GoogleTest suite (tests/batch_programs) built under TSan with clang and gcc:
a racy test in the middle of a batch is the one named, a crash or hang does not lose the tests after it, a
thread that outlives its test is laid at the executable, and the buckets are those of one process per test."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from samples_helpers import TESTS, TEST_CXX, build_tsan_cmake_project, outcomes, racegate, run_first_pass

pytestmark = pytest.mark.e2e

SUITE = TESTS / "batch_programs"
# In the order gtest runs them (suite by suite): Crashy.Abort ends its process with Hangs and Later to go.
MIDDLE = "Calm|Threads|Racy|Broken|Crashy|Hangs|Later"


@pytest.fixture(scope="module", params=list(TEST_CXX))
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tsan_cmake_project(request.param, SUITE, tmp_path_factory.mktemp("batch-" + request.param))


def test_a_racy_test_in_a_batch_is_named_and_a_crash_loses_no_other_test(build, tmp_path):
    batched = run_first_pass(build, tmp_path / "batched", "-R", MIDDLE, "--jobs", "1")
    assert outcomes(batched) == {
        "Calm.First": "pass", "Calm.Second": "pass", "Calm.Third": "pass", "Calm.Fourth": "pass",
        "Threads.JoinedWorkers": "pass", "Threads.MoreWorkers": "pass", "Racy.Counter": "race",
        "Broken.Assertion": "fail", "Crashy.Abort": "crash", "Hangs.WhenAsked": "pass", "Later.Runs": "pass"}
    # One process up to the crash, one for the tests after it.
    assert (batched["cost"]["batch_processes"], batched["cost"]["batched_tests"]) == (2, 11)
    by_kind = {b["kind"]: b for b in batched["buckets"]}
    assert by_kind["data race"]["tests"] == ["Racy.Counter"]
    assert by_kind["crash"]["tests"] == ["Crashy.Abort"]
    # Each is reproduced by its own test's command, not the batch's.
    assert by_kind["data race"]["first_seen"]["command"][1] == "--gtest_filter=Racy.Counter"
    alone = run_first_pass(build, tmp_path / "alone", "-R", MIDDLE, "--jobs", "2", "--no-batch")
    assert outcomes(alone) == outcomes(batched)
    assert sorted(b["id"] for b in alone["buckets"]) == sorted(b["id"] for b in batched["buckets"])
    assert "batch_processes" not in alone["cost"]


def test_a_hanging_test_is_stopped_at_its_own_timeout_and_the_rest_run(build, tmp_path, monkeypatch):
    monkeypatch.setenv("BATCH_SUITE_HANG", "1")
    result = run_first_pass(build, tmp_path / "out", "-R", "Calm|Hangs|Later", "--jobs", "1", "--timeout", "3")
    assert outcomes(result) == {"Calm.First": "pass", "Calm.Second": "pass", "Calm.Third": "pass",
                                "Calm.Fourth": "pass", "Hangs.WhenAsked": "timeout", "Later.Runs": "pass"}
    (hang,) = result["buckets"]
    assert hang["kind"] == "timeout" and hang["tests"] == ["Hangs.WhenAsked"]
    # Stopped at its own timeout, not the batch's six: well before the tests' summed timeouts.
    assert result["summary"]["wall_seconds"] < 6 * 3


def test_a_thread_outliving_its_test_is_laid_at_the_executable(build, tmp_path):
    result = run_first_pass(build, tmp_path / "out", "-R", "Leaky|Calm", "--jobs", "1")
    found = outcomes(result)
    assert found["Leaky.DetachedWriter"] == "pass" and found["Leaky.Reader"] == "pass"
    assert found["batch_suite (outside its tests)"] == "race"
    entry = next(t for t in result["tests"] if t["name"] == "batch_suite (outside its tests)")
    assert "outlived its test" in entry["notes"][0]
    (race,) = result["buckets"]
    assert race["tests"] == ["batch_suite (outside its tests)"]


def test_two_test_bodies_racing_with_their_lambdas_are_two_buckets(build, tmp_path):
    # Racy.Counter and Leaky.Reader each race on their own global between the test body and a lambda thread:
    # signature v2 named both `TestBody` vs `operator()` (one bucket); v3 names the tests.
    result = run_first_pass(build, tmp_path / "out", "-R", "Racy|Leaky", "--jobs", "1")
    races = [b for b in result["buckets"] if b["kind"] == "data race"]
    assert sorted(b["signature"] for b in races) == [
        ["batch_suite.cpp:Leaky_Reader_Test::TestBody", "batch_suite.cpp:operator()"],
        ["batch_suite.cpp:Racy_Counter_Test::TestBody", "batch_suite.cpp:operator()"]]
    assert len({b["id"] for b in races}) == 2


def test_run_on_a_gtest_binary_lists_its_tests(build, tmp_path):
    out = tmp_path / "out"
    proc = racegate("run", "--runs", "1", "--jobs", "1", "--out", str(out), "--format", "junit", "--",
                    str(build / "batch_suite"), "--gtest_filter=Calm.*:Racy.*", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-4000:]
    result = json.loads((out / "racegate.json").read_text())
    assert outcomes(result) == {"Calm.First": "pass", "Calm.Second": "pass", "Calm.Third": "pass",
                                "Calm.Fourth": "pass", "Racy.Counter": "race"}
    racy = next(t for t in result["tests"] if t["name"] == "Racy.Counter")
    assert racy["command"] == [str(build / "batch_suite"), "--gtest_filter=Racy.Counter"]
    assert result["cost"]["batched_tests"] == 5
