"""Builds tests/cpp (the stress.hpp GoogleTest suite) plain and under TSan with clang and gcc, and runs its ctest."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from samples_helpers import TESTS

pytestmark = pytest.mark.e2e

CPP = TESTS / "cpp"
TSAN = "-fsanitize=thread -g -O1"
BUILDS = {
    "plain": ("c++", ""),
    "tsan-clang": ("clang++", TSAN),
    "tsan-gcc": ("g++", TSAN),
}


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                          timeout=900, **kw)


@pytest.fixture(scope="module", params=list(BUILDS))
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    name = request.param
    cxx, flags = BUILDS[name]
    if not shutil.which(cxx) or not shutil.which("cmake"):
        pytest.skip(f"needs {cxx} and cmake")
    out = tmp_path_factory.mktemp(name)
    argv = ["cmake", "-S", str(CPP), "-B", str(out), f"-DCMAKE_CXX_COMPILER={cxx}"]
    if flags:
        argv += [f"-DCMAKE_CXX_FLAGS={flags}", "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"]
    for step in (argv, ["cmake", "--build", str(out), "-j", "2"]):
        proc = _run(step)
        assert proc.returncode == 0, proc.stdout[-4000:]
    return name, out


def test_ctest_passes(build):
    name, out = build
    proc = _run(["ctest", "--test-dir", str(out), "--output-on-failure"])
    assert proc.returncode == 0, proc.stdout[-6000:]
    total = re.search(r"100% tests passed, 0 tests failed out of (\d+)", proc.stdout)
    assert total and int(total.group(1)) >= 9, proc.stdout[-2000:]


def test_racy_stress_use_is_reported_only_under_tsan(build):
    name, out = build
    proc = _run([str(out / "stress_racy_test")], env={"TSAN_OPTIONS": "halt_on_error=0"})
    if name == "plain":
        assert proc.returncode == 0 and "ThreadSanitizer" not in proc.stdout
    else:
        assert "WARNING: ThreadSanitizer: data race" in proc.stdout
        assert "stress_racy_test.cpp" in proc.stdout  # the report points at the racy body
        assert proc.returncode != 0
