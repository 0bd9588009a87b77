"""A use after free made by one thread (a destructor called by hand, then the block used again), built under TSan
with clang and gcc and run through `racegate run`: its bucket gets lifetime advice, not the threads advice of a
lifetime race (field tests, #54)."""
from __future__ import annotations

import json

import pytest

from samples_helpers import CORPUS, TEST_CXX, compile_tsan_program, racegate

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("compiler", sorted(TEST_CXX))
def test_a_one_thread_use_after_free_gets_lifetime_advice(compiler, tmp_path):
    exe = compile_tsan_program(compiler, CORPUS / "programs" / "use_after_free_one_thread.cpp", tmp_path / "uaf")
    proc = racegate("run", "--runs", "2", "--jobs", "1", "--out", str(tmp_path / "out"), "--", str(exe))
    assert proc.returncode == 1, proc.stderr[-4000:]
    result = json.loads((tmp_path / "out" / "racegate.json").read_text())
    (bucket,) = result["buckets"]
    assert bucket["kind"] == "heap-use-after-free"
    assert all("by main thread" in s["header"] for s in bucket["stacks"])
    assert "one thread did both" in bucket["advice"]["what"]
    assert "Join" not in bucket["advice"]["fix"] and "Join" not in proc.stdout
