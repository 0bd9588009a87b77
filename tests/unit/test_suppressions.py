"""The user's suppressions file: reading it as TSan does, the counts TSan prints at exit (real logs of
tests/fixtures/suppressions/matched.cpp), the result model and merge, the reporters, and the file `baseline` writes."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from racegate.analyse import analyse_run
from racegate.errors import RacegateError
from racegate.merge import merge
from racegate.model import SourceFrame
from racegate.reporters import RenderOptions, render
from racegate.result import Result, RunConfig, SuppressionResult
from racegate.run_env import prepare_planned_run
from racegate.suppressions import matched_counts, read_entries, suppression_file, suppressions_text, write_for_buckets
from racegate.tsan_options import tsan_option_dict

from result_factory import bucket, entry_for_test, make_result
from test_analyse import execution
from racegate.result.codec import result_from_json, result_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SUPP = FIXTURES / "suppressions"
RELEASE_0_1_0 = FIXTURES / "result_release_0_1_0.json"


@pytest.mark.parametrize("compiler", ("clang14", "clang19", "gcc12"))
def test_the_matched_block_of_a_real_log_gives_each_entry_its_count(compiler):
    log = (SUPP / f"{compiler}.log").read_text()
    assert matched_counts(log) == {"race:bump": 1, "deadlock:main": 1}


def test_the_analyse_stage_keeps_the_counts_of_a_run_and_its_reports_still_count(tmp_path):
    log = (SUPP / "gcc12.log").read_text()
    record = analyse_run(execution(tmp_path, returncode=66, tsan_log=log))
    assert record.suppressed == {"race:bump": 1, "deadlock:main": 1}
    assert [f.kind for f in record.findings] == ["data race"]  # poke() is not suppressed


def test_blocks_of_several_processes_add_up_and_text_without_one_counts_nothing():
    block = "ThreadSanitizer: Matched 2 suppressions (pid=7):\n3 race:a b\n1 mutex:m\n"
    other = "ThreadSanitizer: Matched 1 suppressions (pid=8):\n2 race:a b\nnot a count line\n5 race:x\n"
    assert matched_counts("out\n" + block, other) == {"race:a b": 5, "mutex:m": 1}
    assert matched_counts("WARNING: ThreadSanitizer: data race\n1 race:a\n", "") == {}


def test_entries_are_read_as_tsan_reads_them_and_a_bad_type_names_its_line(tmp_path):
    assert read_entries(SUPP / "matched.supp") == ["race:bump", "deadlock:main", "race:no_such_function"]
    bad = tmp_path / "bad.supp"
    bad.write_text("race:ok\n  # comment\nrace_top:x\nraces:y\n")
    with pytest.raises(RacegateError, match=r"bad.supp:4: 'races:y' is not a TSan suppression"):
        read_entries(bad)


def test_the_option_and_tsan_options_give_one_absolute_file_or_both_joined(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.supp").write_text("race:a\n")
    (tmp_path / "b.supp").write_text("mutex:b\n")
    out = tmp_path / "out"
    assert suppression_file(None, "halt_on_error=0", out) is None
    one = suppression_file(Path("a.supp"), "", out)
    assert one is not None and one.path == tmp_path / "a.supp" and one.entries == (("race:a", str(one.path)),)
    same = suppression_file(Path("a.supp"), "suppressions=a.supp", out)
    assert same is not None and same.path == tmp_path / "a.supp"
    both = suppression_file(Path("b.supp"), "halt_on_error=0:suppressions=a.supp", out)
    assert both is not None and both.path == out / "suppressions.txt"
    assert read_entries(both.path) == ["race:a", "mutex:b"]
    assert [file for _, file in both.entries] == [str(tmp_path / "a.supp"), str(tmp_path / "b.supp")]
    with pytest.raises(RacegateError, match=r"suppressions file .*missing.supp \(from TSAN_OPTIONS"):
        suppression_file(None, "suppressions=missing.supp", out)


def test_every_run_gets_print_suppressions_and_the_sessions_file_over_the_users(tmp_path):
    from racegate.model import PlannedRun, TestCase

    plan = PlannedRun(TestCase("T", ("/b/t",)), run=0, seed=1, strategy="none")
    _, env = prepare_planned_run(plan, tmp_path, None, {"TSAN_OPTIONS": "suppressions=rel.supp print_suppressions=0"})
    assert tsan_option_dict(env["TSAN_OPTIONS"])["print_suppressions"] == "1"
    _, env = prepare_planned_run(plan, tmp_path, None, {"TSAN_OPTIONS": "suppressions=rel.supp"},
                                 tsan_flags={"suppressions": "/abs/my file.supp"})
    assert tsan_option_dict(env["TSAN_OPTIONS"])["suppressions"] == "/abs/my file.supp"


def _with_suppressions(matched: list[int]) -> Result:
    entries = [SuppressionResult(f"race:f{i}", "/src/tsan.supp", n) for i, n in enumerate(matched)]
    entries.append(SuppressionResult("called_from_lib:libfoo.so", "/src/tsan.supp", 0))
    return make_result([entry_for_test("A.x", 4, 1)], [bucket("aaaa00000001", "A.x", 1)],
                       config=RunConfig(seed=1, source_dir="/src", suppression_files=["/src/tsan.supp"]),
                       suppressions=entries)


def test_the_result_writes_each_entry_with_its_count_and_staleness_and_reads_it_back():
    result = _with_suppressions([3, 0])
    data = result_json(result)
    assert data["config"]["suppression_files"] == ["/src/tsan.supp"]
    assert data["suppressions"] == [
        {"entry": "race:f0", "file": "/src/tsan.supp", "matched": 3, "stale": False},
        {"entry": "race:f1", "file": "/src/tsan.supp", "matched": 0, "stale": True},
        # TSan never counts called_from_lib matches: never called stale.
        {"entry": "called_from_lib:libfoo.so", "file": "/src/tsan.supp", "matched": 0, "stale": False}]
    again = result_from_json(json.loads(json.dumps(data)))
    assert result_json(again) == data and again.suppressions == result.suppressions


def test_without_a_suppressions_file_the_result_writes_no_new_keys():
    data = json.loads(RELEASE_0_1_0.read_text())
    result = result_from_json(data)
    assert result.suppressions is None and result.config.suppression_files is None
    assert "suppressions" not in result_json(result) and "suppression_files" not in result_json(result)["config"]


def test_a_wrong_suppressions_field_is_a_clear_error():
    data = result_json(_with_suppressions([1]))
    data["suppressions"][0]["matched"] = "many"
    with pytest.raises(RacegateError, match=r"suppressions\[0\]\.matched should be an integer"):
        result_from_json(data)


def test_merge_adds_counts_and_an_entry_is_stale_only_if_stale_on_every_shard(tmp_path):
    one, two = _with_suppressions([3, 0]), _with_suppressions([0, 2])
    only_here = SuppressionResult("race:only_here", "/src/tsan.supp", 0)
    two = replace(two, suppressions=(two.suppressions or []) + [only_here])
    plain = make_result([entry_for_test("C.z", 1, 0)], [])
    merged = merge([(tmp_path / "1.json", one), (tmp_path / "2.json", two), (tmp_path / "3.json", plain)],
                   tmp_path / "m.json")
    assert merged.suppressions is not None
    assert {s.entry: (s.matched, s.stale) for s in merged.suppressions} == {
        "race:f0": (3, False), "race:f1": (2, False), "called_from_lib:libfoo.so": (0, False),
        "race:only_here": (0, True)}
    assert merged.config.suppression_files == ["/src/tsan.supp"]
    assert merge([(tmp_path / "3.json", plain)], tmp_path / "m.json").suppressions is None


@pytest.mark.parametrize("fmt", ("console", "markdown", "html"))
def test_reporters_show_counts_and_stale_entries_and_nothing_without_a_file(fmt):
    result = _with_suppressions([3, 0])
    text = render(fmt, result, RenderOptions())
    assert "race:f0" in text and "race:f1" in text
    assert "3 suppressions in use, 3 reports suppressed; 1 stale" in text
    assert ("STALE" if fmt == "console" else "stale") in text
    plain = make_result([entry_for_test("A.x", 4, 1)], [bucket("aaaa00000001", "A.x", 1)])
    assert "uppression" not in render(fmt, plain, RenderOptions())


def test_the_written_file_has_a_line_per_tsan_bucket_of_the_type_tsan_matches():
    text = suppressions_text([
        ("a" * 16, "data race", "data race: f", "WordCounter::add(std::string const&)"),
        ("b" * 16, "heap-use-after-free", "uaf", "Cache::get()"),
        ("c" * 16, "lock-order-inversion (potential deadlock)", "lock order", "Bank::transfer()"),
        ("d" * 16, "thread leak", "leak", "spawn()"),
        ("e" * 16, "unlock of an unlocked mutex (or by a wrong thread)", "unlock", "release()"),
        ("f" * 16, "signal-unsafe call inside of a signal", "signal", "on_signal(int)"),
        ("0" * 16, "test failure", "assertion", "TEST_body()"),
        ("1" * 16, "data race", "no frame", None),
        ("2" * 16, "data race", "clang lambda", "tally(int)::$_0::operator()() const")])
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["race:WordCounter::add(std::string const&)", "race:Cache::get()", "deadlock:Bank::transfer()",
                     "thread:spawn()", "mutex:release()", "signal:on_signal(int)",
                     "race:tally(int)::*_0::operator()() const"]
    assert "not suppressible: test failure" in text


def test_the_file_for_a_results_buckets_names_each_buckets_first_function(tmp_path):
    race, failure, nameless = bucket("a" * 16, "T.a", 1), bucket("b" * 16, "T.b", 1, kind="test failure"), \
        bucket("c" * 16, "T.c", 1)
    race.frames.insert(0, SourceFrame("", "/src/a.cpp", 1))  # a frame without a function is passed over
    nameless.frames.clear()
    path = tmp_path / "out.supp"
    assert write_for_buckets([race, failure, nameless], path) == 1
    text = path.read_text()
    assert [line for line in text.splitlines() if not line.startswith("#")] == [f"race:f{'a' * 16}"]
    assert "not suppressible: test failure" in text and "not written: the report has no function" in text
