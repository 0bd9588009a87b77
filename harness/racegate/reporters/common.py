"""What every reporter needs from a result dict: ordering, locations, frequencies, commands, verdict."""
from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from racegate.advice import advice_for
from racegate.stats import discovery_points, new_bucket_chance


@dataclass(frozen=True)
class RenderOptions:
    """Optional context some formats use; every format renders without it."""

    base_dir: Path | None = None  # directory holding racegate.json: raw_report paths are relative to it
    color: bool = False  # ANSI colour (console only)


# Severity rank by kind (first match wins; lower is worse): memory corruption, then races, then hangs and misuse.
_SEVERITY = (
    ("crash", 0),
    ("use-after-free", 0),
    ("vptr", 0),
    ("data race", 1),
    ("race on", 1),
    ("test failure", 2),
    ("lock-order-inversion", 3),
    ("deadlock", 3),
    ("timeout", 3),
    ("mutex", 4),
    ("signal", 4),
    ("thread leak", 5),
)
SEVERITY_NAMES = ("critical", "high", "high", "medium", "low", "low")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def severity(kind: str) -> int:
    k = kind.lower()
    for needle, rank in _SEVERITY:
        if needle in k:
            return rank
    return 2


def severity_name(kind: str) -> str:
    return SEVERITY_NAMES[severity(kind)]


def frequency_key(bucket: dict) -> tuple:
    return (-float(bucket.get("run_fraction") or 0.0), -int(bucket.get("runs_with_bucket") or 0))


def by_importance(buckets: list[dict]) -> list[dict]:
    """New before known, then by severity, then most frequent first; the id keeps the order stable."""
    return sorted(
        buckets, key=lambda b: (not b.get("new", True), severity(b.get("kind", "")), *frequency_key(b), b.get("id", ""))
    )


def by_severity(buckets: list[dict]) -> list[dict]:
    return sorted(buckets, key=lambda b: (severity(b.get("kind", "")), *frequency_key(b), b.get("id", "")))


def source_dir(result: dict) -> str | None:
    return (result.get("config") or {}).get("source_dir") or None


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
            return file[len(root.rstrip("/")) + 1 :]
    return None


def display_path(file: str, src: str | None) -> str:
    return repo_path(file, src) or file or "?"


def frame_location(frame: dict, src: str | None) -> str:
    where = display_path(frame.get("file") or "", src)
    return f"{where}:{frame['line']}" if frame.get("line") else where


def frame_function(frame: dict) -> str:
    return frame.get("function") or "<unknown function>"


def access_label(bucket: dict, index: int) -> str:
    """What side `index` of a bucket did, from its stack header ("Write of size 4 ..." -> "write")."""
    stacks = bucket.get("stacks") or []
    if index < len(stacks):
        header = (stacks[index].get("header") or "").strip()
        words = header.split()
        if words and words[0].lower() in ("previous", "atomic") and len(words) > 1:
            return " ".join(words[:2]).lower()
        if words:
            return words[0].lower()
    return "location"


def runs_of_tests(bucket: dict, result: dict) -> int:
    """Runs of the tests a bucket affects (the M in "N of M runs")."""
    names = set(bucket.get("tests") or [])
    total = sum(int(t.get("runs") or 0) for t in result.get("tests") or [] if t.get("name") in names)
    if total:
        return total
    fraction = float(bucket.get("run_fraction") or 0.0)
    if fraction > 0:
        return round(int(bucket.get("runs_with_bucket") or 0) / fraction)
    return int((result.get("summary") or {}).get("runs") or 0)


def fraction(bucket: dict, result: dict) -> float:
    if bucket.get("run_fraction") is not None:
        return float(bucket["run_fraction"])
    runs = runs_of_tests(bucket, result)
    return int(bucket.get("runs_with_bucket") or 0) / runs if runs else 0.0


def percent(value: float) -> str:
    p = value * 100
    if p == 0:
        return "0%"
    if p < 0.1:
        return "<0.1%"
    return f"{p:.1f}%".replace(".0%", "%")


def frequency_text(bucket: dict, result: dict) -> str:
    n = int(bucket.get("runs_with_bucket") or 0)
    return f"{n} of {runs_of_tests(bucket, result)} runs ({percent(fraction(bucket, result))})"


def first_seen(bucket: dict) -> dict:
    return bucket.get("first_seen") or {}


def strategy(bucket: dict) -> str:
    return str(first_seen(bucket).get("schedule") or "?")


def reproduce_command(bucket: dict) -> str:
    """The first failing run's environment and command as one copy-pasteable shell line ("" when unknown)."""
    seen = first_seen(bucket)
    argv = [str(a) for a in seen.get("command") or []]
    if not argv:
        return ""
    env = [f"{k}={v}" for k, v in sorted((seen.get("env") or {}).items())]
    chdir = ["-C", seen["cwd"]] if seen.get("cwd") else []
    return shlex.join(["env", *chdir, *env, *argv] if env or chdir else argv)


def result_option(result: dict) -> list[str]:
    """`--from` for racegate replay: the result file the bucket came from, when it is known."""
    out_dir = (result.get("config") or {}).get("out_dir")
    return ["--from", str(Path(out_dir) / "racegate.json")] if out_dir else []


def replay_command(bucket: dict, result: dict) -> str:
    """Re-runs the same test, seed and schedule, perturbation included."""
    return shlex.join(["racegate", "replay", str(bucket.get("id", "")), *result_option(result)])


def advice(bucket: dict) -> dict:
    given = bucket.get("advice")
    if given and given.get("fix"):
        return given
    return advice_for(
        bucket.get("kind", ""), bucket.get("frames") or [], bucket.get("signature") or [], bucket.get("stacks") or []
    )


def chance(result: dict) -> float:
    summary = result.get("summary") or {}
    if summary.get("new_bucket_chance") is not None:
        return float(summary["new_bucket_chance"])
    once = sum(1 for b in result.get("buckets") or [] if int(b.get("runs_with_bucket") or 0) == 1)
    return new_bucket_chance(once, int(summary.get("runs") or 0))


def discovery(result: dict) -> list[list[int]]:
    if result.get("discovery"):
        return [[int(x), int(y)] for x, y in result["discovery"]]
    runs = [int(first_seen(b).get("run") or 0) for b in result.get("buckets") or []]
    return discovery_points(runs, int((result.get("summary") or {}).get("runs") or 0))


def failing(result: dict) -> bool:
    """Whether the gate fails: a new bucket (races and test failures are both buckets)."""
    summary = result.get("summary") or {}
    new = summary.get("new_buckets")
    if new is None:
        new = sum(1 for b in result.get("buckets") or [] if b.get("new", True))
    return int(new) > 0


def verdict(result: dict) -> str:
    summary = result.get("summary") or {}
    buckets = result.get("buckets") or []
    new = sum(1 for b in buckets if b.get("new", True))
    known = len(buckets) - new
    tail = " (interrupted: partial results)" if summary.get("interrupted") else ""
    if failing(result):
        return f"FAIL: {new} new problem{'s' if new != 1 else ''} ({known} known){tail}"
    if known:
        return f"PASS: no new problems ({known} known, baselined){tail}"
    return f"PASS: no races or failures found{tail}"


def strip_control(text: str) -> str:
    """Drop control characters (terminal escapes, NUL) from untrusted text; keeps tab and newline."""
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    return " ".join(strip_control(str(text)).split())


def tool_version(result: dict) -> str:
    return str((result.get("tool") or {}).get("version") or "")


def stack_text(bucket: dict) -> str:
    """A TSan-like text of the bucket's stacks, for when the raw report file is not at hand."""
    lines = [f"{bucket.get('kind', '')}: {bucket.get('title', '')}"]
    for stack in bucket.get("stacks") or []:
        lines.append("")
        lines.append(f"  {stack.get('header', '')}")
        for i, frame in enumerate(stack.get("frames") or []):
            loc = frame.get("file") or "<null>"
            if frame.get("line"):
                loc += f":{frame['line']}"
            lines.append(f"    #{i} {frame_function(frame)} {loc}")
    return "\n".join(lines)


def raw_report_text(bucket: dict, options: RenderOptions, limit: int = 64 * 1024) -> str:
    """The bucket's full raw report (at most `limit` characters), else the text rebuilt from its stacks."""
    raw = bucket.get("raw_report")
    if raw and options.base_dir is not None:
        path = Path(raw) if Path(raw).is_absolute() else options.base_dir / raw
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        if text:
            return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} more characters]"
    return stack_text(bucket)
