"""GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY: tables plus collapsible full reports, under 1 MiB."""
from __future__ import annotations

import html
import re

from racegate.reporters.interface import RenderOptions
from racegate.reporters.sentences import (
    budget_line, coverage_notes, focus_line, in_groups, new_problem_chance, per_strategy, quiet_line, quiet_tail,
    suppressions_summary, verdict
)
from racegate.reporters.text import (
    count_of, found_after, frame_function, frame_location, one_line, seconds, share, strategy_seconds,
    strip_control
)
from racegate.reporters.words import VERDICT
from racegate.reporters.view import (
    IN_CHANGE, BucketView, StackRow, by_importance, detail, discovery_steps, excerpt_lines, group_heading, grouped,
    is_quiet, raw_report_text,
    stack_row_text, stack_rows, test_costs, test_rows, timed_strategies
)
from racegate.result import Result

FORMAT = "markdown"
FILENAME = "racegate-summary.md"

# GitHub rejects a step summary of 1 MiB or more; keep room for the closing note.
MAX_BYTES = 1024 * 1024 - 8 * 1024
# What a reader scrolls through: past this many bytes the remaining reports are one line each, whole in racegate.html.
TARGET_BYTES = 28 * 1024
# What GitHub's Markdown gives a meaning to anywhere in a line: emphasis and code (`*`, backticks; `_` only where it
# can open or close emphasis), links and images (`[`, `]`), table cells (`|`), strikethrough (`~`), math (`$`),
# mentions (`@`) and the backslash itself. `<` and `>` become entities (no HTML, no autolink); `&` only where it
# would start an entity. Everything else (quotes, `-`, `.`, parentheses) stays as written, readable in a raw log.
_MD_INLINE = set("\\`*[]|~$@")
_ENTITY_START = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# A line that starts like a heading, a list item, a blockquote or a thematic break: its first mark is escaped.
_BLOCK_START = re.compile(r"^(\s*)([#+-](?=[\s#+-]|$)|=+(?=\s*$)|\d{1,9}(?=[.)](?:\s|$)))")


def md(text: object) -> str:
    """Inline text that renders literally, escaped no more than Markdown needs: one line."""
    line = _ENTITY_START.sub("&amp;", one_line(str(text)))
    out = []
    for i, ch in enumerate(line):
        if ch in _MD_INLINE or (ch == "_" and not _inside_word(line, i)):
            out.append("\\" + ch)
        else:
            out.append({"<": "&lt;", ">": "&gt;"}.get(ch, ch))
    return _BLOCK_START.sub(_escape_block_start, "".join(out))


def _inside_word(line: str, i: int) -> bool:
    # An underscore between two letters or digits never starts or ends emphasis on GitHub (snake_case stays).
    return 0 < i < len(line) - 1 and line[i - 1].isalnum() and line[i + 1].isalnum()


def _escape_block_start(m: re.Match[str]) -> str:
    mark = m.group(2)
    # "1." / "2)" starts an ordered list: the punctuation after the number is what to escape.
    return m.group(1) + (mark + "\\" if mark[0].isdigit() else "\\" + mark)


def render(result: Result, options: RenderOptions | None = None, *, max_bytes: int = MAX_BYTES,
           target_bytes: int = TARGET_BYTES) -> str:
    opts = options or RenderOptions()
    out = _Budget(max_bytes)
    summary = result.summary
    views = by_importance(result)
    icon = VERDICT[result.verdict_state].icon
    out.add(f"## {icon} racegate: {md(verdict(result))}\n")
    out.add("| tests | runs | failed runs | distinct problems | new | chance the next run finds a new one | time |")
    out.add("|---:|---:|---:|---:|---:|---:|---:|")
    out.add(
        f"| {summary.tests} | {summary.runs} | {summary.failed_runs} | {md(str(len(views)) + in_groups(result))} "
        f"| {summary.new_buckets} | {md(new_problem_chance(result))} "
        f"| {summary.wall_seconds:.1f} s |\n"
    )
    if views:
        out.add("### Problems\n")
        out.add("| | kind | problem | where | runs | tests | found by |")
        out.add("|---|---|---|---|---:|---|---|")
        shown = 0
        for group, members in grouped(views):
            if group is not None and not out.add(f"| | **{md(group.id)}** | **{md(group_heading(group))}** "
                                                 "| | | | |", limit=max_bytes // 2):
                break
            for v in members:
                if not out.add(_problem_row(v), limit=max_bytes // 2):
                    break
                shown += 1
            else:
                continue
            break
        out.add("")
        if shown < len(views):
            out.note(f"{len(views) - shown} more problems left out to keep this summary under 1 MiB.")
    out.add_all(_tests_table(result))
    out.add_all(_strategies_table(result))
    out.add_all(_time(result))
    out.add_all(_suppressions_table(result))
    out.add_all(_notes(result))
    if views:
        out.add("### Reports\n")
        shown, listed = 0, 0
        for group, members in grouped(views):
            if group is not None and not out.add(f"#### {md(group_heading(group))}\n"):
                break
            for v in members:
                report = _details(v, result, opts)
                # Whole while the summary stays short; then one line, the report being whole in the HTML page.
                if out.size + len(report.encode("utf-8", "backslashreplace")) > target_bytes:
                    report = f"- {md(v.id)}: {md(v.title)}\n"
                    listed += 1
                if not out.add(report):
                    break
                shown += 1
            else:
                continue
            break
        if listed:
            out.add(f"{md(count_of(listed, 'more report'))} in one line each to keep this summary short; "
                    "racegate.html has them whole.\n")
        if shown < len(views):
            out.note(
                f"{len(views) - shown} more reports left out to keep this summary under 1 MiB; "
                "see racegate.html or racegate.json."
            )
    return out.text()


def _problem_row(v: BucketView) -> str:
    """One row of the problems table (the table may use half the room; the tests table and the reports need the
    rest)."""
    where = "<br>".join(f"{md(side.function)} at {_linked(md(side.location), side.link)}"
                        for side in v.sides) or "–"
    change = f" · **{IN_CHANGE}**" if v.bucket.in_change else ""
    return (f"| {'**new**' if v.new else 'known'}{change} | {md(v.kind)} "
            f"| {md(v.title)} | {where} | {md(v.frequency)} "
            f"| {md(', '.join(v.tests))} | {md(v.strategy + found_after(v.first_seen))} |")


def _tests_table(result: Result) -> list[str]:
    rows = test_rows(result)
    if not rows:
        return []
    lines = ["### Tests\n", "| test | runs | pass | race | fail | crash | timeout | |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    # A summary sized for people: the tests worth a look, and one line for the rest.
    quiet = [r for r in rows if is_quiet(r.test)]
    for r in (r for r in rows if not is_quiet(r.test)):
        flag = {"flaky": "**flaky**", "failed": "failed"}.get(r.flag, "")
        lines.append(
            f"| {md(r.test.name)} | {r.test.runs} | {r.count('pass')} | {r.count('race')} "
            f"| {r.count('fail')} | {r.count('crash')} | {r.count('timeout')} | {flag} |"
        )
    if quiet:
        lines.append(f"\n{md(quiet_line(len(quiet)))}; racegate.html lists them.")
    return lines + [""]


def _suppressions_table(result: Result) -> list[str]:
    summary = suppressions_summary(result)
    if summary is None:
        return []
    rows = ["### Suppressions\n", f"{md(summary)}\n", "| suppression | file | matched | |", "|---|---|---:|---|"]
    for s in result.suppressions or []:
        rows.append(f"| `{md(s.entry)}` | {md(s.file)} | {s.matched} | {'**stale**' if s.stale else ''} |")
    return rows + [""]


def _notes(result: Result) -> list[str]:
    """What the session did not cover or changed (tests never run, cut runs, tests that crash alike, strategies
    dropped), as the console says it."""
    notes = coverage_notes(result)
    return ["### Notes\n", *(f"- {md(note)}" for note in notes), ""] if notes else []


def _strategies_table(result: Result) -> list[str]:
    if not result.strategies:
        return []
    timed = timed_strategies(result)
    rows = ["### Strategies\n",
            "| strategy | runs | failed runs | problems found first |" + (" seconds |" if timed else ""),
            "|---|---:|---:|---:|" + ("---:|" if timed else "")]
    for name, s in sorted(result.strategies.items()):
        rows.append(f"| {md(name)} | {s.runs} | {s.failed_runs} | {s.buckets_first_found} |"
                    + (f" {md(strategy_seconds(s))} |" if timed else ""))
    return rows + [""]


TOP_TESTS = 20  # rows of the tests-by-time table; the rest are summed in one line
TOP_STEPS = 20  # rows of the discovery table


def _time(result: Result) -> list[str]:
    """Where the time went: search against verification, the tests that took it, and when each problem came."""
    lines = ["### Time\n", f"{md(budget_line(result))}\n"]
    focus = focus_line(result)
    if focus:
        lines.append(f"{md(focus)}\n")
    costs = test_costs(result)
    if costs:
        per = any(t.test.strategies for t in costs)  # results of earlier releases have no split per strategy
        lines += ["| test | runs | seconds | share |" + (" per strategy |" if per else ""),
                  "|---|---:|---:|---:|" + ("---|" if per else "")]
        for t in costs[:TOP_TESTS]:
            lines.append(f"| {md(t.test.name)} | {t.test.runs} | {md(seconds(t.seconds))} | {md(share(t.share))} |"
                         + (f" {md(per_strategy(t.test))} |" if per else ""))
        rest = costs[TOP_TESTS:]
        if rest:
            lines.append(f"\n{md(f'{len(rest)} more tests took {seconds(sum(t.seconds for t in rest))}')}; "
                         "racegate.html lists them.")
        lines.append("")
    steps = discovery_steps(result)
    if steps:
        timed = result.discovery_seconds is not None
        lines += ["| distinct problems | after runs |" + (" after seconds |" if timed else ""),
                  "|---:|---:|" + ("---:|" if timed else "")]
        for step in steps[:TOP_STEPS]:
            lines.append(f"| {step.found} | {step.runs} |"
                         + (f" {md(seconds(step.seconds))} |" if step.seconds is not None else ""))
        if len(steps) > TOP_STEPS:
            lines.append(f"\n{md(f'{len(steps) - TOP_STEPS} more, the last after {steps[-1].runs} runs')}.")
        tail = quiet_tail(result)
        if tail:
            lines.append(f"\n{md(f'Nothing new in the last {tail}.')}")
        lines.append("")
    return lines


def _details(v: BucketView, result: Result, opts: RenderOptions) -> str:
    # Inside <details>/<pre> GitHub does not parse Markdown, so HTML escaping alone keeps the text literal; the
    # links are HTML too. The stacks come folded (library and runtime frames as one line each): the whole raw
    # report is in the report files and the HTML page. A bucket without stacks shows its raw report.
    state = "new" if v.new else "known"
    lines = [_e(f"[{state}] {v.id}: {v.title}"), "", _e(f"what: {v.advice.what}")]
    sides = iter(v.sides)
    for line in detail(v):
        if line.part != "side":
            lines.append(_e(str(line)))
            continue
        side = next(sides)
        lines.append(f"{_e(side.label)}: {_e(side.function)} at {_a(_e(side.location), side.link)}")
        if side.excerpt is not None:
            lines += [_e(text) for text in excerpt_lines(side.excerpt)]
    for stack in v.stacks:
        lines += ["", _e(stack.header)]
        lines += [f"  {_stack_row(row, result.config.root)}" for row in stack_rows(stack, result.config)]
    if not v.stacks:  # a crash or a failure: its output is what there is to read
        lines += ["", _e(raw_report_text(v.bucket, opts, limit=16 * 1024))]
    elif v.bucket.raw_report:
        lines += ["", _e(f"raw report: {v.bucket.raw_report}")]
    body = "\n".join(lines)
    summary = _e(one_line(v.title if v.title.startswith(v.kind) else f"{v.kind}: {v.title}"))
    return f"<details><summary>{summary}</summary>\n\n<pre>\n{body}\n</pre>\n\n</details>\n"


def _e(text: str) -> str:
    """One line of a <pre> block: control characters dropped, HTML-escaped (quotes too)."""
    return html.escape(strip_control(text), quote=True)


def _stack_row(row: StackRow, src: str | None) -> str:
    if row.frame is None:
        return _e(stack_row_text(row, src))
    return f"{_e(frame_function(row.frame))} at {_a(_e(frame_location(row.frame, src)), row.link)}"


def _a(text: str, link: str | None) -> str:
    """Escaped text as an HTML link to `link` when there is one."""
    return f'<a href="{html.escape(link, quote=True)}">{text}</a>' if link else text


def _linked(text: str, link: str | None) -> str:
    """Escaped Markdown text as a Markdown link to `link` when there is one."""
    return f"[{text}]({_url(link)})" if link else text


def _url(link: str) -> str:
    """A link target Markdown reads whole: the characters that would end it, or break a table cell, encoded."""
    return "".join(f"%{ord(ch):02X}" if ch in " ()<>|[]`\\\"'" else ch for ch in link)


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
