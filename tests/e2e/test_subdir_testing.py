"""A project that calls enable_testing() only in tests/ (tests/subdir_testing, field #28), built with racegate's
presets under clang and gcc: `run --preset` finds its tests in the subdir and its race, and so does `--build-dir`
naming the subdir, with the compile flags read from the cache at the top of its tree (no false warning)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from samples_helpers import REPO, TESTS, TEST_CXX, racegate

pytestmark = pytest.mark.e2e

NOT_TSAN = "is not built with -fsanitize=thread"


@pytest.fixture(params=list(TEST_CXX))
def compiler(request: pytest.FixtureRequest) -> str:
    if not shutil.which(TEST_CXX[request.param]):
        pytest.skip(f"{TEST_CXX[request.param]} not installed")
    return request.param


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(TESTS / "subdir_testing", project)
    presets = json.loads((project / "CMakePresets.json").read_text())
    presets["include"] = [str(REPO / "presets" / "racegate.json")]  # the copy is elsewhere: the path must hold
    (project / "CMakePresets.json").write_text(json.dumps(presets))
    return project


def test_tests_enabled_only_in_a_subdir_are_found_both_ways(tmp_path, compiler):
    project = _project(tmp_path)
    preset = f"tsan-{compiler}"
    build = project / "build" / preset
    runs = ("--runs", "3", "--jobs", "2", "--seed", "1", "--format", "junit")
    by_preset = racegate("run", "--preset", preset, *runs, "--out", str(tmp_path / "preset"), cwd=project)
    by_subdir = racegate("run", "--build-dir", str(build / "tests"), *runs, "--out", str(tmp_path / "subdir"),
                         cwd=project)
    for proc, out in ((by_preset, tmp_path / "preset"), (by_subdir, tmp_path / "subdir")):
        assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert NOT_TSAN not in proc.stderr
        result = json.loads((out / "racegate.json").read_text())
        assert [t["name"] for t in result["tests"]] == ["counter_test"]
        assert [b["kind"] for b in result["buckets"]] == ["data race"]
        # The compiler and the source root come from the top of the tree the tests belong to.
        assert result["config"]["compiler"].startswith("Clang" if compiler == "clang" else "GNU")
        assert Path(result["config"]["source_root"]) == project.resolve()
