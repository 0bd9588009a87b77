"""GitHub Actions workflow commands (annotations) for the most important buckets, printed to stdout."""
from __future__ import annotations

import posixpath

from racegate.reporters.interface import RenderOptions
from racegate.reporters.text import count_of, repo_path, strip_control
from racegate.reporters.view import BucketView, by_importance, detail
from racegate.result import Result

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


def render(result: Result, options: RenderOptions | None = None) -> str:
    views = by_importance(result)
    repository = (options or RenderOptions()).repository_root
    lines = [_annotation(v, result.config.root, repository) for v in views[:MAX_ANNOTATIONS]]
    left = len(views) - len(lines)
    if left > 0:
        lines.append(
            f"::notice::racegate: {count_of(left, 'more problem')} not annotated"
            " (annotations are limited to 10 per step); see the racegate report artifact"
        )
    return "".join(line + "\n" for line in lines)


def annotation_path(file: str, src: str | None, repository: str | None) -> str | None:
    """The path GitHub places an annotation by: relative to the repository's checkout when racegate knows it (the
    source root may be a subdirectory of it), else to the source root; None for a file outside both."""
    if not repository:
        return repo_path(file, src)
    if posixpath.isabs(file):
        return repo_path(file, repository)
    inside = repo_path(file, src)
    if inside is None:
        return None
    prefix = repo_path(src, repository) if src else None  # the source root's path in the repository
    return posixpath.join(prefix, inside) if prefix else inside


def _annotation(v: BucketView, src: str | None, repository: str | None) -> str:
    command = "error" if v.new else "warning"
    props = {}
    path = annotation_path(v.sides[0].frame.file, src, repository) if v.sides else None
    if path:
        props["file"] = path
        if v.sides[0].frame.line:
            props["line"] = str(v.sides[0].frame.line)
    state = "new" if v.new else "known"
    props["title"] = strip_control(f"racegate ({state}): {v.kind}")
    text = strip_control("\n".join([v.title, *_lines(v)]))
    joined = ",".join(f"{k}={escape_property(val)}" for k, val in props.items())
    return f"::{command} {joined}::{escape_data(text)}"


def _lines(v: BucketView) -> list[str]:
    """The detail lines, each side followed by its racing line itself (the annotation sits on the first one; the
    other may be in another file)."""
    lines, sides = [], iter(v.sides)
    for line in detail(v):
        lines.append(str(line))
        if line.part == "side":
            x = next(sides).excerpt
            if x is not None:
                lines.append(f"  {x.line} | {x.lines[x.line - x.first].strip()}")
    return lines
