"""The assembly: a session's runs and buckets (or merged shards' parts) made into one `Result`, whole.

Everything a result holds is given here, the baseline's marks and the gate's verdicts included, and it is put in
the order and the rounding racegate.json keeps: nothing changes a `Result` after it is built, so the reports of a
run and `racegate report` of its racegate.json render the same values.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from racegate import __version__, outdir
from racegate.advice import advice_for
from racegate.bucket import Bucket, end_order
from racegate.failure import timing_by_behaviour
from racegate.kinds import FAILURE_KINDS
from racegate.library_reports import BY_RULE
from racegate.model import VERIFICATION_PURPOSES, Outcome, RunRecord
from racegate.result import policy
from racegate.result.buckets import BucketResult, Evidence, FirstSeen, Symptom
from racegate.result.model import Cost, Result, RunConfig, StrategyStats, SuppressionResult
from racegate.result.per_test import Spent, TestResult
from racegate.result.related import racing_memory, related_groups
from racegate.signature_rules import SIGNATURE_VERSION
from racegate.sourcetree import SourceReader
from racegate.stats import discovery_points
from racegate.steady_crash import SteadyCrash
from racegate.strategies import NONE


def build_result(config: RunConfig, tests: list[TestResult], buckets: list[BucketResult],
                 strategies: dict[str, StrategyStats], discovery: list[list[int]], wall_seconds: float,
                 interrupted: bool, suppressions: list[SuppressionResult] | None = None,
                 discovery_seconds: list[list[float]] | None = None,
                 verification: dict[str, Spent] | None = None, steady_crashes: Iterable[SteadyCrash] = (),
                 cost: Cost | None = None, not_run: Iterable[TestResult] = (),
                 known: dict[str, dict] | None = None) -> Result:
    """A whole result (shared by `run` and `merge`). `not_run`: selected tests that never ran (not built), listed
    after the others; `known`: the baseline's entries, which mark each bucket new or known (None keeps the marks
    the buckets have, as merging shards does)."""
    if known is not None:
        buckets = [_marked(b, known) for b in buckets]
    buckets = _with_excerpts(buckets, config)
    buckets = _decided(_with_timing_by_behaviour(buckets, tests, config), config)
    return Result(config=config, tests=[*tests, *not_run], buckets=buckets, related=related_groups(buckets),
                  strategies=dict(sorted(strategies.items())), discovery=discovery,
                  # Rounded as racegate.json writes it: the run's reports show what the file says.
                  wall_seconds=round(wall_seconds, 3), interrupted=interrupted, signature_version=SIGNATURE_VERSION,
                  tool_version=__version__, suppressions=suppressions, discovery_seconds=discovery_seconds,
                  verification=verification, steady_crashes=list(steady_crashes),
                  cost=cost.rounded() if cost is not None else None)


def _with_excerpts(buckets: list[BucketResult], config: RunConfig) -> list[BucketResult]:
    """Each bucket with the source lines of its sides, read from the source root now (a report rendered elsewhere
    has no tree to read); buckets that have them (merged shards) keep theirs. Only for results that know their
    source root: an earlier release's, merged, shows what it showed then."""
    if config.source_root is None:
        return buckets
    reader = SourceReader(config.source_root)
    return [b if b.excerpts else replace(b, excerpts=[reader.excerpt(f) for f in b.frames]) for b in buckets]


def with_baseline(result: Result, known: dict[str, dict]) -> Result:
    """The result with each bucket marked new or known by the baseline `known` (`racegate report --baseline`)."""
    return replace(result, buckets=_decided([_marked(b, known) for b in result.buckets], result.config))


def _marked(bucket: BucketResult, known: dict[str, dict]) -> BucketResult:
    entry = policy.known_entry(bucket, known)
    return replace(bucket, new=entry is None, baseline_note=str(entry.get("note", "")) if entry is not None else None)


def _decided(buckets: Iterable[BucketResult], config: RunConfig) -> list[BucketResult]:
    """Each bucket with the gate's verdict, gating buckets first, then the most frequent: racegate.json's order."""
    decided = [replace(b, status=policy.status(b, config)) for b in buckets]
    return sorted(decided, key=lambda b: (b.status != "new", -b.runs_with_bucket, b.id))


def _with_timing_by_behaviour(buckets: list[BucketResult], tests: list[TestResult],
                              config: RunConfig) -> list[BucketResult]:
    """Each failed check that behaves as one on time (failure.timing_by_behaviour: it fails plain at least as often
    as perturbed, after a fixed sleep in its source) marked timing-sensitive, with the advice for one; only where
    the source root is known and the runs were weighed (its evidence)."""
    if config.source_root is None:
        return buckets
    reader = SourceReader(config.source_root)
    runs = {t.name: t.runs for t in tests}
    marked = []
    for b in buckets:
        ev = b.evidence
        if b.kind != "test failure" or b.timing_sensitive or ev is None or not b.frames:
            marked.append(b)
            continue
        perturbed = (sum(runs.get(t, 0) for t in b.tests) - ev.plain_runs,
                     b.runs_with_bucket - ev.plain_runs_with_bucket)
        frame = b.frames[0]
        if not timing_by_behaviour((ev.plain_runs, ev.plain_runs_with_bucket), perturbed, reader.lines(frame.file),
                                   frame.line):
            marked.append(b)
            continue
        advice = advice_for(b.kind, b.frames, b.signature, b.stacks, None, timing_sensitive=True)
        marked.append(replace(b, timing_sensitive=True, advice=advice))
    return marked


def bucket_result(bucket: Bucket, out_dir: Path, evidence: Evidence | None = None,
                  symptoms: list[Symptom] | None = None) -> BucketResult:
    """One bucket as the result keeps it; paths relative to `out_dir`, the directory holding racegate.json."""
    # First seen: the run that showed it first, with that run's own time (Bucket.found), whichever run's report
    # the bucket shows.
    finding, first = bucket.finding, bucket.found
    return BucketResult(
        id=bucket.id, kind=finding.kind, title=finding.title, signature=list(finding.signature),
        frames=list(finding.frames), stacks=list(finding.stacks), tests=sorted(bucket.tests),
        occurrences=bucket.occurrences, runs_with_bucket=len(bucket.runs),
        first_seen=FirstSeen(test=first.test, run=first.run, seed=first.seed, strategy=first.strategy,
                             command=list(first.command), env=dict(first.env), cwd=first.cwd,
                             log_dir=os.path.relpath(first.log_dir, out_dir), seconds=bucket.seconds),
        strategies=dict(bucket.strategies),
        advice=advice_for(finding.kind, finding.frames, finding.signature, finding.stacks, finding.library_rule,
                          finding.timing_sensitive),
        raw_report=os.path.relpath(outdir.raw_report_file(outdir.reports_dir(out_dir), bucket.id), out_dir),
        library_issue=BY_RULE.get(finding.library_rule or ""), timing_sensitive=finding.timing_sensitive,
        evidence=evidence, kinds=dict(bucket.kinds) if len(bucket.kinds) > 1 else {},
        legacy_ids=sorted(bucket.legacy_ids), symptoms=list(symptoms or []),
        cut_runs_with_bucket=len(bucket.cut_runs), further_messages=list(bucket.further_messages),
        # From the report the bucket keeps: what relates it to other buckets (result/related.py).
        memory=racing_memory(finding.raw) if finding.kind not in FAILURE_KINDS else None)


def bucket_evidence(bucket: Bucket, records: list[RunRecord], ended_by: str | None = None) -> Evidence:
    """What a bucket rests on beside the runs that showed it. `ended_by`: why the session ended, when something
    other than running out of work ended it."""
    first = bucket.found
    plain = [r for r in records if r.test in bucket.tests and r.strategy == NONE and r.outcome != Outcome.CUT]
    replays = [r for r in records if r.test == first.test and r.seed == first.seed
               and r.strategy == first.strategy and r.run != first.run and r.outcome != Outcome.CUT]
    seen_plain = sum(r.run in bucket.runs for r in plain)
    skipped: tuple[str, ...] = ()
    found = bucket.seconds
    # The runs that weigh a failure are planned once it is known, so only runs started after it count.
    if (ended_by and found is not None and first.strategy != NONE and not seen_plain
            and bucket.finding.kind in FAILURE_KINDS):
        plain_after = any(r.test == first.test and r.started is not None and r.started >= found for r in plain)
        skipped = tuple(purpose for purpose, done in zip(VERIFICATION_PURPOSES, (plain_after, bool(replays)))
                        if not done)
    return Evidence(len(plain), seen_plain, len(replays), sum(r.run in bucket.runs for r in replays),
                    skipped, ended_by if skipped else None)


def strategy_stats(records: list[RunRecord], first_found: Iterable[str]) -> dict[str, StrategyStats]:
    """Runs, failed runs and buckets first found per strategy; `first_found` is the schedule of each bucket's
    first run."""
    stats: dict[str, StrategyStats] = {}
    for r in records:
        entry = stats.setdefault(r.strategy, StrategyStats(seconds=0.0))
        entry.runs += 1
        entry.failed_runs += r.outcome.is_failure
        entry.seconds = round((entry.seconds or 0.0) + r.duration, 3)
    for strategy in first_found:
        stats[strategy].buckets_first_found += 1
    return stats


def discovery_curve(first_runs: Iterable[int], records: list[RunRecord]) -> list[list[int]]:
    """[runs ended, distinct buckets] at each run that found a new bucket, and at the last run. `first_runs`: each
    bucket's first-seen run (Bucket.found, the earliest to end)."""
    # Ranks in the order the runs ended, as the curve in seconds counts them: the two curves show the same events,
    # the k-th problem at the same run in both (and an interrupted session leaves gaps in the run indices).
    position = {r.run: i for i, r in enumerate(sorted(records, key=end_order))}
    return discovery_points([position[run] for run in first_runs], len(records))


def discovery_curve_seconds(buckets: Iterable[BucketResult], wall_seconds: float) -> list[list[float]] | None:
    """[seconds since the start, distinct buckets] at each time a new bucket was first seen, and at the end;
    None when a bucket's time is unknown (a shard of an earlier release)."""
    given = [b.first_seen.seconds for b in buckets]
    times = [t for t in given if t is not None]
    if len(times) < len(given):
        return None
    points: list[list[float]] = []
    for found, at in enumerate(sorted(times), start=1):
        at = round(at, 3)
        if points and points[-1][0] == at:
            points[-1][1] = found
        else:
            points.append([at, found])
    end = round(max(wall_seconds, points[-1][0] if points else 0.0), 3)
    if not points or points[-1][0] != end:
        points.append([end, points[-1][1] if points else 0])
    return points


def unfinished_after(records: list[RunRecord]) -> float | None:
    """The seconds after which a test's plain run was stopped at its timeout, when that is all its runs did: it
    never finished under TSan (the scheduler does not repeat it). None when some run completed otherwise."""
    completed = [r for r in records if r.outcome != Outcome.CUT]
    if not completed or any(r.outcome != "timeout" for r in completed):
        return None
    plain = [r for r in completed if r.strategy == NONE]
    return round(plain[0].duration, 1) if plain else None


def verification_spent(records: Iterable[RunRecord]) -> dict[str, Spent]:
    """What the runs that weighed findings cost, per purpose; every purpose listed, so 0 reads as none."""
    spent: dict[str, Spent] = {purpose: Spent() for purpose in VERIFICATION_PURPOSES}
    for r in records:
        if r.purpose in spent:
            spent[r.purpose].add(1, r.duration)
    return spent
