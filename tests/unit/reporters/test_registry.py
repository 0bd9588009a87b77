from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from racegate import reporters
from racegate.result.codec import result_from_json


def test_every_format_module_has_the_interface():
    assert set(reporters.FORMATS) == {"console", "junit", "sarif", "markdown", "github", "html"}
    for name, module in reporters.FORMATS.items():
        assert module.FORMAT == name
        assert module.FILENAME is None or "/" not in module.FILENAME


def test_write_reports_writes_file_formats_only(sample, tmp_path):
    formats = ["console", "junit", "sarif", "markdown", "html", "github"]
    written = reporters.write_reports(result_from_json(sample), tmp_path, formats)
    assert sorted(p.name for p in written) == ["racegate-junit.xml", "racegate-summary.md", "racegate.html",
                                               "racegate.sarif"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    json.loads((tmp_path / "racegate.sarif").read_text())
    ET.parse(tmp_path / "racegate-junit.xml")


def test_unknown_format_is_rejected_before_writing(sample, tmp_path):
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        reporters.write_reports(result_from_json(sample), tmp_path / "out", ["html", "pdf"])
    assert not (tmp_path / "out").exists()


def test_render_by_name(sample):
    assert reporters.render("github", result_from_json(sample)).startswith("::error ")


# Only the fields every release wrote (docs/contract.md section 4): no stacks, advice, fractions, config or discovery.
MINIMAL = {
    "schema": 1, "tool": {"name": "racegate", "version": "0.1.0"},
    "summary": {"tests": 1, "runs": 10, "failed_runs": 2, "buckets": 1, "new_buckets": 1, "wall_seconds": 1.5,
                "interrupted": True},
    "tests": [{"name": "T.a", "runs": 10, "failed_runs": 2,
               "outcomes": {"pass": 8, "race": 2, "fail": 0, "crash": 0, "timeout": 0}}],
    "buckets": [{"id": "abcdefabcdef", "kind": "data race", "title": "data race in f vs g",
                 "signature": ["data race", "f", "g"],
                 "frames": [{"function": "f()", "file": "/abs/a.cpp", "line": 3},
                            {"function": "g()", "file": "/abs/a.cpp", "line": 7}],
                 "tests": ["T.a"], "occurrences": 2, "runs_with_bucket": 2,
                 "first_seen": {"test": "T.a", "run": 4, "seed": 9, "schedule": "yield", "command": ["./t"]},
                 "new": True, "raw_report": "reports/abcdefabcdef.txt"}],
}
EMPTY = {"schema": 1, "tool": {"name": "racegate", "version": "0.1.0"},
         "summary": {"tests": 0, "runs": 0, "failed_runs": 0, "buckets": 0, "new_buckets": 0, "wall_seconds": 0.0,
                     "interrupted": False}, "tests": [], "buckets": []}


@pytest.mark.parametrize("fmt", sorted(reporters.FORMATS))
def test_minimal_and_empty_results_render(fmt):
    minimal = reporters.render(fmt, result_from_json(MINIMAL))
    assert "abcdefabcdef" in minimal
    reporters.render(fmt, result_from_json(EMPTY))


def test_minimal_result_derives_missing_statistics():
    text = reporters.render("console", result_from_json(MINIMAL))
    assert "seen in 2 of 10 runs (20%)" in text
    # no bucket seen exactly once, but 10 runs are too few for that 0% to mean anything
    assert "chance the next run finds a new bucket: not known (10 completed runs)" in text
    assert "interrupted" in text.splitlines()[-1]
