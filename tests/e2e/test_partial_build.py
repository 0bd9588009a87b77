"""End-to-end: a project built in part (tests/fixtures/partial), with the presets included the documented way.

Its build presets `tally-clang` / `tally-gcc` build only tally_test (two GoogleTest tests: one races, one does
not). checkout_test (a plain add_test) and inventory_test (gtest_discover_tests) stay unbuilt, so CTest lists
`checkout` without a program and `inventory_test_NOT_BUILT` as a placeholder.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import REPO

pytestmark = pytest.mark.e2e

FIXTURE = REPO / "tests" / "fixtures" / "partial"
COMPILERS = ("clang", "gcc")


def project_copy(root: Path) -> Path:
    """The fixture, vendoring racegate's presets at third_party/racegate/presets as docs/presets.md says."""
    project = root / "partial"
    shutil.copytree(FIXTURE, project)
    vendored = project / "third_party" / "racegate" / "presets"
    vendored.parent.mkdir(parents=True)
    vendored.symlink_to(REPO / "presets", target_is_directory=True)
    return project


def racegate(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "racegate"), "run", "-j", "2", *args], cwd=project,
                          capture_output=True, text=True, errors="replace", timeout=900)


def result_of(out: Path) -> dict:
    return json.loads((out / "racegate.json").read_text())


@pytest.mark.parametrize("cc", COMPILERS)
def test_build_preset_targets_run_and_the_unbuilt_tests_are_listed(tmp_path: Path, cc: str) -> None:
    project = project_copy(tmp_path)
    build_dir = project / "build" / f"racegate-tsan-{cc}"  # the build preset's configure preset
    out = tmp_path / "racy"

    proc = racegate(project, "--preset", f"tally-{cc}", "--runs", "3", "--out", str(out))
    assert proc.returncode == 1, proc.stderr[-4000:]  # the built test's race, nothing else
    # Only the preset's target was built.
    assert (build_dir / "tally_test").is_file()
    assert not (build_dir / "checkout_test").exists() and not (build_dir / "inventory_test").exists()
    result = result_of(out)
    tests = {t["name"]: t for t in result["tests"]}
    assert set(tests) == {"Tally.TwoTillsWithoutLock", "Tally.TwoTillsWithLock", "checkout",
                          "inventory_test_NOT_BUILT"}
    assert tests["checkout"]["not_run"] == f"not built: {build_dir}/checkout_test is missing"
    assert tests["checkout"]["runs"] == 0
    assert tests["inventory_test_NOT_BUILT"]["not_run"] == "not built: inventory_test is missing"
    for built in ("Tally.TwoTillsWithoutLock", "Tally.TwoTillsWithLock"):
        assert tests[built]["runs"] >= 1 and "not_run" not in tests[built]
    assert result["summary"]["not_run"] == 2 and result["summary"]["tests"] == 4
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "data race" and bucket["tests"] == ["Tally.TwoTillsWithoutLock"]
    assert f"1 of 4 tests never ran (not built: {build_dir}/checkout_test is missing): checkout" in proc.stdout
    assert "1 of 4 tests never ran (not built: inventory_test is missing): inventory_test_NOT_BUILT" in proc.stdout
    assert f"$ cmake --build --preset tally-{cc} --parallel 2\n" in (out / "build.log").read_text()

    # The verdict follows the built tests: the clean one alone, with the unbuilt ones still selected, passes.
    clean = racegate(project, "--preset", f"tally-{cc}", "--runs", "2", "-R", "WithLock|checkout|inventory",
                     "--out", str(tmp_path / "clean"))
    assert clean.returncode == 0, clean.stderr[-4000:]
    assert {t["name"]: t.get("not_run") is not None for t in result_of(tmp_path / "clean")["tests"]} == {
        "Tally.TwoTillsWithLock": False, "checkout": True, "inventory_test_NOT_BUILT": True}

    # Selecting only unbuilt tests leaves nothing to run: exit 2, one line naming what is missing.
    for pattern, missing in (("^checkout$", f"{build_dir}/checkout_test is missing"),
                             ("inventory", "inventory_test is missing")):
        none = racegate(project, "--preset", f"tally-{cc}", "-R", pattern, "--out", str(tmp_path / "none"))
        assert none.returncode == 2, none.stderr
        errors = [line for line in none.stderr.splitlines() if not line.startswith("racegate: configuring")]
        assert len(errors) == 1 and errors[0].startswith("racegate: nothing to run: ") and missing in errors[0], \
            none.stderr


@pytest.mark.parametrize("preset,configure_preset,is_build_preset", [
    ("racegate-tsan-clang", "racegate-tsan-clang", True),  # a build preset (of the included ones) without targets
    ("configure-only-gcc", "configure-only-gcc", False),  # no build preset of that name: the binary dir is built
    ("tally-gcc", "racegate-tsan-gcc", True),  # --target replaces the build preset's targets
])
def test_target_builds_just_that_target(tmp_path: Path, preset: str, configure_preset: str,
                                        is_build_preset: bool) -> None:
    project = project_copy(tmp_path)
    out = tmp_path / "out"
    proc = racegate(project, "--preset", preset, "--target", "checkout_test", "--runs", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-4000:]
    build_dir = project / "build" / configure_preset
    assert (build_dir / "checkout_test").is_file()
    assert not (build_dir / "tally_test").exists() and not (build_dir / "inventory_test").exists()
    tests = {t["name"]: t for t in result_of(out)["tests"]}
    assert tests["checkout"]["runs"] >= 1 and tests["checkout"]["outcomes"]["pass"] == tests["checkout"]["runs"]
    assert tests["tally_test_NOT_BUILT"]["not_run"] == "not built: tally_test is missing"
    assert tests["inventory_test_NOT_BUILT"]["not_run"] == "not built: inventory_test is missing"
    built_through = f"--preset {preset}" if is_build_preset else str(build_dir)
    assert f"$ cmake --build {built_through} --parallel 2 --target checkout_test\n" in (out / "build.log").read_text()
