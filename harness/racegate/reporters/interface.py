"""What a report format is: a module with `FORMAT`, `FILENAME` and `render`, and the options it may read.
The registry and the writing of report files are the package's (reporters/__init__.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from racegate.result import Result


@dataclass(frozen=True)
class RenderOptions:
    """Optional context some formats use; every format renders without it."""

    base_dir: Path | None = None  # directory holding racegate.json: raw_report paths are relative to it
    color: bool = False  # ANSI colour (console only)
    # The repository's checkout on this machine (in GitHub Actions, $GITHUB_WORKSPACE): annotations name files
    # relative to it, which differs from the source root when the CMake project is a subdirectory. None: the root.
    repository_root: str | None = None


class Reporter(Protocol):
    """A report format: a module with these three names, and one line in the registry (reporters/__init__.py)."""

    @property
    def FORMAT(self) -> str:
        """Its name for --format."""

    @property
    def FILENAME(self) -> str | None:
        """The file it writes into the output dir; None for text the CLI prints."""

    def render(self, result: Result, options: RenderOptions | None = None) -> str: ...
