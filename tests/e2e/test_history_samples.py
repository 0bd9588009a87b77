"""End-to-end: a second `racegate run --history` session starts from what the first one learned."""
from __future__ import annotations

import json

import pytest

from samples_helpers import racegate

pytestmark = pytest.mark.e2e

# In CTest order WordCounterRace and StockLevelsRace come before HitCounterRace.
LEARNED = "HitCounterRace.FourThreadsCountEveryHit"
UNKNOWN = ("WordCounterRace.TwoThreadsCountDifferentDocuments", "StockLevelsRace.StorefrontReadsWhileRestockWrites")


def run(build, out, history, regex):
    proc = racegate("run", "--build-dir", str(build), "--out", str(out), "--history", str(history), "--seed", "3",
                    "--jobs", "1", "--runs", "1", "-R", regex)
    assert proc.returncode == 1, proc.stderr[-3000:]
    return json.loads((out / "racegate.json").read_text())


def first_runs(result):
    return {b["first_seen"]["test"]: b["first_seen"]["run"] for b in result["buckets"]}


def test_a_second_session_runs_what_the_history_saw_fail_first(samples_build_clang, tmp_path):
    history = tmp_path / "cache" / "history.json"
    run(samples_build_clang, tmp_path / "one", history, "^HitCounterRace\\.")
    learned = json.loads(history.read_text())["tests"][LEARNED]
    assert learned["buckets"] and learned["threads"] > 1 and learned["strategies"]["none"]["runs"] == 1

    regex = "^(WordCounterRace|StockLevelsRace|HitCounterRace)\\."
    # Without the history the first runs go in CTest order ...
    cold = first_runs(run(samples_build_clang, tmp_path / "cold", tmp_path / "none.json", regex))
    assert cold[LEARNED] == 2 and {cold[t] for t in UNKNOWN} == {0, 1}
    # ... with it, the test it saw fail goes first; the others still run once each.
    warm = first_runs(run(samples_build_clang, tmp_path / "warm", history, regex))
    assert warm[LEARNED] == 0 and {warm[t] for t in UNKNOWN} == {1, 2}
    tests = json.loads(history.read_text())["tests"]
    assert tests[LEARNED]["sessions"] == 2 and all(tests[t]["sessions"] == 1 for t in UNKNOWN)
