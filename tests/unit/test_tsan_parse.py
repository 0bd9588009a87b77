"""tsan_parse against real TSan logs from clang 14, clang 19 and gcc 12 (tests/corpus)."""
from __future__ import annotations

import re

import pytest

from racegate.model import ACCESS, LOCATION, MUTEX, OTHER, PREVIOUS, THREAD
from racegate.tsan_parse import parse_frame, parse_reports
from samples_helpers import CORPUS
from samples_helpers import CORPUS_COMPILERS as COMPILERS
from samples_helpers import CORPUS_PROGRAMS as PROGRAMS
from samples_helpers import corpus_compilers


# Report kinds each program produces; a set where compilers differ in how they name the bug.
EXPECTED_KINDS = {
    "ledger_shift_a": {"data race"},
    "ledger_shift_b": {"data race"},
    "ledger_swapped": {"data race"},
    "lambda_globals": {"data race"},
    "lambda_globals_shift": {"data race"},
    "regex_ctype_cache": {"data race"},
    "lock_order_inversion": {"lock-order-inversion (potential deadlock)"},
    "mutex_bad_unlock": {"unlock of an unlocked mutex (or by a wrong thread)"},
    "mutex_destroy_locked": {"destroy of a locked mutex"},
    "mutex_double_lock": {"double lock of a mutex"},
    "race_atomic_mixed": {"data race"},
    "race_class_template": {"data race"},
    "race_fork": {"data race"},
    "race_global": {"data race"},
    "race_heap": {"data race"},
    "race_shared_vector": {"data race"},
    "race_inlined_lambdas": {"data race"},
    "race_inlined": {"data race"},
    "race_lambda_ref": {"data race"},
    "race_stack_var": {"data race"},
    "race_stripped_lib": {"data race"},
    "race_unordered_map": {"data race"},
    "race_unsymbolized": {"data race"},
    "race_vptr": {"data race on vptr (ctor/dtor vs virtual call)", "data race"},
    "signal_errno": {"signal handler spoils errno"},
    "signal_unsafe": {"signal-unsafe call inside of a signal"},
    "test_bodies": {"data race"},
    "thread_leak": {"thread leak"},
    "use_after_free": {"heap-use-after-free"},
    "use_after_free_one_thread": {"heap-use-after-free"},
    "use_after_free_virtual": {"heap-use-after-free (virtual call vs free)", "heap-use-after-free"},
    "alloc_wrapper": {"heap-use-after-free"},
    "leak_shim_a": {"thread leak"},
    "leak_shim_b": {"thread leak"},
    "stack_restore_full": {"data race"},
    "stack_restore_lost": {"data race"},
    "truncated_exit": {"data race"},
    "truncated_full": {"data race"},
    "self_race_two": {"data race"},
    "self_race_one": {"data race"},
    "fileless_pool": {"data race"},
    "static_comparator": {"data race"},
    "unlock_unlocked": {"unlock of an unlocked mutex (or by a wrong thread)"},
}
# Logs whose one report the process's end cut short (gcc 12 writes a report line by line, clang 14 in one piece).
CUT_SHORT = {("gcc12", "truncated_exit")}
# Logs without TSan's closing "reported N warnings" line: the process ended by exit_group, which TSan never sees.
NO_TOTALS = {"truncated_exit"}

# A function that must appear in a stack (race_unsymbolized names none).
EXPECTED_FUNCTION = {
    "ledger_shift_a": "credit",
    "ledger_shift_b": "credit",
    "ledger_swapped": "report",
    "lock_order_inversion": "audit",
    "mutex_bad_unlock": "release_twice",
    "mutex_destroy_locked": "teardown",
    "mutex_double_lock": "second_owner",
    "race_atomic_mixed": "publish",
    "race_class_template": "push",
    "race_fork": "enqueue",
    "race_global": "count_hits",
    "race_heap": "accumulate",
    "race_inlined": "pump",
    "race_lambda_ref": "operator()",
    "race_stack_var": "set_flag",
    "race_stripped_lib": "codec_feed",
    "race_unordered_map": "add_words",
    "race_vptr": "measure",
    "signal_errno": "on_alarm",
    "signal_unsafe": "on_profile",
    "test_bodies": "Racy_Counter_Test::TestBody",
    "thread_leak": "start_background",
    "use_after_free": "touch_session",
    "use_after_free_one_thread": "read_refs",
    "use_after_free_virtual": "dispatch",
    "alloc_wrapper": "close_session",
    "stack_restore_full": "set_status",
    "stack_restore_lost": "read_status",
    "truncated_exit": "sum_total",
    "truncated_full": "sum_total",
    "self_race_two": "configure",
    "self_race_one": "configure",
    "fileless_pool": "~pool",
    "static_comparator": "handle_compare",
}


def load(compiler: str, program: str) -> str:
    return (CORPUS / compiler / f"{program}.log").read_text()


def all_logs():
    return [pytest.param(c, p, id=f"{c}-{p}") for c in COMPILERS for p in PROGRAMS if c in corpus_compilers(p)]


def test_corpus_is_complete():
    assert set(PROGRAMS) == set(EXPECTED_KINDS)
    for program in PROGRAMS:
        # Every program has a log of each compiler this machine has; most also one of clang 19.
        assert {"clang14", "gcc12"} <= set(corpus_compilers(program)), program


@pytest.mark.parametrize("compiler,program", all_logs())
def test_kinds_and_summaries(compiler, program):
    text = load(compiler, program)
    reports = parse_reports(text)
    assert reports
    assert {r.kind for r in reports} <= EXPECTED_KINDS[program]
    if (compiler, program) in CUT_SHORT:
        (r,) = reports
        assert r.truncated and not r.summary and r.stacks and r.text in text
        return
    for r in reports:
        assert not r.truncated
        assert r.summary.startswith(r.kind)
        assert r.text.startswith("==================\nWARNING: ThreadSanitizer: ")
        assert r.text.rstrip("\n").endswith("==================")
        assert f"(pid={r.pid})" in r.text
        assert r.text in text


@pytest.mark.parametrize("compiler,program", all_logs())
def test_report_count_matches_tsan_totals(compiler, program):
    text = load(compiler, program)
    totals = [int(n) for n in re.findall(r"^ThreadSanitizer: reported (\d+) warnings$", text, re.M)]
    reports = parse_reports(text)
    if program == "race_unordered_map":  # generate.py keeps only the first reports of this log
        assert len(reports) == 8 and sum(totals) > 8
    elif program in NO_TOTALS:
        assert len(reports) == 1 and not totals
    else:
        assert len(reports) == sum(totals)


@pytest.mark.parametrize("compiler,program", [p for p in all_logs() if p.values[1] in EXPECTED_FUNCTION])
def test_expected_function_is_in_a_stack(compiler, program):
    reports = parse_reports(load(compiler, program))
    names = {f.function for r in reports for s in r.stacks for f in s.frames}
    wanted = EXPECTED_FUNCTION[program]
    assert any(n == wanted or n.startswith(wanted + "(") or f"::{wanted}(" in n for n in names), names


@pytest.mark.parametrize("compiler", COMPILERS)
def test_data_race_stacks_and_roles(compiler):
    (r,) = parse_reports(load(compiler, "race_heap"))
    roles = [s.role for s in r.stacks]
    assert roles[:2] == [ACCESS, PREVIOUS]
    assert LOCATION in roles and THREAD in roles
    access = r.stacks[0]
    assert re.match(r"(Write|Read) of size \d+ at 0x[0-9a-f]+ by (thread T\d+|main thread):", access.header)
    assert access.frames[0].file.endswith("race_heap.cpp")
    assert access.frames[0].line in (10, 14)
    location = next(s for s in r.stacks if s.role == LOCATION)
    assert location.header.startswith("Location is heap block of size 8")
    assert any(f.function == "main" for f in location.frames)


@pytest.mark.parametrize("compiler", COMPILERS)
def test_atomic_access_header(compiler):
    (r,) = parse_reports(load(compiler, "race_atomic_mixed"))
    headers = [s.header for s in r.stacks if s.role in (ACCESS, PREVIOUS)]
    assert any("atomic" in h.lower() for h in headers), headers


@pytest.mark.parametrize("compiler", COMPILERS)
def test_lock_order_inversion_stacks(compiler):
    (r,) = parse_reports(load(compiler, "lock_order_inversion"))
    mutex = [s for s in r.stacks if s.role == MUTEX]
    # second_deadlock_stack=1: an "acquired here" and a "previously acquired" stack per edge.
    assert len(mutex) == 4
    assert sum("acquired here while holding mutex" in s.header for s in mutex) == 2
    assert sum("previously acquired by the same thread here" in s.header for s in mutex) == 2
    assert [s.role for s in r.stacks].count(THREAD) == 2


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("program", ["signal_unsafe", "signal_errno", "mutex_double_lock", "mutex_bad_unlock"])
def test_headerless_stack_under_warning(compiler, program):
    r = parse_reports(load(compiler, program))[0]
    first = r.stacks[0]
    assert first.role == OTHER and first.frames
    if program == "signal_errno" and compiler == "clang19":
        assert re.match(r"Signal \d+ handler invoked at:", first.header)  # newer runtimes name it
    else:
        assert first.header == ""


@pytest.mark.parametrize("compiler", COMPILERS)
def test_and_stack_of_destroyed_mutex(compiler):
    (r,) = parse_reports(load(compiler, "mutex_destroy_locked"))
    assert [s.header for s in r.stacks[:2]] == ["", "and:"]
    assert r.stacks[1].frames[-1].function == "main"
    assert r.stacks[-1].role == MUTEX and r.stacks[-1].header.startswith("Mutex M")


@pytest.mark.parametrize("compiler", COMPILERS)
def test_thread_leak_creation_stack(compiler):
    (r,) = parse_reports(load(compiler, "thread_leak"))
    (thread,) = r.stacks
    assert thread.role == THREAD
    assert re.match(r"Thread T1 \(tid=\d+, finished\) created by main thread at:", thread.header)


@pytest.mark.parametrize("compiler", COMPILERS)
def test_fork_log_holds_two_processes(compiler):
    reports = parse_reports(load(compiler, "race_fork"))
    assert len(reports) == 2
    assert len({r.pid for r in reports}) == 2


def test_clang_frame_with_column_and_build_id():
    text = load("clang19", "race_lambda_ref")
    line = next(x for x in text.splitlines() if x.strip().startswith("#0 main::$_0::operator()() const"))
    f = parse_frame(line)
    assert f.function == "main::$_0::operator()() const"
    assert f.file.endswith("/race_lambda_ref.cpp")
    assert (f.line, f.column) == (7, 44)
    assert f.module == "race_lambda_ref" and f.offset is not None


def test_gcc_frame_short_inlined_names_without_column():
    (r,) = parse_reports(load("gcc12", "race_lambda_ref"))
    frames = r.stacks[0].frames
    assert frames[0].function == "operator()"
    assert frames[0].line == 7 and frames[0].column is None
    assert frames[1].function.startswith("__invoke_impl<void, main()::<lambda()> >")
    assert frames[1].file == "/usr/include/c++/12/bits/invoke.h"
    # Inlined frames share the pc of the frame they are inlined into.
    assert frames[0].offset == frames[1].offset


def test_null_and_module_only_frames():
    (r,) = parse_reports(load("gcc12", "race_stripped_lib"))
    top, named = r.stacks[0].frames[:2]
    assert (top.function, top.file, top.line, top.module) == ("", "", None, "libcodec.so")
    assert (named.function, named.file, named.module) == ("codec_feed", "", "libcodec.so")


def test_unsymbolized_log():
    (r,) = parse_reports(load("clang14", "race_unsymbolized"))
    frames = r.stacks[0].frames
    assert all(f.function == "" and f.file == "" for f in frames)
    assert frames[0].module == "race_unsymbolized" and frames[0].offset > 0


def test_file_without_line_and_object_file_location():
    # clang 14 prints "file.cpp" without ":0"; clang 19 names the runtime's object file.
    (r,) = parse_reports(load("clang14", "race_global"))
    top = r.stacks[0].frames[0]
    assert top.function == "count_hits()" and top.file.endswith("race_global.cpp") and top.line is None
    r = parse_reports(load("clang19", "signal_unsafe"))[0]
    runtime = [f for f in r.stacks[0].frames if f.function.startswith("__tsan::CallUserSignalHandler")]
    assert runtime and runtime[0].file == "tsan_interceptors_posix.cpp.o" and runtime[0].line is None


def test_paths_with_spaces():
    text = load("clang19", "race_class_template").replace("/tmp/racegate-corpus/", "/tmp/my corpus dir/")
    r = parse_reports(text)[0]
    top = r.stacks[0].frames[0]
    assert top.function == "Accumulator<long>::push(long)"
    assert top.file.startswith("/tmp/my corpus dir/") and top.file.endswith("race_class_template.cpp")
    assert top.line == 7


def test_frame_formats_not_in_corpus():
    f = parse_frame("    #3 0x55d0c1a2 in Foo::bar(int) /src/foo.cpp:12:5")
    assert (f.function, f.file, f.line, f.column) == ("Foo::bar(int)", "/src/foo.cpp", 12, 5)
    f = parse_frame("    #4 (libfoo.so+0x1a2b)")
    assert (f.function, f.module, f.offset) == ("", "libfoo.so", 0x1A2B)
    f = parse_frame("    #0 f<std::pair<int, int> >(int) ../src/f.cpp:3 (/opt/lib/libx.so+0x10)")
    assert (f.function, f.file, f.line, f.module) == ("f<std::pair<int, int> >(int)", "../src/f.cpp", 3, "libx.so")


def test_truncated_report():
    text = load("gcc12", "race_fork")
    cut = text.index("SUMMARY", text.index("WARNING", text.index("WARNING") + 1))
    reports = parse_reports(text[:cut])
    assert [r.truncated for r in reports] == [False, True]
    assert reports[1].summary == "" and reports[1].stacks


def test_interleaved_program_output_and_several_logs():
    a, b = load("clang14", "race_heap"), load("gcc12", "thread_leak")
    noisy = "starting test\n[ RUN      ] Foo.Bar\n" + a + "some: output line:\n" + b + "[  PASSED  ] 1 test.\n"
    reports = parse_reports(noisy)
    assert [r.kind for r in reports] == ["data race", "thread leak"]
    assert [len(s.frames) for s in reports[0].stacks] == [len(s.frames) for s in parse_reports(a)[0].stacks]


def test_garbage():
    assert parse_reports("") == []
    assert parse_reports("WARNING: ThreadSanitizer: data race (pid=\n#0 (((\n") == []
    assert parse_reports("ThreadSanitizer: reported 0 warnings\n") == []
    (r,) = parse_reports("WARNING: ThreadSanitizer: data race (pid=5)\n"
                         "  Read of size 4 at 0x1 by main thread:\n    #0\n")
    assert r.truncated and r.pid == 5 and r.stacks[0].frames[0].function == ""


def test_a_global_location_is_kept_as_a_stack_without_frames():
    # "Location is global ..." is one line with no frames: it says whose memory raced.
    (report, *_) = parse_reports(load("gcc12", "race_global"))
    (location,) = [s for s in report.stacks if s.role == LOCATION]
    assert location.header.startswith("Location is global 'g_hits'") and location.frames == []


def test_a_stack_tsan_could_not_restore_is_kept_as_lost():
    (r,) = parse_reports(load("gcc12", "stack_restore_lost"))
    previous = [s for s in r.stacks if s.role == PREVIOUS]
    assert [(s.lost, s.frames) for s in previous] == [(True, [])]
    assert not any(s.lost for s in r.stacks if s.role != PREVIOUS)
    # clang 14's runtime restores the same stack.
    (r,) = parse_reports(load("clang14", "stack_restore_lost"))
    assert not any(s.lost for s in r.stacks) and all(s.frames for s in r.stacks if s.role == PREVIOUS)


def test_a_report_cut_by_the_process_end_is_truncated_and_keeps_what_was_printed():
    (r,) = parse_reports(load("gcc12", "truncated_exit"))
    assert r.truncated and r.summary == ""
    (access,) = r.stacks
    assert access.role == ACCESS and access.frames[0].function == "sum_total"
    (whole,) = parse_reports(load("gcc12", "truncated_full"))
    assert not whole.truncated and [s.role for s in whole.stacks][:2] == [ACCESS, PREVIOUS]
