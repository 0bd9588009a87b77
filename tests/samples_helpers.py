"""Helpers shared by the tests: TSan builds of samples/, running their binaries, watching processes.

Import from here (`from samples_helpers import REPO, run_gtest`), not from conftest: tests/ holds
more than one conftest.py, and whichever was imported last owns the module name `conftest`.

    build_samples("racegate-tsan-clang") -> Path   # configured + built once per session
    run_gtest(build_dir, "word_counter_test", "WordCounterRace.*") -> GtestRun

Builds go to a temporary directory that conftest.py removes at the end of the session. Set
RACEGATE_TEST_BUILD_ROOT=/some/dir to keep them there and reuse them across sessions
(cmake only rebuilds what changed).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
PRESETS_FILE = REPO / "presets" / "racegate.json"
COMPILER_PRESETS = ("racegate-tsan-clang", "racegate-tsan-gcc")
BUILD_JOBS = "2"
TSAN_MARK = "WARNING: ThreadSanitizer:"

_builds: dict[str, Path] = {}
_temp_root: Path | None = None  # created on first use, see remove_temp_builds()


def _build_root() -> Path:
    global _temp_root
    persistent = os.environ.get("RACEGATE_TEST_BUILD_ROOT")
    if persistent:
        return Path(persistent).resolve()
    if _temp_root is None:
        _temp_root = Path(tempfile.mkdtemp(prefix="racegate-samples-"))
    return _temp_root


def run_checked(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
                timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Runs argv, fails the test with the command's output when it exits non-zero."""
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{argv} exited {proc.returncode}:\n{proc.stdout[-6000:]}", pytrace=False)
    return proc


def build_samples(preset: str) -> Path:
    """Configures and builds samples/ with `preset` (once per session); returns the build dir."""
    if preset not in _builds:
        build_dir = _build_root() / preset
        run_checked(["cmake", "--preset", preset, "-S", str(SAMPLES), "-B", str(build_dir)], cwd=REPO)
        run_checked(["cmake", "--build", str(build_dir), "-j", BUILD_JOBS])
        _builds[preset] = build_dir
    return _builds[preset]


@dataclass
class GtestRun:
    returncode: int
    output: str  # stdout + stderr: gtest's lines and TSan's reports

    @property
    def tsan_reports(self) -> int:
        return self.output.count(TSAN_MARK)

    @property
    def gtest_failed(self) -> bool:
        return "[  FAILED  ]" in self.output


def run_gtest(build_dir: Path, binary: str, gtest_filter: str, tsan_options: str = "halt_on_error=0",
              env: dict[str, str] | None = None, timeout: float = 120) -> GtestRun:
    """Runs one sample test binary once with a gtest filter; `env` adds to its environment."""
    full_env = dict(os.environ, TSAN_OPTIONS=tsan_options, **(env or {}))
    argv = [str(build_dir / binary), f"--gtest_filter={gtest_filter}"]
    proc = subprocess.run(argv, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", timeout=timeout)
    return GtestRun(proc.returncode, proc.stdout)


def remove_temp_builds() -> None:
    """Deletes the session's temporary build root (a persistent RACEGATE_TEST_BUILD_ROOT stays)."""
    global _temp_root
    if _temp_root is not None:
        shutil.rmtree(_temp_root, ignore_errors=True)
        _temp_root = None
        _builds.clear()


def process_ends(pid: int, within: float) -> bool:
    """Whether the process is gone (or a zombie, which runs nothing) within `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    return True
        except FileNotFoundError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
