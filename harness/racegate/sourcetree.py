"""The project's source tree: where it is (the source root every report places paths under) and the lines around a
frame, read once when the result is built so a report rendered elsewhere still shows them."""
from __future__ import annotations

import subprocess
from pathlib import Path

from racegate.build import cache_value
from racegate.model import Excerpt, SourceFrame

CONTEXT_LINES = 3  # source lines kept above and below each racing line
MAX_SOURCE_BYTES = 4 * 1024 * 1024  # a larger file is generated, not written: no excerpt
MAX_LINE_CHARS = 240  # a longer line is cut: minified or generated code would swell every report


def source_root(build_dir: Path | None, source_dir: Path) -> Path:
    """The root the project's paths are relative to: the build's CMAKE_HOME_DIRECTORY (where CMake found the top
    CMakeLists.txt, wherever racegate runs from), else the git top level of the -S dir, else the -S dir itself."""
    if build_dir is not None:
        home = cache_value(build_dir, "CMAKE_HOME_DIRECTORY")
        if home and Path(home).is_dir():
            return Path(home).resolve()
    return git_toplevel(source_dir) or source_dir.resolve()


def git_toplevel(path: Path) -> Path | None:
    """The top level of the git work tree holding `path`, or None (not in one, or no git)."""
    try:
        proc = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    top = proc.stdout.strip()
    return Path(top).resolve() if proc.returncode == 0 and top else None


class SourceReader:
    """Reads the root's files once each. Only files under the root: a published report must not carry other files
    of the CI machine."""

    def __init__(self, root: str | None) -> None:
        self.root = Path(root).resolve() if root else None
        self._cache: dict[Path, list[str] | None] = {}

    def lines(self, file: str) -> list[str] | None:
        if self.root is None or not file:
            return None
        path = Path(file)
        path = (path if path.is_absolute() else self.root / path).resolve()
        if self.root not in path.parents:
            return None
        if path not in self._cache:
            try:
                ok = path.is_file() and path.stat().st_size <= MAX_SOURCE_BYTES
                self._cache[path] = path.read_text(encoding="utf-8", errors="replace").splitlines() if ok else None
            except OSError:
                self._cache[path] = None
        return self._cache[path]

    def excerpt(self, frame: SourceFrame | None, context: int = CONTEXT_LINES) -> Excerpt | None:
        """The lines around `frame`'s line, or None when its file is not the project's or the line is not in it."""
        if frame is None or not frame.line:
            return None
        lines = self.lines(frame.file)
        if not lines or not 1 <= frame.line <= len(lines):
            return None
        first, last = max(1, frame.line - context), min(len(lines), frame.line + context)
        return Excerpt(file=frame.file, line=frame.line, first=first,
                       lines=[_cut(text.expandtabs(4)) for text in lines[first - 1:last]])


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + " …"
