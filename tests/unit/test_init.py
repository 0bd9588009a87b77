"""`racegate init`: CMakePresets.json creation and editing, the workflow file, refusals, relative paths."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from racegate.init_project import InitError, init_project

from samples_helpers import REPO


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.25)\nproject(p CXX)\nenable_testing()\n")
    return proj


def vendor(where: Path, presets: dict | None = None) -> Path:
    """A racegate checkout at `where`: just the presets file init reads."""
    (where / "presets").mkdir(parents=True)
    if presets is None:
        shutil.copy(REPO / "presets" / "racegate.json", where / "presets" / "racegate.json")
    else:
        (where / "presets" / "racegate.json").write_text(json.dumps(presets))
    return where


@pytest.fixture
def racegate(project: Path) -> Path:
    return vendor(project / "third_party" / "racegate")


def presets_of(project: Path) -> dict:
    return json.loads((project / "CMakePresets.json").read_text())


def test_creates_presets_and_workflow(project: Path, racegate: Path) -> None:
    lines = init_project(project, racegate)

    assert presets_of(project) == {
        "version": 6,
        "include": ["third_party/racegate/presets/racegate.json"],
        "configurePresets": [{"name": "tsan", "inherits": "racegate-tsan"}],
        "buildPresets": [{"name": "tsan", "configurePreset": "tsan"}],
        "testPresets": [{"name": "tsan", "inherits": "racegate-tsan", "configurePreset": "tsan"}],
    }
    workflow = yaml.safe_load((project / ".github/workflows/racegate.yml").read_text())
    steps = workflow["jobs"]["racegate"]["steps"]
    action = next(s for s in steps if s.get("uses", "").endswith("/ci/github"))
    assert action["uses"] == "./third_party/racegate/ci/github"
    assert action["with"]["preset"] == "tsan"
    assert any(s.get("with", {}).get("submodules") == "recursive" for s in steps)
    assert any(line.startswith("CMakePresets.json: created") for line in lines)
    assert any(line.startswith(".github/workflows/racegate.yml: created") for line in lines)
    assert not any("submodule add" in line for line in lines)  # vendored: no advice needed


def test_edit_keeps_everything_and_order(project: Path, racegate: Path) -> None:
    original = {
        "version": 3,
        "cmakeMinimumRequired": {"major": 3, "minor": 21},
        "configurePresets": [
            {"name": "dev", "generator": "Ninja", "binaryDir": "${sourceDir}/build/dev"},
            {"name": "release", "inherits": "dev", "cacheVariables": {"CMAKE_BUILD_TYPE": "Release"}},
        ],
        "buildPresets": [{"name": "dev", "configurePreset": "dev"}],
        "vendor": {"example.com/ide": {"keep": [1, 2, 3]}},
    }
    (project / "CMakePresets.json").write_text(json.dumps(original, indent=4) + "\n")

    lines = init_project(project, racegate)

    text = (project / "CMakePresets.json").read_text()
    doc = json.loads(text)
    assert list(doc) == ["version", "cmakeMinimumRequired", "include", "configurePresets", "buildPresets",
                         "vendor", "testPresets"]
    assert doc["version"] == 6
    assert doc["cmakeMinimumRequired"] == original["cmakeMinimumRequired"]
    assert doc["vendor"] == original["vendor"]
    assert doc["include"] == ["third_party/racegate/presets/racegate.json"]
    assert doc["configurePresets"] == original["configurePresets"] + [{"name": "tsan", "inherits": "racegate-tsan"}]
    assert doc["buildPresets"] == original["buildPresets"] + [{"name": "tsan", "configurePreset": "tsan"}]
    assert [p["name"] for p in doc["testPresets"]] == ["tsan"]
    assert '\n    "version": 6' in text  # the file's 4-space indentation survives
    assert "CMakePresets.json: version 3 -> 6 (needs CMake 3.25+)" in lines


def test_appends_to_existing_include_and_keeps_newer_version(project: Path, racegate: Path) -> None:
    (project / "CMakePresets.json").write_text(json.dumps({"version": 8, "include": ["cmake/common.json"]}))
    init_project(project, racegate)
    doc = presets_of(project)
    assert doc["version"] == 8
    assert doc["include"] == ["cmake/common.json", "third_party/racegate/presets/racegate.json"]


def test_a_presets_file_with_a_byte_order_mark_is_read_as_cmake_reads_it(project: Path, racegate: Path) -> None:
    (project / "CMakePresets.json").write_text("\ufeff" + json.dumps({"version": 6, "include": ["a.json"]}),
                                               encoding="utf-8")
    init_project(project, racegate)
    assert presets_of(project)["include"] == ["a.json", "third_party/racegate/presets/racegate.json"]


def test_second_run_changes_nothing(project: Path, racegate: Path) -> None:
    init_project(project, racegate)
    presets_before = (project / "CMakePresets.json").read_bytes()
    workflow_before = (project / ".github/workflows/racegate.yml").read_bytes()

    lines = init_project(project, racegate)

    assert (project / "CMakePresets.json").read_bytes() == presets_before
    assert (project / ".github/workflows/racegate.yml").read_bytes() == workflow_before
    assert "CMakePresets.json: already set up, unchanged" in lines
    assert ".github/workflows/racegate.yml: exists, left as is" in lines


def test_adds_only_what_is_missing(project: Path, racegate: Path) -> None:
    """A hand-written setup (list-form inherits, include spelled with ./) is recognised, not duplicated."""
    (project / "CMakePresets.json").write_text(json.dumps({
        "version": 6,
        "include": ["./third_party/racegate/presets/racegate.json"],
        "configurePresets": [{"name": "tsan", "inherits": ["racegate-tsan"], "environment": {"X": "1"}}],
    }))
    lines = init_project(project, racegate)
    doc = presets_of(project)
    assert doc["include"] == ["./third_party/racegate/presets/racegate.json"]
    assert doc["configurePresets"] == [{"name": "tsan", "inherits": ["racegate-tsan"], "environment": {"X": "1"}}]
    assert [p["name"] for p in doc["buildPresets"]] == ["tsan"]
    assert [p["name"] for p in doc["testPresets"]] == ["tsan"]
    assert "CMakePresets.json: added build preset 'tsan'" in lines
    assert not any("include" in line for line in lines if line.startswith("CMakePresets.json"))


def test_existing_workflow_and_user_presets_are_left_alone(project: Path, racegate: Path) -> None:
    workflow = project / ".github/workflows/racegate.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: mine\n")
    user = project / "CMakeUserPresets.json"
    user.write_text('{"version": 6, "configurePresets": [{"name": "local", "inherits": "tsan"}]}\n')

    lines = init_project(project, racegate)

    assert workflow.read_text() == "name: mine\n"
    assert user.read_text() == '{"version": 6, "configurePresets": [{"name": "local", "inherits": "tsan"}]}\n'
    assert "CMakeUserPresets.json: left as is" in lines
    assert presets_of(project)["configurePresets"][0]["name"] == "tsan"


def test_test_preset_inherits_only_what_racegate_defines(project: Path) -> None:
    racegate = vendor(project / "rg", {"version": 6, "configurePresets": [{"name": "racegate-tsan"}]})
    init_project(project, racegate)
    assert presets_of(project)["testPresets"] == [{"name": "tsan", "configurePreset": "tsan"}]


def test_racegate_outside_the_project_gets_relative_path_and_advice(tmp_path: Path, project: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    vendor(tmp_path / "tools" / "racegate")
    monkeypatch.chdir(tmp_path)
    lines = init_project(Path("proj"), Path("tools/racegate"))  # relative arguments, resolved from cwd

    assert presets_of(project)["include"] == ["../tools/racegate/presets/racegate.json"]
    assert "uses: ./../tools/racegate/ci/github" in (project / ".github/workflows/racegate.yml").read_text()
    assert any("outside the project" in line and "git submodule add" in line for line in lines)


def test_symlinked_vendor_dir_counts_as_vendored(tmp_path: Path, project: Path) -> None:
    real = vendor(tmp_path / "elsewhere" / "racegate")
    (project / "third_party").mkdir()
    (project / "third_party" / "racegate").symlink_to(real)
    lines = init_project(project, project / "third_party" / "racegate")
    assert presets_of(project)["include"] == ["third_party/racegate/presets/racegate.json"]
    assert not any("outside the project" in line for line in lines)


def test_racegate_checkout_as_the_project_uses_plain_paths(project: Path) -> None:
    vendor(project)
    init_project(project, project)
    assert presets_of(project)["include"] == ["presets/racegate.json"]
    assert "uses: ./ci/github\n" in (project / ".github/workflows/racegate.yml").read_text()


# --- refusals: one-line message, nothing written ------------------------------------------------

def assert_refused(project: Path, racegate: Path, match: str) -> None:
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    with pytest.raises(InitError, match=match) as info:
        init_project(project, racegate)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_refuses_without_cmakelists(project: Path, racegate: Path) -> None:
    (project / "CMakeLists.txt").unlink()
    assert_refused(project, racegate, "no CMakeLists.txt")
    assert not (project / "CMakePresets.json").exists()


def test_refuses_when_racegate_dir_has_no_presets(project: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_refused(project, tmp_path / "empty", "presets/racegate.json not found")


def test_refuses_unparsable_presets(project: Path, racegate: Path) -> None:
    (project / "CMakePresets.json").write_text('{"version": 6, "configurePresets": [\n')
    assert_refused(project, racegate, "cannot parse .*CMakePresets.json")


@pytest.mark.parametrize("doc, match", [
    ({"version": 6, "configurePresets": [{"name": "tsan", "cacheVariables": {}}]},
     "configure preset 'tsan' that is not racegate's"),
    ({"version": 6, "buildPresets": [{"name": "tsan", "configurePreset": "asan"}]},
     "build preset 'tsan' that is not racegate's"),
    ({"version": 6, "include": ["other/racegate/presets/racegate.json"]}, "already includes another racegate"),
    ({"version": "6"}, "no integer \"version\""),
    ({"version": 6, "configurePresets": {"name": "tsan"}}, "\"configurePresets\" is not a list"),
    ([1, 2], "not a JSON object"),
])
def test_refuses_conflicts(project: Path, racegate: Path, doc: object, match: str) -> None:
    (project / "CMakePresets.json").write_text(json.dumps(doc))
    assert_refused(project, racegate, match)
    assert not (project / ".github").exists()


def test_refuses_tsan_in_user_presets(project: Path, racegate: Path) -> None:
    (project / "CMakeUserPresets.json").write_text('{"version": 6, "configurePresets": [{"name": "tsan"}]}')
    assert_refused(project, racegate, "CMakeUserPresets.json already defines a 'tsan' preset")
