"""The source root every report places paths under (CMAKE_HOME_DIRECTORY, else git, else -S), and the source lines
read from it."""
from __future__ import annotations

import subprocess

from racegate.model import SourceFrame
from racegate.sourcetree import CONTEXT_LINES, SourceReader, git_toplevel, source_root


def _cache(build, home) -> None:
    build.mkdir(parents=True, exist_ok=True)
    (build / "CMakeCache.txt").write_text(f"CMAKE_BUILD_TYPE:STRING=Debug\nCMAKE_HOME_DIRECTORY:INTERNAL={home}\n")


def _git_repo(path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)


def test_the_builds_home_directory_wins_over_git_and_the_working_dir(tmp_path):
    project, elsewhere = tmp_path / "project", tmp_path / "ci-work"
    project.mkdir()
    _git_repo(elsewhere)
    _cache(tmp_path / "out" / "build", project)
    assert source_root(tmp_path / "out" / "build", elsewhere) == project.resolve()


def test_without_a_cache_the_git_top_level_of_the_source_dir(tmp_path):
    repo = tmp_path / "repo"
    _git_repo(repo)
    (repo / "sub").mkdir()
    assert git_toplevel(repo / "sub") == repo.resolve()
    assert source_root(tmp_path / "no-build", repo / "sub") == repo.resolve()
    assert source_root(None, repo / "sub") == repo.resolve()


def test_a_cache_naming_a_dir_that_is_gone_falls_back_to_git(tmp_path):
    repo = tmp_path / "repo"
    _git_repo(repo)
    _cache(tmp_path / "build", tmp_path / "moved-away")
    assert source_root(tmp_path / "build", repo) == repo.resolve()


def test_outside_git_and_without_a_build_the_source_dir_itself(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_toplevel(plain) is None
    assert source_root(None, plain) == plain.resolve()


def test_an_excerpt_is_the_lines_around_the_racing_line(tmp_path):
    (tmp_path / "q.cpp").write_text("".join(f"line {n}\n" for n in range(1, 21)))
    reader = SourceReader(str(tmp_path))
    x = reader.excerpt(SourceFrame("f", str(tmp_path / "q.cpp"), 10))
    assert x is not None and x.line == 10 and x.first == 10 - CONTEXT_LINES
    assert x.numbered[CONTEXT_LINES] == (10, "line 10") and len(x.lines) == 2 * CONTEXT_LINES + 1
    # relative to the root as well, and cut at the file's ends
    top = reader.excerpt(SourceFrame("f", "q.cpp", 1))
    assert top is not None and top.first == 1 and top.lines[0] == "line 1"
    assert reader.excerpt(SourceFrame("f", "q.cpp", 21)) is None


def test_no_excerpt_of_files_outside_the_root(tmp_path):
    root, other = tmp_path / "root", tmp_path / "secret.txt"
    root.mkdir()
    other.write_text("token\n")
    reader = SourceReader(str(root))
    assert reader.excerpt(SourceFrame("f", str(other), 1)) is None
    assert reader.excerpt(SourceFrame("f", "../secret.txt", 1)) is None
    assert SourceReader(None).excerpt(SourceFrame("f", str(other), 1)) is None
