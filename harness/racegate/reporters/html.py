"""One self-contained HTML page (inline CSS/JS, no network) for triaging every bucket of a result."""
from __future__ import annotations

import base64
import hashlib
import html
from pathlib import Path
from typing import Callable, Sequence

from racegate.model import OUTCOMES, SourceFrame, StackTrace
from racegate.reporters.interface import RenderOptions
from racegate.reporters.sentences import (
    budget_line, coverage_notes, discovery_line, focus_line, in_groups, new_problem_chance, per_strategy,
    quiet_line, suppressions_summary, verdict
)
from racegate.reporters.text import (
    count_of, found_after, frame_function, frame_location, percent, repo_path, seconds, share, strategy_seconds,
    strip_control
)
from racegate.reporters.words import VERDICT
from racegate.reporters.view import (
    IN_CHANGE, IN_CHANGE_WHY, access_label, BucketView, by_severity, group_heading, grouped, is_quiet, raw_report_text,
    Side, StackRow,
    stack_rows, test_costs, test_rows, timed_strategies
)
from racegate.result import Result, RunConfig
from racegate.sourcetree import SourceReader
from racegate.stats import FEW_RUNS, runs_since_last_discovery

FORMAT = "html"
FILENAME = "racegate.html"

_HERE = Path(__file__).resolve().parent
FLAT_BELOW = 0.05  # the discovery curve reads as flat only while Good-Turing's chance of a new problem is below this
MAX_STACK_ROWS = 40


def e(text: object) -> str:
    """Escape any text for HTML element content and quoted attributes."""
    return html.escape(strip_control(str(text)), quote=True)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def render(result: Result, options: RenderOptions | None = None) -> str:
    opts = options or RenderOptions()
    css = (_HERE / "html.css").read_text(encoding="utf-8")
    js = (_HERE / "html.js").read_text(encoding="utf-8")
    # Only this exact style and script may run; nothing may be fetched from anywhere.
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    sources = _Sources(result.config)
    views = by_severity(result)
    state = VERDICT[result.verdict_state].css
    verdict_text = verdict(result)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>racegate: {e(verdict_text)}</title>",
        f"<style>{css}</style>",
        "</head><body>",
        f'<header class="banner {state}"><div class="inner"><h1>racegate report</h1>',
        f'<p class="verdict">{e(verdict_text)}</p>',
        f'<p class="meta">{e(_meta(result))}</p></div></header>',
        "<main>",
        _cards(result, views),
        _discovery(result),
        _problems(result, views, sources, opts),
        _tests(result),
        _strategies(result),
        _time(result),
        _suppressions(result),
        _notes(result),
        f'<footer>racegate {e(result.tool_version)} · signature v{e(result.signature_version)} · '
        f"{e(_config(result))}</footer>",
        "</main>",
        f"<script>{js}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _meta(result: Result) -> str:
    s = result.summary
    text = f"{s.tests} tests · {s.runs} runs · {s.wall_seconds:.1f} s"
    if s.interrupted:
        text += " · interrupted: partial results"
    return text


def _config(result: Result) -> str:
    cfg = result.config
    shown = (("runs", cfg.runs), ("time_budget", cfg.time_budget), ("jobs", cfg.jobs), ("seed", cfg.seed),
             ("schedules", ", ".join(cfg.strategies) if cfg.strategies else None), ("shard", cfg.shard))
    return "; ".join(f"{k}={v}" for k, v in shown if v is not None)


def _cards(result: Result, views: list[BucketView]) -> str:
    s = result.summary
    cards = [
        (s.tests, "tests", False),
        (s.runs, "runs", False),
        (s.failed_runs, "failed runs", bool(s.failed_runs)),
        (len(views), "distinct problems" + in_groups(result), False),
        (s.new_buckets, "new problems", s.new_buckets > 0),
        (sum(1 for t in result.tests if t.flaky), "flaky tests", False),
        (new_problem_chance(result), "chance the next run finds a new problem", False),
    ]
    body = "".join(
        f'<div class="card{" bad" if bad else ""}"><div class="num">{e(num)}</div><div class="lbl">{e(lbl)}</div></div>'
        for num, lbl, bad in cards
    )
    return f'<section class="cards" aria-label="summary">{body}</section>'


def _curve(points: Sequence[Sequence[float]], end: float, axis: str, tick: Callable[[float], str],
           tip: Callable[[float], str]) -> str:
    """A step curve of distinct problems against `axis` (runs, or seconds since the start), as inline SVG;
    `tick` words an x value on the axis, `tip` in a point's tooltip."""
    found = int(points[-1][1]) if points else 0
    w, h, left, right, top, bottom = 640, 240, 44, 16, 14, 34
    max_x = max(end, points[-1][0] if points else 0, 1)
    max_y = max(found, 1)

    def x(v: float) -> float:
        return left + (w - left - right) * v / max_x

    def y(v: float) -> float:
        return h - bottom - (h - top - bottom) * v / max_y

    path, prev = [f"M{x(0):.1f},{y(0):.1f}"], 0.0
    for runs_done, distinct in points:
        path.append(f"H{x(runs_done):.1f}")
        if distinct != prev:
            path.append(f"V{y(distinct):.1f}")
            prev = distinct
    line = " ".join(path)
    area = f"{line} V{y(0):.1f} Z"
    dots = "".join(
        f'<circle class="dot" cx="{x(r):.1f}" cy="{y(d):.1f}" r="3.5">'
        f'<title>{e(f"{tip(r)}: {d} distinct")}</title></circle>'
        for i, (r, d) in enumerate(points)
        if d > (points[i - 1][1] if i else 0)
    )
    yticks = sorted({0, max_y // 2, max_y})
    grid = "".join(
        f'<line class="grid" x1="{left}" x2="{w - right}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
        f'<text x="{left - 8}" y="{y(t) + 4:.1f}" text-anchor="end">{t}</text>'
        for t in yticks
    )
    xticks = sorted({0, max_x / 2, max_x})
    # The last label ends at the axis's end rather than centred on it, so the page's edge does not clip it.
    xlabels = "".join(f'<text x="{x(t):.1f}" y="{h - bottom + 16}" text-anchor="{"end" if t == max_x else "middle"}">'
                      f"{e(tick(t))}</text>" for t in xticks)
    return (
        f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="distinct problems found versus {e(axis)}">'
        f"{grid}<path class=\"area\" d=\"{area}\"/><path class=\"curve\" d=\"{line}\"/>{dots}"
        f'<line class="axis" x1="{left}" x2="{w - right}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>'
        f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{y(0):.1f}"/>{xlabels}'
        f'<text x="{(left + w - right) / 2:.0f}" y="{h - 4}" text-anchor="middle">{e(axis)}</text>'
        f'<text x="12" y="{(top + h - bottom) / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {(top + h - bottom) / 2:.0f})">distinct problems</text></svg>'
    )


def _discovery(result: Result) -> str:
    points = result.discovery
    found = points[-1][1] if points else 0
    quiet = runs_since_last_discovery(points)
    max_x = max(result.summary.runs, points[-1][0] if points else 0, 1)
    # The same search drawn twice: against runs, and against seconds since the start (sessions of this release).
    svg = _curve(points, result.summary.runs, "runs", lambda r: f"{r:.0f}" if r == int(r) else f"{r:.1f}",
                 lambda r: f"run {r:.0f}")
    timed = result.discovery_seconds
    if timed is not None:
        svg += _curve(timed, result.wall_seconds, "seconds since the start", seconds, seconds)
    chance = result.summary.new_bucket_chance
    few = result.summary.completed_runs < FEW_RUNS
    if not found:
        reading = "No problem was found in any run."
    elif few:
        reading = (f"{count_of(found, 'problem')} found in only "
                   f"{count_of(result.summary.completed_runs, 'completed run')}: too few to tell whether more runs "
                   "would find more.")
    elif chance >= FLAT_BELOW:
        # The Good-Turing estimate below rests on problems seen once: the curve cannot be called flat while they
        # make up that much of the runs.
        reading = (f"{count_of(found, 'problem')} found; some showed in a single run only, so more runs "
                   "would likely find more.")
    elif quiet >= max_x / 2:
        reading = (f"The curve has been flat for the last {quiet} of {max_x} runs: more runs of the same kind "
                   "are unlikely to find new problems.")
    else:
        # Recent, but every problem showed in more than one run: the estimate says the next run is unlikely to add
        # one, and the reading must not say otherwise.
        reading = (f"The last new problem appeared {_plural(quiet, 'run')} before the end, and every problem showed "
                   "in more than one run: the next run is unlikely to find a new one, though the curve has not had "
                   "long to flatten.")
    steps = discovery_line(result)
    text = (
        f"<p>{e(reading)}</p>"
        + (f'<p class="muted">{e(steps)}</p>' if steps else "") +
        f"<p><strong>Good–Turing estimate:</strong> chance the next run finds a new problem: "
        f"<strong>{e(new_problem_chance(result))}</strong> "
        "<span class=\"muted\">(problems seen in exactly one run, "
        f"divided by the number of runs)</span></p>"
    )
    return (f'<h2 id="discovery">Discovery</h2><section class="panel discovery"><div class="curves">{svg}</div>'
            f"<div>{text}</div></section>")


def _problems(result: Result, views: list[BucketView], sources: _Sources, opts: RenderOptions) -> str:
    if not views:
        return '<h2 id="problems">Problems</h2><p class="panel">No races or failures were found.</p>'
    toolbar = (
        '<div class="toolbar"><button type="button" data-filter="all" aria-pressed="true">All</button>'
        '<button type="button" data-filter="new" aria-pressed="false">New only</button>'
        '<button type="button" id="toggle-raw" aria-pressed="false">Expand raw reports</button></div>'
    )
    body, index = [], 0
    for group, members in grouped(views):
        articles = []
        for v in members:
            articles.append(_bucket(v, index, result, sources, opts))
            index += 1
        if group is None:
            body += articles
        else:
            body.append(f'<section class="related" id="g-{e(group.id)}" aria-label="{e(group_heading(group))}">'
                        f'<h3 class="related-heading">{e(group_heading(group))}</h3>{"".join(articles)}</section>')
    return f'<h2 id="problems">Problems ({len(views)}{e(in_groups(result))})</h2>{toolbar}{"".join(body)}'


def _bucket(v: BucketView, index: int, result: Result, sources: _Sources, opts: RenderOptions) -> str:
    seen = v.first_seen
    tags = (
        f'<div class="tags"><span class="tag {"new" if v.new else "known"}">{"NEW" if v.new else "known"}</span>'
        + (f'<span class="tag change">{e(IN_CHANGE)}</span>' if v.bucket.in_change else "")
        + f'<span class="tag kind">{e(v.kind)}</span>'
        f'<span class="tag sev-{e(v.severity_name)}">{e(v.severity_name)}</span>'
        f'<span class="tag id">{e(v.id)}</span></div>'
    )
    bar = (
        '<svg class="bar" width="160" height="12" aria-hidden="true">'
        '<rect class="track" width="160" height="12" rx="3"/>'
        f'<rect class="fill" width="{max(2.0, 160 * min(v.fraction, 1.0)):.1f}" height="12" rx="3"/></svg>'
    )
    runs_per_strategy = " · ".join(f"{k} {n}" for k, n in v.strategies)
    facts = [
        ("frequency", f"{bar}{e(v.frequency)} · {e(_plural(v.bucket.occurrences, 'report'))}"),
        ("found by", f"strategy <strong>{e(v.strategy)}</strong> in run {e(seen.run)}, "
                     f"seed {e(seen.seed)}, test {e(seen.test or '?')}{e(found_after(seen))}"),
    ]
    if runs_per_strategy:
        facts.append(("runs per strategy", e(runs_per_strategy)))
    if v.evidence != f"seen in {v.frequency}":
        facts.append(("evidence", e(v.evidence)))
    if v.reported_as:
        facts.append(("reported as", e(v.reported_as)))
    if v.bucket.in_change:
        facts.append((IN_CHANGE, e(IN_CHANGE_WHY)))
    if v.bucket.further_messages:
        facts.append(("also failed", "<br>".join(e(line) for line in v.bucket.further_messages)))
    if v.symptoms:
        facts.append(("symptoms", "<br>".join(e(line) for line in v.symptoms)))
    if v.group is not None:
        others = ", ".join(f'<a href="#b-{e(bid)}">{e(bid)}</a>' for bid in v.group.buckets if bid != v.id)
        facts.append(("related", f"{e(v.group.id)} ({e('; '.join(v.group.reasons))}), with {others}"))
    facts.append(("tests", e(", ".join(v.tests))))
    dl = "".join(f"<dt>{e(k)}</dt><dd>{val}</dd>" for k, val in facts)
    advice = (
        f'<div class="advice"><p><strong>What:</strong> {e(v.advice.what)}</p>'
        f'<p><strong>Fix:</strong> {e(v.advice.fix)}</p></div>'
    )
    repro = ""
    for label, cmd, n in (("reproduce", v.reproduce, "r"), ("replay", v.replay, "p")):
        if cmd:
            ident = f"cmd-{index}-{n}"
            repro += (
                f'<div class="repro"><pre id="{ident}" aria-label="{e(label)}">{e(cmd)}</pre>'
                f'<button type="button" data-copy="{ident}">Copy {e(label)}</button></div>'
            )
    baseline = ""
    if v.baseline_note is not None:
        baseline = f'<p class="baseline">Known (baselined): {e(v.baseline_note or "in the baseline")}</p>'
    raw = (
        '<details class="raw"><summary>Raw report</summary>'
        f'<pre>{e(raw_report_text(v.bucket, opts, limit=32 * 1024))}'
        "</pre></details>"
    )
    return (
        f'<article class="bucket {"new" if v.new else "known"}" id="b-{e(v.id or index)}">{tags}'
        f"<h3>{e(v.title)}</h3><dl class=\"facts\">{dl}</dl>"
        f"{_stacks(v, result, sources)}{advice}{repro}{baseline}{raw}</article>"
    )


def _plural(n: object, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _stacks(v: BucketView, result: Result, sources: _Sources) -> str:
    """Both stacks side by side, each under the source lines of its racing line; the frames the project did not
    write folded, one expandable line per run of them."""
    columns = []
    if v.stacks:
        for i, stack in enumerate(v.stacks):
            side = next((side for side in v.sides if side.stack == i), None)
            if side is None and i < len(v.sides) and v.sides[i].stack is None:
                side = v.sides[i]  # a frame no stack holds: paired by position, as the report has nothing better
            columns.append(_column(access_label(v.bucket, i), stack.header, stack_rows(stack, result.config),
                                   sources.snippet(side, stack), result.config.root))
    else:
        for side in v.sides:
            columns.append(_column("location", "", [StackRow(side.frame, side.link)],
                                   sources.snippet(side, StackTrace()), result.config.root))
    return f'<div class="stacks">{"".join(columns)}</div>' if columns else ""


def _column(role: str, header: str, rows: Sequence[StackRow], snippet: str, src: str | None) -> str:
    items, index = [], 0
    for row in rows[:MAX_STACK_ROWS]:
        if row.frame is None:
            inner = "".join(f"<li>{_frame_item(f, None, src)}</li>" for f in row.folded)
            items.append(f'<li class="fold" value="{index}"><details><summary>{e(row.fold_words)}</summary>'
                         f'<ol start="{index}">{inner}</ol></details></li>')
            index += len(row.folded)
        else:
            items.append(f'<li class="own" value="{index}">{_frame_item(row.frame, row.link, src)}</li>')
            index += 1
    if len(rows) > MAX_STACK_ROWS:
        items.append(f"<li>… {len(rows) - MAX_STACK_ROWS} more</li>")
    title = e(header) if header else f'<span class="role">{e(role)}</span>'
    return f'<div class="stack"><h4>{title}</h4>{snippet}<ol start="0">{"".join(items)}</ol></div>'


def _frame_item(frame: SourceFrame, link: str | None, src: str | None) -> str:
    if not frame.file:
        return e(frame_function(frame))
    return f'{e(frame_function(frame))}<span class="loc">{_a(e(frame_location(frame, src)), link)}</span>'


def _a(text: str, link: str | None) -> str:
    """Escaped text, as a link to the file at the commit when the result has one."""
    return f'<a href="{e(link)}">{text}</a>' if link else text


def _tests(result: Result) -> str:
    rows = []
    quiet = 0
    for r in test_rows(result):
        t = r.test
        flag = {"flaky": '<span class="tag sev-high">flaky</span>',
                "failed": '<span class="tag sev-critical">failed</span>'}.get(r.flag, "")
        if t.not_run:
            flag += f'<span class="tag known">not run: {e(t.not_run)}</span>'
        cells = "".join(f"<td>{e(r.count(k))}</td>" for k in OUTCOMES)
        # Single-threaded tests that passed are listed, behind the filter: there is nothing to look at in them.
        hidden = is_quiet(t)
        quiet += hidden
        row_class = ' class="quiet hidden"' if hidden else ""
        rows.append(
            f"<tr{row_class}><td>{e(t.name)}{flag}</td><td>{t.runs}</td>{cells}"
            f"<td>{e(percent(t.failed_runs / t.runs) if t.runs else '-')}</td>"
            f"<td>{e(t.threads if t.threads is not None else '-')}</td><td>{t.mean_seconds:.2f}</td></tr>"
        )
    if not rows:
        return ""
    head = ("<tr><th>test</th><th>runs</th>" + "".join(f"<th>{e(o)}</th>" for o in OUTCOMES)
            + "<th>failed</th><th>threads</th><th>mean s</th></tr>")
    toggle = (f'<p class="toolbar">{e(quiet_line(quiet))}. <button type="button" id="toggle-quiet" '
              'aria-pressed="false">Show them</button></p>' if quiet else "")
    return f'<h2 id="tests">Tests</h2>{toggle}<table>{head}{"".join(rows)}</table>'


def _suppressions(result: Result) -> str:
    summary = suppressions_summary(result)
    if summary is None:
        return ""
    stale = '<span class="tag known">stale</span>'
    rows = "".join(
        f"<tr><td><code>{e(s.entry)}</code>{stale if s.stale else ''}</td>"
        f"<td>{e(s.file)}</td><td>{e(s.matched)}</td></tr>"
        for s in result.suppressions or [])
    head = "<tr><th>suppression</th><th>file</th><th>reports matched</th></tr>"
    return f'<h2 id="suppressions">Suppressions</h2><p>{e(summary)}</p><table>{head}{rows}</table>'


def _notes(result: Result) -> str:
    notes = coverage_notes(result)
    if not notes:
        return ""
    return '<h2 id="notes">Notes</h2><ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>"


def _strategies(result: Result) -> str:
    if not result.strategies:
        return ""
    timed = timed_strategies(result)
    rows = "".join(
        f"<tr><td>{e(name)}</td><td>{e(s.runs)}</td><td>{e(s.failed_runs)}</td><td>{e(s.buckets_first_found)}</td>"
        + (f"<td>{e(strategy_seconds(s))}</td>" if timed else "") + "</tr>"
        for name, s in sorted(result.strategies.items())
    )
    head = ("<tr><th>strategy</th><th>runs</th><th>failed runs</th><th>problems it found first</th>"
            + ("<th>seconds</th>" if timed else "") + "</tr>")
    return f'<h2 id="strategies">Strategies</h2><table>{head}{rows}</table>'


TIME_ROWS = 50  # tests listed by time; the rest of a large suite is one row (the tests table lists every test)


def _time(result: Result) -> str:
    """Where the time went: search against verification in one line, then the tests that took the most of it,
    with their runs and seconds per strategy."""
    costs = test_costs(result)
    per = any(t.test.strategies for t in costs)  # results of earlier releases have no split per strategy
    rows = "".join(
        f"<tr><td>{e(t.test.name)}</td><td>{t.test.runs}</td><td>{e(seconds(t.seconds))}</td>"
        f'<td>{e(share(t.share))}<svg class="bar after" width="100" height="10" aria-hidden="true">'
        f'<rect class="track" width="100" height="10" rx="3"/>'
        f'<rect class="fill" width="{max(1.0, 100 * t.share):.1f}" height="10" rx="3"/></svg></td>'
        + (f'<td class="text">{e(per_strategy(t.test))}</td>' if per else "")
        + "</tr>"
        for t in costs[:TIME_ROWS]
    )
    rest = costs[TIME_ROWS:]
    if rest:
        spent, part = sum(t.seconds for t in rest), sum(t.share for t in rest)
        rows += (f'<tr><td class="muted">{len(rest)} more tests</td><td>{sum(t.test.runs for t in rest)}</td>'
                 f"<td>{e(seconds(spent))}</td><td>{e(share(part))}</td>" + ("<td></td>" if per else "") + "</tr>")
    head = ("<tr><th>test</th><th>runs</th><th>seconds</th><th>share of the run time</th>"
            + ('<th class="text">per strategy</th>' if per else "") + "</tr>")
    table = f'<table class="time">{head}{rows}</table>' if costs else ""
    focus = focus_line(result)
    focus_panel = f'<p class="panel">{e(focus)}</p>' if focus else ""
    return f'<h2 id="time">Time</h2><p class="panel">{e(budget_line(result))}</p>{focus_panel}{table}'


class _Sources:
    """The source lines shown above each stack: the result's own (read from the tree when it was built), or, for a
    result of an earlier release, which has none, read now from its source dir as those releases did."""

    def __init__(self, config: RunConfig) -> None:
        self.src = config.root
        self.live = SourceReader(config.source_dir) if config.source_root is None else None

    def snippet(self, side: Side | None, stack: StackTrace) -> str:
        excerpt = side.excerpt if side is not None else None
        if self.live is not None:
            own = next((f for f in stack.frames if repo_path(f.file, self.src)), side.frame if side else None)
            excerpt = self.live.excerpt(own)
        if excerpt is None:
            return ""
        rows = "".join(
            f'<span class="row{" hit" if n == excerpt.line else ""}"><span class="ln">{n}</span>{e(text)}</span>'
            for n, text in excerpt.numbered
        )
        where = frame_location(SourceFrame(file=excerpt.file, line=excerpt.line), self.src)
        link = side.link if side is not None and side.frame.file == excerpt.file else None
        return f'<div class="src-name">{_a(e(where), link)}</div><pre class="src">{rows}</pre>'
