"""GitHub Actions workflow commands (annotations) for the most important buckets, printed to stdout."""
from __future__ import annotations

from racegate.reporters import common as c

FORMAT = "github"
FILENAME = None

# GitHub shows at most 10 annotations of a kind per step; keep the most important ones.
MAX_ANNOTATIONS = 10


def escape_data(text: str) -> str:
    """Escape a command's message: % first so the escapes themselves survive."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as data, plus the `,` and `:` that delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: dict, options: c.RenderOptions | None = None) -> str:
    buckets = c.by_importance(result.get("buckets") or [])
    src = c.source_dir(result)
    lines = [_annotation(b, result, src) for b in buckets[:MAX_ANNOTATIONS]]
    left = len(buckets) - len(lines)
    if left > 0:
        lines.append(
            f"::notice::racegate: {left} more problem{'s' if left != 1 else ''} not annotated"
            " (annotations are limited to 10 per step); see the racegate report artifact"
        )
    return "".join(line + "\n" for line in lines)


def _annotation(bucket: dict, result: dict, src: str | None) -> str:
    command = "error" if bucket.get("new", True) else "warning"
    props = {}
    frames = bucket.get("frames") or []
    path = c.repo_path(frames[0].get("file") or "", src) if frames else None
    if path:
        props["file"] = path
        if frames[0].get("line"):
            props["line"] = str(frames[0]["line"])
    state = "new" if bucket.get("new", True) else "known"
    props["title"] = c.strip_control(f"racegate ({state}): {bucket.get('kind', '')}")
    message = [c.strip_control(bucket.get("title", ""))]
    for i, frame in enumerate(frames):
        message.append(f"{c.access_label(bucket, i)}: {c.frame_function(frame)} at {c.frame_location(frame, src)}")
    message.append(f"Seen in {c.frequency_text(bucket, result)}; found by strategy {c.strategy(bucket)}.")
    message.append(f"Fix: {c.advice(bucket).get('fix', '')}")
    if c.reproduce_command(bucket):
        message.append(f"Reproduce: {c.reproduce_command(bucket)}")
    message.append(f"Replay: {c.replay_command(bucket, result)}")
    if bucket.get("baseline_note") and not bucket.get("new", True):
        message.append(f"Baseline: {bucket['baseline_note']}")
    text = c.strip_control("\n".join(message))
    joined = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{command} {joined}::{escape_data(text)}"
