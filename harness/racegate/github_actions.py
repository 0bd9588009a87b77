"""Inside GitHub Actions: the annotations on the job's log and the Markdown summary on the job's page.

The one place that reads GitHub's environment variables (the reporters render text from a result alone, and
know nothing of where it goes); docs/ci.md says what a workflow gets."""
from __future__ import annotations

import os
from typing import Mapping

from racegate.reporters import RenderOptions, render
from racegate.result import Result


def publish(result: Result, options: RenderOptions, environ: Mapping[str, str] = os.environ) -> None:
    """Print the `::error`/`::warning` annotations when running in GitHub Actions, and append the Markdown
    report to the step summary when GitHub names one."""
    if environ.get("GITHUB_ACTIONS") == "true":
        print(render("github", result, options))
    summary_path = environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8", errors="backslashreplace") as summary:
            summary.write(render("markdown", result, options))
