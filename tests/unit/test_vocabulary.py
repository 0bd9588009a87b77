"""The model's vocabularies (racegate/model.py) are string enums: racegate.json and every report see the strings
they always held, and the tests of a vocabulary are properties of it."""
from __future__ import annotations

import json

from racegate.model import OUTCOMES, BucketStatus, CutCause, EndedBy, Outcome, Purpose, RunRecord


def test_a_word_is_written_printed_and_compared_as_its_string():
    data = {Outcome.CUT: 2, "status": BucketStatus.TIMING_SENSITIVE, "skipped": [Purpose.RECHECK]}
    expected = '{"cut": 2, "status": "timing-sensitive", "skipped": ["recheck"]}'
    assert json.dumps(data) == expected
    assert json.dumps(data, indent=2) == json.dumps(json.loads(expected), indent=2)
    assert f"{CutCause.SLOW}|{EndedBy.INTERRUPT:>10}|{Outcome.PASS!s}" == "slow| interrupt|pass"
    assert Outcome.RACE == "race" and {"race": 1}[Outcome.RACE] == 1 and {Outcome.RACE: 1}["race"] == 1
    assert OUTCOMES == ("pass", "race", "fail", "crash", "timeout", "cut")


def test_failure_is_every_outcome_but_a_pass_and_a_cut():
    assert [o for o in Outcome if o.is_failure] == ["race", "fail", "crash", "timeout"]
    assert [s for s in BucketStatus if s.gates] == [BucketStatus.NEW]
    assert [p for p in Purpose if not p.verifies] == [Purpose.SEARCH]


def test_a_record_built_from_strings_holds_the_words():
    record = RunRecord("t", 0, 1, "none", ["./t"], "cut", None, 1.0, "", cut="budget", purpose="replay")
    assert (record.outcome, record.cut, record.purpose) == (Outcome.CUT, CutCause.BUDGET, Purpose.REPLAY)
    assert type(record.outcome) is Outcome and not record.outcome.is_failure
