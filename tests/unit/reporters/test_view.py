"""The view every format renders from: the run fraction is the result's own, and the word tables cover every value
of the result's vocabulary."""
from __future__ import annotations

import copy

from racegate.model import CutCause
from racegate.library_reports import LIBRARY_ISSUES
from racegate.reporters import console, markdown, sentences, view, words
from racegate.result import VERIFICATION_PURPOSES
from racegate.result.codec import result_from_json


def test_the_views_run_fraction_is_the_results_own(sample):
    result = result_from_json(sample)
    views = view.by_importance(result)
    assert len(views) == len(result.buckets) > 1
    for v in views:
        assert v.runs_exposed == result.runs_exposed(v.bucket) > 0
        assert v.fraction == result.run_fraction(v.bucket)


def test_a_bucket_whose_tests_the_result_does_not_list_is_measured_against_all_runs(sample):
    # A hand-trimmed file: the bucket's test is gone. The result measures it against all runs, and so does every
    # report ("N of <all runs>"), as the reports did before the view took the result's fraction.
    data = copy.deepcopy(sample)
    bucket = data["buckets"][0]
    data["tests"] = [t for t in data["tests"] if t["name"] not in bucket["tests"]]
    result = result_from_json(data)
    trimmed = next(b for b in result.buckets if b.id == bucket["id"])
    all_runs = result.summary.runs
    assert result.runs_exposed(trimmed) == all_runs
    shown = view.bucket_view(trimmed, result)
    assert shown.runs_exposed == all_runs
    assert shown.fraction == round(trimmed.runs_with_bucket / all_runs, 4) > 0
    assert f"seen in {trimmed.runs_with_bucket} of {all_runs} runs" in console.render(result)
    assert f"{trimmed.runs_with_bucket} of {all_runs} runs" in markdown.render(result)


def test_the_detail_lines_are_the_detail_as_label_and_text(sample):
    result = result_from_json(sample)
    for v in view.by_importance(result):
        lines = view.detail(v)
        assert view.detail_lines(v) == [f"{line.label}: {line.text}" if line.label else line.text for line in lines]
        assert [line.part for line in lines[:len(v.sides)]] == ["side"] * len(v.sides)
        assert [line.part for line in lines if line.part == "evidence"] == ["evidence"]


def test_every_status_a_result_gives_has_its_words(sample):
    data = copy.deepcopy(sample)
    new = [b for b in data["buckets"] if b["new"]]
    issue = LIBRARY_ISSUES[0]
    new[0]["library_issue"] = {"rule": issue.rule, "reference": issue.reference, "url": issue.url,
                               "affects": issue.affects}
    new[1]["timing_sensitive"] = True
    new[2]["interference"] = True
    result = result_from_json(data)
    statuses = {result.status(b) for b in result.buckets}
    assert statuses == set(words.STATUS) == {"new", "baselined", "library", "timing-sensitive", "interference"}
    shown = console.render(result)
    tags = {"new": "NEW", "baselined": "known", "library": "known", "timing-sensitive": "timing-sensitive",
            "interference": "interference"}
    for v in view.by_importance(result):
        assert f"[{tags[v.status]}] {v.kind}  {v.id}" in shown
    assert "  known: standard library (GCC bug 77704" in shown and "  not gated: timing-sensitive: " in shown
    assert "  not gated: interference between parallel copies: " in shown
    assert sentences.verdict(result).startswith("FAIL")
    for b in new[2:]:
        b["new"] = False  # baselined: nothing gates, and the verdict names each known status in its words
    result = result_from_json(data)
    assert sentences.verdict(result) == (f"PASS: no new problems ({len(result.buckets)} known, "
                                         f"{len(result.buckets) - 2} baselined, 1 standard library, "
                                         "1 timing-sensitive)")


def test_the_word_tables_cover_the_results_vocabulary():
    assert set(words.CUT_CAUSES) == set(CutCause)
    assert list(words.PURPOSES) == list(VERIFICATION_PURPOSES)
    assert set(words.ENDED_BY) == {"budget", "interrupt", "confident"}  # session._ended_by's answers
