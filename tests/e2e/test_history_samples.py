"""End-to-end: a second `racegate run --history` session starts from what the first one learned."""
from __future__ import annotations

import json

import pytest

from racegate.signature_rules import SIGNATURE_VERSION, V2, bucket_id
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


def as_signature_v2(history, race):
    """The history as racegate wrote it under signature v2, before files recorded their signature version,
    holding the race's id only (a lost update may add a test failure, which the result shows as a symptom)."""
    data = json.loads(history.read_text())
    assert data.pop("signature_version") == SIGNATURE_VERSION
    v2 = bucket_id(race["kind"], race["signature"], V2)  # this race's sides are named alike by v2 and v3
    assert v2 in race["legacy_ids"]
    for test in data["tests"].values():
        for entry in [test, *test["strategies"].values()]:
            entry["buckets"] = [v2 for i in entry["buckets"] if i == race["id"]]
    history.write_text(json.dumps(data))
    return v2


def test_a_second_session_runs_what_the_history_saw_fail_first(samples_build_clang, tmp_path):
    history = tmp_path / "cache" / "history.json"
    (race,) = run(samples_build_clang, tmp_path / "one", history, "^HitCounterRace\\.")["buckets"]
    learned = json.loads(history.read_text())["tests"][LEARNED]
    assert learned["buckets"] and learned["threads"] > 1 and learned["strategies"]["none"]["runs"] == 1
    # The warm session below reads it as an older racegate wrote it: signature v2 ids, no signature_version.
    v2 = as_signature_v2(history, race)

    regex = "^(WordCounterRace|StockLevelsRace|HitCounterRace)\\."
    # Without the history the first runs go in CTest order ...
    cold = first_runs(run(samples_build_clang, tmp_path / "cold", tmp_path / "none.json", regex))
    assert cold[LEARNED] == 2 and {cold[t] for t in UNKNOWN} == {0, 1}
    # ... with it, the test it saw fail goes first; the others still run once each.
    warm = first_runs(run(samples_build_clang, tmp_path / "warm", history, regex))
    assert warm[LEARNED] == 0 and {warm[t] for t in UNKNOWN} == {1, 2}
    rewritten = json.loads(history.read_text())
    tests = rewritten["tests"]
    assert tests[LEARNED]["sessions"] == 2 and all(tests[t]["sessions"] == 1 for t in UNKNOWN)
    # The race showed again, so its v2 id became its current one: no id of the file is older than current.
    assert race["id"] in tests[LEARNED]["buckets"] and v2 not in tests[LEARNED]["buckets"]
    assert rewritten["signature_version"] == SIGNATURE_VERSION
