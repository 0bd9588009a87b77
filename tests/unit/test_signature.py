"""Signatures and bucket ids against real TSan logs from clang 14, clang 19 and gcc 12."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from racegate import frame_kinds
from racegate.bucket import Bucketer
from racegate.model import ACCESS, PREVIOUS, Frame, RunRecord, TsanReport
from racegate.frame_kinds import ALLOCATOR_WRAPPERS, is_allocator_wrapper, is_project_frame, leaf_name, qualified_name
from racegate.signature import LOST_STACK, TRUNCATED, finding_from_report, signature
from racegate.signature_rules import SIGNATURE_VERSION, V1, V2, V3, V4, bucket_id
from racegate.tsan_parse import parse_reports
from samples_helpers import CORPUS
from samples_helpers import CORPUS_COMPILERS as COMPILERS
from samples_helpers import CORPUS_PROGRAMS as PROGRAMS
from samples_helpers import corpus_compilers, racegate

# The same race in one file (ledger.cpp), with lines shifted and with the threads swapped.
LEDGER = ("ledger_shift_a", "ledger_shift_b", "ledger_swapped")
# Three lambda-vs-lambda races in one file (lambda_globals.cpp), and the file with its lines shifted.
LAMBDAS = ("lambda_globals", "lambda_globals_shift")
# Programs whose log holds more than one bug, and how many.
SEVERAL = {"race_inlined_lambdas": 2, "lambda_globals": 3, "lambda_globals_shift": 3, "test_bodies": 2,
           "alloc_wrapper": 2, "self_race_two": 2}

# What each program's race is, read off its source: one entry per side of the bug.
EXPECTED_SIGNATURE = {
    "ledger_shift_a": ["ledger.cpp:credit", "ledger.cpp:report"],
    "ledger_shift_b": ["ledger.cpp:credit", "ledger.cpp:report"],
    "ledger_swapped": ["ledger.cpp:credit", "ledger.cpp:report"],
    # Every side is a lambda: the racing memory names the bug (a global, or the code that allocated the heap block).
    **{p: [["lambda_globals.cpp:operator()"] * 2 + ["global:g_orders"],
           ["lambda_globals.cpp:operator()"] * 2 + ["global:anon::g_refunds"],
           ["lambda_globals.cpp:operator()"] * 2 + ["heap:lambda_globals.cpp:main"]] for p in LAMBDAS},
    "lock_order_inversion": ["lock_order_inversion.cpp:audit", "lock_order_inversion.cpp:transfer"],
    "mutex_bad_unlock": ["mutex_bad_unlock.cpp:release_twice"],
    "mutex_destroy_locked": ["mutex_destroy_locked.cpp:teardown"],
    "mutex_double_lock": ["mutex_double_lock.cpp:grab"],
    "race_atomic_mixed": ["race_atomic_mixed.cpp:peek_plain", "race_atomic_mixed.cpp:publish"],
    # v5: a function racing with itself adds the memory it touches in its own code.
    "race_class_template": ["race_class_template.cpp:push"] * 2 + ["global:g_acc"],
    "race_fork": ["race_fork.cpp:enqueue"] * 2 + ["global:g_jobs"],
    "race_global": ["race_global.cpp:count_hits"] * 2 + ["global:g_hits"],
    "race_heap": ["race_heap.cpp:accumulate", "race_heap.cpp:read_total"],
    # raise_level is inlined into pump; gcc does not print it, so both sides name pump.
    "race_inlined": ["race_inlined.cpp:pump"] * 2 + ["global:g_level"],
    # Two races whose members are inlined into lambdas: named by the members, not by operator() (see below).
    "race_inlined_lambdas": [["race_inlined_lambdas.cpp:add"] * 2,
                             ["race_inlined_lambdas.cpp:raise", "race_inlined_lambdas.cpp:seen"]],
    # A lambda's captured local: the stack names no memory, so nothing is added.
    "race_lambda_ref": ["race_lambda_ref.cpp:operator()"] * 2,
    "race_stack_var": ["race_stack_var.cpp:read_flag", "race_stack_var.cpp:set_flag"],
    # No file or line in a stripped library: the exported function it runs in. A self race inside a container's
    # code (push_back, the map's insert) adds no memory: TSan names its globals and heap blocks by turns.
    "race_shared_vector": ["race_shared_vector.cpp:record_ids"] * 2,
    "race_stripped_lib": ["libcodec.so:codec_feed"] * 2,
    "race_unordered_map": ["race_unordered_map.cpp:add_words"] * 2,
    # symbolize=0: nothing but the module is left.
    "race_unsymbolized": ["race_unsymbolized"] * 2,
    # clang: ~Shape (inlined into ~Square) rewrites the vptr; gcc: ~Square frees the object.
    "race_vptr": ["race_vptr.cpp:measure", "race_vptr.cpp:~Square"],
    "signal_errno": ["signal_errno.cpp:on_alarm"],
    # The racing memory is libstdc++'s (GCC bug 77704); the signature still names the project's call.
    "regex_ctype_cache": ["regex_ctype_cache.cpp:matches_ticket"] * 2,
    "signal_unsafe": ["signal_unsafe.cpp:on_profile"],
    "thread_leak": ["thread_leak.cpp:start_background"],
    # A test body keeps its test's generated class; one side named, so no memory is added.
    "test_bodies": [["test_bodies.cpp:Leaky_Reader_Test::TestBody", "test_bodies.cpp:operator()"],
                    ["test_bodies.cpp:Racy_Counter_Test::TestBody", "test_bodies.cpp:operator()"]],
    "use_after_free": ["use_after_free.cpp:main", "use_after_free.cpp:touch_session"],
    # One thread freed and used the block: both sides are main's (the use in read_refs, the free in ~Session).
    "use_after_free_one_thread": ["use_after_free_one_thread.cpp:main", "use_after_free_one_thread.cpp:main"],
    "use_after_free_virtual": ["use_after_free_virtual.cpp:dispatch", "use_after_free_virtual.cpp:~Handler"],
    # v4: the free side names the function that freed, not the library's wrapper lib_free (v3 named both bugs so).
    "alloc_wrapper": [["alloc_wrapper.c:close_session", "alloc_wrapper.c:read_refs"],
                      ["alloc_wrapper.c:drop_cache", "alloc_wrapper.c:read_refs"]],
    # Under gcc the preloaded shim hides main: the report names no side, and is keyed on its test (v3: on nothing).
    **{p: {"clang14": [f"{p}.c:main"], "gcc12": [f"test:{p}"]} for p in ("leak_shim_a", "leak_shim_b")},
    # ... and on the mutex and where it was created, for a misuse the shim hid the caller of.
    "unlock_unlocked": {"clang14": ["unlock_unlocked.c:unregister"],
                        "gcc12": ["test:unlock_unlocked", "global:g_registry_lock", "created:unlock_unlocked.c:main"]},
    "stack_restore_full": ["stack_restore.c:read_status", "stack_restore.c:set_status"],
    # gcc 12 could not restore the writer's stack: the known side, the memory, and what is missing.
    "stack_restore_lost": {"clang14": ["stack_restore.c:read_status", "stack_restore.c:set_status"],
                           "gcc12": ["stack_restore.c:read_status", "global:g_status", f"({LOST_STACK})"]},
    "truncated_full": ["truncated.c:main", "truncated.c:sum_total"],
    # gcc 12's log ends inside the first stack: its top frame is printed, the memory and the other side are not.
    "truncated_exit": {"clang14": ["truncated.c:main", "truncated.c:sum_total"],
                       "gcc12": ["truncated.c:sum_total", f"({TRUNCATED})"]},
    # v5 (field test #23): one function racing with itself on two globals is two bugs, told by the globals; its fix
    # of the first keeps the second's id.
    "self_race_two": [["self_race.c:configure"] * 2 + ["global:g_mode_too_late"],
                      ["self_race.c:configure"] * 2 + ["global:g_created_ctx"]],
    "self_race_one": ["self_race.c:configure"] * 2 + ["global:g_created_ctx"],
    # v5 (field test #26): the pool's members print without a file in the program's module and name the sides,
    # not the tests that destroyed the pool.
    "fileless_pool": ["fileless_pool:worker_main", "fileless_pool:~pool"],
    # A known limit (field test #25, docs/bucketing.md): gcc keeps the search helper out of line (the comparator
    # inlined into it), clang inlines the chain into signal_start; the two compilers' ids differ.
    "static_comparator": {"clang14": ["static_comparator.c:signal_start"] * 2 + ["global:g_handles"],
                          "gcc12": ["static_comparator.c:first_handle", "static_comparator.c:signal_start"]},
}
# Programs whose reports differ by compiler (the shim hides frames under gcc only; only gcc lost a stack or was
# cut short), and variants that are the same bug as another program's (folded by the bucketer).
BY_COMPILER = {p for p, expected in EXPECTED_SIGNATURE.items() if isinstance(expected, dict)}
VARIANTS = (*LEDGER[1:], *LAMBDAS[1:], "stack_restore_lost", "truncated_exit", "self_race_one")


def reports(compiler: str, program: str) -> list[TsanReport]:
    return parse_reports((CORPUS / compiler / f"{program}.log").read_text())


def ids(compiler: str, program: str) -> set[str]:
    # The program is its own test: a report that names no side of the program is keyed on it.
    return {bucket_id(r.kind, signature(r, test=program)) for r in reports(compiler, program)}


def logs():
    return [pytest.param(c, p, id=f"{c}-{p}") for p in PROGRAMS for c in corpus_compilers(p)]


@pytest.mark.parametrize("compiler,program", logs())
def test_expected_signature(compiler, program):
    expected = EXPECTED_SIGNATURE[program]
    if isinstance(expected, dict):
        expected = expected[compiler]
    races = expected if isinstance(expected[0], list) else [expected]
    # Every report of the program has one of the expected signatures, and each expected race is reported.
    assert {tuple(signature(r, test=program)) for r in reports(compiler, program)} == {tuple(race) for race in races}


@pytest.mark.parametrize("program", sorted(set(PROGRAMS) - BY_COMPILER))
def test_same_bucket_for_all_compilers(program):
    per_compiler = [ids(c, program) for c in corpus_compilers(program)]
    assert len(per_compiler[0]) == SEVERAL.get(program, 1)
    assert all(i == per_compiler[0] for i in per_compiler[1:])


@pytest.mark.parametrize("compiler", COMPILERS)
def test_members_inlined_into_lambdas_name_their_races_not_the_lambdas(compiler):
    # Signature v1 keyed both races on the lambdas' operator(): one bucket for two bugs, the second never shown.
    rs = reports(compiler, "race_inlined_lambdas")
    assert len({bucket_id(r.kind, signature(r)) for r in rs}) == 2
    assert len({bucket_id(r.kind, signature(r, V1), V1) for r in rs}) == 1


@pytest.mark.parametrize("compiler", COMPILERS)
def test_line_shifted_and_thread_swapped_variants_share_a_bucket(compiler):
    a, b, swapped = (reports(compiler, p)[0] for p in LEDGER)
    # The variants really differ in lines and in which thread is reported first ...
    lines = lambda r: [f.line for s in r.stacks if s.role in (ACCESS, PREVIOUS) for f in s.frames[:1]]  # noqa: E731
    assert lines(a) != lines(b)
    first = lambda r: leaf_name(r.stacks[0].frames[0].function)  # noqa: E731
    assert first(a) != first(swapped)
    # ... and still are one bucket.
    assert bucket_id(a.kind, signature(a)) == bucket_id(b.kind, signature(b)) \
        == bucket_id(swapped.kind, signature(swapped))


@pytest.mark.parametrize("compiler", COMPILERS)
def test_lambda_races_on_different_memory_are_different_buckets_and_survive_a_line_shift(compiler):
    original, shifted = (reports(compiler, p) for p in LAMBDAS)
    # v2 named all three races `operator()` vs `operator()`: one bucket for three bugs.
    assert len({bucket_id(r.kind, signature(r, V2), V2) for r in original}) == 1
    assert len({bucket_id(r.kind, signature(r)) for r in original}) == 3

    def lines(rs: list[TsanReport]) -> list[int | None]:
        return sorted(f.line for r in rs for s in r.stacks if s.role == ACCESS for f in s.frames[:1])

    assert lines(original) != lines(shifted)
    assert ids(compiler, LAMBDAS[0]) == ids(compiler, LAMBDAS[1])


@pytest.mark.parametrize("compiler", COMPILERS)
def test_test_bodies_name_their_tests(compiler):
    # Two GoogleTest-style tests, each racing with a lambda it started on its own global (tests/batch_programs'
    # Racy.Counter and Leaky.Reader): v2 gave both `TestBody` vs `operator()`, one bucket.
    rs = reports(compiler, "test_bodies")
    assert len({bucket_id(r.kind, signature(r, V2), V2) for r in rs}) == 1
    assert len({bucket_id(r.kind, signature(r)) for r in rs}) == 2


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_different_races_get_different_buckets(compiler):
    distinct = [p for p in PROGRAMS if p not in VARIANTS]
    all_ids = [i for p in distinct for i in ids(compiler, p)]
    assert len(set(all_ids)) == len(all_ids) == sum(SEVERAL.get(p, 1) for p in distinct)


@pytest.mark.parametrize("compiler", COMPILERS)
def test_unordered_map_reports_are_one_bucket(compiler):
    rs = reports(compiler, "race_unordered_map")
    # TSan reports the one race several times, at different library frames and addresses ...
    assert len(rs) > 1
    assert len({r.stacks[0].frames[0].function for r in rs}) > 1
    assert len({r.stacks[0].header.split(" at ")[1].split()[0] for r in rs}) > 1
    # ... and they all land in one bucket.
    assert len({bucket_id(r.kind, signature(r)) for r in rs}) == 1


@pytest.mark.parametrize("compiler", COMPILERS)
def test_signatures_hold_no_volatile_details(compiler):
    for program in PROGRAMS:
        if compiler not in corpus_compilers(program):
            continue
        for r in reports(compiler, program):
            elements = signature(r, test=program)
            # A partial report's signature ends with what it lacks, in words in parentheses.
            for element in elements[:-1] if r.truncated or any(s.lost for s in r.stacks) else elements:
                assert not re.search(r"0x|\d+:\d+|:\d+$|pid|\bT\d+\b|\bM\d+\b|[()<>]\w", element), element
                assert not element.startswith(("std", "tsan", "sanitizer", "libtsan", "libc.so"))


def test_fork_reports_from_two_pids_share_a_bucket():
    rs = reports("clang19", "race_fork")
    assert rs[0].pid != rs[1].pid
    assert bucket_id(rs[0].kind, signature(rs[0])) == bucket_id(rs[1].kind, signature(rs[1]))


def test_kind_is_part_of_the_bucket_and_variants_fold():
    sig = ["x.cpp:f", "x.cpp:g"]
    assert bucket_id("data race", sig) != bucket_id("lock-order-inversion (potential deadlock)", sig)
    assert bucket_id("data race", sig) != bucket_id("data race", ["x.cpp:f", "x.cpp:h"])
    assert bucket_id("data race on vptr (ctor/dtor vs virtual call)", sig) == bucket_id("data race", sig)
    assert bucket_id("heap-use-after-free (virtual call vs free)", sig) == bucket_id("heap-use-after-free", sig)
    # v2: one lifetime bug is one bucket whether TSan saw a use after free or the two accesses unordered.
    assert bucket_id("heap-use-after-free", sig) == bucket_id("data race", sig)
    # v1 kept them apart; its ids stay computable for the baselines of earlier releases.
    assert bucket_id("heap-use-after-free", sig, V1) != bucket_id("data race", sig, V1)
    assert bucket_id("data race", sig, V1) != bucket_id("data race", sig)
    assert re.fullmatch(r"[0-9a-f]{16}", bucket_id("data race", sig))
    assert SIGNATURE_VERSION == 6


@pytest.mark.parametrize(
    "function,qualified",
    [
        ("main::$_0::operator()() const", "main::lambda::operator()"),
        ("main()::<lambda()>::operator()() const", "main::lambda::operator()"),
        ("{lambda(int)#1}::operator()(int) const", "lambda::operator()"),
        ("void std::__invoke_impl<void, main::$_0>(std::__invoke_other, main::$_0&&)", "std::__invoke_impl"),
        ("std::__invoke_result<main::$_0>::type std::__invoke<main::$_0>(main::$_0&&)", "std::__invoke"),
        ("__invoke_impl<void, main()::<lambda()> >", "__invoke_impl"),
        ("Accumulator<long>::push(long)", "Accumulator::push"),
        ("(anonymous namespace)::Codec::operator<<(int)", "anon::Codec::operator<<"),
        ("operator delete(void*, unsigned long)", "operator delete"),
        ("Shape::~Shape()", "Shape::~Shape"),
        ("Flag::operator bool() const", "Flag::operator bool"),
        ("std::vector<int>::operator[](unsigned long)", "std::vector::operator[]"),
        ("", ""),
    ],
)
def test_qualified_name(function, qualified):
    assert qualified_name(function) == qualified


def test_library_runtime_and_fileless_frames_are_not_project_frames():
    assert is_project_frame(Frame("count_hits()", "/src/app/race.cpp", 7))
    assert not is_project_frame(Frame("count_hits()", ""))
    assert not is_project_frame(Frame("operator()", "/usr/include/c++/12/bits/std_thread.h", 259))
    assert not is_project_frame(Frame("std::mutex::lock()", "/opt/gcc/include/c++/13/bits/std_mutex.h", 1))
    assert not is_project_frame(Frame("pthread_create",
                                      "../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp", 1))
    assert not is_project_frame(Frame("__libc_start_call_main", "csu/../sysdeps/nptl/libc_start_call_main.h", 58))
    assert not is_project_frame(Frame("testing::Test::Run()", "/src/third_party/googletest/src/gtest.cc", 2))


def test_finding_and_title():
    (r,) = reports("gcc12", "race_heap")
    finding = finding_from_report(r)
    assert finding.kind == "data race"
    assert finding.signature == EXPECTED_SIGNATURE["race_heap"]
    assert finding.raw == r.text
    assert [(f.function, f.line) for f in finding.frames] == [("accumulate(void*)", 10),
                                                              ("read_total(Totals const*)", 14)]
    assert all(f.file.endswith("/race_heap.cpp") for f in finding.frames)
    assert len(finding.stacks) == 2
    assert all(s.header and s.frames for s in finding.stacks)
    assert finding.title == "data race: accumulate (race_heap.cpp:10) vs read_total (race_heap.cpp:14)"
    assert finding.id == bucket_id(finding.kind, finding.signature) and not finding.partial


def test_title_and_stacks_of_single_sided_reports():
    (r,) = reports("clang14", "thread_leak")
    assert finding_from_report(r).title == "thread leak: start_background (thread_leak.cpp:9)"
    r = reports("clang14", "signal_unsafe")[0]
    finding = finding_from_report(r)
    assert finding.stacks[0].header == r.kind  # TSan printed this stack without a header
    assert finding.title.startswith("signal-unsafe call inside of a signal: on_profile (signal_unsafe.cpp:")


def test_report_without_stacks_does_not_fail():
    (r,) = parse_reports("WARNING: ThreadSanitizer: data race (pid=1)\n")
    # Cut right after its first line: it names nothing, and is keyed on its test.
    assert signature(r, test="Suite.Case") == ["test:Suite.Case", f"({TRUNCATED})"]
    assert signature(r) == ["(no frame of the program)", f"({TRUNCATED})"]
    assert signature(r, V3) == []
    finding = finding_from_report(r)
    assert finding.frames == [] and finding.title == f"data race ({TRUNCATED})" and finding.partial


def test_side_inside_the_standard_library_only_falls_back_to_library_names():
    (r,) = parse_reports(
        "WARNING: ThreadSanitizer: data race (pid=1)\n"
        "  Write of size 8 at 0x10 by thread T1:\n"
        "    #0 std::vector<int>::push_back(int const&) /usr/include/c++/12/bits/stl_vector.h:1281 (a+0x10)\n"
        "    #1 __tsan_thread_start_func ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:1 "
        "(libtsan.so.2+0x1)\n"
        "\n"
        "  Previous write of size 8 at 0x10 by thread T2:\n"
        "    #0 push_back /usr/include/c++/12/bits/stl_vector.h:1281 (a+0x20)\n"
        "\n"
        "SUMMARY: ThreadSanitizer: data race x\n"
    )
    assert signature(r) == ["stl_vector.h:push_back"] * 2


def _generic_race(location: str, side: str = "main::$_0::operator()() const") -> TsanReport:
    (r,) = parse_reports(
        "WARNING: ThreadSanitizer: data race (pid=1)\n"
        "  Write of size 4 at 0x10 by thread T1:\n"
        f"    #0 {side} /src/app/jobs.cpp:7:5 (app+0x10)\n"
        "\n"
        "  Previous write of size 4 at 0x10 by thread T2:\n"
        f"    #0 {side} /src/app/jobs.cpp:8:5 (app+0x20)\n"
        "\n"
        f"{location}\n"
        "SUMMARY: ThreadSanitizer: data race /src/app/jobs.cpp:7:5 in f\n"
    )
    return r


@pytest.mark.parametrize("location,memory", [
    ("  Location is global 'ns::Pool<int>::s_count' of size 4 at 0x10 (app+0x10)\n", ["global:ns::Pool::s_count"]),
    ("  Location is global '{anonymous}::g_jobs' of size 8 at 0x10 (app+0x10)\n", ["global:anon::g_jobs"]),
    ("  Location is heap block of size 8 at 0x10 allocated by thread T3:\n"
     "    #0 malloc ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:1 (libtsan.so.2+0x1)\n"
     "    #1 make_job() /src/app/jobs.cpp:3:10 (app+0x30)\n"
     "    #2 Jobs_Spawn_Test::TestBody() /src/app/jobs_test.cpp:12:3 (app+0x40)\n"
     "    #3 testing::Test::Run() /src/googletest/src/gtest.cc:2 (app+0x50)\n",
     ["heap:jobs_test.cpp:Jobs_Spawn_Test::TestBody"]),
    # No project frame allocated it: nothing to name it by.
    ("  Location is heap block of size 8 at 0x10 allocated by thread T3:\n"
     "    #0 malloc ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:1 (libtsan.so.2+0x1)\n", []),
    ("  Location is TLS of thread T1.\n", []),
    ("  Location is stack of thread T1.\n\n  Location is global '<null>' at 0x000000000000 ([stack]+0x1fa3c)\n", []),
    ("  Location is global '??' at 0x7ffc61bc6000 ([stack]+0x1fcac)\n", []),
    ("", []),
])
def test_only_generic_sides_add_the_racing_memory(location, memory):
    assert signature(_generic_race(location)) == ["jobs.cpp:operator()"] * 2 + memory
    # Generated test bodies of doctest are as generic as lambdas; v2 never added the memory.
    assert signature(_generic_race(location, "DOCTEST_ANON_FUNC_12()"))[2:] == memory
    assert signature(_generic_race(location), V2) == ["jobs.cpp:operator()"] * 2
    # A named side told the race apart by itself until v5; a function racing with itself adds the memory since.
    assert signature(_generic_race(location, "Jobs::run()"), V4) == ["jobs.cpp:run"] * 2
    assert signature(_generic_race(location, "Jobs::run()")) == ["jobs.cpp:run"] * 2 + memory


def test_a_test_body_is_named_by_its_generated_class_only():
    r = _generic_race("", "(anonymous namespace)::suite::Typed_Works_Test<int>::TestBody()")
    assert signature(r) == ["jobs.cpp:Typed_Works_Test::TestBody"] * 2
    assert signature(r, V2) == ["jobs.cpp:TestBody"] * 2


# -- signature v4: allocator wrappers, reports without a project side, partial reports ---------------------------

@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_an_allocator_wrapper_never_keys_a_side(compiler):
    rs = reports(compiler, "alloc_wrapper")
    # Both lifetime bugs free through lib_free: v3 keyed both on it, one bucket for two bugs.
    assert {tuple(signature(r, V3)) for r in rs} == {("alloc_wrapper.c:lib_free", "alloc_wrapper.c:read_refs")}
    assert len({bucket_id(r.kind, signature(r)) for r in rs}) == 2


def _freed_through(*wrappers: str) -> TsanReport:
    frames = "".join(f"    #{i + 1} {name} /src/lib/store.c:{i + 3} (app+0x{i + 2}0)\n"
                     for i, name in enumerate(wrappers))
    (r,) = parse_reports(
        "WARNING: ThreadSanitizer: heap-use-after-free (pid=1)\n"
        "  Read of size 4 at 0x10 by thread T1:\n"
        "    #0 peek /src/lib/store.c:1 (app+0x10)\n"
        "\n"
        "  Previous write of size 8 at 0x10 by main thread:\n"
        "    #0 free ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:706 (libtsan.so.2+0x1)\n"
        f"{frames}"
        "\n"
        "SUMMARY: ThreadSanitizer: heap-use-after-free /src/lib/store.c:1 in peek\n"
    )
    return r


# One name per rule of ALLOCATOR_WRAPPERS, in its order.
WRAPPER_EXAMPLES = ["xfree", "g_free", "av_freep", "lib_free", "pool_put", "Arena::Free(void*)"]


def test_every_allocator_wrapper_rule_has_an_example():
    assert len(WRAPPER_EXAMPLES) == len(ALLOCATOR_WRAPPERS)
    for (pattern, _), name in zip(ALLOCATOR_WRAPPERS, WRAPPER_EXAMPLES):
        assert re.fullmatch(pattern, leaf_name(name)), (pattern, name)


@pytest.mark.parametrize("wrapper", WRAPPER_EXAMPLES)
def test_a_wrapper_right_under_the_allocator_is_skipped_like_it(wrapper):
    assert is_allocator_wrapper(Frame(wrapper, "/src/lib/store.c", 3))
    assert signature(_freed_through(wrapper, "close_store(store*)")) == ["store.c:close_store", "store.c:peek"]
    assert signature(_freed_through(wrapper, "close_store(store*)"), V3)[0] != "store.c:close_store"


def test_wrappers_of_wrappers_are_skipped_and_a_wrapper_name_elsewhere_is_kept():
    assert signature(_freed_through("lib_free", "xfree", "close_store")) == ["store.c:close_store", "store.c:peek"]
    # Not right under the allocator: the caller that frees is not skipped for its name.
    assert signature(_freed_through("close_store", "session_free")) == ["store.c:close_store", "store.c:peek"]
    # A function of an allocator's name that is not under one names its side: it is where the access is.
    (r,) = parse_reports("WARNING: ThreadSanitizer: data race (pid=1)\n  Write of size 4 at 0x10 by thread T1:\n"
                         "    #0 pool_put /src/lib/pool.c:9 (app+0x10)\n\nSUMMARY: ThreadSanitizer: data race x\n")
    assert signature(r) == ["pool.c:pool_put"]


@pytest.fixture
def project_wrappers():
    yield frame_kinds.use_allocator_wrappers
    frame_kinds.use_allocator_wrappers(None)


def test_a_projects_own_wrappers(project_wrappers):
    report = _freed_through("store_release", "close_store")
    assert signature(report) == ["store.c:peek", "store.c:store_release"]
    project_wrappers(r"store_release|other::Dispose")
    assert signature(report) == ["store.c:close_store", "store.c:peek"]
    assert is_allocator_wrapper(Frame("other::Dispose(void*)", "/src/x.c", 1))
    project_wrappers(None)
    assert signature(report) == ["store.c:peek", "store.c:store_release"]


def test_a_bad_allocator_wrapper_pattern_is_a_usage_error(tmp_path):
    done = racegate("run", "--allocator-wrappers", "lib_(", "--out", str(tmp_path), "--", "true")
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.startswith("racegate: --allocator-wrappers 'lib_(' is not a regular expression")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("program", ["leak_shim_a", "leak_shim_b", "unlock_unlocked"])
def test_a_report_without_a_project_side_is_keyed_on_what_it_has(program):
    (r,) = reports("gcc12", program)
    assert signature(r, V3) == []  # v3: nothing at all, shared by every program that printed such a report
    assert signature(r, test=program)[0] == f"test:{program}"


def test_leaks_of_two_programs_the_shim_hid_main_of_are_two_buckets():
    (a,), (b,) = reports("gcc12", "leak_shim_a"), reports("gcc12", "leak_shim_b")
    assert bucket_id(a.kind, signature(a, V3), V3) == bucket_id(b.kind, signature(b, V3), V3)
    assert bucket_id(a.kind, signature(a, test="A")) != bucket_id(b.kind, signature(b, test="B"))


def _bucket(findings_by_run: list[tuple[str, list]], tmp_path) -> Bucketer:
    bucketer = Bucketer(tmp_path / "reports")
    for run, (test, findings) in enumerate(findings_by_run):
        bucketer.add(RunRecord(test=test, run=run, seed=run, strategy="noise", command=["./t"], outcome="race",
                               returncode=66, duration=0.1, log_dir="", findings=findings, started=float(run)))
    return bucketer


def _findings(compiler: str, program: str, test: str) -> list:
    return [finding_from_report(r, test) for r in reports(compiler, program)]


@pytest.mark.parametrize("partial,whole", [("stack_restore_lost", "stack_restore_full"),
                                           ("truncated_exit", "truncated_full")])
@pytest.mark.parametrize("partial_first", [True, False])
def test_a_partial_report_folds_into_the_bucket_of_its_whole_report(tmp_path, partial, whole, partial_first):
    (cut,) = _findings("gcc12", partial, "T")
    (full,) = _findings("gcc12", whole, "T")
    assert cut.partial and not full.partial and cut.id != full.id
    runs = [("T", [cut]), ("T", [full])] if partial_first else [("T", [full]), ("T", [cut])]
    bucketer = _bucket(runs, tmp_path)
    (bucket,) = bucketer.buckets.values()
    # One bucket, the whole report's, holding both runs; shown by the whole report; the partial's id is its id now.
    assert bucket.id == full.id == cut.id and bucket.finding is full
    assert bucket.runs == {0, 1} and bucket.occurrences == 2 and bucket.seconds == 0.1
    assert set(bucket.legacy_ids) >= set(full.legacy_ids) | set(cut.legacy_ids)
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [f"{full.id}.txt"]


def test_a_partial_report_alone_keeps_a_bucket_of_its_own_and_its_raw_text(tmp_path):
    (cut,) = _findings("gcc12", "truncated_exit", "T")
    (bucket,) = _bucket([("T", [cut])], tmp_path).buckets.values()
    assert bucket.id == cut.id and bucket.finding.raw == cut.raw
    assert bucket.finding.title == f"data race: sum_total (truncated.c:17) ({TRUNCATED})"


def test_a_partial_report_folds_only_where_one_whole_report_agrees_with_it(tmp_path):
    (lost,) = _findings("gcc12", "stack_restore_lost", "T")
    (full,) = _findings("gcc12", "stack_restore_full", "T")
    # Another race of the same reader on other memory: the partial's memory tells them apart.
    other = finding_from_report(_race("stack_restore.c", "read_status", "reset_status", "g_flags"), "T")
    bucketer = _bucket([("T", [other]), ("T", [lost]), ("T", [full])], tmp_path)
    assert {b.id for b in bucketer.buckets.values()} == {other.id, full.id}
    # A report cut before its first stack names nothing: it folds into its test's one whole race, when one only.
    (nothing,) = parse_reports("WARNING: ThreadSanitizer: data race (pid=1)\n  Read of size 8 at 0x10 by thread T1")
    alone = finding_from_report(nothing, "T")
    assert alone.partial and not alone.sides.names
    bucketer = _bucket([("U", [full]), ("T", [alone])], tmp_path / "other-test")
    assert len(bucketer.buckets) == 2
    bucketer = _bucket([("T", [full]), ("T", [alone])], tmp_path / "same-test")
    assert list(bucketer.buckets) == [full.id]
    two = _bucket([("T", [full]), ("T", [other]), ("T", [finding_from_report(nothing, "T")])], tmp_path / "two")
    assert len(two.buckets) == 3


def _race(file: str, reader: str, writer: str, memory: str) -> TsanReport:
    (r,) = parse_reports(
        "WARNING: ThreadSanitizer: data race (pid=1)\n"
        "  Read of size 4 at 0x10 by main thread:\n"
        f"    #0 {reader} /src/{file}:3 (app+0x10)\n"
        "\n"
        "  Previous write of size 4 at 0x10 by thread T1:\n"
        f"    #0 {writer} /src/{file}:9 (app+0x20)\n"
        "\n"
        f"  Location is global '{memory}' of size 4 at 0x10 (app+0x40)\n"
        "\n"
        "SUMMARY: ThreadSanitizer: data race x\n"
    )
    return r


# Any report: stacks of frames from every place a frame comes from (the project, the runtime, libc, the shim, the
# standard library, nowhere), lost or cut short, with or without a location.
_FRAMES = st.sampled_from([
    "main /src/app/main.c:3 (app+0x10)", "worker(void*) /src/app/w.cpp:9:3 (app+0x20)",
    "pthread_create ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:1001 (libtsan.so.2+0x5e686)",
    "pthread_create <null> (racegate_sched-7a0d7b68b1b9cec3.so+0x4dea)",
    "__libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58 (libc.so.6+0x27249)",
    "free <null> (app+0x501e4)", "lib_free /src/app/lib.c:15 (app+0x30)",
    "std::thread::_State_impl<int>::_M_run() /usr/include/c++/12/bits/std_thread.h:211 (app+0x40)",
    "<null> <null> (app+0x50)", "<null> <null> (libfoo.so+0x60)", "operator() /src/app/l.cpp:4 (app+0x70)",
])
_HEADERS = st.sampled_from([
    "Write of size 4 at 0x10 by thread T1:", "Previous read of size 4 at 0x10 by main thread:",
    "Thread T1 (tid=5, finished) created by main thread at:", "Mutex M1 (0x10) created at:",
    "Location is heap block of size 8 at 0x10 allocated by main thread:", "",
])
_STACKS = st.tuples(_HEADERS, st.lists(_FRAMES, max_size=4), st.booleans())
_KINDS = st.sampled_from(["data race", "thread leak", "unlock of an unlocked mutex (or by a wrong thread)",
                          "heap-use-after-free", "lock-order-inversion (potential deadlock)", "signal-unsafe call"])


@settings(max_examples=300, deadline=None)
@given(_KINDS, st.lists(_STACKS, max_size=4),
       st.sampled_from(["", "  Location is global 'g' of size 4 at 0x1 (app+0x1)"]), st.booleans(),
       st.sampled_from(["", "Suite.Case", "leak_shim_a"]))
def test_no_report_ever_gets_an_empty_signature_or_keys_a_bucket_on_nothing(kind, stacks, location, whole, test):
    lines = [f"WARNING: ThreadSanitizer: {kind} (pid=1)"]
    for header, frames, lost in stacks:
        if header:
            lines.append(f"  {header}")
        lines += ["    [failed to restore the stack]"] if lost and header else \
            [f"    #{i} {frame}" for i, frame in enumerate(frames)]
        lines.append("")
    if location:
        lines += [location, ""]
    if whole:
        lines.append(f"SUMMARY: ThreadSanitizer: {kind} x")
    (report,) = parse_reports("\n".join(lines) + "\n")
    keys = signature(report, test=test)
    assert keys and all(keys)
    finding = finding_from_report(report, test)
    assert finding.signature == keys and finding.id == bucket_id(kind, keys) != bucket_id(kind, [])
    # A report cut short is partial; so is a whole one whose defining stack TSan could not restore.
    assert finding.partial or whole
    assert not finding.partial or not whole or any(lost and header for header, _, lost in stacks)


def test_a_run_with_both_the_partial_and_the_whole_report_counts_once(tmp_path):
    (cut,) = _findings("gcc12", "stack_restore_lost", "T")
    (full,) = _findings("gcc12", "stack_restore_full", "T")
    (lost_again,) = _findings("gcc12", "stack_restore_lost", "T")
    bucketer = _bucket([("T", [cut, full]), ("T", [lost_again])], tmp_path)
    (bucket,) = bucketer.buckets.values()
    assert bucket.runs == {0, 1} and bucket.occurrences == 3
    assert bucket.strategies == {"noise": 2} and bucket.kinds == {"data race": 2}
    assert cut.id == lost_again.id == full.id


# -- signature v5: self races told apart by their memory, fileless frames of the project's own modules ------------

@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_a_function_racing_with_itself_on_two_globals_is_two_buckets_and_its_fix_keeps_the_other(compiler):
    # Field test #23: v4 gave both races `configure vs configure`, one id, so a baseline holding the first (fixed,
    # or known) hid the second. v5 adds the global; the fixed program's one race keeps its id.
    racy, fixed = reports(compiler, "self_race_two"), reports(compiler, "self_race_one")
    assert len({bucket_id(r.kind, signature(r, V4), V4) for r in racy + fixed}) == 1
    racy_ids = {bucket_id(r.kind, signature(r)) for r in racy}
    (fixed_id,) = {bucket_id(r.kind, signature(r)) for r in fixed}
    assert len(racy_ids) == 2 and fixed_id in racy_ids
    # Each part carries the v4 id: a v4 baseline that knew the one bucket knows both parts.
    v4_id = bucket_id(racy[0].kind, signature(racy[0], V4), V4)
    assert all(finding_from_report(r).legacy_ids[3] == v4_id for r in racy + fixed)


def _self_race(top: str, location: str) -> TsanReport:
    (r,) = parse_reports(
        "WARNING: ThreadSanitizer: data race (pid=1)\n"
        "  Write of size 8 at 0x10 by thread T1:\n"
        f"{top}"
        "    #1 record(int) /src/app/log.cpp:7:5 (app+0x10)\n"
        "\n"
        "  Previous write of size 8 at 0x10 by thread T2:\n"
        f"{top}"
        "    #1 record(int) /src/app/log.cpp:7:5 (app+0x10)\n"
        "\n"
        f"{location}\n"
        "SUMMARY: ThreadSanitizer: data race /src/app/log.cpp:7:5 in record\n"
    )
    return r


def test_a_self_race_adds_the_memory_only_where_its_own_code_touches_it():
    glob = "  Location is global 'g_log' of size 24 at 0x10 (app+0x10)\n"
    assert signature(_self_race("", glob)) == ["log.cpp:record"] * 2 + ["global:g_log"]
    # Inside a container's code the memory is the container's: its object by turns with its heap blocks (the
    # unordered_map race of the corpus), so nothing is added.
    inside = "    #0 std::vector<int>::push_back(int const&) /usr/include/c++/12/bits/stl_vector.h:1281 (app+0x20)\n"
    assert signature(_self_race(inside, glob)) == ["log.cpp:record"] * 2
    # An intercepted libc call is the function's own access.
    copy = "    #0 memcpy ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:1 " \
           "(libtsan.so.2+0x1)\n"
    assert signature(_self_race(copy, glob)) == ["log.cpp:record"] * 2 + ["global:g_log"]
    # Nothing named: nothing added.
    assert signature(_self_race("", "  Location is TLS of thread T1.\n")) == ["log.cpp:record"] * 2


@pytest.mark.parametrize("compiler", ["clang14", "gcc12"])
def test_fileless_members_of_the_programs_own_module_name_their_sides_not_each_caller(compiler):
    # Field test #26: v4 skipped `tiny::pool::~pool() <null>` and keyed the write side on each test destroying a pool.
    rs = reports(compiler, "fileless_pool")
    assert len({bucket_id(r.kind, signature(r, V4), V4) for r in rs}) > 1
    assert len({bucket_id(r.kind, signature(r)) for r in rs}) == 1


# The shape of the field report (task-thread-pool, gcc 12, Catch2 v3), names as printed; addresses shortened.
_FIELD_26 = (
    "WARNING: ThreadSanitizer: data race (pid=4242)\n"
    "  Write of size 1 at 0x7b0c00000010 by main thread:\n"
    "    #0 task_thread_pool::task_thread_pool::~task_thread_pool() <null> (functionality_tests+0x2f1a4)\n"
    "    #1 CATCH2_INTERNAL_TEST_{n} /src/ttp/test/functionality_test.cpp:{line} (functionality_tests+0x3{n}0)\n"
    "    #2 Catch::TestInvokerAsFunction::invoke() const <null> (functionality_tests+0x9a1c0)\n"
    "\n"
    "  Previous read of size 1 at 0x7b0c00000010 by thread T3:\n"
    "    #0 task_thread_pool::task_thread_pool::worker_main() <null> (functionality_tests+0x2e8b0)\n"
    "    #1 <null> <null> (libstdc++.so.6+0xd44a2)\n"
    "\n"
    "  Location is heap block of size 232 at 0x7b0c00000000 allocated by main thread:\n"
    "    #0 operator new(unsigned long) ../../../../src/libsanitizer/tsan/tsan_new_delete.cpp:64 (libtsan.so.2+0x1)\n"
    "    #1 CATCH2_INTERNAL_TEST_{n} /src/ttp/test/functionality_test.cpp:{line} (functionality_tests+0x3{n}0)\n"
    "\n"
    "SUMMARY: ThreadSanitizer: data race (functionality_tests+0x2f1a4) in task_thread_pool::~task_thread_pool()\n"
)


def test_the_field_reports_of_one_pool_race_in_ten_tests_are_one_bucket():
    field = [parse_reports(_FIELD_26.format(n=n, line=20 + 7 * n))[0] for n in range(10)]
    assert len({bucket_id(r.kind, signature(r, V4), V4) for r in field}) == 10
    assert {tuple(signature(r)) for r in field} == {("functionality_tests:worker_main",
                                                     "functionality_tests:~task_thread_pool")}
    title = ("data race: task_thread_pool::task_thread_pool::worker_main (functionality_tests) vs "
             "task_thread_pool::task_thread_pool::~task_thread_pool (functionality_tests)")
    assert finding_from_report(field[0]).title == title


@pytest.mark.parametrize("frame", [
    # clang links TSan's interceptors and annotations into the executable: plain C names, no file.
    "usleep <null> (functionality_tests+0x1)", "AnnotateRWLockAcquired <null> (functionality_tests+0x1)",
    # crt and compiler code of every executable, and library namespaces.
    "_start <null> (functionality_tests+0x1)", "_GLOBAL__sub_I_pool.cpp <null> (functionality_tests+0x1)",
    "std::thread::_State_impl<int>::_M_run() <null> (functionality_tests+0x1)",
    # Test frameworks linked into the test statically (Catch2 v3, doctest, Boost.Test).
    "Catch::RunContext::runTest() <null> (functionality_tests+0x1)",
    "doctest::detail::TestCase::operator()() <null> (functionality_tests+0x1)",
    "__cxxabiv1::__cxa_guard_acquire <null> (functionality_tests+0x1)",
    # A module no project frame of the report is in: a system library's code.
    "z_stream::inflate_fast() <null> (libz.so.1+0x1)",
])
def test_fileless_frames_that_are_not_the_projects_never_name_a_side(frame):
    text = _FIELD_26.format(n=1, line=27).replace(
        "task_thread_pool::task_thread_pool::~task_thread_pool() <null> (functionality_tests+0x2f1a4)", frame, 1)
    (r,) = parse_reports(text)
    assert signature(r)[0] == "functionality_test.cpp:CATCH2_INTERNAL_TEST_1"
