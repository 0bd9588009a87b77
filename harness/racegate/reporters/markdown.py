"""GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY: tables plus collapsible full reports, under 1 MiB."""
from __future__ import annotations

import html

from racegate.reporters import common as c

FORMAT = "markdown"
FILENAME = "racegate-summary.md"

# GitHub rejects a step summary of 1 MiB or more; keep room for the closing note.
MAX_BYTES = 1024 * 1024 - 8 * 1024
_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~@$")


def md(text: object) -> str:
    """Inline text that renders literally: HTML-escaped, Markdown punctuation backslash-escaped, one line."""
    out = []
    for ch in c.one_line(str(text)):
        if ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(html.escape(ch))
    return "".join(out)


def render(result: dict, options: c.RenderOptions | None = None, *, max_bytes: int = MAX_BYTES) -> str:
    opts = options or c.RenderOptions()
    out = _Budget(max_bytes)
    summary = result.get("summary") or {}
    buckets = c.by_importance(result.get("buckets") or [])
    src = c.source_dir(result)
    icon = ":x:" if c.failing(result) else ":white_check_mark:"
    out.add(f"## {icon} racegate: {md(c.verdict(result))}\n")
    out.add("| tests | runs | failed runs | distinct problems | new | chance the next run finds a new one | time |")
    out.add("|---:|---:|---:|---:|---:|---:|---:|")
    out.add(
        f"| {summary.get('tests', 0)} | {summary.get('runs', 0)} | {summary.get('failed_runs', 0)} | {len(buckets)} "
        f"| {sum(1 for b in buckets if b.get('new', True))} | {md(c.percent(c.chance(result)))} "
        f"| {float(summary.get('wall_seconds') or 0):.1f} s |\n"
    )
    if buckets:
        out.add("### Problems\n")
        out.add("| | kind | problem | where | runs | tests | found by |")
        out.add("|---|---|---|---|---:|---|---|")
        shown = 0
        for b in buckets:
            frames = b.get("frames") or []
            where = "<br>".join(f"{md(c.frame_function(f))} at {md(c.frame_location(f, src))}" for f in frames) or "–"
            row = (
                f"| {'**new**' if b.get('new', True) else 'known'} | {md(b.get('kind', ''))} "
                f"| {md(b.get('title', ''))} | {where} | {md(c.frequency_text(b, result))} "
                f"| {md(', '.join(b.get('tests') or []))} | {md(c.strategy(b))} |"
            )
            # The table may use half the room; the tests table and the full reports need the rest.
            if not out.add(row, limit=max_bytes // 2):
                break
            shown += 1
        out.add("")
        if shown < len(buckets):
            out.note(f"{len(buckets) - shown} more problems left out to keep this summary under 1 MiB.")
    out.add_all(_tests_table(result))
    out.add_all(_strategies_table(result))
    if buckets:
        out.add("### Reports\n")
        shown = 0
        for b in buckets:
            if not out.add(_details(b, result, src, opts)):
                break
            shown += 1
        if shown < len(buckets):
            out.note(
                f"{len(buckets) - shown} more reports left out to keep this summary under 1 MiB; "
                "see racegate.html or racegate.json."
            )
    return out.text()


def _tests_table(result: dict) -> list[str]:
    tests = result.get("tests") or []
    if not tests:
        return []
    rows = ["### Tests\n", "| test | runs | pass | race | fail | crash | timeout | |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for t in sorted(tests, key=lambda t: (-int(t.get("failed_runs") or 0), t.get("name", ""))):
        o = t.get("outcomes") or {}
        flag = "**flaky**" if t.get("flaky") else ("failed" if t.get("failed_runs") else "")
        rows.append(
            f"| {md(t.get('name', ''))} | {t.get('runs', 0)} | {o.get('pass', 0)} | {o.get('race', 0)} "
            f"| {o.get('fail', 0)} | {o.get('crash', 0)} | {o.get('timeout', 0)} | {flag} |"
        )
    return rows + [""]


def _strategies_table(result: dict) -> list[str]:
    strategies = result.get("strategies") or {}
    if not strategies:
        return []
    rows = ["### Strategies\n", "| strategy | runs | failed runs | problems found first |", "|---|---:|---:|---:|"]
    for name, s in sorted(strategies.items()):
        rows.append(f"| {md(name)} | {s.get('runs', 0)} | {s.get('failed_runs', 0)} | {s.get('buckets_first_found', 0)} |")
    return rows + [""]


def _details(b: dict, result: dict, src: str | None, opts: c.RenderOptions) -> str:
    # Inside <details>/<pre> GitHub does not parse Markdown, so HTML escaping alone keeps the text literal.
    e = html.escape
    state = "new" if b.get("new", True) else "known"
    lines = [f"{b.get('kind', '')} [{state}] {b.get('id', '')}: {b.get('title', '')}", ""]
    for i, frame in enumerate(b.get("frames") or []):
        lines.append(f"{c.access_label(b, i)}: {c.frame_function(frame)} at {c.frame_location(frame, src)}")
    lines.append(f"seen in {c.frequency_text(b, result)}; found by strategy {c.strategy(b)}")
    lines.append(f"tests: {', '.join(b.get('tests') or [])}")
    adv = c.advice(b)
    lines += ["", f"what: {adv.get('what', '')}", f"fix: {adv.get('fix', '')}"]
    if c.reproduce_command(b):
        lines.append(f"reproduce: {c.reproduce_command(b)}")
    lines.append(f"replay: {c.replay_command(b, result)}")
    if b.get("baseline_note") and not b.get("new", True):
        lines.append(f"baseline: {b['baseline_note']}")
    lines += ["", c.raw_report_text(b, opts, limit=16 * 1024)]
    body = e(c.strip_control("\n".join(lines)))
    summary = e(c.one_line(f"{b.get('kind', '')}: {b.get('title', '')}"))
    return f"<details><summary>{summary}</summary>\n\n<pre>\n{body}\n</pre>\n\n</details>\n"


class _Budget:
    """Collects lines while the UTF-8 size stays under a limit; notes always fit (MAX_BYTES keeps room for them)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def add(self, line: str, limit: int | None = None) -> bool:
        size = len(line.encode("utf-8", "backslashreplace")) + 1
        if self.size + size > min(self.limit, limit or self.limit):
            return False
        self.parts.append(line)
        self.size += size
        return True

    def add_all(self, lines: list[str]) -> None:
        for line in lines:
            if not self.add(line):
                return

    def note(self, text: str) -> None:
        line = f"\n> **Truncated:** {md(text)}\n"
        self.parts.append(line)
        self.size += len(line.encode("utf-8", "backslashreplace")) + 1

    def text(self) -> str:
        return "\n".join(self.parts) + "\n"
