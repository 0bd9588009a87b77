"""A project configured in one directory and racegate run from another: every location is placed under the
project's own tree (CMAKE_HOME_DIRECTORY), SARIF is repo-relative and valid, the racing lines are in the result,
and the bucket ids are the ones a run from the source tree gives."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from samples_helpers import SARIF_SCHEMA, build_tsan_cmake_project, racegate

pytestmark = pytest.mark.e2e

WRITE_LINE = "    g_flags = g_flags | (1 << 2);  // <write> & `mark`"
READ_LINE = "    return g_flags < 3 ? 0 : 1;  // | read |"
# Volatile and not inlined: the optimiser keeps both accesses and their lines.
SOURCE = f"""#include <cstdio>
#include <thread>

volatile int g_flags = 0;

__attribute__((noinline)) void set_flags() {{
{WRITE_LINE}
}}

__attribute__((noinline)) int read_flags() {{
{READ_LINE}
}}

int main() {{
    std::thread writer(set_flags);
    int seen = read_flags();
    writer.join();
    std::printf("%d\\n", seen);
    return 0;
}}
"""
CMAKE = """cmake_minimum_required(VERSION 3.16)
project(flags CXX)
enable_testing()
add_executable(flags_test src/flags.cpp)
add_test(NAME flags_test COMMAND flags_test)
"""


def _project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "flags.cpp").write_text(SOURCE)
    (root / "CMakeLists.txt").write_text(CMAKE)
    return root


def _run(build: Path, out: Path, cwd: Path) -> dict:
    proc = racegate("run", "--build-dir", str(build), "--out", str(out), "--runs", "3", "--seed", "5", "--jobs", "1",
                    "--format", "sarif,markdown,html", cwd=cwd)
    assert proc.returncode == 1, proc.stderr[-4000:]
    return json.loads((out / "racegate.json").read_text())


@pytest.mark.parametrize("compiler", ["clang", "gcc"])
def test_run_from_elsewhere_places_every_location_in_the_project(tmp_path: Path, compiler: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    project = _project(tmp_path / "project")
    build = build_tsan_cmake_project(compiler, project, tmp_path / "builds" / "tsan")
    elsewhere = tmp_path / "ci-work"
    elsewhere.mkdir()
    subprocess.run(["git", "init", "-q", str(elsewhere)], check=True)  # a git tree that is not the project's

    # As a GitHub Actions runner sets them (GITHUB_ACTIONS left out: no annotations on this test's stdout).
    for key, value in (("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_REPOSITORY", "acme/flags"),
                       ("GITHUB_SHA", "0123abc"), ("GITHUB_WORKSPACE", str(project))):
        monkeypatch.setenv(key, value)
    result = _run(build, elsewhere / "out", elsewhere)
    assert result["config"]["source_url"] == "https://github.com/acme/flags/blob/0123abc"
    assert result["config"]["source_dir"] == str(elsewhere.resolve())
    assert result["config"]["source_root"] == str(project.resolve())
    races = [b for b in result["buckets"] if b["kind"] == "data race"]
    assert races, result["buckets"]
    # the racing lines, read from the project when the result was built
    lines = [line for b in races for x in b["excerpts"] if x for line in x["lines"]]
    assert WRITE_LINE in lines and READ_LINE in lines

    sarif = json.loads((elsewhere / "out" / "racegate.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    for res in run["results"]:
        artifact = res["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%" and not artifact["uri"].startswith(("/", "file:")), res
        for related in res.get("relatedLocations", []):
            assert related["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    snippets = {res["locations"][0]["physicalLocation"]["region"].get("snippet", {}).get("text")
                for res in run["results"]}
    snippets |= {r["physicalLocation"].get("region", {}).get("snippet", {}).get("text")
                 for res in run["results"] for r in res.get("relatedLocations", [])}
    assert {WRITE_LINE, READ_LINE} <= snippets

    page = (elsewhere / "out" / "racegate.html").read_text()
    assert "g_flags = g_flags | (1 &lt;&lt; 2);  // &lt;write&gt; &amp; `mark`" in page
    assert "return g_flags &lt; 3 ? 0 : 1;  // | read |" in page
    summary = (elsewhere / "out" / "racegate-summary.md").read_text()
    assert "g_flags = g_flags | (1 &lt;&lt; 2);" in summary and "src/flags.cpp" in summary
    for line in (7, 11):  # both racing lines, linked to the file at the commit
        link = f"https://github.com/acme/flags/blob/0123abc/src/flags.cpp#L{line}"
        assert f"({link})" in summary and f'href="{link}"' in page

    # The same build run from the project's own tree: the same buckets.
    at_home = _run(build, tmp_path / "out-home", project)
    assert sorted(b["id"] for b in at_home["buckets"]) == sorted(b["id"] for b in result["buckets"])


def test_a_command_run_takes_the_git_top_level_of_the_source_dir(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    proc = racegate("run", "-S", str(repo / "sub"), "--runs", "1", "--out", str(tmp_path / "out"), "--format", "sarif",
                    "--", "true", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads((tmp_path / "out" / "racegate.json").read_text())["config"]
    assert config["source_dir"] == str((repo / "sub").resolve()) and config["source_root"] == str(repo.resolve())
