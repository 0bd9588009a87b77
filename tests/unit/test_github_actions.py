"""Inside GitHub Actions racegate annotates the job's log and appends to the step summary; elsewhere neither."""
from __future__ import annotations

from dataclasses import replace

from racegate import github_actions
from racegate.model import SourceFrame
from racegate.reporters import RenderOptions
from racegate.result import RunConfig

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


GITHUB = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/queue", "GITHUB_SHA": "0123abc"}


def test_source_url_is_the_tree_at_the_commit(tmp_path):
    assert github_actions.source_url(tmp_path, GITHUB) == "https://github.com/acme/queue/blob/0123abc"
    work = {**GITHUB, "GITHUB_WORKSPACE": str(tmp_path)}
    assert github_actions.source_url(tmp_path, work) == "https://github.com/acme/queue/blob/0123abc"
    # a project in a subdirectory of the checkout: its path in the repository follows the commit
    (tmp_path / "libs" / "my queue").mkdir(parents=True)
    assert (github_actions.source_url(tmp_path / "libs" / "my queue", work)
            == "https://github.com/acme/queue/blob/0123abc/libs/my%20queue")


def test_no_source_url_outside_actions_or_outside_the_checkout(tmp_path):
    assert github_actions.source_url(tmp_path, {}) is None
    assert github_actions.source_url(tmp_path, {**GITHUB, "GITHUB_SHA": ""}) is None
    (tmp_path / "checkout").mkdir()
    assert github_actions.source_url(tmp_path, {**GITHUB, "GITHUB_WORKSPACE": str(tmp_path / "checkout")}) is None


def _annotated_file(result, environ, capsys) -> str:
    github_actions.publish(result, RenderOptions(), environ={"GITHUB_ACTIONS": "true", **environ})
    first = capsys.readouterr().out.splitlines()[0]
    return dict(p.split("=", 1) for p in first.split(" ", 1)[1].split("::", 1)[0].split(","))["file"]


def test_annotations_name_the_file_in_the_repository_when_the_project_is_a_subdirectory(capsys):
    # The CMake project is cpp/ of the checkout: the racing line is cpp/src/a.cpp in the repository.
    for frame_file in ("/work/repo/cpp/src/a.cpp", "src/a.cpp"):
        b = replace(bucket("a" * 16, "T.a", 1), frames=[SourceFrame("f", frame_file, 3)])
        result = make_result([entry_for_test("T.a", 4, 1)], [b],
                             config=RunConfig(seed=1, source_dir="/work/repo/cpp", source_root="/work/repo/cpp"))
        assert _annotated_file(result, {"GITHUB_WORKSPACE": "/work/repo"}, capsys) == "cpp/src/a.cpp"
        # Without the checkout's place, paths stay relative to the source root, as before.
        assert _annotated_file(result, {}, capsys) == "src/a.cpp"
    # The project at the checkout's top: nothing to add.
    b = replace(bucket("a" * 16, "T.a", 1), frames=[SourceFrame("f", "/work/repo/src/a.cpp", 3)])
    top = make_result([entry_for_test("T.a", 4, 1)], [b],
                      config=RunConfig(seed=1, source_dir="/work/repo", source_root="/work/repo"))
    assert _annotated_file(top, {"GITHUB_WORKSPACE": "/work/repo"}, capsys) == "src/a.cpp"
