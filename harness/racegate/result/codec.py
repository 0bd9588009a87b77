"""racegate.json (schema 1): writing a `Result` key for key as docs/contract.md describes it, and reading the files
of every release back, with a default for every field an older or hand-written file lacks and a one-line error
naming the field that has the wrong type.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from racegate import __version__
from racegate.advice import Advice, advice_for
from racegate.errors import RacegateError
from racegate.jsonfile import JsonReader, read_json, write_json
from racegate.library_reports import BY_RULE, LibraryIssue
from racegate.model import OUTCOMES, Outcome, SourceFrame, StackTrace
from racegate.result import policy
from racegate.result.buckets import BucketResult, Evidence, Excerpt, FirstSeen, RacingMemory, RelatedGroup, Symptom
from racegate.result.model import ChangeFocus, Cost, Result, RunConfig, StrategyStats, SuppressionResult
from racegate.result.per_test import Spent, TestResult
from racegate.signature_rules import SIGNATURE_VERSION
from racegate.stats import discovery_points
from racegate.steady_crash import SteadyCrash

SCHEMA = 1


def save(result: Result, path: Path) -> None:
    write_json(path, result_json(result))


def load(path: Path) -> Result:
    return result_from_json(read_json(path, "result"), str(path))


def result_json(result: Result) -> dict:
    summary = result.summary
    return {
        "schema": SCHEMA,
        "tool": {"name": "racegate", "version": result.tool_version},
        "signature_version": result.signature_version,
        "config": _config_json(result.config),
        "summary": {
            "tests": summary.tests, "runs": summary.runs, "failed_runs": summary.failed_runs,
            "buckets": summary.buckets, "new_buckets": summary.new_buckets,
            "wall_seconds": summary.wall_seconds, "interrupted": summary.interrupted,
            "new_bucket_chance": summary.new_bucket_chance,
            # Added within schema 1: written when they happened.
            **({"cut_runs": summary.cut_runs} if summary.cut_runs else {}),
            **({"not_run": summary.not_run} if summary.not_run else {}),
            **({"uncovered": summary.uncovered} if summary.uncovered else {}),
        },
        "tests": [_test_json(t) for t in result.tests],
        "strategies": {name: _strategy_json(s) for name, s in result.strategies.items()},
        "discovery": [list(point) for point in result.discovery],
        # Added within schema 1: written by sessions that timed their runs.
        **({"discovery_seconds": [list(point) for point in result.discovery_seconds]}
           if result.discovery_seconds is not None else {}),
        **({"verification": _spent_json(result.verification)} if result.verification is not None else {}),
        "buckets": [_bucket_json(result, b) for b in result.buckets],
        # Added within schema 1: written only when the session ran with a suppressions file.
        **({"suppressions": [_suppression_json(s) for s in result.suppressions]}
           if result.suppressions is not None else {}),
        # Added within schema 1: written when some test crashed that way.
        **({"steady_crashes": [{"signal": c.signal, "tests": list(c.tests)} for c in result.steady_crashes]}
           if result.steady_crashes else {}),
        # Added within schema 1: written by `run`.
        **({"cost": _cost_json(result.cost)} if result.cost is not None else {}),
        # Added within schema 1: written when some buckets are related.
        **({"related": [{"id": g.id, "reasons": list(g.reasons), "buckets": list(g.buckets)}
                        for g in result.related]} if result.related else {}),
    }


def _bucket_json(result: Result, b: BucketResult) -> dict:
    seen = b.first_seen
    entry = {
        "id": b.id, "kind": b.kind, "title": b.title, "signature": list(b.signature),
        "frames": [_frame_json(f) for f in b.frames],
        "stacks": [{"header": s.header, "frames": [_frame_json(f) for f in s.frames]} for s in b.stacks],
        "tests": list(b.tests), "occurrences": b.occurrences, "runs_with_bucket": b.runs_with_bucket,
        "first_seen": {"test": seen.test, "run": seen.run, "seed": seen.seed, "schedule": seen.strategy,
                       "command": list(seen.command), "env": dict(seen.env), "cwd": seen.cwd,
                       "log_dir": seen.log_dir, **({"seconds": seen.seconds} if seen.seconds is not None else {})},
        "schedules": dict(b.strategies), "new": b.new, "advice": {"what": b.advice.what, "fix": b.advice.fix},
        "raw_report": b.raw_report, "run_fraction": result.run_fraction(b),
    }
    if not b.new and b.baseline_note is not None:
        entry["baseline_note"] = b.baseline_note
    # Fields added within schema 1 are written only where they hold something.
    if b.library_issue is not None:
        issue = b.library_issue
        entry["library_issue"] = {"rule": issue.rule, "reference": issue.reference, "url": issue.url,
                                  "affects": issue.affects}
    if b.timing_sensitive:
        entry["timing_sensitive"] = True
    if b.interference:
        entry["interference"] = True
    if b.evidence is not None:
        entry["evidence"] = _evidence_json(b.evidence)
    if b.kinds:
        entry["kinds"] = dict(b.kinds)
    if b.legacy_ids:
        entry["legacy_ids"] = list(b.legacy_ids)
    if b.symptoms:
        entry["symptoms"] = [asdict(s) for s in b.symptoms]
    if any(b.excerpts):
        entry["excerpts"] = [_excerpt_json(x) if x is not None else None for x in b.excerpts]
    if b.cut_runs_with_bucket:
        entry["cut_runs_with_bucket"] = b.cut_runs_with_bucket
    if b.in_change:
        entry["in_change"] = True
    if b.memory is not None:
        entry["memory"] = _memory_json(b.memory)
    if b.further_messages:
        entry["further_messages"] = list(b.further_messages)
    return entry


def _memory_json(m: RacingMemory) -> dict:
    return {key: value for key, value in (
        ("global", m.global_name), ("module", m.module),
        ("allocated_at", _frame_json(m.allocated_at) if m.allocated_at is not None else None),
        ("block_size", m.block_size), ("offset", m.offset), ("access_size", m.access_size)) if value not in (None, "")}


def _excerpt_json(x: Excerpt) -> dict:
    return {"file": x.file, "line": x.line, "first": x.first, "lines": list(x.lines)}


def result_from_json(data: Any, source: str = "the result") -> Result:
    """Load a racegate.json of any release: defaults for every field it lacks, one-line errors for the rest."""
    schema = data.get("schema") if isinstance(data, dict) else None
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
        raise RacegateError(f"{source} was written by a newer racegate (result schema {schema}); "
                            f"this racegate {__version__} reads schema {SCHEMA}")
    if schema != SCHEMA or "buckets" not in data:
        raise RacegateError(f"{source} is not a racegate result with schema {SCHEMA}")
    r = JsonReader(lambda problem: RacegateError(f"{source} is not a valid racegate result: {problem}"))
    summary = r.obj(data, "summary")
    tests = [_test_from(r, t, f"tests[{i}]") for i, t in enumerate(r.lst(data, "tests"))]
    buckets = [_bucket_from(r, b, f"buckets[{i}]") for i, b in enumerate(r.lst(data, "buckets"))]
    discovery = [[r.int_(p, 0, "discovery"), r.int_(p, 1, "discovery")] for p in r.lst(data, "discovery")]
    if not discovery:
        # Results that predate the curve: rebuild it from where each bucket was first seen.
        total = sum(t.runs for t in tests) or r.opt(summary, "runs", int, 0, "summary")
        discovery = discovery_points([b.first_seen.run for b in buckets], total)
    strategies = {str(name): StrategyStats(r.opt(s, "runs", int, 0, f"strategies.{name}"),
                                           r.opt(s, "failed_runs", int, 0, f"strategies.{name}"),
                                           r.opt(s, "buckets_first_found", int, 0, f"strategies.{name}"),
                                           r.nullable(s, "seconds", float, f"strategies.{name}"))
                  for name, s in r.obj(data, "strategies").items()}
    timed = data.get("discovery_seconds")
    discovery_seconds = None if timed is None else [
        [r.num(p, 0, "discovery_seconds"), r.int_(p, 1, "discovery_seconds")]
        for p in r.lst(data, "discovery_seconds")]
    tool = r.obj(data, "tool")
    config = _config_from(r, r.obj(data, "config"))
    return Result(
        config=config, tests=tests, buckets=[replace(b, status=policy.status(b, config)) for b in buckets],
        strategies=strategies,
        discovery=discovery, wall_seconds=r.opt(summary, "wall_seconds", float, 0.0, "summary"),
        interrupted=r.opt(summary, "interrupted", bool, False, "summary"),
        tool_version=r.opt(tool, "version", str, "", "tool"),
        signature_version=r.opt(data, "signature_version", int, SIGNATURE_VERSION, ""),
        suppressions=_suppressions_from(r, data.get("suppressions")), discovery_seconds=discovery_seconds,
        verification=_spent_from(r, data["verification"], "verification")
        if data.get("verification") is not None else None,
        steady_crashes=[_steady_crash_from(r, c, f"steady_crashes[{i}]")
                        for i, c in enumerate(r.lst(data, "steady_crashes"))],
        cost=_cost_from(r, data.get("cost")),
        related=[_group_from(r, g, f"related[{i}]") for i, g in enumerate(r.lst(data, "related"))])


def _group_from(r: JsonReader, value: Any, where: str) -> RelatedGroup:
    d = r.entry(value, where)
    return RelatedGroup(id=r.opt(d, "id", str, "", where), reasons=tuple(r.strings(d, "reasons", where)),
                        buckets=tuple(r.strings(d, "buckets", where)))


def _memory_from(r: JsonReader, value: Any, where: str) -> RacingMemory | None:
    if value is None:
        return None
    d = r.entry(value, where)
    site = d.get("allocated_at")
    return RacingMemory(global_name=r.opt(d, "global", str, "", where), module=r.opt(d, "module", str, "", where),
                        allocated_at=_frame_from(r, site, f"{where}.allocated_at") if site is not None else None,
                        block_size=r.nullable(d, "block_size", int, where), offset=r.nullable(d, "offset", int, where),
                        access_size=r.nullable(d, "access_size", int, where))


# -- JSON details --------------------------------------------------------------------------------------------


def _frame_json(frame: SourceFrame) -> dict:
    return {"function": frame.function, "file": frame.file, "line": frame.line}


def _test_json(t: TestResult) -> dict:
    entry = {
        "name": t.name, "runs": t.runs, "failed_runs": t.failed_runs, "outcomes": _outcomes_json(t.outcomes),
        "flaky": t.flaky, "threads": t.threads, "mean_seconds": t.mean_seconds,
        "command": list(t.command), "cwd": t.cwd, "env": dict(t.env), "timeout": t.timeout,
        "labels": list(t.labels), "is_gtest": t.is_gtest, "will_fail": t.will_fail,
        "skip_return_code": t.skip_return_code, "run_serial": t.run_serial,
    }
    if t.not_run is not None:
        entry["not_run"] = t.not_run
    if t.notes:
        entry["notes"] = list(t.notes)
    if t.not_repeated is not None:
        entry["not_repeated"] = t.not_repeated
    if t.strategies:
        entry["strategies"] = _spent_json(t.strategies)
    if t.cuts:
        entry["cuts"] = dict(t.cuts)
    if t.peak_memory is not None:
        entry["peak_memory"] = t.peak_memory
    if t.unfinished is not None:
        entry["unfinished"] = t.unfinished
    if t.focus is not None:
        entry["focus"] = t.focus
    return entry


def _evidence_json(e: Evidence) -> dict:
    data: dict[str, Any] = {"plain_runs": e.plain_runs, "plain_runs_with_bucket": e.plain_runs_with_bucket,
                            "replays": e.replays, "replays_with_bucket": e.replays_with_bucket}
    if e.skipped:  # added within schema 1: written when a re-check was skipped
        data.update(skipped=list(e.skipped), ended_by=e.ended_by)
    return data


def _spent_json(spent: dict[str, Spent]) -> dict:
    return {k: {"runs": v.runs, "seconds": v.seconds} for k, v in spent.items()}


def _strategy_json(s: StrategyStats) -> dict:
    data: dict[str, Any] = {"runs": s.runs, "failed_runs": s.failed_runs, "buckets_first_found": s.buckets_first_found}
    if s.seconds is not None:
        data["seconds"] = s.seconds
    return data


def _outcomes_json(outcomes: dict[str, int]) -> dict[str, int]:
    # "cut" came after schema 1's first five outcomes: written when it happened, so older files write back as read.
    return {o: n for o, n in outcomes.items() if o != Outcome.CUT or n}


def _config_json(c: RunConfig) -> dict:
    data: dict[str, Any] = {
        "runs": c.runs, "time_budget": c.time_budget, "jobs": c.jobs, "seed": c.seed, "schedules": list(c.strategies),
        "shard": c.shard, "until_confident": c.until_confident, "source_dir": c.source_dir,
        "build_dir": c.build_dir, "out_dir": c.out_dir, "compiler": c.compiler,
        "schedule_notes": list(c.strategy_notes),
    }
    if c.merged_from is not None:
        data["merged_from"] = list(c.merged_from)
    for flag in ("strict", "gate_library_reports", "allow_uncovered"):
        if getattr(c, flag):
            data[flag] = True
    if c.suppression_files is not None:
        data["suppression_files"] = list(c.suppression_files)
    for key in ("source_root", "source_url"):  # added within schema 1: written where known
        if getattr(c, key) is not None:
            data[key] = getattr(c, key)
    if c.changed_since is not None:  # added within schema 1: written by `run --changed-since`
        focus = c.changed_since
        data["changed_since"] = {"ref": focus.ref, "base": focus.base, "files": list(focus.files),
                                 **({"note": focus.note} if focus.note is not None else {})}
    return data


def _suppression_json(s: SuppressionResult) -> dict:
    return {"entry": s.entry, "file": s.file, "matched": s.matched, "stale": s.stale}


def _cost_json(cost: Cost) -> dict:
    data: dict[str, Any] = {"first_pass_seconds": cost.first_pass_seconds,
                            "repetition_seconds": cost.repetition_seconds, "processes": cost.processes}
    if cost.batch_processes:
        data.update(batched_tests=cost.batched_tests, batch_processes=cost.batch_processes)
    if cost.startup_seconds is not None:
        data["startup_seconds"] = cost.startup_seconds
        data["startup_share"] = round(cost.startup_share or 0.0, 4)
    if cost.first_repetition_after is not None:
        data["first_repetition_after"] = cost.first_repetition_after
    return data


def _frame_from(r: JsonReader, value: Any, where: str) -> SourceFrame:
    d = r.entry(value, where)
    return SourceFrame(r.opt(d, "function", str, "", where), r.opt(d, "file", str, "", where),
                       r.nullable(d, "line", int, where))


def _test_from(r: JsonReader, value: Any, where: str) -> TestResult:
    d = r.entry(value, where)
    name = r.opt(d, "name", str, "", where)
    if not name:
        raise r.fail(where, "name", "a test name")
    given = r.obj(d, "outcomes", where)
    outcomes: dict[str, int] = {o: r.opt(given, o, int, 0, f"{where}.outcomes") for o in OUTCOMES}
    runs = r.opt(d, "runs", int, sum(outcomes.values()), where)
    return TestResult(
        name=name, runs=runs, outcomes=outcomes, threads=r.nullable(d, "threads", int, where),
        mean_seconds=r.opt(d, "mean_seconds", float, 0.0, where), command=r.strings(d, "command", where),
        cwd=r.nullable(d, "cwd", str, where), env=r.str_map(d, "env", where),
        timeout=r.nullable(d, "timeout", float, where), labels=r.strings(d, "labels", where),
        is_gtest=r.opt(d, "is_gtest", bool, False, where), will_fail=r.opt(d, "will_fail", bool, False, where),
        skip_return_code=r.nullable(d, "skip_return_code", int, where),
        run_serial=r.opt(d, "run_serial", bool, False, where), not_run=r.nullable(d, "not_run", str, where),
        not_repeated=r.nullable(d, "not_repeated", str, where),
        notes=r.strings(d, "notes", where), strategies=_spent_from(r, d.get("strategies"), f"{where}.strategies"),
        cuts={str(k): r.opt(r.obj(d, "cuts", where), k, int, 0, f"{where}.cuts") for k in r.obj(d, "cuts", where)},
        peak_memory=r.nullable(d, "peak_memory", int, where),
        unfinished=r.nullable(d, "unfinished", float, where), focus=r.nullable(d, "focus", str, where))


def _spent_from(r: JsonReader, value: Any, where: str) -> dict[str, Spent]:
    if value is None:
        return {}
    spent = {}
    for key, item in r.entry(value, where).items():
        d = r.entry(item, f"{where}.{key}")
        spent[str(key)] = Spent(r.opt(d, "runs", int, 0, f"{where}.{key}"),
                                r.opt(d, "seconds", float, 0.0, f"{where}.{key}"))
    return spent


def _bucket_from(r: JsonReader, value: Any, where: str) -> BucketResult:
    d = r.entry(value, where)
    bid = r.opt(d, "id", str, "", where)
    if not bid:
        raise r.fail(where, "id", "a bucket id")
    kind = r.opt(d, "kind", str, "", where)
    frames = [_frame_from(r, f, f"{where}.frames") for f in r.lst(d, "frames", where)]
    stacks = []
    for i, s in enumerate(r.lst(d, "stacks", where)):
        s = r.entry(s, f"{where}.stacks[{i}]")
        stacks.append(StackTrace(r.opt(s, "header", str, "", f"{where}.stacks[{i}]"),
                                 tuple(_frame_from(r, f, f"{where}.stacks[{i}]") for f in r.lst(s, "frames"))))
    signature = r.strings(d, "signature", where)
    seen = r.obj(d, "first_seen", where)
    at = f"{where}.first_seen"
    given_advice = r.obj(d, "advice", where)
    library_issue = _library_issue_from(r, r.obj(d, "library_issue", where), f"{where}.library_issue")
    advice = (Advice(r.opt(given_advice, "what", str, "", where), given_advice["fix"])
              if isinstance(given_advice.get("fix"), str) and given_advice["fix"]
              else advice_for(kind, frames, signature, stacks, library_issue.rule if library_issue else None,
                              r.opt(d, "timing_sensitive", bool, False, where)))
    runs_with = r.opt(d, "runs_with_bucket", int, 0, where)
    new = r.opt(d, "new", bool, True, where)
    return BucketResult(
        id=bid, kind=kind, title=r.opt(d, "title", str, kind, where), signature=signature, frames=frames,
        stacks=stacks, tests=sorted(r.strings(d, "tests", where)),
        occurrences=r.opt(d, "occurrences", int, runs_with, where), runs_with_bucket=runs_with,
        first_seen=FirstSeen(
            test=r.opt(seen, "test", str, "", at), run=r.opt(seen, "run", int, 0, at),
            seed=r.opt(seen, "seed", int, 0, at), strategy=r.opt(seen, "schedule", str, "", at),
            command=r.strings(seen, "command", at), env=r.str_map(seen, "env", at),
            cwd=r.nullable(seen, "cwd", str, at), log_dir=r.nullable(seen, "log_dir", str, at),
            seconds=r.nullable(seen, "seconds", float, at)),
        strategies={str(k): int(v) for k, v in r.obj(d, "schedules", where).items() if isinstance(v, int)},
        advice=advice, raw_report=r.opt(d, "raw_report", str, "", where), new=new,
        baseline_note=r.nullable(d, "baseline_note", str, where) if not new else None,
        library_issue=library_issue,
        timing_sensitive=r.opt(d, "timing_sensitive", bool, False, where),
        interference=r.opt(d, "interference", bool, False, where),
        evidence=_evidence_from(r, d.get("evidence"), f"{where}.evidence"),
        kinds={str(k): v for k, v in r.obj(d, "kinds", where).items() if isinstance(v, int)},
        legacy_ids=r.strings(d, "legacy_ids", where),
        symptoms=[_symptom_from(r, s, f"{where}.symptoms[{i}]") for i, s in enumerate(r.lst(d, "symptoms", where))],
        excerpts=[_excerpt_from(r, x, f"{where}.excerpts[{i}]") for i, x in enumerate(r.lst(d, "excerpts", where))],
        cut_runs_with_bucket=r.opt(d, "cut_runs_with_bucket", int, 0, where),
        in_change=r.opt(d, "in_change", bool, False, where),
        memory=_memory_from(r, d.get("memory"), f"{where}.memory"),
        further_messages=r.strings(d, "further_messages", where))


def _excerpt_from(r: JsonReader, value: Any, where: str) -> Excerpt | None:
    if value is None:
        return None
    d = r.entry(value, where)
    return Excerpt(file=r.opt(d, "file", str, "", where), line=r.required(d, "line", int, where),
                   first=r.required(d, "first", int, where), lines=r.strings(d, "lines", where))


def _symptom_from(r: JsonReader, value: Any, where: str) -> Symptom:
    d = r.entry(value, where)
    return Symptom(id=r.opt(d, "id", str, "", where), kind=r.opt(d, "kind", str, "", where),
                   title=r.opt(d, "title", str, "", where), runs=r.opt(d, "runs", int, 0, where),
                   runs_with_cause=r.opt(d, "runs_with_cause", int, 0, where),
                   raw_report=r.opt(d, "raw_report", str, "", where))


def _library_issue_from(r: JsonReader, d: dict, where: str) -> LibraryIssue | None:
    if not d:
        return None
    rule = r.opt(d, "rule", str, "", where)
    if rule in BY_RULE:
        return BY_RULE[rule]
    # A rule this release does not list (written by a later one): keep what the file says of it.
    return LibraryIssue(rule=rule, reference=r.opt(d, "reference", str, rule, where),
                        url=r.opt(d, "url", str, "", where), affects=r.opt(d, "affects", str, "", where),
                        functions=frozenset(), what="")


def _evidence_from(r: JsonReader, value: Any, where: str) -> Evidence | None:
    if value is None:
        return None
    d = r.entry(value, where)
    plain, plain_with, replays, replays_with = (r.opt(d, key, int, 0, where) for key in
                                                ("plain_runs", "plain_runs_with_bucket", "replays",
                                                 "replays_with_bucket"))
    skipped = tuple(r.strings(d, "skipped", where))
    return Evidence(plain, plain_with, replays, replays_with, skipped,
                    r.nullable(d, "ended_by", str, where) if skipped else None)


def _steady_crash_from(r: JsonReader, value: Any, where: str) -> SteadyCrash:
    d = r.entry(value, where)
    return SteadyCrash(r.opt(d, "signal", str, "", where), sorted(r.strings(d, "tests", where)))


def _config_from(r: JsonReader, d: dict) -> RunConfig:
    w = "config"
    merged = d.get("merged_from")
    return RunConfig(
        runs=r.nullable(d, "runs", int, w), time_budget=r.nullable(d, "time_budget", float, w),
        jobs=r.nullable(d, "jobs", int, w), seed=r.nullable(d, "seed", int, w), strategies=r.strings(d, "schedules", w),
        shard=r.nullable(d, "shard", str, w), until_confident=r.nullable(d, "until_confident", float, w),
        source_dir=r.nullable(d, "source_dir", str, w), source_root=r.nullable(d, "source_root", str, w),
        source_url=r.nullable(d, "source_url", str, w), build_dir=r.nullable(d, "build_dir", str, w),
        out_dir=r.nullable(d, "out_dir", str, w), compiler=r.nullable(d, "compiler", str, w),
        strategy_notes=r.strings(d, "schedule_notes", w),
        merged_from=[str(p) for p in merged] if isinstance(merged, list) else None,
        strict=r.opt(d, "strict", bool, False, w),
        gate_library_reports=r.opt(d, "gate_library_reports", bool, False, w),
        allow_uncovered=r.opt(d, "allow_uncovered", bool, False, w),
        suppression_files=r.strings(d, "suppression_files", w) if "suppression_files" in d else None,
        changed_since=_focus_from(r, d.get("changed_since")))


def _focus_from(r: JsonReader, value: Any) -> ChangeFocus | None:
    if value is None:
        return None
    w = "config.changed_since"
    d = r.entry(value, w)
    return ChangeFocus(ref=r.opt(d, "ref", str, "", w), base=r.nullable(d, "base", str, w),
                       files=r.strings(d, "files", w), note=r.nullable(d, "note", str, w))


def _suppressions_from(r: JsonReader, value: Any) -> list[SuppressionResult] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise r.fail("", "suppressions", "a list")
    entries = []
    for i, item in enumerate(value):
        where = f"suppressions[{i}]"
        d = r.entry(item, where)
        # "stale" is written for readers of the file; it follows from "matched" and is not read back.
        entries.append(SuppressionResult(r.opt(d, "entry", str, "", where), r.opt(d, "file", str, "", where),
                                         r.opt(d, "matched", int, 0, where)))
    return entries


def _cost_from(r: JsonReader, value: Any) -> Cost | None:
    if value is None:
        return None
    d = r.entry(value, "cost")
    # "startup_share" follows from the others and is not read back.
    return Cost(first_pass_seconds=r.opt(d, "first_pass_seconds", float, 0.0, "cost"),
                repetition_seconds=r.opt(d, "repetition_seconds", float, 0.0, "cost"),
                processes=r.opt(d, "processes", int, 0, "cost"),
                batched_tests=r.opt(d, "batched_tests", int, 0, "cost"),
                batch_processes=r.opt(d, "batch_processes", int, 0, "cost"),
                startup_seconds=r.nullable(d, "startup_seconds", float, "cost"),
                first_repetition_after=r.nullable(d, "first_repetition_after", float, "cost"))
