"""What every reporter renders from: one view of a bucket, the test and strategy rows, the verdict, and text
helpers. A format module decides only how these look."""
from __future__ import annotations

import posixpath
import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from racegate import gate, kinds, outdir
from racegate.advice import Advice
from racegate.model import SourceFrame, StackTrace
from racegate.result import VERIFICATION_PURPOSES, BucketResult, FirstSeen, Result, Spent, StrategyStats, TestResult


@dataclass(frozen=True)
class RenderOptions:
    """Optional context some formats use; every format renders without it."""

    base_dir: Path | None = None  # directory holding racegate.json: raw_report paths are relative to it
    color: bool = False  # ANSI colour (console only)


class Reporter(Protocol):
    """A report format: a module with these three names, and one line in the registry (reporters/__init__.py)."""

    @property
    def FORMAT(self) -> str:
        """Its name for --format."""

    @property
    def FILENAME(self) -> str | None:
        """The file it writes into the output dir; None for text the CLI prints."""

    def render(self, result: Result, options: RenderOptions | None = None) -> str: ...


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Side:
    """One side of a bucket: what it did ("write", "previous read", ...) and its top in-project frame."""

    label: str
    function: str
    location: str
    frame: SourceFrame


@dataclass(frozen=True)
class BucketView:
    """Everything a report shows of one bucket, computed once."""

    bucket: BucketResult
    sides: list[Side]
    runs_exposed: int  # runs of the tests the bucket affects
    fraction: float
    frequency: str  # "17 of 40 runs (42.5%)"
    strategy: str  # the schedule of the first run that showed it
    schedules: list[tuple[str, int]]  # runs with the bucket per strategy, most first
    reproduce: str  # one shell line, "" when the command is unknown
    replay: str
    severity: int
    severity_name: str

    @property
    def id(self) -> str:
        return self.bucket.id

    @property
    def kind(self) -> str:
        return self.bucket.kind

    @property
    def title(self) -> str:
        return self.bucket.title

    status: str  # Result.status: "new", "baselined", "library" or "timing-sensitive"

    @property
    def new(self) -> bool:
        """Whether the bucket fails the gate (a bucket that does not is shown as known, with why)."""
        return self.status == "new"

    @property
    def tests(self) -> list[str]:
        return self.bucket.tests

    @property
    def first_seen(self) -> FirstSeen:
        return self.bucket.first_seen

    @property
    def advice(self) -> Advice:
        return self.bucket.advice

    @property
    def stacks(self) -> list[StackTrace]:
        return self.bucket.stacks

    @property
    def baseline_note(self) -> str | None:
        """Why a bucket that does not fail the gate is known; None for a new one."""
        if self.status == "baselined":
            return self.bucket.baseline_note or ""
        issue = self.bucket.library_issue
        if self.status == "library" and issue is not None:
            return (f"standard library ({issue.reference}, {issue.url}): a race inside the library's own state, "
                    "not the project's; racegate run --gate-library-reports gates it")
        if self.status == "timing-sensitive":
            return ("timing-sensitive: an assertion on elapsed time or a deadline, which TSan's slowdown can fail; "
                    "racegate run --strict gates it")
        return None

    @property
    def symptoms(self) -> list[str]:
        """One line per failure that came with this bucket: "<title>: in 33 of the 66 runs that had this race"."""
        b = self.bucket
        return [f"{s.title}: in {s.runs_with_cause} of the {b.runs_with_bucket} runs that had this {b.kind}"
                + (f" ({s.runs - s.runs_with_cause} more without it)" if s.runs > s.runs_with_cause else "")
                for s in b.symptoms]

    @property
    def reported_as(self) -> str:
        """The report kinds of a bucket TSan reported in several ways, most runs first ("" for one kind)."""
        kinds = sorted(self.bucket.kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{kind} in {count_of(n, 'run')}" for kind, n in kinds)

    @property
    def evidence(self) -> str:
        """What the bucket rests on, in one line: the runs that showed it, plain runs, replays of its seed."""
        b = self.bucket
        parts = [f"seen in {self.frequency}"]
        if b.evidence is not None:
            e = b.evidence
            if e.plain_runs:
                parts.append(f"plain {e.plain_runs_with_bucket}/{e.plain_runs}" if e.plain_runs_with_bucket
                             else f"never plain (0/{e.plain_runs})")
            if e.replays:
                parts.append(f"{self.strategy} seed {b.first_seen.seed} replays {e.replays_with_bucket}/{e.replays}")
            if e.skipped:
                parts.append(skipped_checks(e.skipped, e.ended_by))
        return "; ".join(parts)


_ENDED_WORDS = {"budget": "the budget ran out", "interrupt": "the session was interrupted",
                "confident": "--until-confident ended the session"}


def skipped_checks(skipped: tuple[str, ...], ended_by: str | None) -> str:
    """What a failure first seen under perturbation missed of its re-checks, why, and how to run them now."""
    why = _ENDED_WORDS.get(ended_by or "", "the session ended")
    if "recheck" in skipped and "replay" in skipped:
        return (f"not re-checked: {why} before its plain re-runs and seed replays; "
                "the replay command re-runs its seed, and with --schedule none runs it plain")
    if "recheck" in skipped:
        return f"not re-checked plain: {why} first; the replay command with --schedule none runs it plain"
    return f"seed not replayed: {why} first; the replay command re-runs it"


def detail_lines(v: BucketView) -> list[str]:
    """The plain-text detail of a bucket that the GitHub, JUnit, Markdown and SARIF reports carry: both sides,
    what the bucket rests on, its symptoms, the tests, how it was found, the fix, how to run it again, why it
    does not gate when it does not."""
    lines = [f"{side.label}: {side.function} at {side.location}" for side in v.sides]
    lines.append(v.evidence)
    if v.reported_as:
        lines.append(f"reported as: {v.reported_as}")
    lines += [f"symptom: {line}" for line in v.symptoms]
    lines.append(f"tests: {', '.join(v.tests)}")
    lines.append(f"found by: strategy {v.strategy} (run {v.first_seen.run}, seed {v.first_seen.seed}"
                 f"{found_after(v.first_seen)})")
    lines.append(f"fix: {v.advice.fix}")
    if v.reproduce:
        lines.append(f"reproduce: {v.reproduce}")
    lines.append(f"replay: {v.replay}")
    if v.baseline_note is not None:
        lines.append(f"{note_label(v)}: {v.baseline_note or 'in the baseline'}")
    return lines


def bucket_view(bucket: BucketResult, result: Result) -> BucketView:
    src = result.config.source_dir
    # A bucket whose tests the result does not list (a hand-trimmed file) is measured against all runs.
    exposed = result.runs_exposed(bucket) or result.summary.runs
    fraction = round(bucket.runs_with_bucket / exposed, 4) if exposed else 0.0
    return BucketView(
        bucket=bucket,
        sides=[Side(access_label(bucket, i), frame_function(f), frame_location(f, src), f)
               for i, f in enumerate(bucket.frames)],
        runs_exposed=exposed, fraction=fraction,
        frequency=f"{bucket.runs_with_bucket} of {exposed} runs ({percent(fraction)})",
        strategy=bucket.first_seen.schedule or "?",
        schedules=sorted(bucket.schedules.items(), key=lambda kv: (-kv[1], kv[0])),
        reproduce=reproduce_command(bucket.first_seen),
        replay=shlex.join(["racegate", "replay", bucket.id, *result_option(result)]),
        severity=kinds.severity(bucket.kind), severity_name=kinds.severity_name(bucket.kind),
        status=result.status(bucket))


def by_importance(result: Result) -> list[BucketView]:
    """New before known, then by severity, then most frequent first; the id keeps the order stable."""
    views = [bucket_view(b, result) for b in result.buckets]
    return sorted(views, key=lambda v: (not v.new, v.severity, -v.fraction, -v.bucket.runs_with_bucket, v.id))


def by_severity(result: Result) -> list[BucketView]:
    views = [bucket_view(b, result) for b in result.buckets]
    return sorted(views, key=lambda v: (v.severity, -v.fraction, -v.bucket.runs_with_bucket, v.id))


@dataclass(frozen=True)
class TestRow:
    __test__ = False  # not a pytest test class

    test: TestResult
    flag: str  # "flaky", "failed" or ""

    def count(self, outcome: str) -> int:
        return self.test.outcomes.get(outcome, 0)


def is_quiet(test: TestResult) -> bool:
    """A test with nothing to look at: it ran, never failed and never ran a second thread (so it was not repeated)."""
    return test.not_run is None and test.failed_runs == 0 and test.threads == 1


def quiet_line(count: int) -> str:
    return (f"{count_of(count, 'single-threaded test')} passed (one thread cannot race, so "
            f"{'they were' if count != 1 else 'it was'} not repeated)")


def test_rows(result: Result) -> list[TestRow]:
    """Every test, those with the most failed runs first."""
    rows = []
    for t in sorted(result.tests, key=lambda t: (-t.failed_runs, t.name)):
        rows.append(TestRow(t, "flaky" if t.flaky else "failed" if t.failed_runs else ""))
    return rows


_STATUS_TAGS = {"new": "NEW", "baselined": "known", "library": "known", "timing-sensitive": "timing-sensitive"}
_NOTE_LABELS = {"baselined": "baseline", "library": "known", "timing-sensitive": "not gated"}


def status_tag(v: BucketView) -> str:
    return _STATUS_TAGS[v.status]


def note_label(v: BucketView) -> str:
    return _NOTE_LABELS.get(v.status, "note")


def coverage_notes(result: Result) -> list[str]:
    """What the session did not cover, one sentence each: tests that never ran, runs racegate cut, slowdowns."""
    notes = []
    never = [t for t in result.tests if t.not_run is not None]
    for reason in sorted({t.not_run for t in never if t.not_run}):
        names = [t.name for t in never if t.not_run == reason]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        notes.append(f"{len(names)} of {len(result.tests)} tests never ran ({reason}): {shown}")
    if any(t.not_run and "budget" in t.not_run for t in never):
        notes.append("the time budget was too small for one pass over the tests: raise --time-budget or shard")
    for crash in result.steady_crashes:
        if crash.alike:
            n = len(crash.tests)
            shown = ", ".join(crash.tests[:5]) + (f" and {n - 5} more" if n > 5 else "")
            # Alike, they are likely one cause; a real bug in each would rarely crash every run the same way.
            notes.append(f"{n} tests crashed with {crash.signal} on every run, plain ones too, and TSan reported "
                         f"nothing: that points at one cause rather than {n} bugs, most often the environment (the "
                         f"build, the TSan runtime, the machine); run racegate doctor, then one of them by hand under "
                         f"gdb: {shown}")
    cut = result.summary.cut_runs
    if cut:
        notes.append(cut_note(result, cut))
    for t in result.tests:
        notes += [f"{t.name}: {note}" for note in t.notes]
    for reason in sorted({t.not_repeated for t in result.tests if t.not_repeated}):
        names = [t.name for t in result.tests if t.not_repeated == reason]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        notes.append(f"{len(names)} of {len(result.tests)} tests {reason}: {shown}")
    return notes


# Why racegate cut a run (TestResult.cuts keys, execute.CUT_BUDGET and CUT_SLOW).
_CUT_WORDS = {"budget": "at the budget's deadline", "slow": "past a strategy's slowdown limit"}


def cut_note(result: Result, cut: int) -> str:
    """"3 runs cut by racegate: 2 at the budget's deadline, 1 past a strategy's slowdown limit; ..."."""
    causes: Counter[str] = Counter()
    for t in result.tests:
        causes.update(t.cuts)
    order = [*_CUT_WORDS, *sorted(set(causes) - set(_CUT_WORDS))]  # a later release's cause keeps its key
    parts = [f"{causes[cause]} {_CUT_WORDS.get(cause, f'for another reason ({cause})')}"
             for cause in order if causes[cause]]
    unknown = cut - sum(causes.values())
    if not parts:  # a result of an earlier release: the causes were not recorded
        parts = ["at the budget's deadline or past a strategy's slowdown limit"]
    elif unknown > 0:  # merged with a shard of an earlier release
        parts.append(f"{unknown} for a reason not recorded")
    return (f"{count_of(cut, 'run')} cut by racegate: {', '.join(parts)}; "
            "a cut run is neither a pass nor a failure")


_KNOWN_WORDS = {"baselined": "baselined", "library": "standard library", "timing-sensitive": "timing-sensitive"}


def verdict(result: Result) -> str:
    new = result.summary.new_buckets
    known = result.known_buckets
    tail = " (interrupted: partial results)" if result.interrupted else ""
    if gate.failing(result):
        return f"FAIL: {count_of(new, 'new problem')} ({known} known){tail}"
    if known:
        statuses = Counter(result.status(b) for b in result.buckets)
        why = ", ".join(f"{n} {_KNOWN_WORDS[s]}" if len(statuses) > 1 else _KNOWN_WORDS[s]
                        for s, n in sorted(statuses.items()))
        return f"PASS: no new problems ({known} known, {why}){tail}"
    return f"PASS: no races or failures found{tail}"


def repo_path(file: str, src: str | None) -> str | None:
    """`file` relative to the source dir (POSIX), or None when it lies outside the project or is unknown."""
    if not file:
        return None
    file = posixpath.normpath(file.replace("\\", "/"))
    if not posixpath.isabs(file):
        return None if file.startswith("../") else file
    if src:
        root = posixpath.normpath(src.replace("\\", "/"))
        if file.startswith(root.rstrip("/") + "/"):
            return file[len(root.rstrip("/")) + 1:]
    return None


def display_path(file: str, src: str | None) -> str:
    return repo_path(file, src) or file or "?"


def frame_location(frame: SourceFrame, src: str | None) -> str:
    where = display_path(frame.file, src)
    return f"{where}:{frame.line}" if frame.line else where


def frame_function(frame: SourceFrame) -> str:
    return frame.function or "<unknown function>"


def access_label(bucket: BucketResult, index: int) -> str:
    """What side `index` of a bucket did, from its stack header ("Write of size 4 ..." -> "write")."""
    if index < len(bucket.stacks):
        words = bucket.stacks[index].header.strip().split()
        if words and words[0].lower() in ("previous", "atomic") and len(words) > 1:
            return " ".join(words[:2]).lower()
        if words:
            return words[0].lower()
    return "location"


def percent(value: float) -> str:
    p = value * 100
    if p == 0:
        return "0%"
    if p < 0.1:
        return "<0.1%"
    return f"{p:.1f}%".replace(".0%", "%")


def reproduce_command(seen: FirstSeen) -> str:
    """The first failing run's environment and command as one copy-pasteable shell line ("" when unknown)."""
    argv = [str(a) for a in seen.command]
    if not argv:
        return ""
    env = [f"{k}={v}" for k, v in sorted(seen.env.items())]
    chdir = ["-C", seen.cwd] if seen.cwd else []
    return shlex.join(["env", *chdir, *env, *argv] if env or chdir else argv)


def result_option(result: Result) -> list[str]:
    """`--from` for racegate replay: the result file the bucket came from, when it is known."""
    out_dir = result.config.out_dir
    return ["--from", str(outdir.result_file(Path(out_dir)))] if out_dir else []


def strip_control(text: str) -> str:
    """Drop control characters (terminal escapes, NUL) from untrusted text; keeps tab and newline."""
    return _CONTROL.sub("", text)


def one_line(text: object) -> str:
    return " ".join(strip_control(str(text)).split())


def stack_text(bucket: BucketResult) -> str:
    """A TSan-like text of the bucket's stacks, for when the raw report file is not at hand."""
    lines = [f"{bucket.kind}: {bucket.title}"]
    for stack in bucket.stacks:
        lines.append("")
        lines.append(f"  {stack.header}")
        for i, frame in enumerate(stack.frames):
            loc = frame.file or "<null>"
            if frame.line:
                loc += f":{frame.line}"
            lines.append(f"    #{i} {frame_function(frame)} {loc}")
    return "\n".join(lines)


def raw_report_text(bucket: BucketResult, options: RenderOptions, limit: int = 64 * 1024) -> str:
    """The bucket's full raw report (at most `limit` characters), else the text rebuilt from its stacks."""
    raw = bucket.raw_report
    if raw and options.base_dir is not None:
        path = Path(raw) if Path(raw).is_absolute() else options.base_dir / raw
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        if text:
            return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} more characters]"
    return stack_text(bucket)


def suppressions_summary(result: Result) -> str | None:
    """One sentence on the user's suppressions file for every format; None when the session ran without one."""
    entries = result.suppressions
    if entries is None:
        return None
    matched = sum(s.matched for s in entries)
    stale = sum(1 for s in entries if s.stale)
    text = (f"{count_of(len(entries), 'suppression')} in use, "
            f"{count_of(matched, 'report')} suppressed")
    if stale:
        text += (f"; {stale} stale (matched nothing in any of the {result.summary.runs} runs): "
                 "prune them, or keep them for code these tests do not reach")
    return text


# -- time: when problems were found and where the budget went ------------------------------------------------

_PURPOSE_WORDS = {"recheck": "plain re-check", "replay": "seed replay"}


def seconds(value: float) -> str:
    """A duration as reports print it: "0.42 s" below ten seconds, "12.3 s" above."""
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def share(fraction: float) -> str:
    """A part of a whole in whole percent: "36%", "<1%"."""
    if 0 < fraction < 0.005:
        return "<1%"
    return f"{fraction * 100:.0f}%"


def found_after(seen: FirstSeen) -> str:
    """", after 3.4 s" when the result says when the bucket was first seen, else ""."""
    return f", after {seconds(seen.seconds)}" if seen.seconds is not None else ""


@dataclass(frozen=True)
class DiscoveryStep:
    """The k-th distinct problem: the runs done and the seconds since the start when the count first reached k."""

    found: int
    runs: int
    seconds: float | None  # None in results of earlier releases


def discovery_steps(result: Result) -> list[DiscoveryStep]:
    """One step per distinct problem, read off the curve in runs and the curve in seconds."""
    def reached(points: list[list], k: int):
        return next((p[0] for p in points if p[1] >= k), None)

    found = result.discovery[-1][1] if result.discovery else 0
    timed = result.discovery_seconds
    return [DiscoveryStep(k, reached(result.discovery, k), reached(timed, k) if timed else None)
            for k in range(1, found + 1)]


def quiet_tail(result: Result) -> str:
    """How long the session went on after its last new problem: "312 runs (41.0 s)"; "" when it found none, or
    found one in its last run."""
    steps = discovery_steps(result)
    if not steps or not result.discovery:
        return ""
    last, end = steps[-1], result.discovery[-1][0]
    if end == last.runs:
        return ""
    text = count_of(end - last.runs, 'run')
    if last.seconds is not None and result.discovery_seconds:
        text += f" ({seconds(result.discovery_seconds[-1][0] - last.seconds)})"
    return text


def discovery_line(result: Result, limit: int = 8) -> str | None:
    """The discovery curve in one line: when each problem was first seen, in runs and seconds; None for none."""
    steps = discovery_steps(result)
    if not steps:
        return None
    shown = [f"#{s.found} run {s.runs}" + (f", {seconds(s.seconds)}" if s.seconds is not None else "")
             for s in steps[:limit]]
    if len(steps) > limit:
        shown.append(f"... {len(steps) - limit} more, the last at run {steps[-1].runs}"
                     + (f", {seconds(steps[-1].seconds)}" if steps[-1].seconds is not None else ""))
    tail = quiet_tail(result)
    return (f"distinct problems first seen at: {' · '.join(shown)}"
            + (f"; nothing new in the last {tail}" if tail else ""))


@dataclass(frozen=True)
class TestCost:
    """One test's share of the time spent on test runs."""

    __test__ = False  # not a pytest test class

    test: TestResult
    seconds: float
    share: float  # of every run's seconds


def test_costs(result: Result) -> list[TestCost]:
    """Every test that ran, the most seconds first."""
    total = result.run_seconds
    costs = [TestCost(t, t.seconds, t.seconds / total if total else 0.0) for t in result.tests if t.runs]
    return sorted(costs, key=lambda c: (-c.seconds, c.test.name))


def per_strategy(test: TestResult) -> str:
    """A test's runs and seconds per strategy, most seconds first: "noise 12 runs 3.40 s · pct 4 runs 1.10 s"."""
    spent = sorted(test.strategies.items(), key=lambda kv: (-kv[1].seconds, kv[0]))
    return " · ".join(f"{name} {count_of(s.runs)} {seconds(s.seconds)}" for name, s in spent)


def strategy_seconds(stats: StrategyStats) -> str:
    return seconds(stats.seconds) if stats.seconds is not None else "-"


def timed_strategies(result: Result) -> bool:
    """Whether the result knows the seconds of its strategies (results of earlier releases do not)."""
    return any(s.seconds is not None for s in result.strategies.values())


def budget_line(result: Result) -> str:
    """Where the time went, in one sentence: run-seconds against wall time, and search against verification."""
    total, runs = result.run_seconds, result.summary.runs
    jobs = result.config.jobs
    text = (f"{seconds(total)} of test runs in {seconds(result.wall_seconds)}"
            + (f" on {count_of(jobs, 'job')}" if jobs else ""))
    spent = result.verification
    if spent is None:
        return text
    checks = Spent()
    for s in spent.values():
        checks.add(s.runs, s.seconds)
    text += f": search {seconds(max(0.0, total - checks.seconds))} in {count_of(runs - checks.runs)}"
    if not checks.runs:
        return text + "; no finding needed re-checking"
    parts = [f"{count_of(spent[p].runs, _PURPOSE_WORDS[p])} {seconds(spent[p].seconds)}"
             for p in VERIFICATION_PURPOSES if p in spent and spent[p].runs]
    return text + f"; verification {seconds(checks.seconds)} in {count_of(checks.runs)} ({', '.join(parts)})"


def count_of(n: int, word: str = "run") -> str:
    """"1 run", "3 runs": a count and its noun, plural unless one."""
    return f"{n} {word}{'s' if n != 1 else ''}"
