"""racegate doctor and run's preflight on real compilers, TSan runtimes and builds: what they find, the fix they
name."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from racegate import doctor
from racegate.doctor import FAIL, INFO, OK, WARN, Check, Compiler
from samples_helpers import REPO

COMPILERS = ("g++", "clang++")


def racegate(*args: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "racegate"), *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=600)


def status(checks: list[Check], name: str) -> list[Check]:
    return [c for c in checks if c.name == name]


@pytest.mark.e2e
@pytest.mark.parametrize("cxx", COMPILERS)
def test_real_tsan_binary_starts_when_the_check_passes(cxx: str):
    """The probe is a real TSan program: on this kernel's real setting it must start, and the check agree."""
    compiler = doctor.probe(cxx)
    assert compiler.links and not compiler.mapping_error, compiler
    [check] = doctor.check_mmap_bits([compiler], Path(doctor.MMAP_BITS_FILE))
    assert check.status == OK, check


@pytest.mark.e2e
def test_doctor_fails_on_a_fake_mmap_rnd_bits(tmp_path: Path):
    bits_file = tmp_path / "mmap_rnd_bits"
    bits_file.write_text("32\n")
    proc = racegate("doctor", RACEGATE_MMAP_RND_BITS_FILE=str(bits_file))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "FAIL  vm.mmap_rnd_bits: 32, but the TSan runtime of" in proc.stdout
    assert "      fix: sysctl -w vm.mmap_rnd_bits=28" in proc.stdout
    [error] = proc.stderr.splitlines()
    assert error.startswith("racegate: doctor: vm.mmap_rnd_bits: 32") and "sysctl -w" in error


def clang_without_tsan(tmp_path: Path) -> Path:
    """clang++ without its runtime package (libclang-rt-N-dev), simulated by an empty resource dir:
    compiling works, linking -fsanitize=thread cannot."""
    empty = tmp_path / "empty-resource-dir"
    empty.mkdir()
    wrapper = tmp_path / "clang++-without-tsan"
    wrapper.write_text(f'#!/bin/sh\nexec clang++ -resource-dir "{empty}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def project_with_compiler(tmp_path: Path, cxx: Path | str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.25)\nproject(p CXX)\nenable_testing()\n"
        "add_executable(t t.cpp)\nadd_test(NAME t COMMAND t)\n")
    (project / "t.cpp").write_text("int main() { return 0; }\n")
    (project / "CMakePresets.json").write_text(json.dumps({"version": 6, "configurePresets": [{
        "name": "tsan", "binaryDir": "${sourceDir}/build/${presetName}", "generator": "Unix Makefiles",
        "cacheVariables": {"CMAKE_CXX_COMPILER": str(cxx), "CMAKE_CXX_FLAGS": "-fsanitize=thread"}}]}))
    return project


@pytest.mark.e2e
def test_a_compiler_without_its_runtime(tmp_path: Path):
    compiler = doctor.probe(str(clang_without_tsan(tmp_path)))
    assert compiler.family == "clang" and not compiler.links
    assert "libclang_rt.tsan" in compiler.error
    [check] = doctor.check_runtimes([compiler], required=True)
    assert check.status == FAIL and check.fix == f"apt-get install libclang-rt-{compiler.major}-dev"
    # Not needed by this run and another compiler works: a warning, not a failure.
    fine = Compiler("g++", "gcc", "12.2.0", links=True)
    assert [c.status for c in doctor.check_runtimes([compiler, fine], required=False)] == [WARN, OK]
    assert doctor.check_runtimes([compiler], required=False)[0].status == FAIL  # no compiler works


@pytest.mark.e2e
@pytest.mark.parametrize("cxx", COMPILERS)
def test_a_runtime_that_cannot_start_under_the_users_tsan_options(monkeypatch: pytest.MonkeyPatch, cxx: str):
    monkeypatch.setenv("TSAN_OPTIONS", "suppressions=/nonexistent/racegate.supp")
    compiler = doctor.probe(cxx)
    assert compiler.links and "failed to read suppressions file" in compiler.start_error
    [check] = doctor.check_runtimes([compiler], required=False)
    assert check.status == FAIL and "TSAN_OPTIONS" in check.fix


@pytest.mark.e2e
def test_doctor_and_run_stop_on_the_preset_compiler_without_runtime(tmp_path: Path):
    project = project_with_compiler(tmp_path, clang_without_tsan(tmp_path))
    proc = racegate("doctor", "--preset", "tsan", cwd=project)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "FAIL  " in proc.stdout and "fix: apt-get install libclang-rt-" in proc.stdout
    [error] = proc.stderr.splitlines()
    assert error.startswith("racegate: doctor: ") and "cannot link a -fsanitize=thread program" in error

    proc = racegate("run", "--preset", "tsan", "--out", str(tmp_path / "out"), cwd=project)
    assert proc.returncode == 2
    [error] = proc.stderr.splitlines()
    assert "has no ThreadSanitizer runtime" in error and "apt-get install libclang-rt-" in error
    assert not (project / "build").exists()  # reported before configuring anything


@pytest.mark.e2e
def test_run_preflight_stops_on_mmap_bits_before_building(tmp_path: Path):
    project = project_with_compiler(tmp_path, "clang++")
    bits_file = tmp_path / "mmap_rnd_bits"
    bits_file.write_text("32\n")
    proc = racegate("run", "--preset", "tsan", "--out", str(tmp_path / "out"), cwd=project,
                    RACEGATE_MMAP_RND_BITS_FILE=str(bits_file))
    assert proc.returncode == 2
    [error] = proc.stderr.splitlines()
    assert error.startswith("racegate: vm.mmap_rnd_bits: 32") and "sysctl -w vm.mmap_rnd_bits=28" in error
    assert not (project / "build").exists()


@pytest.mark.e2e
def test_run_preflight_stops_when_tsan_cannot_start(tmp_path: Path):
    project = project_with_compiler(tmp_path, "g++")
    # A flag value the runtime cannot parse: it dies at start, whatever the test.
    proc = racegate("run", "--preset", "tsan", "--out", str(tmp_path / "out"), cwd=project,
                    TSAN_OPTIONS="history_size=many")
    assert proc.returncode == 2
    [error] = proc.stderr.splitlines()
    assert "does not start:" in error and "Invalid value for int option" in error
    assert not (project / "build").exists()


def build_with_plain_library(tmp_path: Path, cxx: str) -> Path:
    """A CTest test whose executable loads one TSan-instrumented and one plain shared library."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "plain.cpp").write_text("int plain_counter;\nvoid plain_bump() { ++plain_counter; }\n")
    (src / "inst.cpp").write_text("int inst_counter;\nvoid inst_bump() { ++inst_counter; }\n")
    (src / "main.cpp").write_text("void plain_bump();\nvoid inst_bump();\n"
                                  "int main() { plain_bump(); inst_bump(); return 0; }\n")
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.25)\nproject(libs CXX)\nenable_testing()\n"
        "add_library(plain SHARED plain.cpp)\n"
        "target_compile_options(plain PRIVATE -fno-sanitize=thread)\n"  # after the cached -fsanitize=thread
        "add_library(inst SHARED inst.cpp)\n"
        "target_link_options(inst PRIVATE -fsanitize=thread)\n"
        "add_executable(uses_libs main.cpp)\n"
        "target_link_libraries(uses_libs PRIVATE plain inst)\n"
        "add_test(NAME uses_libs COMMAND uses_libs)\n")
    build = tmp_path / "build"
    for argv in (["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_CXX_COMPILER={cxx}",
                  "-DCMAKE_CXX_FLAGS=-fsanitize=thread", "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"],
                 ["cmake", "--build", str(build)]):
        subprocess.run(argv, check=True, capture_output=True, timeout=300)
    return build


@pytest.mark.e2e
@pytest.mark.parametrize("cxx", COMPILERS)
def test_uninstrumented_library_is_named_with_the_advice(tmp_path: Path, cxx: str):
    build = build_with_plain_library(tmp_path, cxx)
    assert doctor.tsan_instrumented(build / "libinst.so")
    assert not doctor.tsan_instrumented(build / "libplain.so")
    [check] = doctor.check_uninstrumented(build)
    assert check.status == WARN
    assert check.detail == f"{build / 'libplain.so'} is not TSan-instrumented (loaded by uses_libs)"
    assert "ignore_noninstrumented_modules=1" in check.fix

    proc = racegate("doctor", "--build-dir", str(build))
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a weaker run, not a broken one
    # Only the plain library: not the instrumented one, the TSan runtime or the C/C++ runtime libraries.
    [line] = [line for line in proc.stdout.splitlines() if " library: " in line]
    assert line.startswith(f"warn  library: {build / 'libplain.so'} is not TSan-instrumented")


@pytest.mark.e2e
@pytest.mark.parametrize("cxx", COMPILERS)
def test_instrumented_only_build_passes(tmp_path: Path, cxx: str):
    build = build_with_plain_library(tmp_path, cxx)
    (build / "libplain.so").unlink()
    shutil.copy(build / "libinst.so", build / "libplain.so")  # resolves, and is instrumented now
    [check] = doctor.check_uninstrumented(build)
    assert check.status == OK, check


@pytest.mark.e2e
@pytest.mark.parametrize("cxx", COMPILERS)
def test_a_test_that_calls_getaddrinfo_a_is_named_with_what_it_does_here(tmp_path: Path, cxx: str):
    # glibc's resolver thread, started out of TSan's sight, crashed every test of the cpp-httplib field test.
    build = tmp_path / "build"
    build.mkdir()
    exe = build / "resolves"
    subprocess.run([cxx, "-std=c++17", "-fsanitize=thread", "-pthread",
                    str(REPO / "tests" / "verdict_programs" / "steady_crash.cpp"), "-o", str(exe), "-lanl"],
                   check=True, capture_output=True, timeout=300)
    (build / "CTestTestfile.cmake").write_text(f'add_test(Resolve "{exe}" "resolve")\n')
    assert "getaddrinfo_a" in doctor.dynamic_imports(exe)
    alone = subprocess.run([str(exe), "resolve"], capture_output=True, timeout=60)
    checks = doctor.check_uninstrumented(build, cxx)
    [check] = status(checks, "getaddrinfo_a")
    if alone.returncode == -signal.SIGSEGV:
        assert check.status == WARN, check
        assert check.detail.startswith("resolves calls getaddrinfo_a, and a TSan program that calls it is killed "
                                       "by SIGSEGV here")
        assert "HTTPLIB_USE_NON_BLOCKING_GETADDRINFO=OFF" in check.fix
    else:
        assert check.status == OK and "without crashing" in check.detail, check
    assert not status(checks, "library")  # libanl is glibc's: no "not TSan-instrumented" line for it
    # Without a compiler to try it with, the caller is still named.
    [untried] = status(doctor.check_uninstrumented(build, None), "getaddrinfo_a")
    assert untried.status == INFO and untried.detail.startswith("resolves calls getaddrinfo_a, whose resolver")

    proc = racegate("doctor", "--build-dir", str(build))
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a warning: tests that resolve nothing still run
    assert "getaddrinfo_a: resolves calls getaddrinfo_a" in proc.stdout


# Installs a seccomp filter that refuses personality() with EPERM, then runs its arguments: the sandbox
# some container runtimes set up.
NO_PERSONALITY = r"""
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof code / sizeof code[0], code };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
    perror("seccomp");
    return 99;
  }
  execv(argv[1], argv + 1);
  perror("execv");
  return 98;
}
"""


SANDBOX_CHECK = ("from racegate import doctor\n"
                 "print('\\n'.join(doctor.check_sandbox(doctor.personality_refusal())[0].lines()))")


@pytest.mark.e2e
def test_seccomp_filter_refusing_personality(tmp_path: Path):
    (tmp_path / "sandbox.c").write_text(NO_PERSONALITY)
    subprocess.run(["cc", str(tmp_path / "sandbox.c"), "-o", str(tmp_path / "sandbox")], check=True, timeout=120)
    proc = subprocess.run([str(tmp_path / "sandbox"), sys.executable, "-c", SANDBOX_CHECK], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO / "harness")})
    assert proc.returncode == 0, proc.stderr
    first, fix = proc.stdout.splitlines()
    assert first.startswith("warn  sandbox: a seccomp filter (container sandbox); personality(ADDR_NO_RANDOMIZE) "
                            "refused (Operation not permitted)")
    assert "vm.mmap_rnd_bits at 28" in fix


@pytest.mark.e2e
def test_gcc_fence_warning_in_a_real_build_log(tmp_path: Path):
    source = tmp_path / "fence.cpp"
    source.write_text("#include <atomic>\nint main() { std::atomic_thread_fence(std::memory_order_acquire); }\n")
    compile_ = subprocess.run(["g++", "-fsanitize=thread", "-c", str(source), "-o", str(tmp_path / "fence.o")],
                              capture_output=True, text=True, timeout=120)
    log = tmp_path / "build.log"
    log.write_text(compile_.stdout + compile_.stderr)
    [check] = doctor.check_build_log(log)
    assert check.status == WARN and "1 -Wtsan/atomic_thread_fence warnings" in check.detail
    assert "racegate-tsan-gcc preset keeps it a warning (-Wno-error=tsan)" in check.fix

    proc = racegate("doctor", "--build-log", str(log))
    assert "warn  build log:" in proc.stdout


@pytest.mark.e2e
def test_a_build_without_tsan_warns_and_a_missing_test_executable_fails(tmp_path: Path):
    build = build_with_plain_library(tmp_path, "g++")
    (build / "uses_libs").unlink()
    # A partial build is fine (racegate run lists such tests as not run); doctor says which are missing.
    check, _ = doctor.check_uninstrumented(build)
    assert check.status == INFO and "not built" in check.detail and "uses_libs" in check.detail

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.25)\nproject(p CXX)\nenable_testing()\n"
                                          "add_executable(t t.cpp)\nadd_test(NAME t COMMAND t)\n")
    (plain / "t.cpp").write_text("int main() { return 0; }\n")
    subprocess.run(["cmake", "-S", str(plain), "-B", str(plain / "build")], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(plain / "build")], check=True, capture_output=True)
    warning, libraries = doctor.check_uninstrumented(plain / "build")
    assert warning.status == WARN and "no -fsanitize=thread in the cached compile flags" in warning.detail
    assert libraries.status == OK
