"""Render a result in every output format: the registry of formats, and the writing of their files.

A format is a module of this package that satisfies `interface.Reporter` (`FORMAT`, `FILENAME`, `render`);
adding one is that module and its line in FORMATS. What the formats render from is shared: `view` (one view per
bucket, the test rows), `sentences` (what every format says of the session), `text` (text and path helpers) and
`words` (the words for the result's statuses, cut causes, purposes and session ends).
"""
from __future__ import annotations

from pathlib import Path

from racegate.reporters import console, github, html, junit, markdown, sarif
from racegate.reporters.interface import RenderOptions, Reporter
from racegate.result import Result

FORMATS: dict[str, Reporter] = {
    console.FORMAT: console,
    junit.FORMAT: junit,
    sarif.FORMAT: sarif,
    markdown.FORMAT: markdown,
    github.FORMAT: github,
    html.FORMAT: html,
}
FILE_FORMATS = tuple(name for name, reporter in FORMATS.items() if reporter.FILENAME)

__all__ = ["FILE_FORMATS", "FORMATS", "RenderOptions", "render", "write_reports"]


def render(fmt: str, result: Result, options: RenderOptions | None = None) -> str:
    return _reporter(fmt).render(result, options)


def write_reports(result: Result, out_dir: Path, formats: list[str],
                  options: RenderOptions | None = None) -> list[Path]:
    """Write each requested file format into `out_dir`; printed formats (console, github) are skipped.

    Raises ValueError for an unknown format name before writing anything.
    """
    reporters = [_reporter(f) for f in dict.fromkeys(formats)]
    opts = options or RenderOptions(base_dir=Path(out_dir))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for reporter in reporters:
        if not reporter.FILENAME:
            continue
        path = out_dir / reporter.FILENAME
        path.write_text(reporter.render(result, opts), encoding="utf-8", errors="backslashreplace")
        written.append(path)
    return written


def _reporter(fmt: str) -> Reporter:
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})") from None
