"""Inside GitHub Actions: the annotations on the job's log and the Markdown summary on the job's page.

The one place that reads GitHub's environment variables (the reporters render text from a result alone, and
know nothing of where it goes); docs/ci.md says what a workflow gets."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

from racegate.reporters import RenderOptions, render
from racegate.result import Result


def publish(result: Result, options: RenderOptions, environ: Mapping[str, str] = os.environ) -> None:
    """Print the `::error`/`::warning` annotations when running in GitHub Actions, and append the Markdown
    report to the step summary when GitHub names one."""
    if environ.get("GITHUB_ACTIONS") == "true":
        # Annotations land on a line by its path in the repository, not in the CMake project under it.
        print(render("github", result, replace(options, repository_root=environ.get("GITHUB_WORKSPACE") or None)))
    summary_path = environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8", errors="backslashreplace") as summary:
            summary.write(render("markdown", result, options))


def source_url(source_root: Path, environ: Mapping[str, str] = os.environ) -> str | None:
    """In GitHub Actions, the web address of `source_root` at the commit the job checked out
    ($GITHUB_SERVER_URL/$GITHUB_REPOSITORY/blob/$GITHUB_SHA, then the root's path in $GITHUB_WORKSPACE when it is a
    subdirectory of the checkout); None outside Actions. A location's link is this, "/", its path and "#L<n>"."""
    parts = [environ.get(k, "").strip("/") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")]
    if not all(parts):
        return None
    url = f"{parts[0]}/{parts[1]}/blob/{parts[2]}"
    workspace = environ.get("GITHUB_WORKSPACE")
    if workspace:
        try:
            inside = source_root.resolve().relative_to(Path(workspace).resolve())
        except ValueError:
            return None  # the tree is not the repository's checkout: no address on GitHub would be right
        if inside.parts:
            url += "/" + quote(inside.as_posix())
    return url
