"""A seed replay that brings a bucket back in none of its runs says why it may not (field tests #56): the seed fixes
racegate's schedule, not the test's own random draws or its timing. On the evidence line of every text format."""
from __future__ import annotations

import pytest

from racegate import reporters
from racegate.result import Evidence
from racegate.reporters.words import SEED_DID_NOT_REPRODUCE
from result_factory import bucket, entry_for_test, make_result


def _result(replays_with: int):
    failure = bucket("00000000000000aa", "Draws.Sum", 2, kind="test failure",
                     evidence=Evidence(plain_runs=4, plain_runs_with_bucket=0, replays=3,
                                       replays_with_bucket=replays_with))
    return make_result([entry_for_test("Draws.Sum", 10, 2)], [failure])


@pytest.mark.parametrize("fmt", ["console", "markdown", "github", "junit", "sarif", "html"])
def test_a_replay_that_never_reproduced_says_the_seed_may_not_fix_the_schedule(fmt):
    text = reporters.render(fmt, _result(0))
    assert "replays 0/3" in text
    assert "random_device" in text and "depend on timing" in text


@pytest.mark.parametrize("fmt", ["console", "markdown", "html"])
def test_a_replay_that_reproduced_says_nothing_of_it(fmt):
    text = reporters.render(fmt, _result(2))
    assert "replays 2/3" in text and SEED_DID_NOT_REPRODUCE not in text
