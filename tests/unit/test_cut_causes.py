"""Runs racegate cut, told apart by cause: the budget's deadline or a strategy's slowdown limit."""
from __future__ import annotations

import json

import pytest

from racegate.errors import RacegateError
from racegate.model import CutCause, RunRecord, TestCase
from racegate.reporters import console, sentences
from racegate.result import TestResult

from result_factory import entry_for_test, make_result
from racegate.result.codec import result_from_json, result_json


def _record(run: int, outcome: str, cut: str | None = None) -> RunRecord:
    return RunRecord(test="T.a", run=run, seed=run, strategy="noise", command=["./t"], outcome=outcome,
                     returncode=0, duration=1.0, log_dir="", cut=cut)


def _cut_test() -> TestResult:
    records = [_record(0, "pass"), _record(1, "cut", CutCause.SLOW), _record(2, "cut", CutCause.BUDGET),
               _record(3, "cut", CutCause.BUDGET)]
    return TestResult.from_runs(TestCase("T.a", ("./t",)), records)


def test_a_test_result_counts_its_cut_runs_per_cause_and_the_file_keeps_them():
    entry = _cut_test()
    assert entry.cut_runs == 3 and entry.cuts == {CutCause.SLOW: 1, CutCause.BUDGET: 2}
    result = make_result([entry], [])
    data = json.loads(json.dumps(result_json(result)))
    assert data["tests"][0]["cuts"] == {"slow": 1, "budget": 2}
    assert result_from_json(data).tests[0].cuts == {"slow": 1, "budget": 2}


def test_the_cuts_field_is_written_only_when_a_run_was_cut():
    data = result_json(make_result([entry_for_test("T.b", 3, 1)], []))
    assert "cuts" not in data["tests"][0]


def test_the_note_says_how_many_runs_were_cut_for_which_cause():
    result = make_result([_cut_test()], [])
    assert sentences.coverage_notes(result)[0] == (
        "3 runs cut by racegate: 2 at the budget's deadline, 1 past a strategy's slowdown limit; "
        "a cut run is neither a pass nor a failure")
    assert "note: 3 runs cut by racegate: 2 at the budget's deadline" in console.render(result)


def test_shards_add_their_cuts_and_an_older_file_keeps_the_old_wording():
    merged = _cut_test().merged(_cut_test())
    assert merged.cuts == {CutCause.SLOW: 2, CutCause.BUDGET: 4}
    # A result of an earlier release counted cut runs without their cause.
    old = result_json(make_result([_cut_test()], []))
    del old["tests"][0]["cuts"]
    loaded = result_from_json(old)
    assert loaded.tests[0].cuts == {}
    assert sentences.coverage_notes(loaded)[0].startswith(
        "3 runs cut by racegate: at the budget's deadline or past a strategy's slowdown limit;")
    # Merged with such a shard, the runs whose cause is known are split and the rest said to be unknown.
    partly = make_result([loaded.tests[0].merged(_cut_test())], [])
    assert sentences.coverage_notes(partly)[0].startswith(
        "6 runs cut by racegate: 2 at the budget's deadline, 1 past a strategy's slowdown limit, "
        "3 for a reason not recorded;")


def test_a_cuts_entry_of_the_wrong_type_names_the_field():
    data = result_json(make_result([_cut_test()], []))
    data["tests"][0]["cuts"] = {"budget": "two"}
    with pytest.raises(RacegateError, match=r"tests\[0\]\.cuts\.budget should be an integer"):
        result_from_json(data, "r.json")
