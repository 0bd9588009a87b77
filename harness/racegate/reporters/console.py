"""Grouped plain-text summary the CLI prints: one block per bucket, then tests, strategies, estimate, verdict."""
from __future__ import annotations

from racegate.reporters import common as c

FORMAT = "console"
FILENAME = None

_ANSI = {"red": "31", "green": "32", "yellow": "33", "dim": "2", "bold": "1"}


def render(result: dict, options: c.RenderOptions | None = None) -> str:
    opts = options or c.RenderOptions()

    def paint(text: str, style: str) -> str:
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if opts.color else text

    summary = result.get("summary") or {}
    buckets = c.by_importance(result.get("buckets") or [])
    src = c.source_dir(result)
    out = [
        paint(f"racegate {c.tool_version(result)}", "bold")
        + f": {summary.get('tests', 0)} tests, {summary.get('runs', 0)} runs ({summary.get('failed_runs', 0)} failed),"
        f" {len(buckets)} distinct problems in {float(summary.get('wall_seconds') or 0):.1f} s",
        "",
    ]
    for b in buckets:
        tag = paint("NEW", "red") if b.get("new", True) else paint("known", "yellow")
        out.append(f"[{tag}] {paint(c.one_line(b.get('kind', '')), 'bold')}  {b.get('id', '')}")
        out.append(f"  {c.one_line(b.get('title', ''))}")
        for i, frame in enumerate(b.get("frames") or []):
            label = c.access_label(b, i)
            out.append(f"  {label:<14} {c.one_line(c.frame_function(frame))}  ({c.one_line(c.frame_location(frame, src))})")
        out.append(f"  seen in {c.frequency_text(b, result)}")
        out.append(f"  tests: {c.one_line(', '.join(b.get('tests') or []))}")
        seen = c.first_seen(b)
        schedules = ", ".join(f"{k} {v}" for k, v in sorted((b.get("schedules") or {}).items(), key=lambda kv: -kv[1]))
        out.append(
            f"  found by: {c.one_line(c.strategy(b))} (run {seen.get('run', '?')}, seed {seen.get('seed', '?')})"
            + (f"; runs per strategy: {c.one_line(schedules)}" if schedules else "")
        )
        out.append(f"  fix: {c.one_line(c.advice(b).get('fix', ''))}")
        if c.reproduce_command(b):
            out.append(f"  reproduce: {c.one_line(c.reproduce_command(b))}")
        out.append(f"  replay:    {c.replay_command(b, result)}")
        if not b.get("new", True) and b.get("baseline_note"):
            out.append(f"  baseline: {c.one_line(b['baseline_note'])}")
        out.append("")
    out += _tests_table(result.get("tests") or [], paint)
    out += _strategies_table(result.get("strategies") or {})
    out.append(f"Good-Turing: chance the next run finds a new bucket: {c.percent(c.chance(result))}")
    line = c.verdict(result)
    out.append(paint(line, "red" if c.failing(result) else "green"))
    return "\n".join(out) + "\n"


def _tests_table(tests: list[dict], paint) -> list[str]:
    if not tests:
        return []
    names = [c.one_line(t.get("name", "")) for t in tests]
    width = max(len("test"), *(len(n) for n in names))
    head = f"{'test':<{width}}  runs  pass  race  fail  crash  timeout"
    rows = [head, "-" * len(head)]
    for name, t in sorted(zip(names, tests), key=lambda nt: (-int(nt[1].get("failed_runs") or 0), nt[0])):
        o = t.get("outcomes") or {}
        row = (
            f"{name:<{width}}  {t.get('runs', 0):>4}  {o.get('pass', 0):>4}  {o.get('race', 0):>4}"
            f"  {o.get('fail', 0):>4}  {o.get('crash', 0):>5}  {o.get('timeout', 0):>7}"
        )
        if t.get("flaky"):
            row += "  " + paint("FLAKY", "yellow")
        elif t.get("failed_runs"):
            row += "  " + paint("FAILED", "red")
        rows.append(row)
    return rows + [""]


def _strategies_table(strategies: dict) -> list[str]:
    if not strategies:
        return []
    rows = ["strategy      runs  failed  buckets first found", "-" * 44]
    for name, s in sorted(strategies.items()):
        rows.append(
            f"{c.one_line(name):<12} {s.get('runs', 0):>5}  {s.get('failed_runs', 0):>6}  {s.get('buckets_first_found', 0):>6}"
        )
    return rows + [""]
