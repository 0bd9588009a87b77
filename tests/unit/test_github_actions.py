"""Inside GitHub Actions racegate annotates the job's log and appends to the step summary; elsewhere neither."""
from __future__ import annotations

from racegate import github_actions
from racegate.reporters import RenderOptions

from result_factory import bucket, entry_for_test, make_result


def test_annotations_and_summary_only_where_github_says(tmp_path, capsys):
    result = make_result([entry_for_test("T.a", 4, 1)], [bucket("a" * 16, "T.a", 1)])
    github_actions.publish(result, RenderOptions(), environ={})
    assert capsys.readouterr().out == ""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    github_actions.publish(result, RenderOptions(), environ={"GITHUB_ACTIONS": "true",
                                                             "GITHUB_STEP_SUMMARY": str(summary)})
    assert capsys.readouterr().out.startswith("::")
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "T.a" in text
