#!/usr/bin/env python3
"""Build every corpus program with each compiler under TSan, run it and store its TSan log.

The logs are committed test data: `tests/corpus/<compiler>/<program>.log`. Re-run this after
adding a program (`python3 tests/corpus/generate.py [-j 2] [program ...]`).

A program may carry directives in lines of the form `// corpus: key=value`:
  source_name=NAME   compile the file under this name, so variants of one source share a file name
  tsan_options=OPTS  extra TSAN_OPTIONS for the run (e.g. symbolize=0)
  shared_lib=PATH    build PATH (relative to programs/) as a stripped shared library and link it
  crash=1            the program crashes under TSan: its log holds TSan's SEGV report, not warnings
  preload_shim=1     run it with racegate's scheduling shim preloaded, as `racegate run` does
  nodebug_part=1     also compile the source without debug info and -DRACEGATE_NODEBUG_PART, and link that object
                     first: the code it emits (a header-only class's members, whose copies the linker keeps from
                     the first object) prints without a file, as in a project whose header was built without -g

Programs are C++ (`.cpp`) or C (`.c`, built with the C driver of the same compiler). A compiler that is not
installed is skipped (clang 19 has left this machine: programs added since have clang 14 and gcc 12 logs only).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
PROGRAMS = CORPUS / "programs"
# Fixed build root so the paths printed in the committed logs do not change between runs.
BUILD_ROOT = Path("/tmp/racegate-corpus")

COMPILERS = {"clang14": "clang++", "clang19": "clang++-19", "gcc12": "g++"}
C_COMPILERS = {"clang14": "clang", "clang19": "clang-19", "gcc12": "gcc"}
SOURCE_SUFFIXES = (".cpp", ".c")
CXXFLAGS = ["-fsanitize=thread", "-g", "-O1", "-fno-omit-frame-pointer", "-pthread"]
BASE_TSAN_OPTIONS = "halt_on_error=0 second_deadlock_stack=1"
RUN_TIMEOUT = 60
# Keeps committed logs small: reports beyond this many per log are dropped.
MAX_REPORTS = 8

_DIRECTIVE = re.compile(r"^//\s*corpus:\s*(\w+)=(.*)$", re.M)
_REPORT_SEP = "==================\n"
_TOTALS = re.compile(r"^ThreadSanitizer: reported \d+ warnings\n", re.M)


@dataclass
class Program:
    path: Path
    source_name: str
    tsan_options: str = ""
    shared_lib: Path | None = None
    preload_shim: bool = False
    nodebug_part: bool = False

    @property
    def name(self) -> str:
        return self.path.stem


def load_program(path: Path) -> Program:
    prog = Program(path=path, source_name=path.name)
    for key, value in _DIRECTIVE.findall(path.read_text()):
        value = value.strip()
        if key == "source_name":
            prog.source_name = value
        elif key == "tsan_options":
            prog.tsan_options = value
        elif key == "crash":
            pass  # read by the tests, which expect no warnings in such a log
        elif key == "preload_shim":
            prog.preload_shim = value == "1"
        elif key == "nodebug_part":
            prog.nodebug_part = value == "1"
        elif key == "shared_lib":
            prog.shared_lib = PROGRAMS / value
        else:
            raise SystemExit(f"{path.name}: unknown corpus directive {key!r}")
    return prog


def _run(argv: list[str], cwd: Path) -> None:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stderr}")


def cap_reports(log: str, limit: int) -> str:
    """Keep the first `limit` report blocks (each is wrapped in two separator lines), and
    TSan's closing "reported N warnings" lines, which still count the dropped reports."""
    parts = log.split(_REPORT_SEP)
    # parts: [pre, report, between, report, between, ...]
    if (len(parts) - 1) // 2 <= limit:
        return log
    dropped = _REPORT_SEP.join(parts[2 * limit + 1:])
    totals = "".join(_TOTALS.findall(dropped))
    return _REPORT_SEP.join(parts[: 2 * limit + 1]) + _REPORT_SEP + totals


def racegate_shim() -> str:
    """The shim `racegate run` preloads, built as racegate builds it."""
    sys.path.insert(0, str(CORPUS.parent.parent / "harness"))
    from racegate.shim import ensure_shim
    return str(ensure_shim())


def build_and_run(prog: Program, tag: str, cxx: str, shim: str = "") -> str:
    return run_built(prog, build(prog, tag, cxx), shim)


def build(prog: Program, tag: str, cxx: str) -> Path:
    """The program built under TSan with the compiler `cxx` (its C driver for a C program), in its own directory."""
    if prog.path.suffix == ".c":
        cxx = C_COMPILERS[tag]
    work = BUILD_ROOT / tag / prog.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = work / prog.source_name
    shutil.copyfile(prog.path, src)
    link: list[str] = []
    if prog.shared_lib is not None:
        lib_src = work / prog.shared_lib.name
        shutil.copyfile(prog.shared_lib, lib_src)
        lib = work / f"lib{prog.shared_lib.stem}.so"
        _run([cxx, *CXXFLAGS, "-shared", "-fPIC", lib_src.name, "-o", lib.name], work)
        _run(["strip", "--strip-all", lib.name], work)
        link = [f"-L{work}", f"-l{prog.shared_lib.stem}", f"-Wl,-rpath,{work}"]
    first: list[str] = []
    if prog.nodebug_part:
        flags = [flag for flag in CXXFLAGS if flag != "-g"]
        _run([cxx, *flags, "-g0", "-DRACEGATE_NODEBUG_PART", "-c", src.name, "-o", "nodebug_part.o"], work)
        first = ["nodebug_part.o"]
    exe = work / prog.name
    _run([cxx, *CXXFLAGS, *first, src.name, "-o", exe.name, *link], work)
    return exe


def run_built(prog: Program, exe: Path, shim: str = "") -> str:
    """One run of a built program: its TSan log (bench/buckets_per_bug.py runs each several times)."""
    work = exe.parent
    for old in work.glob("tsan.*"):
        old.unlink()
    log_prefix = work / "tsan"
    options = f"{BASE_TSAN_OPTIONS} log_path={log_prefix} {prog.tsan_options}".strip()
    env = dict(os.environ, TSAN_OPTIONS=options)
    if prog.preload_shim:
        env["LD_PRELOAD"] = shim
    subprocess.run([str(exe)], cwd=work, env=env, capture_output=True, timeout=RUN_TIMEOUT)
    # One file per process (tsan.<pid>); a multi-process log is their concatenation in pid order.
    logs = sorted(work.glob("tsan.*"), key=lambda p: int(p.suffix[1:]))
    return cap_reports("".join(p.read_text(errors="replace") for p in logs), MAX_REPORTS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("programs", nargs="*", help="program stems to rebuild (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    programs = [load_program(p) for p in sorted(PROGRAMS.iterdir()) if p.suffix in SOURCE_SUFFIXES]
    if args.programs:
        programs = [p for p in programs if p.name in args.programs]
    jobs = [(prog, tag, cxx) for prog in programs for tag, cxx in COMPILERS.items() if shutil.which(cxx)]
    shim = racegate_shim() if any(prog.preload_shim for prog in programs) else ""

    def one(job: tuple[Program, str, str]) -> str:
        prog, tag, cxx = job
        try:
            log = build_and_run(prog, tag, cxx, shim)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return f"FAIL {tag}/{prog.name}: {exc}"
        out = CORPUS / tag / f"{prog.name}.log"
        out.parent.mkdir(exist_ok=True)
        out.write_text(log)
        return f"{tag}/{prog.name}: {log.count('WARNING: ThreadSanitizer:')} report(s)"

    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for line in pool.map(one, jobs):
            failed += line.startswith("FAIL")
            print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
