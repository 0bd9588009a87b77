"""Signature v4 through `racegate run` on real TSan programs, both compilers: a project's own allocator wrapper
(--allocator-wrappers) and leaks whose stacks the preloaded shim hides under gcc, keyed on their tests."""
from __future__ import annotations

import json

import pytest

from samples_helpers import TESTS, compile_tsan_program, racegate

pytestmark = pytest.mark.e2e
PROGRAMS = TESTS / "signature_programs"


def buckets(tmp_path, name, *args):
    out = tmp_path / f"out-{name}"
    done = racegate("run", "--runs", "1", "--schedule", "noise", "--out", str(out), *args)
    assert done.returncode == 1, done.stderr
    return json.loads((out / "racegate.json").read_text())["buckets"]


@pytest.mark.parametrize("compiler", ["clang", "gcc"])
def test_a_projects_own_allocator_wrapper_never_names_a_side(tmp_path, compiler):
    exe = compile_tsan_program(compiler, PROGRAMS / "custom_wrapper.cpp", tmp_path / "custom_wrapper")
    (plain,) = buckets(tmp_path, "plain", "--", str(exe))
    assert plain["signature"] == ["custom_wrapper.cpp:count_items", "custom_wrapper.cpp:store_release"]
    (named,) = buckets(tmp_path, "named", "--allocator-wrappers", "store_release", "--", str(exe))
    assert named["signature"] == ["custom_wrapper.cpp:close_store", "custom_wrapper.cpp:count_items"]
    assert named["id"] != plain["id"]


@pytest.mark.parametrize("compiler", ["clang", "gcc"])
def test_leaks_the_shim_hides_main_of_are_keyed_on_their_tests(tmp_path, compiler):
    ids = []
    for name in ("linger", "poll_once"):
        exe = compile_tsan_program(compiler, PROGRAMS / "hidden_leak.cpp", tmp_path / name, f"-DLEAK_NAME={name}")
        (leak,) = [b for b in buckets(tmp_path, name, "--", str(exe)) if b["kind"] == "thread leak"]
        assert leak["signature"] and all(leak["signature"])
        if compiler == "gcc":
            # libtsan, the shim, __libc_start_call_main: nothing of the program but its test.
            assert len(leak["signature"]) == 1 and leak["signature"][0].startswith("test:")
        else:
            assert leak["signature"] == ["hidden_leak.cpp:main"]
        ids.append(leak["id"])
    if compiler == "gcc":
        assert ids[0] != ids[1]
