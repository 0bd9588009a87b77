"""Reports that agree with themselves, as a property over synthetic sessions: runs of a few tests (started out of
order on several jobs, some cut at the deadline, some showing races or failures) go through the session's own
settling (the Bucketer), its assembly (build_result) and every reporter. For each bucket, the run named as first
seen is the one that showed it first (the earliest to end), its time is that run's, its counts and fraction are
those of the completed runs (cut ones apart), and every format says so; the curves in runs and in seconds step at
the same events."""
from __future__ import annotations

import html
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from racegate.model import Finding, Outcome, RunRecord, SourceFrame, TestCase
from racegate.reporters import RenderOptions, render
from racegate.reporters.text import count_of, percent, seconds
from racegate.reporters.view import discovery_steps
from racegate.result import RunConfig, load, save
from racegate.session import Session, SessionConfig
from racegate.signature_rules import bucket_id

TESTS = ("Alpha", "Beta", "Gamma")


def race(i: int) -> Finding:
    return Finding("data race", f"data race: f{i} vs g{i}", [f"a.cpp:f{i}", f"a.cpp:g{i}"],
                   [SourceFrame(f"f{i}", "/src/a.cpp", 10 + i), SourceFrame(f"g{i}", "/src/a.cpp", 20 + i)],
                   f"WARNING: ThreadSanitizer: data race f{i}\n")


def failure(i: int) -> Finding:
    return Finding("test failure", f"a.cpp:{30 + i}: check {i} failed", [f"a.cpp:check{i}"],
                   [SourceFrame("", "/src/a.cpp", 30 + i)], f"a.cpp:{30 + i}: Failure\n")


@dataclass(frozen=True)
class Run:
    test: int
    strategy: str
    cut: bool
    races: frozenset[int]
    failures: frozenset[int]
    started: float  # on a coarse grid, so runs start and end at the same millisecond now and then
    duration: float


runs = st.builds(Run, st.integers(0, len(TESTS) - 1), st.sampled_from(["none", "noise"]), st.booleans(),
                 st.frozensets(st.integers(0, 2), max_size=2), st.frozensets(st.integers(0, 1), max_size=1),
                 st.integers(0, 40).map(lambda t: t * 0.25), st.integers(1, 40).map(lambda t: t * 0.125))


def records(session_runs: list[Run]) -> list[RunRecord]:
    """The runs as the analyse stage hands them on, indexed in start order (a cut run has no failure of its own:
    only the TSan reports it printed before it was stopped)."""
    ordered = sorted(session_runs, key=lambda r: r.started)
    made = []
    for index, r in enumerate(ordered):
        findings = [race(i) for i in sorted(r.races)] + ([] if r.cut else [failure(i) for i in sorted(r.failures)])
        outcome = Outcome.CUT if r.cut else "fail" if r.failures else "race" if r.races else "pass"
        made.append(RunRecord(test=TESTS[r.test], run=index, seed=1000 + index, strategy=r.strategy,
                              command=["./t"], outcome=outcome, returncode=None if r.cut else int(bool(findings)),
                              duration=r.duration, log_dir=f"/out/runs/{index}", threads=2, findings=findings,
                              cut="budget" if r.cut else None, started=r.started))
    return made


def ends(record: RunRecord) -> tuple[float, int]:
    return (round(record.started + record.duration, 3), record.run)  # type: ignore[operator]


def session_result(made: list[RunRecord], out: Path):
    session = Session([TestCase(name, ("./t",)) for name in TESTS], lambda test: ["none", "noise"], SessionConfig(
        out_dir=out, jobs=2, master_seed=1, runs=None, time_budget=None, timeout=60, until_confident=None,
        shim_path=None))
    # Settled in the order they end, as the workers settle them.
    for record in sorted(made, key=ends):
        session._settle(record)
    wall = max((r.started or 0.0) + r.duration for r in made)
    return session.result(RunConfig(out_dir=str(out), source_dir="/src"), wall)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(runs, min_size=1, max_size=14))
def test_every_report_agrees_with_the_result_on_first_sight_counts_and_fractions(session_runs):
    made = records(session_runs)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        result = session_result(made, out)
        save(result, out / "racegate.json")
        written = load(out / "racegate.json")
        options = RenderOptions(base_dir=out)
        reports = {fmt: render(fmt, result, options)
                   for fmt in ("console", "markdown", "junit", "sarif", "html", "github")}
        for fmt, text in reports.items():  # what a run renders, `racegate report` renders from its file
            assert render(fmt, written, options) == text, fmt
    sarif = {r["properties"]["bucketId"]: r for r in json.loads(reports["sarif"])["runs"][0]["results"]}
    completed = {t: sum(1 for r in made if r.test == t and r.outcome != Outcome.CUT) for t in TESTS}
    by_id: dict[str, list[RunRecord]] = {}
    for r in made:
        for bid in {f.id or bucket_id(f.kind, f.signature) for f in r.findings}:
            by_id.setdefault(bid, []).append(r)
    assert {race(i).id for r in made for i in range(3) if race(i).id in {f.id for f in r.findings}} <= \
        {b.id for b in result.buckets}  # a race is never folded away
    for b in result.buckets:
        showing = by_id[b.id]
        first = min(showing, key=ends)
        # First seen: the run that showed it first, with that run's own time.
        assert (b.first_seen.run, b.first_seen.seed, b.first_seen.strategy, b.first_seen.test) == \
            (first.run, first.seed, first.strategy, first.test)
        assert b.first_seen.seconds == round(first.started + first.duration, 3)  # type: ignore[operator]
        # Counts: completed runs, and cut runs apart; the fraction over the completed runs of its tests.
        with_bucket = [r for r in showing if r.outcome != Outcome.CUT]
        assert b.runs_with_bucket == len(with_bucket)
        assert b.cut_runs_with_bucket == len(showing) - len(with_bucket)
        assert sum(b.strategies.values()) == b.runs_with_bucket
        exposed = sum(completed[t] for t in b.tests)
        assert result.runs_exposed(b) == exposed
        fraction = round(len(with_bucket) / exposed, 4) if exposed else 0.0
        assert result.run_fraction(b) == fraction
        found_by = f"(run {first.run}, seed {first.seed}, after {seconds(b.first_seen.seconds)})"
        found_html = f"in run {first.run}, seed {first.seed}, test {first.test}, after {seconds(b.first_seen.seconds)}"
        if b.cut_runs_with_bucket == 0:
            frequency = f"{len(with_bucket)} of {exposed} runs ({percent(fraction)})"
        elif exposed == 0:
            frequency = f"{b.cut_runs_with_bucket} run{'s' if b.cut_runs_with_bucket > 1 else ''} racegate cut"
        else:
            frequency = f"{len(with_bucket)} of {exposed} completed runs ({percent(fraction)})"
        assert f"seen in {frequency}" in reports["console"]
        assert found_by in reports["console"]
        assert frequency in reports["markdown"] and f"after {seconds(b.first_seen.seconds)}" in reports["markdown"]
        assert found_by in reports["junit"] and found_by in reports["github"]
        assert f'name="runs_with_bucket" value="{len(with_bucket)}"' in reports["junit"]
        assert html.escape(frequency) in reports["html"] and html.escape(found_html) in reports["html"]
        entry = sarif[b.id]
        assert entry["properties"]["runsWithBucket"] == len(with_bucket)
        assert entry["properties"]["runFraction"] == fraction
        assert found_by in entry["message"]["text"]
    # Both curves describe the same events: the k-th problem at its first run's rank in the order runs ended,
    # and at that run's time.
    rank = {r.run: i + 1 for i, r in enumerate(sorted(made, key=ends))}
    events = sorted((rank[b.first_seen.run], b.first_seen.seconds) for b in result.buckets)
    steps = discovery_steps(result)
    assert [(s.runs, s.seconds) for s in steps] == events
    assert result.discovery[-1] == [len(made), len(result.buckets)]
    for s in steps:
        step = f"#{s.found} after {count_of(s.runs, 'run')}, {seconds(s.seconds)}"
        assert step in reports["console"] or len(steps) > 8
    # The tests table counts the cut runs the buckets leave out.
    for t in result.tests:
        assert t.cut_runs == sum(1 for r in made if r.test == t.name and r.outcome == Outcome.CUT)
        assert t.completed_runs == completed[t.name]


def test_a_run_settled_later_but_ended_first_is_the_one_found_by():
    """The case of the field: plain run 4 ended at 0.40 s; run 148, which started earlier, ended near 10 s and was
    settled first. Both show the race: it was found by run 4, at 0.40 s, and the curves pair run and time of it."""
    early_start = RunRecord("Alpha", 0, 7, "noise", ["./t"], "race", 66, 9.6, "/out/runs/0", 2, [race(0)],
                            started=0.1)
    ends_first = RunRecord("Alpha", 1, 8, "none", ["./t"], "race", 66, 0.3, "/out/runs/1", 2, [race(0)],
                           started=0.1)
    other = RunRecord("Alpha", 2, 9, "noise", ["./t"], "race", 66, 1.0, "/out/runs/2", 2, [race(1)], started=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        result = session_result([early_start, ends_first, other], Path(tmp))
    by_id = {b.id: b for b in result.buckets}
    first = by_id[race(0).id].first_seen
    assert (first.run, first.strategy, first.seconds) == (1, "none", 0.4)
    second = by_id[race(1).id].first_seen
    assert (second.run, second.seconds) == (2, 2.0)
    assert result.discovery == [[1, 1], [2, 2], [3, 2]]
    assert result.discovery_seconds == [[0.4, 1], [2.0, 2], [9.7, 2]]
    assert "found by: none (run 1, seed 8, after 0.40 s)" in render("console", result, RenderOptions())


def test_a_bucket_only_a_cut_run_showed_says_so_in_every_text_format():
    cut = RunRecord("Alpha", 0, 7, "none", ["./t"], Outcome.CUT, None, 5.0, "/out/runs/0", 2, [race(0)], cut="budget",
                    started=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        result = session_result([cut], Path(tmp))
        (bucket,) = result.buckets
        assert (bucket.runs_with_bucket, bucket.cut_runs_with_bucket, result.run_fraction(bucket)) == (0, 1, 0.0)
        for fmt in ("console", "markdown", "html"):
            text = render(fmt, result, RenderOptions(base_dir=Path(tmp)))
            assert "1 run racegate cut, and no completed run" in text, fmt
            assert "1 of 1 runs" not in text, fmt
