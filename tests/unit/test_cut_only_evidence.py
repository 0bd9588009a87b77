"""A problem seen only in runs racegate cut is named as such in every format's notes (field test #44)."""
from __future__ import annotations

from racegate.reporters import console, markdown
from racegate.reporters.sentences import coverage_notes
from racegate.result.codec import result_from_json


def _session(runs_with_bucket: int, cut_runs_with_bucket: int) -> dict:
    return {"schema": 1,
            "tests": [{"name": "T.a", "runs": 3, "outcomes": {"pass": 1, "cut": 2}, "cut_runs": 2}],
            "buckets": [{"id": "ab12cd34ef56ab78", "kind": "data race", "tests": ["T.a"],
                         "runs_with_bucket": runs_with_bucket, "cut_runs_with_bucket": cut_runs_with_bucket,
                         "first_seen": {"test": "T.a", "run": 2}}]}


def test_a_problem_seen_only_in_cut_runs_is_named():
    result = result_from_json(_session(0, 1))
    (note,) = [n for n in coverage_notes(result) if "only in runs racegate cut" in n]
    assert note.startswith("1 problem (1 of them gating) showed only in runs racegate cut")
    assert "ab12cd34ef56ab78" in note
    assert "only in runs racegate cut" in console.render(result)
    assert "only in runs racegate cut" in markdown.render(result)


def test_a_problem_also_seen_in_a_completed_run_gets_no_such_note():
    result = result_from_json(_session(1, 1))
    assert not [n for n in coverage_notes(result) if "only in runs racegate cut" in n]
