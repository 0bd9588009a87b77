"""cmake itself accepts racegate's presets: the repo's, the samples', and what racegate init writes into a project."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from racegate.init_project import init_project
from samples_helpers import REPO


@pytest.mark.e2e
def test_cmake_accepts_root_and_samples_presets() -> None:
    for source in (REPO, REPO / "samples"):
        proc = subprocess.run(["cmake", "--list-presets=all"], cwd=source, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        assert proc.returncode == 0, proc.stdout
        for name in ("racegate-tsan", "racegate-tsan-clang", "racegate-tsan-gcc"):
            assert f'"{name}"' in proc.stdout


@pytest.mark.e2e
def test_cmake_accepts_the_result(tmp_path: Path) -> None:
    # A project with a CMakePresets.json of its own, and racegate vendored (its presets file is all init reads).
    project = tmp_path / "proj"
    racegate = project / "third_party" / "racegate"
    (racegate / "presets").mkdir(parents=True)
    shutil.copy(REPO / "presets" / "racegate.json", racegate / "presets" / "racegate.json")
    (project / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.25)\nproject(p CXX)\nenable_testing()\n")
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake not installed")
    version = re.search(r"(\d+)\.(\d+)", subprocess.run([cmake, "--version"], capture_output=True, text=True).stdout)
    if version is None or (int(version[1]), int(version[2])) < (3, 25):
        pytest.skip("cmake older than 3.25 cannot read preset schema 6")
    (project / "CMakePresets.json").write_text(json.dumps(
        {"version": 3, "configurePresets": [{"name": "dev", "binaryDir": "${sourceDir}/build/dev"}]}))
    init_project(project, racegate)

    listed = subprocess.run([cmake, "--list-presets=all"], cwd=project, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r'^\s*"tsan"', listed.stdout, re.M)
    assert re.search(r'^\s*"dev"', listed.stdout, re.M)
