"""ci/github/run.sh with the real racegate on a fresh project set up by `racegate init`: the path a GitHub job takes."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from racegate.init_project import init_project

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]

RACY_TEST = r"""
#include <thread>
int counter = 0;
void bump() { for (int i = 0; i < 1000; ++i) ++counter; }
int main() {
  std::thread a(bump), b(bump);
  a.join();
  b.join();
  return 0;
}
"""


def _racegate_works() -> bool:
    try:
        return subprocess.run([sys.executable, str(REPO / "racegate"), "--help"], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for tool in ("cmake", "ninja", "clang++"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    if not _racegate_works():
        pytest.skip("the racegate CLI does not run in this checkout yet")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(p CXX)\nfind_package(Threads REQUIRED)\nenable_testing()\n"
        "add_executable(racy racy.cpp)\ntarget_link_libraries(racy PRIVATE Threads::Threads)\n"
        "add_test(NAME racy COMMAND racy)\n")
    (proj / "racy.cpp").write_text(RACY_TEST)
    init_project(proj, REPO)
    return proj


def run_action(project: Path, tmp: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    output = tmp / "github_output"
    output.write_text("")
    summary = tmp / "step_summary"
    summary.write_text("")
    refuse = tmp / "refuse"  # installing or sysctl would change this machine: make both fail loudly
    refuse.write_text("#!/bin/sh\necho \"refused: $0 $*\" >&2\nexit 1\n")
    refuse.chmod(refuse.stat().st_mode | stat.S_IXUSR)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_", "RACEGATE_"))},
        "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(tmp), "RACEGATE_APT_GET": str(refuse), "RACEGATE_SYSCTL": str(refuse),
        "RACEGATE_SUDO": "", "CC": "clang", "CXX": "clang++", **inputs,
    }
    result = subprocess.run(["bash", str(REPO / "ci" / "github" / "run.sh")], cwd=project, env=env,
                            capture_output=True, text=True, timeout=600)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    outputs["summary"] = summary.read_text()
    return result, outputs


def test_action_script_finds_the_race_and_gates(project: Path, tmp_path: Path) -> None:
    result, outputs = run_action(project, tmp_path, INPUT_PRESET="tsan", INPUT_RUNS="2", INPUT_JOBS="2")
    log = result.stdout + result.stderr
    assert result.returncode == 1, log
    assert "::group::racegate doctor" in log and "ok    vm.mmap_rnd_bits" in log
    assert outputs["exit-code"] == "1"
    doc = json.loads(Path(outputs["result"]).read_text())
    assert [b["kind"] for b in doc["buckets"]] == ["data race"]
    assert Path(outputs["sarif-file"]).is_file()
    assert (Path(outputs["out-dir"]) / "racegate-junit.xml").is_file()
    assert outputs["summary"].strip() and "before writing a summary" not in outputs["summary"]

    result, outputs = run_action(project, tmp_path, INPUT_PRESET="tsan", INPUT_RUNS="1", INPUT_GATE="false")
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs["exit-code"] == "0"


def test_action_script_stops_on_what_doctor_finds(project: Path, tmp_path: Path) -> None:
    # The sysctl is refused (as in a container), so the old runtime cannot start: the job ends before building.
    bits = tmp_path / "mmap_rnd_bits"
    bits.write_text("32\n")
    result, outputs = run_action(project, tmp_path, INPUT_PRESET="tsan", RACEGATE_MMAP_RND_BITS_FILE=str(bits))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "FAIL  vm.mmap_rnd_bits: 32" in result.stdout
    assert "::error::racegate: doctor: vm.mmap_rnd_bits: 32" in result.stdout
    assert "exit-code" not in outputs and not (project / "build").exists()
