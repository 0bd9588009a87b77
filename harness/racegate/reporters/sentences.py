"""The sentences every format says of the whole session, in the same words: the verdict, what the session did
not cover, the suppressions in use, where the time went and when each problem was found."""
from __future__ import annotations

from collections import Counter

from racegate.focus import GROUP_WORDS
from racegate.reporters.text import count_of, percent, seconds, share
from racegate.reporters.view import discovery_steps
from racegate.memory import gib
from racegate.model import CutCause
from racegate.reporters.words import CUT_CAUSES, PURPOSES, STATUS
from racegate.result import VERIFICATION_PURPOSES, Result, Spent, TestResult
from racegate.stats import FEW_RUNS


def verdict(result: Result) -> str:
    new = result.summary.new_buckets
    known = result.known_buckets
    tail = " (interrupted: partial results)" if result.interrupted else ""
    if result.failing:
        return f"FAIL: {count_of(new, 'new problem')} ({known} known){tail}"
    if result.undecided:
        # Never PASS: a pass would rest on nothing for these tests (uncovered_notes names them and the fix).
        n, total = len(result.uncovered), len(result.tests)
        return (f"NOT COVERED: {n} of {total} {'test' if total == 1 else 'tests'} completed no run, so nothing "
                f"speaks for {'it' if n == 1 else 'them'}; no new problems in the "
                f"{count_of(total - n, 'covered test')} ({known} known){tail}")
    if known:
        statuses = Counter(result.status(b) for b in result.buckets)
        why = ", ".join(f"{n} {STATUS[s].known_as}" if len(statuses) > 1 else STATUS[s].known_as
                        for s, n in sorted(statuses.items()))
        return f"PASS: no new problems ({known} known, {why}){tail}"
    return f"PASS: no races or failures found{tail}"


def in_groups(result: Result) -> str:
    """" in 4 groups" after a count of problems when some buckets are related (each group once, each bucket outside
    one on its own); "" otherwise. The gate counts buckets, not groups."""
    return f" in {count_of(result.problem_groups, 'group')}" if result.related else ""


def new_problem_chance(result: Result) -> str:
    """The Good-Turing estimate as every format shows it: "–" without a completed run (nothing to estimate from),
    the figure with the few runs it rests on below FEW_RUNS ("not known" for a 0% that only means no problem showed
    once), the bare figure otherwise."""
    summary = result.summary
    n = summary.completed_runs
    if not n:
        return "–"
    if n < FEW_RUNS:
        figure = percent(summary.new_bucket_chance) if summary.new_bucket_chance else "not known"
        return f"{figure} ({count_of(n, 'completed run')})"
    return percent(summary.new_bucket_chance)


def thin_evidence_notes(result: Result) -> list[str]:
    """What the estimate and a PASS cannot say when they rest on few completed runs (fewer than FEW_RUNS): a problem
    that shows in fewer than 1 of n runs would most likely not have shown in n."""
    n = result.summary.completed_runs
    notes = []
    if 0 < n < FEW_RUNS:
        notes.append(f"the chance of a new problem rests on only {count_of(n, 'completed run')}: a problem that "
                     f"shows in fewer than 1 of {n} runs would most likely not have shown yet")
    thin = [t for t in result.tests if 0 < t.completed_runs < FEW_RUNS]
    if thin and result.verdict_state == "pass":
        names = [f"{t.name} ({t.completed_runs})" for t in thin]
        notes.append(f"the PASS rests on fewer than {FEW_RUNS} completed runs of {count_of(len(thin), 'test')}: "
                     f"{first_five(names)}; a race rarer than 1 in that many runs is likely missed: give them more "
                     f"runs (--runs, --time-budget)")
    return notes


def first_five(names: list[str]) -> str:
    """Up to five names, then how many more: a note stays one line however many tests it covers."""
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def uncovered_notes(result: Result) -> list[str]:
    """Each test whose every run was cut, and each that never finished under TSan, with what to do about it (the
    tests that never ran are said once per reason by coverage_notes)."""
    notes = []
    for t in result.tests:
        if t.runs and not t.covered:
            causes = " and ".join(CUT_CAUSES.get(cause, cause) for cause in sorted(t.cuts)) or "by racegate"
            notes.append(f"{t.name}: not covered: {count_of(t.runs, 'run')}, none completed (cut {causes} "
                         f"after {seconds(t.mean_seconds)}); its run takes more than that: raise --time-budget, "
                         f"shard, or exclude it")
        if t.unfinished is not None:
            notes.append(f"{t.name}: did not finish in {t.unfinished:g} s under TSan, plain; it is not "
                         f"repeated: raise its TIMEOUT, exclude it, or check it for a hang")
    return notes


def coverage_notes(result: Result) -> list[str]:
    """What the session did not cover, one sentence each: tests that never ran, tests no completed run speaks for,
    tests that never finished, runs racegate cut, slowdowns."""
    notes = []
    never = [t for t in result.tests if t.not_run is not None]
    for reason in sorted({t.not_run for t in never if t.not_run}):
        names = [t.name for t in never if t.not_run == reason]
        notes.append(f"{len(names)} of {len(result.tests)} tests never ran ({reason}): {first_five(names)}")
    if any(t.not_run and "budget" in t.not_run for t in never):
        notes.append("the time budget was too small for one pass over the tests: raise --time-budget or shard")
    notes += uncovered_notes(result)
    for crash in result.steady_crashes:
        if crash.alike:
            n, shown = len(crash.tests), first_five(crash.tests)
            # Alike, they are likely one cause; a real bug in each would rarely crash every run the same way.
            notes.append(f"{n} tests crashed with {crash.signal} on every run, plain ones too, and TSan reported "
                         f"nothing: that points at one cause rather than {n} bugs, most often the environment (the "
                         f"build, the TSan runtime, the machine); run racegate doctor, then one of them by hand under "
                         f"gdb: {shown}")
    oom = oom_note(result)
    if oom:
        notes.append(oom)
    cut = result.summary.cut_runs - sum(t.cuts.get(CutCause.OOM, 0) for t in result.tests)
    if cut:
        notes.append(cut_note(result, cut))
    notes += cut_only_notes(result)
    notes += thin_evidence_notes(result)
    for t in result.tests:
        notes += [f"{t.name}: {note}" for note in t.notes]
    for reason in sorted({t.not_repeated for t in result.tests if t.not_repeated}):
        names = [t.name for t in result.tests if t.not_repeated == reason]
        notes.append(f"{len(names)} of {len(result.tests)} tests {reason}: {first_five(names)}")
    return notes


def oom_note(result: Result) -> str | None:
    """The runs the OOM killer ended, which are the environment's doing (docs/scheduling.md, "Memory"); None when
    there were none."""
    killed = [t for t in result.tests if t.cuts.get(CutCause.OOM)]
    if not killed:
        return None
    tests = ", ".join(f"{t.name} ({count_of(t.cuts[CutCause.OOM], 'run')}"
                      + (f", peak ~{gib(t.peak_memory)} GiB)" if t.peak_memory else ")") for t in killed[:5])
    more = f" and {len(killed) - 5} more" if len(killed) > 5 else ""
    return (f"memory: the out-of-memory killer ended runs of {tests}{more}: the environment ran out of memory, "
            "the tests did not fail (those runs are neither a pass nor a failure and never gate); run fewer "
            "--jobs, use a runner with more memory, or exclude the test")


def cut_only_notes(result: Result) -> list[str]:
    """Problems whose every report came from a run racegate cut (field test #44): they still count, since TSan
    printed them, but the reader should know that no run that ended by itself showed them."""
    only = [b for b in result.buckets if b.cut_runs_with_bucket and not b.runs_with_bucket]
    if not only:
        return []
    gating = sum(1 for b in only if result.gates(b))
    return [f"{count_of(len(only), 'problem')} ({gating} of them gating) showed only in runs racegate cut, none in a "
            f"run that ended by itself: {first_five([b.id for b in only])}; TSan printed them before the cut, so they "
            "count, but "
            "a longer --time-budget (or fewer tests per job) gives runs that complete and say how often they show"]


def cut_note(result: Result, cut: int) -> str:
    """"3 runs cut by racegate: 2 at the budget's deadline, 1 past a strategy's slowdown limit; ..."."""
    causes: Counter[str] = Counter()
    for t in result.tests:
        causes.update({cause: n for cause, n in t.cuts.items() if cause != CutCause.OOM})  # oom_note says those
    order = [*CUT_CAUSES, *sorted(set(causes) - set(CUT_CAUSES))]  # a later release's cause keeps its key
    parts = [f"{causes[cause]} {CUT_CAUSES.get(cause, f'for another reason ({cause})')}"
             for cause in order if causes[cause]]
    unknown = cut - sum(causes.values())
    if not parts:  # a result of an earlier release: the causes were not recorded
        parts = ["at the budget's deadline or past a strategy's slowdown limit"]
    elif unknown > 0:  # merged with a shard of an earlier release
        parts.append(f"{unknown} for a reason not recorded")
    return (f"{count_of(cut, 'run')} cut by racegate: {', '.join(parts)}; "
            "a cut run is neither a pass nor a failure")


def quiet_line(count: int) -> str:
    return (f"{count_of(count, 'single-threaded test')} passed (one thread cannot race, so "
            f"{'they were' if count != 1 else 'it was'} not repeated)")


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
    parts = [f"{count_of(spent[p].runs, PURPOSES[p])} {seconds(spent[p].seconds)}"
             for p in VERIFICATION_PURPOSES if p in spent and spent[p].runs]
    return text + f"; verification {seconds(checks.seconds)} in {count_of(checks.runs)} ({', '.join(parts)})"


def focus_line(result: Result) -> str | None:
    """How --changed-since split the budget between its groups (focus.py), or why there was no focus; None without
    the option."""
    focus = result.config.changed_since
    if focus is None:
        return None
    if focus.base is None:
        return f"--changed-since {focus.ref}: no focus ({focus.note or 'no change set'})"
    parts = [f"{GROUP_WORDS[g.group]} {count_of(g.tests, 'test')}, {count_of(g.runs, 'run')}, {seconds(g.seconds)} "
             f"({share(g.share)})" for g in result.budget_split]
    return (f"--changed-since {focus.ref} ({count_of(len(focus.files), 'file')} changed since {focus.base[:12]}): "
            + ("; ".join(parts) or "no test ran"))


def per_strategy(test: TestResult) -> str:
    """A test's runs and seconds per strategy, most seconds first: "noise 12 runs 3.40 s · pct 4 runs 1.10 s"."""
    spent = sorted(test.strategies.items(), key=lambda kv: (-kv[1].seconds, kv[0]))
    return " · ".join(f"{name} {count_of(s.runs)} {seconds(s.seconds)}" for name, s in spent)


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
    """The discovery curve in one line: when each problem was first seen, in runs ended and seconds; None for none.
    Said as a count ("after 3 runs"), never as "run 3": the found-by line names a run by its index from 0 (its log
    dir, its replay), and the third run to end is not run 3 (field #29)."""
    steps = discovery_steps(result)
    if not steps:
        return None
    shown = [f"#{s.found} after {count_of(s.runs, 'run')}"
             + (f", {seconds(s.seconds)}" if s.seconds is not None else "") for s in steps[:limit]]
    if len(steps) > limit:
        shown.append(f"... {len(steps) - limit} more, the last after {count_of(steps[-1].runs, 'run')}"
                     + (f", {seconds(steps[-1].seconds)}" if steps[-1].seconds is not None else ""))
    tail = quiet_tail(result)
    return (f"distinct problems first seen at: {' · '.join(shown)}"
            + (f"; nothing new in the last {tail}" if tail else ""))
