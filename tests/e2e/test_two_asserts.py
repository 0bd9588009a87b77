"""Two `assert(rc == 0)` of one test file in two functions, failing in alternate runs of one `racegate run`, are two
buckets, each titled by its own line; the line-shifted copy of the file gets the same two ids (field tests #42,
signature v6). Real TSan builds with clang and gcc."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import LAUNCHER, REPO

pytestmark = pytest.mark.e2e

PROGRAMS = REPO / "tests" / "failure_corpus" / "programs"
C_COMPILERS = ("clang", "gcc")


def _buckets(compiler: str, source: str, tmp: Path) -> dict[str, str]:
    """Title -> id of the buckets of 4 runs of the program built from `source` as two_asserts.c, in one place (the
    test racegate names in command mode is its command: the same for both sources)."""
    build = tmp / "build"
    if build.exists():
        shutil.rmtree(build)
    build.mkdir()
    (build / "two_asserts.c").write_text((PROGRAMS / source).read_text())
    subprocess.run([compiler, "-std=c11", "-fsanitize=thread", "-g", "-O1", "-pthread", "two_asserts.c", "-o",
                    "test_ctx"], cwd=build, check=True, timeout=600)
    out = build / "out"
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--runs", "4", "--jobs", "1", "--schedule", "none",
                           "--out", str(out), "--", str(build / "test_ctx")], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "TWO_ASSERTS_TURNS": str(build / "turns")})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return {b["title"].split(": ", 2)[2]: b["id"] for b in json.loads((out / "racegate.json").read_text())["buckets"]}


@pytest.mark.parametrize("compiler", C_COMPILERS)
def test_two_asserts_failing_in_alternate_runs_are_two_buckets_and_a_line_shift_keeps_their_ids(compiler, tmp_path):
    first = _buckets(compiler, "two_asserts.c", tmp_path)
    assert sorted(first) == ["Assertion `rc == 0' failed (two_asserts.c:13)",
                             "Assertion `rc == 0' failed (two_asserts.c:18)"]
    shifted = _buckets(compiler, "two_asserts_shifted.c", tmp_path)
    assert sorted(shifted) == ["Assertion `rc == 0' failed (two_asserts.c:17)",
                               "Assertion `rc == 0' failed (two_asserts.c:22)"]
    assert sorted(shifted.values()) == sorted(first.values())
