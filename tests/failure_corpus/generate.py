#!/usr/bin/env python3
"""Build every failing test program here with clang and gcc under TSan, run it and store what it printed.

The outputs are committed test data for failure.py's rules: `tests/failure_corpus/<compiler>/<program>.out`,
stdout then stderr as a test's combined output, with a last line `# exit N`. Re-run after adding a program
(`python3 tests/failure_corpus/generate.py [program ...]`). A program may carry directives in lines of the form
`// corpus: key=value` (or `/* corpus: key=value */`):
  libs=FLAGS  extra link flags (e.g. -lgtest -lgtest_main)
  env=K=V     an environment variable for its run
  variant=NAME ARGS  also run it with these arguments, into `<program>-NAME.out` (e.g. another reporter)
  as=NAME     build it under this file name (a copy of another program, edited: the name it prints is that one's)
  drop_tsan_reports=1  keep the output without TSan's report blocks (a framework's signal handler, which TSan
                       reports as signal-unsafe thousands of lines long, around the framework's own lines)
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
# Fixed build root so the paths printed in the committed outputs do not change between runs.
BUILD_ROOT = Path("/tmp/racegate-failure-corpus")
COMPILERS = {"clang14": ("clang", "clang++"), "gcc12": ("gcc", "g++")}
FLAGS = ["-fsanitize=thread", "-g", "-O1", "-fno-omit-frame-pointer", "-pthread"]
_TSAN_REPORT = re.compile(r"^==================\nWARNING: ThreadSanitizer:.*?^==================\n", re.M | re.S)
_DIRECTIVE = re.compile(r"^(?://|/\*)\s*corpus:\s*(\w+)=(.*?)(?:\s*\*/)?$", re.M)


def directives(source: Path) -> tuple[list[str], dict[str, str], dict[str, list[str]], bool, str]:
    drop_reports = False
    built_as = source.name
    libs: list[str] = []
    env: dict[str, str] = {}
    variants: dict[str, list[str]] = {"": []}
    for key, value in _DIRECTIVE.findall(source.read_text()):
        if key == "libs":
            libs += value.split()
        elif key == "env":
            name, _, val = value.partition("=")
            env[name] = val
        elif key == "variant":
            name, *args = value.split()
            variants[name] = args
        elif key == "drop_tsan_reports":
            drop_reports = value == "1"
        elif key == "as":
            built_as = value.strip()
    return libs, env, variants, drop_reports, built_as


def generate(source: Path, compiler: str) -> None:
    cc, cxx = COMPILERS[compiler]
    libs, env, variants, drop_reports, built_as = directives(source)
    # A program built under another's file name gets a directory of its own, so neither overwrites the other.
    build = BUILD_ROOT / compiler / (f"{source.stem}-as" if built_as != source.name else "")
    build.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, build / built_as)
    exe = build / source.stem
    std = ["-std=c11"] if source.suffix == ".c" else ["-std=c++17"]
    subprocess.run([cc if source.suffix == ".c" else cxx, *std, *FLAGS, built_as, "-o", exe.name, *libs],
                   cwd=build, check=True, timeout=600)
    run_env = {**os.environ, "TSAN_OPTIONS": "halt_on_error=0", **env}
    for variant, args in variants.items():
        # One stream, stderr into stdout, as racegate runs a test.
        proc = subprocess.run([str(exe), *args], cwd=build, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=60, env=run_env)
        out = HERE / compiler / f"{source.stem}{'-' + variant if variant else ''}.out"
        out.parent.mkdir(exist_ok=True)
        text = _TSAN_REPORT.sub("", proc.stdout) if drop_reports else proc.stdout
        out.write_text(text + f"# exit {proc.returncode}\n")
        print(f"{compiler} {out.stem}: exit {proc.returncode}")


def main(names: list[str]) -> None:
    sources = sorted(p for p in PROGRAMS.iterdir() if p.suffix in (".c", ".cpp"))
    for source in sources:
        if names and source.stem not in names:
            continue
        for compiler in COMPILERS:
            generate(source, compiler)


if __name__ == "__main__":
    main(sys.argv[1:])
