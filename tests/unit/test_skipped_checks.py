"""A failure first seen under perturbation is weighed by plain re-checks and replays of its seed; when the session
ended before they ran, the evidence says so (field-test problem 14)."""
from __future__ import annotations

import io
import json
from pathlib import Path

from racegate.bucket import Bucketer
from racegate.model import Finding, RunRecord, TestCase
from racegate.progress import Progress
from racegate.reporters import console, html, junit, markdown, sarif, view
from racegate.result import Evidence, Result, RunConfig, bucket_evidence
from racegate.session import Session, SessionConfig

from result_factory import bucket, entry_for_test, make_result
from racegate.result.codec import result_from_json, result_json


def _failure() -> Finding:
    return Finding(kind="test failure", title="test failure: T.a exited with status 1", signature=["T.a", "exit 1"],
                   frames=[], raw="")


def _run(run: int, strategy: str, started: float, *, failed: bool = False, seed: int | None = None,
         outcome: str | None = None, purpose: str = "") -> RunRecord:
    return RunRecord(test="T.a", run=run, seed=run if seed is None else seed, strategy=strategy, command=["./t"],
                     outcome=outcome or ("fail" if failed else "pass"), returncode=1 if failed else 0, duration=1.0,
                     log_dir="", findings=[_failure()] if failed else [], started=started, purpose=purpose)


def _evidence(tmp_path: Path, records: list[RunRecord], ended_by: str | None) -> Evidence:
    bucketer = Bucketer(tmp_path)
    for r in records:
        bucketer.add(r)
    (found,) = bucketer.buckets.values()
    return bucket_evidence(found, records, ended_by)


def test_a_failure_found_just_before_the_deadline_was_not_re_checked(tmp_path):
    # The plain first run, then the failing noise run ending at 2.0 s; the re-check started after it was cut.
    records = [_run(0, "none", 0.0), _run(1, "noise", 1.0, failed=True),
               _run(2, "none", 2.1, outcome="cut", purpose="recheck")]
    evidence = _evidence(tmp_path, records, "budget")
    assert (evidence.plain_runs, evidence.plain_runs_with_bucket) == (1, 0)
    assert evidence.skipped == ("recheck", "replay") and evidence.ended_by == "budget"


def test_re_checks_that_ran_leave_nothing_to_say(tmp_path):
    records = [_run(0, "none", 0.0), _run(1, "noise", 1.0, failed=True),
               _run(2, "none", 2.1, purpose="recheck"), _run(3, "noise", 3.2, seed=1, purpose="replay", failed=True)]
    evidence = _evidence(tmp_path, records, "budget")
    assert evidence.skipped == () and evidence.ended_by is None
    # Only the replay was missing: the plain re-check ran.
    evidence = _evidence(tmp_path, records[:3], "interrupt")
    assert evidence.skipped == ("replay",) and evidence.ended_by == "interrupt"


def test_a_plain_run_before_the_failure_is_no_re_check(tmp_path):
    # The test's first run was plain and passed before the failure showed: it weighs nothing.
    records = [_run(0, "none", 0.0), _run(1, "noise", 1.0, failed=True), _run(2, "noise", 2.0, seed=1)]
    evidence = _evidence(tmp_path, records, "budget")
    assert evidence.skipped == ("recheck",)


def test_nothing_is_said_when_the_session_ran_out_of_work_or_the_finding_needs_no_re_check(tmp_path):
    records = [_run(0, "none", 0.0), _run(1, "noise", 1.0, failed=True)]
    assert _evidence(tmp_path, records, None).skipped == ()  # --runs: the session was not cut short
    # Seen plain: nothing to weigh.
    plain = [_run(0, "none", 0.0, failed=True), _run(1, "noise", 1.0, failed=True)]
    assert _evidence(tmp_path, plain, "budget").skipped == ()


def _skipped_result(skipped: tuple[str, ...], ended_by: str) -> Result:
    found = bucket("aaaa00000001", "T.a", 1, kind="test failure", evidence=Evidence(1, 0, 0, 0, skipped, ended_by))
    return make_result([entry_for_test("T.a", 3, 1)], [found])


def test_every_format_that_shows_evidence_says_the_re_check_was_skipped_and_offers_the_replay():
    result = _skipped_result(("recheck", "replay"), "budget")
    line = ("never plain (0/1); not re-checked: the budget ran out before its plain re-runs and seed replays; "
            "the replay command re-runs its seed, and with --schedule none runs it plain")
    assert view.bucket_view(result.buckets[0], result).evidence.endswith(line)
    assert line in console.render(result)
    for reporter in (markdown, junit, sarif):
        assert "not re-checked: the budget ran out" in reporter.render(result)
    assert "not re-checked: the budget ran out" in html.render(result)
    assert "racegate replay aaaa00000001" in console.render(result)


def test_the_words_follow_what_was_skipped_and_why():
    shown = view.bucket_view(*(lambda r: (r.buckets[0], r))(_skipped_result(("replay",), "interrupt")))
    assert shown.evidence.endswith("seed not replayed: the session was interrupted first; "
                                   "the replay command re-runs it")
    assert view.skipped_checks(("recheck",), "confident") == (
        "not re-checked plain: --until-confident ended the session first; "
        "the replay command with --schedule none runs it plain")


def test_the_skipped_checks_round_trip_and_are_written_only_when_set():
    result = _skipped_result(("recheck", "replay"), "budget")
    data = json.loads(json.dumps(result_json(result)))
    assert data["buckets"][0]["evidence"] == {"plain_runs": 1, "plain_runs_with_bucket": 0, "replays": 0,
                                              "replays_with_bucket": 0, "skipped": ["recheck", "replay"],
                                              "ended_by": "budget"}
    assert result_from_json(data).buckets[0].evidence == Evidence(1, 0, 0, 0, ("recheck", "replay"), "budget")
    quiet = make_result([entry_for_test("T.a", 3, 1)],
                        [bucket("aaaa00000001", "T.a", 1, evidence=Evidence(2, 0, 1, 1))])
    written = result_json(quiet)["buckets"][0]["evidence"]
    assert set(written) == {"plain_runs", "plain_runs_with_bucket", "replays", "replays_with_bucket"}


# A test that fails only under perturbation, passes its first plain run, and hangs on every later plain run, so
# the plain re-check of its failure is cut at the deadline and its seed replays never start.
_FAILS_PERTURBED = ('if [ "$RACEGATE_SCHEDULE" != none ]; then exit 1; fi; '
                    'if [ -e "$0" ]; then exec sleep 600; fi; : > "$0"')


def test_a_session_cut_by_its_budget_says_the_failure_was_not_re_checked(tmp_path):
    test = TestCase("T.a", ("sh", "-c", _FAILS_PERTURBED, str(tmp_path / "ran-plain")))
    session = Session([test], lambda t: ["noise"],
                      SessionConfig(out_dir=tmp_path / "out", jobs=1, master_seed=1, runs=None, time_budget=3.0,
                                    timeout=600, until_confident=None, shim_path=None))
    wall = session.run(Progress(io.StringIO(), None, None))
    assert [(r.strategy, r.outcome, r.purpose) for r in session.records] == [
        ("none", "pass", ""), ("noise", "fail", ""), ("none", "cut", "recheck")]
    result = session.result(RunConfig(time_budget=3.0), wall)
    (found,) = result.buckets
    assert found.evidence == Evidence(1, 0, 0, 0, ("recheck", "replay"), "budget")
    assert "not re-checked: the budget ran out" in console.render(result)
