"""Render a result dict (racegate.json) in every output format.

Each format module exposes `FORMAT` (its name), `FILENAME` (file written into the output dir, or None for text
the CLI prints) and `render(result, options=None) -> str`.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType

from racegate.reporters import console, github, html, junit, markdown, sarif
from racegate.reporters.common import RenderOptions

FORMATS: dict[str, ModuleType] = {m.FORMAT: m for m in (console, junit, sarif, markdown, github, html)}
FILE_FORMATS = tuple(name for name, m in FORMATS.items() if m.FILENAME)

__all__ = ["FILE_FORMATS", "FORMATS", "RenderOptions", "render", "write_reports"]


def render(fmt: str, result: dict, options: RenderOptions | None = None) -> str:
    return _module(fmt).render(result, options)


def write_reports(
    result: dict, out_dir: Path, formats: list[str], options: RenderOptions | None = None
) -> list[Path]:
    """Write each requested file format into `out_dir`; printed formats (console, github) are skipped.

    Raises ValueError for an unknown format name before writing anything.
    """
    modules = [_module(f) for f in dict.fromkeys(formats)]
    opts = options or RenderOptions(base_dir=Path(out_dir))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for module in modules:
        if not module.FILENAME:
            continue
        path = out_dir / module.FILENAME
        path.write_text(module.render(result, opts), encoding="utf-8", errors="backslashreplace")
        written.append(path)
    return written


def _module(fmt: str) -> ModuleType:
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})") from None
