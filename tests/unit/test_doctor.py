"""`racegate doctor` and the preflight of `racegate run`: each check made to fail on purpose."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from racegate import doctor
from racegate.doctor import FAIL, INFO, OK, WARN, Check, Compiler

REPO = Path(__file__).resolve().parents[2]


# --- vm.mmap_rnd_bits -----------------------------------------------------------------------------

@pytest.mark.parametrize("family, version, bits, expected", [
    ("clang", "14.0.6", 32, FAIL), ("clang", "17.0.6", 29, FAIL), ("clang", "14.0.6", 28, OK),
    ("clang", "18.1.3", 32, OK), ("gcc", "12.2.0", 32, FAIL), ("gcc", "13.3.0", 30, FAIL), ("gcc", "15.1.0", 32, OK),
])
def test_mmap_bits_against_the_runtime(tmp_path: Path, family: str, version: str, bits: int, expected: str):
    bits_file = tmp_path / "mmap_rnd_bits"
    bits_file.write_text(f"{bits}\n")
    [check] = doctor.check_mmap_bits([Compiler("c++", family, version, links=True)], bits_file)
    assert check.status == expected, check
    if expected == FAIL:
        assert "unexpected memory mapping" in check.detail and "sysctl -w vm.mmap_rnd_bits=28" in check.fix


def test_mmap_bits_ignores_compilers_without_runtime_and_unreadable_files(tmp_path: Path):
    bits_file = tmp_path / "mmap_rnd_bits"
    bits_file.write_text("32\n")
    assert doctor.check_mmap_bits([Compiler("c++", "clang", "14.0.6", links=False)], bits_file)[0].status == OK
    assert doctor.check_mmap_bits([Compiler("c++", "clang", "14.0.6", True)], tmp_path / "none")[0].status == INFO


def test_new_runtime_above_30_bits_needs_personality(tmp_path: Path):
    bits_file = tmp_path / "mmap_rnd_bits"
    bits_file.write_text("32\n")
    new = [Compiler("clang++", "clang", "19.1.7", links=True)]
    assert doctor.check_mmap_bits(new, bits_file, personality_allowed=True)[0].status == OK
    [check] = doctor.check_mmap_bits(new, bits_file, personality_allowed=False)
    assert check.status == FAIL and "refuses personality()" in check.detail
    bits_file.write_text("30\n")  # LLVM 18+ maps up to 30 bits without the re-exec
    assert doctor.check_mmap_bits(new, bits_file, personality_allowed=False)[0].status == OK


def test_a_probe_that_died_of_the_mapping_fails_whatever_the_file_says(tmp_path: Path):
    bits_file = tmp_path / "mmap_rnd_bits"
    bits_file.write_text("28\n")
    died = Compiler("clang++", "clang", "19.1.0", links=True, mapping_error=True)
    [check] = doctor.check_mmap_bits([died], bits_file)
    assert check.status == FAIL and "clang++ 19.1.0" in check.detail


# --- TSan runtime ---------------------------------------------------------------------------------


def test_a_compiler_that_is_not_there(tmp_path: Path):
    compiler = doctor.probe(str(tmp_path / "no-such-c++"))
    assert not compiler.found and not compiler.links
    [check] = doctor.check_runtimes([compiler], required=True)
    assert check.status == FAIL and "cannot run it" in check.detail and "CMAKE_CXX_COMPILER" in check.fix


# --- uninstrumented libraries ---------------------------------------------------------------------


# --- SCHED_FIFO -----------------------------------------------------------------------------------

SCHED_CHECK = "from racegate import doctor; print(doctor.check_sched_fifo()[0].lines()[0])"


def test_sched_fifo_without_cap_sys_nice_is_a_note():
    setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
    if not setpriv or not prlimit:
        pytest.skip("needs setpriv and prlimit (util-linux)")
    # No CAP_SYS_NICE (bounding and inheritable sets) and no real-time rlimit, as on a locked-down runner.
    argv = [prlimit, "--rtprio=0", setpriv, "--bounding-set=-sys_nice", "--inh-caps=-sys_nice", "--",
            sys.executable, "-c", SCHED_CHECK]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={**os.environ,
                          "PYTHONPATH": str(REPO / "harness")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("info  SCHED_FIFO: not allowed: the pct schedule falls back to noise+pin")


def test_sched_fifo_allowed_when_permitted():
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except PermissionError:
        pytest.skip("this machine does not allow SCHED_FIFO")
    [check] = doctor.check_sched_fifo()
    assert check.status == OK
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # doctor put its own policy back


# --- seccomp / personality ------------------------------------------------------------------------


def test_sandbox_allows_personality_here():
    [check] = doctor.check_sandbox(doctor.personality_refusal())
    assert check.status == OK and "personality(ADDR_NO_RANDOMIZE) allowed" in check.detail


# --- build log, symbolizer, versions --------------------------------------------------------------

def test_build_log_without_warnings_and_without_log(tmp_path: Path):
    log = tmp_path / "build.log"
    log.write_text("[ 50%] Building CXX object x.o\n")
    assert doctor.check_build_log(log)[0].status == OK
    assert doctor.check_build_log(None)[0].status == INFO
    assert doctor.check_build_log(tmp_path / "missing.log")[0].status == INFO


def test_symbolizer_missing_is_a_warning_with_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    [check] = doctor.check_symbolizer()
    assert check.status == WARN and check.fix == "apt-get install llvm"


def test_summary_error_is_one_line_naming_the_first_failure():
    checks = [Check(OK, "a", "fine"), Check(FAIL, "b", "broken", "mend it"), Check(FAIL, "c", "also", "x")]
    assert doctor.summary_error(checks) == "doctor: b: broken; fix: mend it (and 1 more above)"
    assert doctor.summary_error(checks[:1]) is None


def test_preset_build_dir_follows_inherits_and_includes(tmp_path: Path):
    (tmp_path / "CMakePresets.json").write_text(json.dumps({
        "version": 6, "include": ["more.json"],
        "configurePresets": [{"name": "mine", "inherits": "base"}]}))
    (tmp_path / "more.json").write_text(json.dumps({
        "version": 6, "configurePresets": [{"name": "base", "binaryDir": "${sourceDir}/out/${presetName}"}]}))
    assert doctor.preset_build_dir(tmp_path, "mine") == tmp_path / "out" / "mine"
    assert doctor.preset_build_dir(tmp_path, "unknown") is None


def test_preset_build_dir_takes_inherited_fields_depth_first_as_cmake_does(tmp_path: Path):
    # cmake 3.25 configures x into from-c: the first parent's whole chain comes before the second parent.
    (tmp_path / "CMakePresets.json").write_text(json.dumps({"version": 6, "configurePresets": [
        {"name": "c", "hidden": True, "binaryDir": "${sourceDir}/from-c"},
        {"name": "a", "hidden": True, "inherits": "c"},
        {"name": "b", "hidden": True, "binaryDir": "${sourceDir}/from-b"}, {"name": "x", "inherits": ["a", "b"]}]}))
    assert doctor.preset_build_dir(tmp_path, "x") == tmp_path / "from-c"


def test_the_library_check_skips_tests_that_were_not_built(tmp_path, monkeypatch):
    # A partial build lists placeholder tests without a command: nothing to inspect, nothing to crash on.
    from racegate.model import TestCase

    monkeypatch.setattr(doctor.discover, "discover",
                        lambda build_dir: [TestCase("clock_test_NOT_BUILT-7c0fa19", ()),
                                           TestCase("gone", (str(tmp_path / "gone"),))])
    checks = doctor.check_uninstrumented(tmp_path)
    assert all(check.status != FAIL for check in checks), [c.lines() for c in checks]
