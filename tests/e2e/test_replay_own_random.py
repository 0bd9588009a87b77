"""A replay that reproduces 0 of N says that the test may draw its own randomness or depend on timing (field tests
#56), on a real TSan program, with clang and gcc, that draws from std::random_device and races only on some draws.

The session finds the race at even odds; the replays run with the odds fixed far apart (DRAW_ONE_IN, inherited by
the test like any variable of racegate's environment), so that 0 of N and N of N are both certain."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from racegate.reporters.words import SEED_DID_NOT_REPRODUCE
from samples_helpers import LAUNCHER, REPO, TEST_CXX, compile_tsan_program

pytestmark = pytest.mark.e2e

PROGRAM = REPO / "tests" / "replay_programs" / "own_random.cpp"


def _racegate(*args: str, one_in: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LAUNCHER), *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DRAW_ONE_IN": str(one_in)})


@pytest.mark.parametrize("compiler", sorted(TEST_CXX))
def test_a_replay_of_a_self_randomized_race_that_reproduces_none_says_why(compiler, tmp_path):
    exe = compile_tsan_program(compiler, PROGRAM, tmp_path / "own_random")
    out = tmp_path / "out"
    found = _racegate("run", "--runs", "12", "--out", str(out), "--", str(exe), one_in=2)
    assert found.returncode == 1, found.stdout + found.stderr
    (race,) = [b for b in json.loads((out / "racegate.json").read_text())["buckets"] if b["kind"] == "data race"]
    result = ["--from", str(out / "racegate.json"), "--out", str(tmp_path / "replay")]

    never = _racegate("replay", race["id"], "--runs", "3", *result, one_in=1_000_000)
    assert never.returncode == 0, never.stderr
    assert "reproduced in 0 of 3 runs" in never.stdout
    assert f"not reproduced: {SEED_DID_NOT_REPRODUCE}" in never.stdout

    always = _racegate("replay", race["id"], "--runs", "3", *result, one_in=1)
    assert always.returncode == 1, always.stderr
    assert "reproduced in 3 of 3 runs" in always.stdout and SEED_DID_NOT_REPRODUCE not in always.stdout
