"""End-to-end: a project elsewhere on disk adopts the presets exactly as docs/contract.md tells users to.

The project knows nothing about racegate in its CMakeLists.txt; its CMakePresets.json includes
third_party/racegate/presets/racegate.json (a symlink to, or a copy of, this repo's presets/).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import REPO

pytestmark = pytest.mark.e2e

CMAKELISTS = """\
cmake_minimum_required(VERSION 3.16)
project(inventory LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(GTest REQUIRED)
find_package(Threads REQUIRED)
include(GoogleTest)
enable_testing()
add_executable(inventory_test inventory_test.cpp)
target_link_libraries(inventory_test PRIVATE GTest::gtest_main Threads::Threads)
gtest_discover_tests(inventory_test)
"""

TEST_SOURCE = """\
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>

struct HitCounter {
  int hits = 0;
  void hit() { ++hits; }
};

TEST(Inventory, HitCounterFromTwoThreads) {
  HitCounter counter;
  std::thread a([&] { for (int i = 0; i < 100; ++i) counter.hit(); });
  std::thread b([&] { for (int i = 0; i < 100; ++i) counter.hit(); });
  a.join();
  b.join();
  EXPECT_LE(counter.hits, 200);
}

TEST(Inventory, SingleThreaded) {
  HitCounter counter;
  counter.hit();
  EXPECT_EQ(counter.hits, 1);
}

TEST(Inventory, TsanOptionsFromTestPreset) {
  const char* options = std::getenv("TSAN_OPTIONS");
  ASSERT_NE(options, nullptr);
  const std::string text = options;
  for (const char* flag : {"halt_on_error=0", "second_deadlock_stack=1", "history_size=7"})
    EXPECT_NE(text.find(flag), std::string::npos) << flag << " missing from " << text;
}
"""

USER_PRESETS = {
    "version": 6,
    "include": ["third_party/racegate/presets/racegate.json"],
    "configurePresets": [{"name": "tsan", "inherits": "racegate-tsan"}],
    "buildPresets": [{"name": "tsan", "configurePreset": "tsan"}],
    "testPresets": [{"name": "tsan", "inherits": "racegate-tsan", "configurePreset": "tsan"}],
}


def write_project(root: Path, vendor: str) -> Path:
    project = root / "inventory"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(CMAKELISTS)
    (project / "inventory_test.cpp").write_text(TEST_SOURCE)
    (project / "CMakePresets.json").write_text(json.dumps(USER_PRESETS, indent=2))
    vendored = project / "third_party" / "racegate" / "presets"
    vendored.parent.mkdir(parents=True)
    if vendor == "symlink":
        vendored.symlink_to(REPO / "presets", target_is_directory=True)
    else:
        shutil.copytree(REPO / "presets", vendored)
    return project


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", timeout=900)


def cache_value(build_dir: Path, name: str) -> str:
    for line in (build_dir / "CMakeCache.txt").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} not in the cache")


@pytest.mark.parametrize("vendor,cxx", [("symlink", "clang++"), ("copy", "g++")])
def test_inheriting_preset_builds_and_tests_under_tsan(tmp_path: Path, vendor: str, cxx: str) -> None:
    project = write_project(tmp_path, vendor)
    env = dict(os.environ, CXX=cxx, CMAKE_BUILD_PARALLEL_LEVEL="2")
    env.pop("TSAN_OPTIONS", None)

    configure = run(["cmake", "--preset", "tsan"], project, env)
    assert configure.returncode == 0, configure.stdout[-4000:]
    build_dir = project / "build" / "tsan"  # ${sourceDir} is the user's project, not presets/
    assert (build_dir / "CMakeCache.txt").is_file(), configure.stdout[-4000:]
    assert Path(cache_value(build_dir, "CMAKE_CXX_COMPILER")).name.startswith(cxx)  # racegate-tsan honours CXX
    assert "-fsanitize=thread" in cache_value(build_dir, "CMAKE_CXX_FLAGS")
    assert cache_value(build_dir, "CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE") == "PRE_TEST"

    build = run(["cmake", "--build", "--preset", "tsan"], project, env)
    assert build.returncode == 0, build.stdout[-4000:]

    test = run(["ctest", "--preset", "tsan"], project, env)
    out = test.stdout
    assert test.returncode != 0, out[-4000:]
    assert "1 tests failed out of 3" in out, out[-4000:]
    assert "Inventory.HitCounterFromTwoThreads" in out.split("The following tests FAILED:")[1]
    # the binary is instrumented: TSan reported the race, in the test's own function
    assert "WARNING: ThreadSanitizer: data race" in out
    assert "HitCounter::hit()" in out

    # TSAN_OPTIONS from the caller's environment are appended (and win), e.g. a log_path.
    log_base = tmp_path / "tsan-log"
    env["TSAN_OPTIONS"] = f"log_path={log_base}"
    logged = run(["ctest", "--preset", "tsan", "-R", "HitCounter"], project, env)
    assert logged.returncode != 0
    logs = list(tmp_path.glob("tsan-log.*"))
    assert logs and "WARNING: ThreadSanitizer: data race" in logs[0].read_text()


def project_with_clang_lacking_tsan(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A project and an environment whose CXX is clang without its runtime package (libclang-rt-N-dev),
    simulated by an empty resource dir: compiling works, linking -fsanitize=thread cannot."""
    empty = tmp_path / "empty-resource-dir"
    empty.mkdir()
    wrapper = tmp_path / "clang++-without-tsan"
    wrapper.write_text(f'#!/bin/sh\nexec clang++ -resource-dir "{empty}" "$@"\n')
    wrapper.chmod(0o755)
    return write_project(tmp_path, "symlink"), dict(os.environ, CXX=str(wrapper))


def test_missing_tsan_runtime_fails_at_project(tmp_path: Path) -> None:
    project, env = project_with_clang_lacking_tsan(tmp_path)

    configure = run(["cmake", "--preset", "tsan"], project, env)
    assert configure.returncode != 0
    assert "is not able to compile a simple test program" in configure.stdout
    assert "libclang_rt.tsan" in configure.stdout
    assert "CMakeLists.txt:2 (project)" in configure.stdout


def test_racegate_reports_a_missing_tsan_runtime_in_one_line(tmp_path: Path) -> None:
    project, env = project_with_clang_lacking_tsan(tmp_path)
    proc = subprocess.run([sys.executable, str(REPO / "racegate"), "run", "--preset", "tsan", "--out",
                           str(tmp_path / "out")], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    # The preflight finds it before configuring: one line with the package to install, no build started.
    [error] = proc.stderr.splitlines()
    assert "no ThreadSanitizer runtime" in error and "apt-get install libclang-rt-" in error, proc.stderr
    assert not (tmp_path / "out" / "build.log").exists()


# A project whose own policy is -Werror and whose code orders with fences (a seqlock, as quill's fix did).
# gcc warns that TSan does not model atomic_thread_fence (-Wtsan), in C++ and in C; clang does not warn.
FENCE_CMAKELISTS = """\
cmake_minimum_required(VERSION 3.16)
project(seqlock LANGUAGES C CXX)
set(CMAKE_CXX_STANDARD 17)
add_compile_options(-Werror)
add_executable(seqlock_cxx seqlock.cpp)
add_executable(seqlock_c seqlock.c)
"""

FENCE_CXX = """\
#include <atomic>

std::atomic<unsigned> version{0};
int payload = 0;

int main() {
  version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  payload = 42;
  std::atomic_thread_fence(std::memory_order_release);
  version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return payload == 42 ? 0 : 1;
}
"""

FENCE_C = """\
int payload;

int main(void) {
  payload = 42;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  return payload == 42 ? 0 : 1;
}
"""

FENCE_PRESETS = {
    "version": 6,
    "include": ["third_party/racegate/presets/racegate.json"],
    "configurePresets": [{"name": "tsan-gcc", "inherits": "racegate-tsan-gcc"},
                         {"name": "tsan-clang", "inherits": "racegate-tsan-clang"},
                         {"name": "tsan", "inherits": "racegate-tsan"}],
}


def write_fence_project(root: Path) -> Path:
    project = root / "seqlock"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(FENCE_CMAKELISTS)
    (project / "seqlock.cpp").write_text(FENCE_CXX)
    (project / "seqlock.c").write_text(FENCE_C)
    (project / "CMakePresets.json").write_text(json.dumps(FENCE_PRESETS, indent=2))
    (project / "third_party" / "racegate").mkdir(parents=True)
    (project / "third_party" / "racegate" / "presets").symlink_to(REPO / "presets", target_is_directory=True)
    return project


@pytest.mark.parametrize("preset,warns", [("tsan-gcc", True), ("tsan-clang", False)])
def test_werror_project_with_fences_builds_with_the_compiler_presets(tmp_path: Path, preset: str, warns: bool) -> None:
    project = write_fence_project(tmp_path)
    env = dict(os.environ)
    configure = run(["cmake", "--preset", preset], project, env)
    assert configure.returncode == 0, configure.stdout[-4000:]
    build = run(["cmake", "--build", str(project / "build" / preset)], project, env)
    assert build.returncode == 0, build.stdout[-4000:]
    # gcc's warning stays visible (TSan does not model fences, so orderings built on them may be misreported),
    # for the two fences of the C++ program and the one of the C program; it is no longer an error.
    assert build.stdout.count("[-Wtsan]") == (3 if warns else 0), build.stdout[-4000:]
    assert "-Werror=tsan" not in build.stdout
    for program in ("seqlock_cxx", "seqlock_c"):
        assert subprocess.run([str(project / "build" / preset / program)], env=env, timeout=120).returncode == 0


def test_racegate_run_names_the_gcc_preset_when_werror_tsan_fails_the_build(tmp_path: Path) -> None:
    # racegate-tsan with gcc from CC/CXX has no -Wno-error=tsan: the project's -Werror fails the build.
    project = write_fence_project(tmp_path)
    env = dict(os.environ, CC="gcc", CXX="g++")
    proc = subprocess.run([sys.executable, str(REPO / "racegate"), "run", "--preset", "tsan", "--out",
                           str(tmp_path / "out")], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    error = proc.stderr.splitlines()[-1]  # after the progress line
    assert error.startswith("racegate: build of preset 'tsan' failed"), proc.stderr
    assert "atomic_thread_fence" in error and "[-Werror=tsan]" in error  # gcc's line (its quotes follow the locale)
    assert "racegate-tsan-gcc preset keeps it a warning (-Wno-error=tsan)" in error
    assert "[-Werror=tsan]" in (tmp_path / "out" / "build.log").read_text()
