"""Signature v4 and v5 through `racegate run` on real TSan programs, both compilers: a project's own allocator
wrapper (--allocator-wrappers), leaks whose stacks the preloaded shim hides under gcc, keyed on their tests (v4); a
function racing with itself on two globals, and a pool's members printed without a file (v5)."""
from __future__ import annotations

import json
import subprocess

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


# -- signature v5 (tests/corpus/programs: the same sources its logs come from) -----------------------------------

CORPUS_PROGRAMS = TESTS / "corpus" / "programs"


def test_one_function_racing_with_itself_on_two_globals_is_two_stable_buckets_and_its_fix_keeps_one(tmp_path):
    # Field test #23: the racy program's two races and the fixed program's one, by both compilers, twice each.
    source = tmp_path / "self_race.c"
    source.write_text((CORPUS_PROGRAMS / "self_race_two.c").read_text())
    ids = {}
    for compiler in ("clang", "gcc"):
        for variant, defines in (("racy", []), ("fixed", ["-DPROTECT_MODE=1"])):
            exe = compile_tsan_program(compiler, source, tmp_path / f"{variant}-{compiler}", *defines)
            for attempt in range(2):
                found = buckets(tmp_path, f"{variant}-{compiler}-{attempt}", "--", str(exe))
                ids.setdefault((variant, compiler), set()).add(
                    frozenset((b["id"], b["signature"][-1]) for b in found))
    # Stable across runs: one set of buckets per build.
    assert all(len(found) == 1 for found in ids.values())
    per = {key: dict(next(iter(found))) for key, found in ids.items()}
    racy, fixed = per[("racy", "clang")], per[("fixed", "clang")]
    assert sorted(racy.values()) == ["global:g_created_ctx", "global:g_mode_too_late"]
    assert list(fixed.values()) == ["global:g_created_ctx"] and set(fixed) < set(racy)
    # Alike with both compilers.
    assert per[("racy", "gcc")] == racy and per[("fixed", "gcc")] == fixed


@pytest.mark.parametrize("compiler", ["clang", "gcc"])
def test_a_pools_members_printed_without_a_file_name_its_race_once_for_every_test(tmp_path, compiler):
    # Field test #26: the pool's members built without debug info, destroyed by three tests: one bucket.
    source = CORPUS_PROGRAMS / "fileless_pool.cpp"
    cxx = {"clang": "clang++", "gcc": "g++"}[compiler]
    nodebug = tmp_path / "nodebug_part.o"
    exe = tmp_path / "fileless_pool"
    subprocess.run([cxx, "-fsanitize=thread", "-O1", "-g0", "-fno-omit-frame-pointer", "-pthread",
                    "-DRACEGATE_NODEBUG_PART", "-c", str(source), "-o", str(nodebug)], check=True, timeout=600)
    compile_tsan_program(compiler, source, exe, str(nodebug))
    found = buckets(tmp_path, "pool", "--", str(exe))
    assert [b["signature"] for b in found] == [["fileless_pool:worker_main", "fileless_pool:~pool"]]
