"""End-to-end: `racegate init` on a copy of samples/ without presets, then `racegate run --preset tsan`."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from samples_helpers import REPO, SAMPLES

pytestmark = pytest.mark.e2e


def test_init_then_run_preset_tsan_finds_the_race(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(SAMPLES / "CMakeLists.txt", project)
    for part in ("racy", "fixed"):
        shutil.copytree(SAMPLES / part, project / part)
    launcher = [sys.executable, str(REPO / "racegate")]
    init = subprocess.run([*launcher, "init", str(project)], capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    assert (project / "CMakePresets.json").is_file() and (project / ".github/workflows/racegate.yml").is_file()
    run = subprocess.run([*launcher, "run", "--preset", "tsan", "-R", "WordCounter", "--runs", "2", "--jobs", "2"],
                         cwd=project, capture_output=True, text=True, timeout=900)
    assert run.returncode == 1, run.stderr[-3000:]
    assert (project / "build" / "tsan").is_dir()
    result = json.loads((project / "racegate-out" / "racegate.json").read_text())
    assert {t["name"] for t in result["tests"]} == {"WordCounterRace.TwoThreadsCountDifferentDocuments",
                                                    "MutexWordCounterFixed.FourThreadsCountDifferentDocuments",
                                                    "ShardedWordCounterFixed.FourThreadsCountOverlappingWords"}
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "data race" and bucket["tests"] == ["WordCounterRace.TwoThreadsCountDifferentDocuments"]
