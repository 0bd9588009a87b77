"""Paths and helpers for every test: the repository's files, the racegate launcher, readiness
signals from the processes a test starts, TSan builds of samples/ and running their binaries.

Import from here (`from samples_helpers import REPO, run_gtest`), not from conftest: tests/ holds
more than one conftest.py, and whichever was imported last owns the module name `conftest`.
Fixtures (samples_build*, beacon) live in tests/conftest.py.

    racegate("run", "--runs", "1", "--", "true") -> CompletedProcess   # the CLI as a user runs it
    Beacon(path).wait(2) -> ["line", "line"]                             # instead of sleeping
    build_samples("racegate-tsan-clang") -> Path   # configured + built once per session
    run_gtest(build_dir, "word_counter_test", "WordCounterRace.*") -> GtestRun

Builds go to a temporary directory that conftest.py removes at the end of the session. Set
RACEGATE_TEST_BUILD_ROOT=/some/dir to keep them there and reuse them across sessions
(cmake only rebuilds what changed).
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
LAUNCHER = REPO / "racegate"
SAMPLES = REPO / "samples"
PRESETS_FILE = REPO / "presets" / "racegate.json"
FIXTURES = TESTS / "fixtures"
SARIF_SCHEMA = TESTS / "schemas" / "sarif-schema-2.1.0.json"
# Real TSan logs of the programs under corpus/programs, one dir per compiler (corpus/generate.py).
CORPUS = TESTS / "corpus"
CORPUS_COMPILERS = ("clang14", "clang19", "gcc12")
# Programs whose log holds TSan reports, and programs that crash under TSan (`// corpus: crash=1`), C++ and C.
_SOURCES = [p for p in (CORPUS / "programs").iterdir() if p.suffix in (".cpp", ".c")]
_CRASHES = {p.stem for p in _SOURCES if "// corpus: crash=1" in p.read_text()}
CORPUS_PROGRAMS = sorted(p.stem for p in _SOURCES if p.stem not in _CRASHES)
CORPUS_CRASHES = sorted(_CRASHES)


def corpus_compilers(program: str) -> tuple[str, ...]:
    """The compilers a corpus program has a log of: clang 19 has left this machine, so programs added since have
    clang 14 and gcc 12 logs only (corpus/generate.py skips a compiler that is not installed)."""
    return tuple(c for c in CORPUS_COMPILERS if (CORPUS / c / f"{program}.log").is_file())


COMPILER_PRESETS = ("racegate-tsan-clang", "racegate-tsan-gcc")
BUILD_JOBS = "2"
TSAN_MARK = "WARNING: ThreadSanitizer:"
# The compilers test programs are built with, one at a time, as the presets do.
TEST_CXX = {"clang": "clang++", "gcc": "g++"}
TSAN_CXXFLAGS = ("-std=c++17", "-fsanitize=thread", "-g", "-O1", "-pthread")

_builds: dict[str, Path] = {}
_temp_root: Path | None = None  # created on first use, see remove_temp_builds()


def compile_tsan_program(compiler: str, source: Path, exe: Path, *libs: str) -> Path:
    """Build one TSan program from `source` with `compiler` (a key of TEST_CXX); the test is skipped when that
    compiler is not installed."""
    cxx = TEST_CXX[compiler]
    if not shutil.which(cxx):
        pytest.skip(f"{cxx} not installed")
    subprocess.run([cxx, *TSAN_CXXFLAGS, str(source), "-o", str(exe), *libs], check=True, timeout=600)
    return exe


def write_ctest_suite(tmp_path: Path, tests: dict[str, list[str]]) -> Path:
    """A directory with a hand-written CTestTestfile.cmake of plain add_test lines (test name -> command), for
    discovery without a CMake project."""
    ctest_dir = tmp_path / "suite"
    ctest_dir.mkdir()
    lines = [f'add_test({name} {" ".join(chr(34) + a + chr(34) for a in argv)})\n' for name, argv in tests.items()]
    (ctest_dir / "CTestTestfile.cmake").write_text("".join(lines))
    return ctest_dir


def build_tsan_cmake_project(compiler: str, source: Path, out: Path) -> Path:
    """Configure and build the CMake project at `source` into `out` under TSan with `compiler` (a key of
    TEST_CXX), as a user's own flags would, without racegate's presets; skipped when the compiler or cmake is
    not installed."""
    cxx = TEST_CXX[compiler]
    if not shutil.which(cxx) or not shutil.which("cmake"):
        pytest.skip(f"needs {cxx} and cmake")
    run_checked(["cmake", "-S", str(source), "-B", str(out), f"-DCMAKE_CXX_COMPILER={cxx}",
                 "-DCMAKE_CXX_FLAGS=-fsanitize=thread -g -O1", "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread"])
    run_checked(["cmake", "--build", str(out), "-j", BUILD_JOBS])
    return out


def run_first_pass(build: Path, out: Path, *args: str) -> dict:
    """`racegate run --runs 1` (the first pass alone) on a build dir; its result, read back."""
    proc = racegate("run", "--build-dir", str(build), "--runs", "1", "--out", str(out), "--format", "junit", *args)
    assert proc.returncode in (0, 1), proc.stderr[-4000:]
    return json.loads((out / "racegate.json").read_text())


def outcomes(result: dict) -> dict[str, str]:
    """{test: the outcome of its one run} of a result whose tests ran once each."""
    return {t["name"]: next(o for o, n in t["outcomes"].items() if n) for t in result["tests"]}


def default_sigint() -> None:
    """Popen's preexec_fn for a racegate that a test interrupts: a shell that starts a job in the background
    (nohup, `&` without job control) makes it ignore SIGINT, and a Python started so never raises
    KeyboardInterrupt. The child must start with the default disposition, however pytest was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


def racegate(*args: str | bytes, cwd: Path | None = None, timeout: float = 900,
             text: bool = True) -> subprocess.CompletedProcess:
    """Runs the racegate launcher with `args` and captures its output."""
    return subprocess.run([sys.executable, str(LAUNCHER), *args], cwd=cwd, capture_output=True, text=text,
                          timeout=timeout)


def build_samples(preset: str) -> Path:
    """Configures and builds samples/ with `preset` (once per session); returns the build dir."""
    return build_with_preset(SAMPLES, preset, preset)


def build_with_preset(source: Path, preset: str, name: str) -> Path:
    """Configures and builds the CMake project at `source` with one of its presets into the build root's `name`
    (once per session); returns the build dir."""
    if name not in _builds:
        build_dir = _build_root() / name
        run_checked(["cmake", "--preset", preset, "-S", str(source), "-B", str(build_dir)], cwd=source)
        run_checked(["cmake", "--build", str(build_dir), "-j", BUILD_JOBS])
        _builds[name] = build_dir
    return _builds[name]


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
    """Whether the process is gone (or a zombie, which runs nothing) within `within` seconds. A pidfd
    becomes readable the moment any process exits, not only a child of ours."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([pidfd], [], [], within)[0])
    finally:
        os.close(pidfd)


class Beacon:
    """A named pipe that the processes a test starts write a line to when they reach the point the test
    waits for (started, printed its pid, holds a lock): the test reads those lines instead of sleeping.

        beacon = Beacon(tmp_path / "ready")
        code = f"...; open({str(beacon.path)!r}, 'w').write('started\\n'); ..."
        beacon.wait()  # ['started'], once a process has written it

    Lines shorter than PIPE_BUF (4096 bytes) arrive whole even when several processes write at once.
    """

    def __init__(self, path: Path):
        os.mkfifo(path)
        self.path = path
        self._read = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        # Our own write end: without a writer the pipe reads as end-of-file and select() would spin.
        self._hold = os.open(path, os.O_WRONLY)
        self._pending = b""

    def wait(self, lines: int = 1, within: float = 60) -> list[str]:
        """The next `lines` lines; fails the test when they have not come within `within` seconds (a
        guard against a hang, not a timing the test relies on)."""
        deadline = time.monotonic() + within
        while self._pending.count(b"\n") < lines:
            if not select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))[0]:
                pytest.fail(f"waited {within} s for {lines} line(s) on {self.path}, got {self._pending!r}",
                            pytrace=False)
            self._pending += os.read(self._read, 65536)
        *got, self._pending = self._pending.split(b"\n", lines)
        return [line.decode() for line in got]

    def close(self) -> None:
        os.close(self._read)
        os.close(self._hold)
