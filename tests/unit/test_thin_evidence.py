"""The Good-Turing estimate and a PASS on few completed runs (#55): no figure without a completed run, the run
count beside it below FEW_RUNS, and a PASS that names the tests it rests on too few runs of."""
from __future__ import annotations

from dataclasses import replace

import pytest

from racegate.reporters import render
from racegate.reporters.sentences import new_problem_chance
from racegate.result import TestResult
from racegate.stats import FEW_RUNS
from result_factory import entry_for_test, make_result


def passing(name: str, runs: int, cut: int = 0) -> TestResult:
    return replace(entry_for_test(name, runs, 0),
                   outcomes={"pass": runs - cut, "race": 0, "fail": 0, "crash": 0, "timeout": 0, "cut": cut})


@pytest.mark.parametrize("fmt", ["console", "markdown", "html"])
def test_a_pass_on_three_runs_says_how_few_and_names_the_test(fmt):
    # 3 + 20 runs: too few for the session's estimate, and too few of Slow.stress for its PASS
    result = make_result([passing("Slow.stress", 3), passing("Fast.unit", 20), passing("Many.runs", FEW_RUNS)], [])
    text = render(fmt, result)
    assert f"not known ({3 + 20 + FEW_RUNS} completed runs)" not in text  # 53 runs: enough for the estimate
    assert "PASS rests on fewer than 30 completed runs of 2 tests: Slow.stress (3), Fast.unit (20)" in text
    assert "Many.runs (" not in text


@pytest.mark.parametrize("fmt", ["console", "markdown", "html"])
def test_an_estimate_on_few_runs_says_how_few(fmt):
    text = render(fmt, make_result([passing("Slow.stress", 3)], []))
    assert "not known (3 completed runs)" in text
    assert "a problem that shows in fewer than 1 of 3 runs would most likely not have shown yet" in text


def test_no_completed_run_gives_no_estimate():
    result = make_result([passing("Slow.stress", 2, cut=2)], [])
    assert new_problem_chance(result) == "–"
    console = render("console", result)
    assert "new bucket: –" in console and "new bucket: 0%" not in console
    assert "rests on only" not in console  # nothing to rest on: the uncovered notes say so


def test_enough_runs_show_the_bare_figure_and_no_note():
    result = make_result([passing("Fast.unit", FEW_RUNS)], [])
    assert new_problem_chance(result) == "0%"
    assert "completed runs" not in render("console", result)


def test_few_runs_with_a_bucket_seen_once_keep_the_figure():
    from result_factory import bucket
    result = make_result([entry_for_test("T.t", 4, 1)], [bucket("0123456789abcdef", "T.t", 1)])
    assert new_problem_chance(result) == "25% (4 completed runs)"
    # a FAIL is not weakened by few runs: the note on a PASS is not given
    assert "PASS rests" not in render("console", result)
