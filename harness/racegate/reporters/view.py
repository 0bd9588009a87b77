"""What every report shows, computed once for all formats: one `BucketView` per bucket (its sides, frequency,
evidence, detail lines, how to run it again), the rows of the tests and their time, and the steps of the
discovery curve. Anything a bucket shows in every format (its source lines, the buckets related to it) is built
here; a format module decides only how it looks."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from racegate import kinds, outdir
from racegate.advice import Advice
from racegate.model import BucketStatus, Purpose, SourceFrame, StackTrace
from racegate.reporters.interface import RenderOptions
from racegate.reporters.text import count_of, found_after, frame_function, frame_location, percent, repo_path
from racegate.reporters.words import ENDED_BY, ENDED_OTHERWISE, SEED_DID_NOT_REPRODUCE, STATUS, StatusWords
from racegate.result import BucketResult, Excerpt, FirstSeen, RelatedGroup, Result, RunConfig, TestResult
from racegate.frame_kinds import is_library_frame, library_family


@dataclass(frozen=True)
class Side:
    """One side of a bucket: what it did ("write", "previous read", ...), its top in-project frame, the source
    lines around it (None when the result has none) and its address on GitHub (None outside Actions)."""

    label: str
    function: str
    location: str
    frame: SourceFrame
    excerpt: Excerpt | None = None
    link: str | None = None
    stack: int | None = None  # the index in the bucket's stacks of the stack this side's frame is in


@dataclass(frozen=True)
class StackRow:
    """One line of a stack as reports list it: a frame of the project, or a run of library and runtime frames
    folded into one ("6 standard-library frames", `folded` holding them)."""

    frame: SourceFrame | None
    link: str | None = None
    folded: tuple[SourceFrame, ...] = ()

    @property
    def fold_words(self) -> str:
        """"6 standard-library frames", "2 GoogleTest frames", or "5 library and runtime frames" when mixed."""
        # A frame TSan could not name (`<null> <null>`, most often the thread's start in libstdc++ or libc) takes
        # its neighbours' family rather than making them "mixed".
        families = {library_family(f) for f in self.folded if f.file or f.function} or {"runtime"}
        family = families.pop() if len(families) == 1 else "library and runtime"
        return count_of(len(self.folded), f"{family} frame")


@dataclass(frozen=True)
class DetailLine:
    """One line of a bucket's plain-text detail. `part` says which (a format that lays one part out its own way
    finds it by that, never by the label); `label` is "" for the evidence line."""

    # "side", "change", "evidence", "reported as", "also failed", "symptom", "related", "tests", "found by", "fix",
    # "reproduce", "replay", "note"
    part: str
    label: str
    text: str

    def __str__(self) -> str:
        return f"{self.label}: {self.text}" if self.label else self.text


@dataclass(frozen=True)
class BucketView:
    """Everything a report shows of one bucket, computed once."""

    bucket: BucketResult
    sides: list[Side]
    runs_exposed: int  # runs of the tests the bucket affects
    fraction: float
    frequency: str  # "17 of 40 runs (42.5%)"
    strategy: str  # the schedule of the first run that showed it
    strategies: list[tuple[str, int]]  # runs with the bucket per strategy, most first
    reproduce: str  # one shell line, "" when the command is unknown
    replay: str
    severity: int
    severity_name: str
    status: BucketStatus  # Result.status
    group: RelatedGroup | None = None  # the related buckets it is grouped with (Result.related), if any

    @property
    def id(self) -> str:
        return self.bucket.id

    @property
    def kind(self) -> str:
        return self.bucket.kind

    @property
    def title(self) -> str:
        return self.bucket.title

    @property
    def new(self) -> bool:
        """Whether the bucket fails the gate (a bucket that does not is shown as known, with why)."""
        return self.status.gates

    @property
    def status_words(self) -> StatusWords:
        return STATUS[self.status]

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
        if self.status == BucketStatus.BASELINED:
            return self.bucket.baseline_note or ""
        issue = self.bucket.library_issue
        if self.status == BucketStatus.LIBRARY and issue is not None:
            return (f"standard library ({issue.reference}, {issue.url}): a race inside the library's own state, "
                    "not the project's; racegate run --gate-library-reports gates it")
        if self.status == BucketStatus.INTERFERENCE:
            return ("interference between parallel copies: it showed only while another copy of the test ran, "
                    "never with the test alone; racegate runs it one copy at a time from now on")
        if self.status == BucketStatus.TIMING_SENSITIVE:
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
        most_first = sorted(self.bucket.kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{kind} in {count_of(n, 'run')}" for kind, n in most_first)

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
                replays = f"{self.strategy} seed {b.first_seen.seed} replays {e.replays_with_bucket}/{e.replays}"
                parts.append(replays if e.replays_with_bucket else f"{replays} ({SEED_DID_NOT_REPRODUCE})")
            if e.skipped:
                parts.append(skipped_checks(e.skipped, e.ended_by))
        return "; ".join(parts)


def skipped_checks(skipped: tuple[str, ...], ended_by: str | None) -> str:
    """What a failure first seen under perturbation missed of its re-checks, why, and how to run them now."""
    why = ENDED_BY.get(ended_by or "", ENDED_OTHERWISE)
    if Purpose.RECHECK in skipped and Purpose.REPLAY in skipped:
        return (f"not re-checked: {why} before its plain re-runs and seed replays; "
                "the replay command re-runs its seed, and with --schedule none runs it plain")
    if Purpose.RECHECK in skipped:
        return f"not re-checked plain: {why} first; the replay command with --schedule none runs it plain"
    return f"seed not replayed: {why} first; the replay command re-runs it"


# A new bucket with a frame on a line the --changed-since change touched (BucketResult.in_change), in every format.
IN_CHANGE = "in this change"
IN_CHANGE_WHY = "a frame of its report is on a line changed since the --changed-since ref"


def detail(v: BucketView) -> list[DetailLine]:
    """The plain-text detail of a bucket, which every text format carries: both sides, what the bucket rests on,
    its symptoms, the tests, how it was found, the fix, how to run it again, why it does not gate when it does
    not. Which lines a bucket has, and in what order, is decided here alone."""
    lines = [DetailLine("side", side.label, f"{side.function} at {side.location}") for side in v.sides]
    if v.bucket.in_change:
        lines.append(DetailLine("change", IN_CHANGE, IN_CHANGE_WHY))
    lines.append(DetailLine("evidence", "", v.evidence))
    if v.reported_as:
        lines.append(DetailLine("reported as", "reported as", v.reported_as))
    # A failing run's other failures: the same problem, so under its bucket rather than buckets of their own.
    lines += [DetailLine("also failed", "also failed", line) for line in v.bucket.further_messages]
    lines += [DetailLine("symptom", "symptom", line) for line in v.symptoms]
    if v.group is not None:
        lines.append(DetailLine("related", "related", related_text(v.group, v.id)))
    lines.append(DetailLine("tests", "tests", ", ".join(v.tests)))
    lines.append(DetailLine("found by", "found by", f"strategy {v.strategy} (run {v.first_seen.run}, "
                                                    f"seed {v.first_seen.seed}{found_after(v.first_seen)})"))
    lines.append(DetailLine("fix", "fix", v.advice.fix))
    if v.reproduce:
        lines.append(DetailLine("reproduce", "reproduce", v.reproduce))
    lines.append(DetailLine("replay", "replay", v.replay))
    if v.baseline_note is not None:
        lines.append(DetailLine("note", v.status_words.note_label, v.baseline_note or "in the baseline"))
    return lines


def detail_lines(v: BucketView) -> list[str]:
    """The detail as the GitHub, JUnit, Markdown and SARIF reports carry it: "label: text" per line."""
    return [str(line) for line in detail(v)]


def bucket_view(bucket: BucketResult, result: Result) -> BucketView:
    config = result.config
    src = config.root
    exposed, fraction = result.runs_exposed(bucket), result.run_fraction(bucket)
    excerpts = list(bucket.excerpts) + [None] * (len(bucket.frames) - len(bucket.excerpts))
    sides = [Side(access_label(bucket, i) if i is not None else "location", frame_function(f),
                  frame_location(f, src), f, excerpt, source_link(f, config), i)
             for f, excerpt, i in zip(bucket.frames, excerpts, side_stacks(bucket))]
    return BucketView(
        bucket=bucket,
        sides=sorted(sides, key=lambda side: len(bucket.stacks) if side.stack is None else side.stack),
        runs_exposed=exposed, fraction=fraction,
        frequency=frequency(bucket, exposed, fraction),
        strategy=bucket.first_seen.strategy or "?",
        strategies=sorted(bucket.strategies.items(), key=lambda kv: (-kv[1], kv[0])),
        reproduce=reproduce_command(bucket.first_seen),
        replay=shlex.join(["racegate", "replay", bucket.id, *result_option(result)]),
        severity=kinds.severity(bucket.kind), severity_name=kinds.severity_name(bucket.kind),
        status=result.status(bucket), group=result.related_group(bucket.id))


def group_heading(group: RelatedGroup) -> str:
    """"Related G1: 3 buckets, same heap block allocated at Ring::Ring (ring.cpp:12)": a group's heading."""
    return f"Related {group.id}: {count_of(len(group.buckets), 'bucket')}, {'; '.join(group.reasons)}"


def related_text(group: RelatedGroup, bucket_id: str) -> str:
    """A bucket's line about its group: the group, why, and the other buckets by id."""
    others = ", ".join(bid for bid in group.buckets if bid != bucket_id)
    return f"{group.id} ({'; '.join(group.reasons)}), with {others}"


def grouped(views: list[BucketView]) -> list[tuple[RelatedGroup | None, list[BucketView]]]:
    """The views in their order, each related group's members pulled up to where its first member is, under its
    group; a bucket outside every group stands alone (None)."""
    out: list[tuple[RelatedGroup | None, list[BucketView]]] = []
    placed: dict[str, list[BucketView]] = {}
    for v in views:
        if v.group is None:
            out.append((None, [v]))
        elif v.group.id in placed:
            placed[v.group.id].append(v)
        else:
            placed[v.group.id] = [v]
            out.append((v.group, placed[v.group.id]))
    return out


def frequency(bucket: BucketResult, exposed: int, fraction: float) -> str:
    """"3 of 40 runs (7.5%)": completed runs, as the test table counts them; the runs racegate cut that printed it
    are said apart, since they are no sample of the test."""
    cut = bucket.cut_runs_with_bucket
    if not cut:
        return f"{bucket.runs_with_bucket} of {exposed} runs ({percent(fraction)})"
    also = f"{count_of(cut, 'run')} racegate cut"
    if not exposed:
        return f"{also}, and no completed run"
    return f"{bucket.runs_with_bucket} of {exposed} completed runs ({percent(fraction)}), and {also}"


def by_importance(result: Result) -> list[BucketView]:
    """New before known, then by severity, then most frequent first; the id keeps the order stable."""
    views = [bucket_view(b, result) for b in result.buckets]
    return sorted(views, key=lambda v: (not v.new, v.severity, -v.fraction, -v.bucket.runs_with_bucket, v.id))


def by_severity(result: Result) -> list[BucketView]:
    views = [bucket_view(b, result) for b in result.buckets]
    return sorted(views, key=lambda v: (v.severity, -v.fraction, -v.bucket.runs_with_bucket, v.id))


def side_stacks(bucket: BucketResult) -> list[int | None]:
    """For each of the bucket's frames, the index of the stack it is the frame of (None when no stack holds it).
    The frames are in the signature's order (sorted by key), the stacks in the report's: a side's access kind
    is its own stack's, never the stack at its position (a read shown beside the other side's function)."""
    used: set[int] = set()
    found: list[int | None] = []
    for frame in bucket.frames:
        index = next((i for i, stack in enumerate(bucket.stacks) if i not in used and frame in stack.frames), None)
        if index is not None:
            used.add(index)
        found.append(index)
    return found


def access_label(bucket: BucketResult, index: int) -> str:
    """What side `index` of a bucket did, from its stack header ("Write of size 4 ..." -> "write")."""
    if index < len(bucket.stacks):
        words = bucket.stacks[index].header.strip().split()
        if words and words[0].lower() in ("previous", "atomic") and len(words) > 1:
            return " ".join(words[:2]).lower()
        if words:
            return words[0].lower()
    return "location"


def source_link(frame: SourceFrame, config: RunConfig) -> str | None:
    """The frame's file at the commit on GitHub, at its line (".../blob/<sha>/src/q.cpp#L42"); None outside GitHub
    Actions or for a file outside the project."""
    rel = repo_path(frame.file, config.root) if config.source_url else None
    if rel is None:
        return None
    return f"{config.source_url}/{quote(rel)}" + (f"#L{frame.line}" if frame.line else "")


def is_project_frame(frame: SourceFrame, src: str | None) -> bool:
    """A frame of the project's own code: under the source root, and neither library nor runtime (a copy of
    GoogleTest inside the tree is still GoogleTest)."""
    return repo_path(frame.file, src) is not None and not is_library_frame(frame)


def stack_rows(stack: StackTrace, config: RunConfig) -> list[StackRow]:
    """The stack innermost first, each run of frames the project did not write folded into one row."""
    rows: list[StackRow] = []
    run: list[SourceFrame] = []
    for frame in stack.frames:
        if is_project_frame(frame, config.root):
            if run:
                rows.append(StackRow(None, folded=tuple(run)))
                run = []
            rows.append(StackRow(frame, source_link(frame, config)))
        else:
            run.append(frame)
    if run:
        rows.append(StackRow(None, folded=tuple(run)))
    return rows


def stack_row_text(row: StackRow, src: str | None) -> str:
    """A row as plain text: "Registry::add at src/registry.hpp:15", or "(6 standard-library frames)"."""
    if row.frame is None:
        return f"({row.fold_words})"
    return f"{frame_function(row.frame)} at {frame_location(row.frame, src)}"


def excerpt_lines(excerpt: Excerpt) -> list[str]:
    """The excerpt as plain text, numbered, the racing line marked with ">"."""
    width = len(str(excerpt.first + len(excerpt.lines) - 1))
    return [f"{'>' if n == excerpt.line else ' '} {n:>{width}} | {text}" for n, text in excerpt.numbered]


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


# -- tests: their outcomes and their time ------------------------------------------------------------------------

@dataclass(frozen=True)
class TestRow:
    __test__ = False  # not a pytest test class

    test: TestResult
    flag: str  # "flaky", "failed" or ""

    def count(self, outcome: str) -> int:
        return self.test.outcomes.get(outcome, 0)


def test_rows(result: Result) -> list[TestRow]:
    """Every test, those with the most failed runs first."""
    rows = []
    for t in sorted(result.tests, key=lambda t: (-t.failed_runs, t.name)):
        rows.append(TestRow(t, "flaky" if t.flaky else "failed" if t.failed_runs else ""))
    return rows


def is_quiet(test: TestResult) -> bool:
    """A test with nothing to look at: it ran, never failed and never ran a second thread (so it was not repeated)."""
    return test.not_run is None and test.covered and test.failed_runs == 0 and test.threads == 1


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


def timed_strategies(result: Result) -> bool:
    """Whether the result knows the seconds of its strategies (results of earlier releases do not)."""
    return any(s.seconds is not None for s in result.strategies.values())


# -- when problems were found --------------------------------------------------------------------------------------

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
