"""What earlier sessions learned per test (`--history FILE`), so the next one starts where they left off.

The file is racegate's own cache, not a result: a missing file is an empty history, and a file that cannot be
read as one (not JSON, a foreign or newer file, a field of the wrong type) is ignored with a one-line warning,
never an error: a cache that went bad must not fail a CI job, and the session rewrites it at the end.

Bucket ids depend on the signature version (signature.py), so the file records the version its ids were
written under; findings carry their ids under earlier versions (legacy_ids), which is how ids remembered
under an older version are recognized (aliases) and rewritten as current ones (History.translated).
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from racegate.errors import RacegateError
from racegate.jsonfile import JsonReader, write_json
from racegate.model import Finding, Outcome, RunRecord
from racegate.signature_rules import LEGACY, SIGNATURE_VERSION

HISTORY_VERSION = 1
HISTORY_KEY = "racegate_history"
# A file without "signature_version" predates the field: history files came with signature version 2, and
# version 3 wrote them without the field too, so their ids are of version 2 or 3. Reading them as 2 makes
# both count (aliases takes every version from the file's on).
UNSTAMPED_SIGNATURE_VERSION = 2
# A bucket that comes and goes earns the runs that show it a hit only its first HIT_CREDIT times: a strategy that
# exposes an intermittent bug is worth more runs, but showing the same known bug again finds nothing new.
HIT_CREDIT = 5


def is_hit(shown: frozenset, steady: frozenset | None, sightings: Counter) -> bool:
    """Whether a run that showed the buckets `shown` found something about its test: a bucket the test's earlier
    runs did not all show, while still rare (seen in fewer than HIT_CREDIT runs), or the absence of one they all
    showed (a failing test's first pass). `steady` is what every earlier run showed (None before the first run),
    `sightings` how many earlier runs showed each bucket."""
    if steady is None:
        return False
    return bool(steady - shown) or any(sightings[b] < HIT_CREDIT for b in shown - steady)


class HistoryError(ValueError):
    """A history file that is not one racegate can read; its message is one line."""


@dataclass
class StrategyHistory:
    """One strategy's record on one test, summed over the sessions that ran it."""

    runs: int = 0
    seconds: float = 0.0
    hits: int = 0  # runs that found something about the test (is_hit)
    buckets: list[str] = field(default_factory=list)  # ids of the buckets this strategy showed

    def merged(self, other: StrategyHistory) -> StrategyHistory:
        return StrategyHistory(self.runs + other.runs, self.seconds + other.seconds, self.hits + other.hits,
                               _union(self.buckets, other.buckets))


@dataclass
class TestHistory:
    """One test: its plain duration and thread count as last measured, and what each strategy found."""

    __test__ = False  # not a pytest test class

    duration: float | None = None  # seconds of a plain run in the latest session that had one
    threads: int | None = None  # most threads seen alive at once
    sessions: int = 0  # sessions that ran it
    buckets: list[str] = field(default_factory=list)  # every bucket id it has shown
    strategies: dict[str, StrategyHistory] = field(default_factory=dict)
    # Bytes: the peak resident memory of a run of its own in the latest session that measured one (its largest
    # there), which admission expects of its next run before that run is made (memory.Admission).
    peak_memory: int | None = None
    # Its copies were seen to interfere (a failure only while another copy ran): later sessions run one copy at a
    # time from the start. Kept once learned; absent (False) in files of earlier releases.
    one_at_a_time: bool = False
    # The source files of its buckets' frames (the top project frame of each side), which --changed-since's
    # ranking compares with the changed files; [] in files of earlier releases.
    files: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.buckets)

    def merged(self, other: TestHistory) -> TestHistory:
        """Both sessions' counts; the measurements of `other` (the later) where it has them."""
        strategies = dict(self.strategies)
        for name, s in other.strategies.items():
            strategies[name] = strategies[name].merged(s) if name in strategies else s
        return TestHistory(
            duration=other.duration if other.duration is not None else self.duration,
            threads=max(t for t in (self.threads, other.threads, 0) if t is not None) or None,
            sessions=self.sessions + other.sessions, buckets=_union(self.buckets, other.buckets),
            strategies=strategies,
            peak_memory=other.peak_memory if other.peak_memory is not None else self.peak_memory,
            one_at_a_time=self.one_at_a_time or other.one_at_a_time, files=_union(self.files, other.files))


@dataclass
class History:
    tests: dict[str, TestHistory] = field(default_factory=dict)
    # The oldest signature version whose bucket ids it may hold: ids are compared with a finding's ids under
    # this version and every later one.
    signature_version: int = SIGNATURE_VERSION

    def merged(self, other: History) -> History:
        tests = dict(self.tests)
        for name, t in other.tests.items():
            tests[name] = tests[name].merged(t) if name in tests else t
        return History(tests, min(self.signature_version, other.signature_version))

    def translated(self, aliases: dict[str, str]) -> History:
        """Its bucket ids as current ones where `aliases` (see aliases()) knows them; stamped with the current
        signature version once every id is known, else still with its own (the rest may be older ids)."""
        if self.signature_version == SIGNATURE_VERSION:
            return self

        def ids(buckets: list[str]) -> list[str]:
            return list(dict.fromkeys(aliases.get(b, b) for b in buckets))

        tests = {name: replace(t, buckets=ids(t.buckets),
                               strategies={s: StrategyHistory(h.runs, h.seconds, h.hits, ids(h.buckets))
                                           for s, h in t.strategies.items()})
                 for name, t in self.tests.items()}
        # A strategy's ids are among its test's (from_session): the test's say whether any is left unknown.
        known = all(b in aliases for t in self.tests.values() for b in t.buckets)
        return History(tests, SIGNATURE_VERSION if known else self.signature_version)

    def to_json(self) -> dict:
        return {HISTORY_KEY: HISTORY_VERSION, "signature_version": self.signature_version, "tests": {
            name: {"duration": t.duration, "threads": t.threads, "sessions": t.sessions, "buckets": t.buckets,
                   "strategies": {s: {"runs": h.runs, "seconds": round(h.seconds, 6), "hits": h.hits,
                                      "buckets": h.buckets} for s, h in sorted(t.strategies.items())},
                   **({"peak_memory": t.peak_memory} if t.peak_memory is not None else {}),
                   **({"one_at_a_time": True} if t.one_at_a_time else {}),
                   **({"files": t.files} if t.files else {})}
            for name, t in sorted(self.tests.items())}}

    @classmethod
    def from_json(cls, data: object) -> History:
        """The one loader: fills every default, and names the field that has the wrong type."""
        if not isinstance(data, dict) or HISTORY_KEY not in data:
            raise HistoryError(f"not a racegate history (no {HISTORY_KEY!r} key)")
        version = data[HISTORY_KEY]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise HistoryError(f"{HISTORY_KEY} should be a positive integer")
        if version > HISTORY_VERSION:
            raise HistoryError(f"history version {version} is newer than this racegate reads ({HISTORY_VERSION})")
        r = JsonReader(HistoryError, non_negative=True)
        signature_version = r.opt(data, "signature_version", int, UNSTAMPED_SIGNATURE_VERSION)
        if signature_version < 1:
            raise HistoryError("signature_version should be a positive integer")
        if signature_version > SIGNATURE_VERSION:
            # Its ids are of rules this racegate does not know: none of them could ever match.
            raise HistoryError(f"signature version {signature_version} is newer than this racegate's "
                               f"({SIGNATURE_VERSION})")
        history = cls(signature_version=signature_version)
        for name, entry in r.obj(data, "tests").items():
            where = f"tests[{name!r}]"
            entry = r.entry(entry, where)
            strategies = {}
            for s, h in r.obj(entry, "strategies", where).items():
                at = f"{where}.strategies[{s!r}]"
                h = r.entry(h, at)
                strategies[s] = StrategyHistory(
                    runs=r.opt(h, "runs", int, 0, at), seconds=float(r.opt(h, "seconds", float, 0.0, at)),
                    hits=r.opt(h, "hits", int, 0, at), buckets=r.strict_strings(h, "buckets", at))
            duration = r.nullable(entry, "duration", float, where)
            history.tests[name] = TestHistory(
                duration=None if duration is None else float(duration),
                threads=r.nullable(entry, "threads", int, where), sessions=r.opt(entry, "sessions", int, 0, where),
                buckets=r.strict_strings(entry, "buckets", where), strategies=strategies,
                peak_memory=r.nullable(entry, "peak_memory", int, where),
                one_at_a_time=r.opt(entry, "one_at_a_time", bool, False, where),
                files=r.strict_strings(entry, "files", where))
        return history


def _union(a: list[str], b: list[str]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def aliases(findings: Iterable[Finding], current_id: Callable[[str, list[str]], str], since: int) -> dict[str, str]:
    """Each id these findings have under signature version `since` or a later one -> their current id (a current
    id maps to itself). A finding's legacy_ids are its ids under the versions of signature.LEGACY, in order."""
    known: dict[str, str] = {}
    for f in findings:
        current = current_id(f.kind, f.signature)
        known[current] = current
        for rules, old in zip(LEGACY, f.legacy_ids):
            if rules.version >= since:
                known[old] = current
    return known


def load(path: Path) -> History:
    """The history in `path`; raises HistoryError (one line) when it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return History()
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"cannot read it ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryError(f"not JSON ({exc})") from None
    except RecursionError:  # nested deeper than the parser goes: no history racegate wrote
        raise HistoryError("not JSON racegate can read (nested too deeply)") from None
    return History.from_json(data)


def load_or_empty(path: Path) -> History:
    """The history in `path`, or an empty one with a warning: a bad cache only costs what it would have taught."""
    try:
        return load(path)
    except HistoryError as exc:
        print(f"racegate: warning: ignoring history {path}: {exc}", file=sys.stderr)
        return History()


def save(history: History, path: Path) -> None:
    write_json(path, history.to_json())


def save_or_warn(history: History, path: Path) -> None:
    """Write the history; when it cannot be written, say so and go on: the session's results and its verdict
    matter more than a cache."""
    try:
        save(history, path)
    except OSError as exc:
        print(f"racegate: warning: cannot write history {path}: {exc}", file=sys.stderr)


def from_session(records: Iterable[RunRecord], bucket_ids: dict[int, list[str]],
                 one_at_a_time: Iterable[str] = ()) -> History:
    """What one session learned: `bucket_ids` maps a run index to the bucket ids that run showed; `one_at_a_time`
    names the tests the session ran one copy at a time (Scheduler.one_at_a_time)."""
    solo = set(one_at_a_time)
    by_test: dict[str, list[RunRecord]] = {}
    for r in records:
        by_test.setdefault(r.test, []).append(r)
    history = History()
    for name, runs in by_test.items():
        plain = [r for r in runs if r.strategy == "none" and r.outcome != Outcome.CUT]
        threads = [r.threads for r in runs if r.threads is not None]
        peaks = [r.peak_memory for r in runs if r.peak_memory is not None]
        entry = TestHistory(duration=plain[0].duration if plain else None, threads=max(threads) if threads else None,
                            sessions=1, peak_memory=max(peaks) if peaks else None,
                            one_at_a_time=name in solo)
        seen: Counter[str] = Counter()
        steady: frozenset | None = None
        for r in sorted(runs, key=lambda r: r.run):
            ids = frozenset(bucket_ids.get(r.run, ()))
            if r.outcome == Outcome.CUT:
                continue  # neither a pass nor a failure, and its time is the cut's, not the strategy's
            # As the scheduler counts an arm: re-checks and replays weigh a finding, they do not search.
            if not r.purpose:
                s = entry.strategies.setdefault(r.strategy, StrategyHistory())
                s.runs += 1
                s.seconds += r.duration
                s.buckets = _union(s.buckets, sorted(ids))
                s.hits += is_hit(ids, steady, seen)
            steady = ids if steady is None else steady & ids
            seen.update(ids)
        entry.buckets = list(seen)
        entry.files = list(dict.fromkeys(f.file for r in runs for finding in r.findings for f in finding.frames
                                         if f.file))
        history.tests[name] = entry
    return history


def merge_files(paths: Iterable[Path]) -> History:
    """The sum of the history files `racegate merge --history` names. Unlike `run --history`'s cache, a file
    named here that is missing or unreadable is the user's mistake: RacegateError naming it."""
    merged = History()
    for path in paths:
        if not path.is_file():
            raise RacegateError(f"{path}: no such history file")
        try:
            merged = merged.merged(load(path))
        except HistoryError as exc:
            raise RacegateError(f"{path}: {exc}") from None
    return merged
