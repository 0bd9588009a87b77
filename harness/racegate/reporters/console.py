"""Grouped plain-text summary the CLI prints: one block per bucket, then tests, strategies, estimate, verdict."""
from __future__ import annotations

from racegate.reporters.interface import RenderOptions
from racegate.reporters.sentences import (
    budget_line, coverage_notes, discovery_line, focus_line, in_groups, new_problem_chance, per_strategy,
    suppressions_summary, verdict
)
from racegate.reporters.text import found_after, one_line, percent, seconds, share, strategy_seconds, strip_control
from racegate.reporters.words import VERDICT
from racegate.reporters.view import (
    IN_CHANGE, BucketView, by_importance, detail, excerpt_lines, group_heading, grouped, test_costs, test_rows,
    timed_strategies
)
from racegate.result import Result

FORMAT = "console"
FILENAME = None

_ANSI = {"red": "31", "green": "32", "yellow": "33", "dim": "2", "bold": "1"}


def render(result: Result, options: RenderOptions | None = None) -> str:
    opts = options or RenderOptions()

    def paint(text: str, style: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if opts.color else text

    summary = result.summary
    views = by_importance(result)
    out = [
        paint(f"racegate {result.tool_version}", "bold")
        + f": {summary.tests} tests, {summary.runs} runs ({summary.failed_runs} failed),"
        f" {len(views)} distinct problems{in_groups(result)} in {summary.wall_seconds:.1f} s",
        "",
    ]
    for group, members in grouped(views):
        if group is not None:
            out += [paint(one_line(group_heading(group)), "bold"), ""]
        for v in members:
            out += _bucket(v, paint)
    out += _tests_table(result, paint)
    out += _strategies_table(result)
    out += _time(result)
    out += _suppressions_table(result, paint)
    out += [f"note: {one_line(note)}" for note in coverage_notes(result)]
    out += _cost_lines(result)
    out.append(f"Good-Turing: chance the next run finds a new bucket: {new_problem_chance(result)}")
    out.append(paint(verdict(result), VERDICT[result.verdict_state].color))
    return "\n".join(out) + "\n"


def _bucket(v: BucketView, paint) -> list[str]:
    """One bucket's block: its tag, kind, id and title, then its detail (view.detail) indented, laid out for a
    terminal: the sides as columns, each with its source lines, the runs per strategy after how it was found, the
    replay line aligned under the reproduce line (and left as it is: one_line could change a quoted argument)."""
    tag = paint(v.status_words.tag, "red" if v.new else "yellow")
    change = f" [{paint(IN_CHANGE, 'bold')}]" if v.bucket.in_change else ""
    lines = [f"[{tag}]{change} {paint(one_line(v.kind), 'bold')}  {v.id}", f"  {one_line(v.title)}"]
    sides = iter(v.sides)
    for line in detail(v):
        if line.part == "side":
            side = next(sides)
            lines.append(f"  {side.label:<14} {one_line(side.function)}  ({one_line(side.location)})")
            if side.excerpt is not None:
                lines += [f"      {strip_control(text)}" for text in excerpt_lines(side.excerpt)]
        elif line.part == "found by":
            lines.append(_found_by(v))
        elif line.part == "replay":
            lines.append(f"  replay:    {line.text}")
        elif line.part == "note" and not v.baseline_note:
            continue  # baselined without a note: the tag already says it is known
        else:
            lines.append(f"  {line.label}: {one_line(line.text)}" if line.label else f"  {one_line(line.text)}")
    return lines + [""]


def _found_by(v: BucketView) -> str:
    strategies = ", ".join(f"{k} {n}" for k, n in v.strategies)
    return (f"  found by: {one_line(v.strategy)} (run {v.first_seen.run}, seed {v.first_seen.seed}"
            f"{found_after(v.first_seen)})" + (f"; runs per strategy: {one_line(strategies)}" if strategies else ""))


def _tests_table(result: Result, paint) -> list[str]:
    rows = test_rows(result)
    if not rows:
        return []
    width = max(len("test"), *(len(one_line(r.test.name)) for r in rows))
    cut = any(r.count("cut") for r in rows)  # a column only when racegate cut a run
    head = f"{'test':<{width}}  runs  pass  race  fail  crash  timeout" + ("  cut" if cut else "")
    lines = [head, "-" * len(head)]
    for r in rows:
        line = (
            f"{one_line(r.test.name):<{width}}  {r.test.runs:>4}  {r.count('pass'):>4}  {r.count('race'):>4}"
            f"  {r.count('fail'):>4}  {r.count('crash'):>5}  {r.count('timeout'):>7}"
            + (f"  {r.count('cut'):>3}" if cut else "")
        )
        if r.flag:
            line += "  " + paint(r.flag.upper(), "yellow" if r.flag == "flaky" else "red")
        lines.append(line)
    return lines + [""]


def _suppressions_table(result: Result, paint) -> list[str]:
    """Each entry of the user's suppressions file and the reports it silenced; nothing without a file."""
    summary = suppressions_summary(result)
    if summary is None:
        return []
    entries = result.suppressions or []
    width = max(len("suppression"), *(len(one_line(s.entry)) for s in entries)) if entries else len("suppression")
    head = f"{'suppression':<{width}}  matched"
    lines = [head, "-" * len(head)]
    for s in entries:
        line = f"{one_line(s.entry):<{width}}  {s.matched:>7}"
        lines.append(line + ("  " + paint("STALE", "yellow") if s.stale else ""))
    return lines + [summary, ""]


def _strategies_table(result: Result) -> list[str]:
    if not result.strategies:
        return []
    timed = timed_strategies(result)  # a seconds column only when the result has them
    base = "strategy      runs  failed  buckets first found"
    head = base + ("    seconds" if timed else "")
    rows = [head, "-" * len(head)]
    for name, s in sorted(result.strategies.items()):
        row = f"{one_line(name):<12} {s.runs:>5}  {s.failed_runs:>6}  {s.buckets_first_found:>6}"
        rows.append(f"{row:<{len(base)}}  {strategy_seconds(s):>9}" if timed else row)
    return rows + [""]


TOP_TESTS = 5  # the console names the tests that took the most time; the HTML report lists them all


def _time(result: Result) -> list[str]:
    """Where the time went (the tests that took most of it, per strategy) and when each problem was found."""
    lines = [f"time: {one_line(budget_line(result))}"]
    focus = focus_line(result)
    if focus:
        lines.append(f"focus: {one_line(focus)}")
    costs = test_costs(result)
    if costs:
        top = costs[:TOP_TESTS]
        width = max(len(one_line(t.test.name)) for t in top)
        lines.append(f"most time ({len(top)} of {len(costs)} tests):")
        for t in top:
            per = per_strategy(t.test)
            lines.append(f"  {one_line(t.test.name):<{width}}  {t.test.runs:>4} runs  {seconds(t.seconds):>8}"
                         f"  {share(t.share):>4}" + (f"  {one_line(per)}" if per else ""))
    discovery = discovery_line(result)
    if discovery:
        lines.append(one_line(discovery))
    return lines + [""]


def _cost_lines(result: Result) -> list[str]:
    """Where the process time went: the first pass (batched or not) against the repetitions, and start-up."""
    cost = result.cost
    if cost is None or not cost.processes:
        return []
    batched = (f", {cost.batched_tests} tests of it batched in {cost.batch_processes} processes"
               if cost.batch_processes else "")
    line = (f"cost: first pass {cost.first_pass_seconds:.1f} s{batched}; repetitions {cost.repetition_seconds:.1f} s;"
            f" {cost.processes} processes")
    if cost.startup_seconds is not None and cost.startup_share is not None:
        line += f", ~{cost.startup_seconds:.2f} s each to start and exit ({percent(cost.startup_share)} of the time)"
    if cost.first_repetition_after is not None:
        line += f"; first repetition after {cost.first_repetition_after:.1f} s"
    return [line]
