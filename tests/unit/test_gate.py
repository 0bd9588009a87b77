import json
from pathlib import Path

import pytest

from racegate import gate
from racegate.bucket import Bucketer
from racegate.errors import RacegateError
from racegate.model import RunRecord
from racegate.result import bucket_result, with_baseline
from racegate.signature import finding_from_report
from racegate.tsan_parse import parse_reports

from result_factory import bucket, make_result, entry_for_test
from samples_helpers import CORPUS, CORPUS_COMPILERS
from racegate.result.codec import result_from_json, result_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def sample():
    return make_result([entry_for_test("T.a", 10, 4)],
                       [bucket("aaaa00000001", "T.a", 4), bucket("bbbb00000002", "T.a", 1)])


def test_new_buckets_fail_the_gate_and_a_baseline_of_them_passes(tmp_path):
    result = sample()
    assert gate.exit_code(result) == 1
    path = tmp_path / "baseline.json"
    assert gate.write_baseline(result, path, "tracked in JIRA-1") == (2, 2)
    known = gate.load_baseline(path)
    result = with_baseline(result, known)
    assert result.summary.new_buckets == 0 and gate.exit_code(result) == 0
    assert all(b.baseline_note == "tracked in JIRA-1" for b in result.buckets)


def test_baseline_update_keeps_notes_and_adds_only_missing(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"schema": 1, "known": [{"id": "aaaa00000001", "note": "mine"}]}))
    assert gate.write_baseline(sample(), path, None) == (1, 2)
    notes = {e["id"]: e["note"] for e in json.loads(path.read_text())["known"]}
    assert notes["aaaa00000001"] == "mine"
    partial = sample()
    partial = with_baseline(partial, {"aaaa00000001": {"note": "mine"}})
    assert partial.summary.new_buckets == 1 and gate.exit_code(partial) == 1
    assert [b.new for b in partial.buckets] == [True, False]  # new buckets sort first


@pytest.mark.parametrize("content", ["{", "[]", '{"known": 3}'])
def test_bad_baseline_is_a_usage_error(tmp_path, content):
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(RacegateError, match="baseline"):
        gate.load_baseline(path)


def test_missing_baseline_is_a_usage_error(tmp_path):
    with pytest.raises(RacegateError, match="cannot read baseline"):
        gate.load_baseline(tmp_path / "none.json")


def _corpus_result(tmp_path, programs: list[str], compilers=CORPUS_COMPILERS):
    """The buckets racegate makes today of real corpus logs (every compiler's), as a result."""
    bucketer = Bucketer(tmp_path / "reports")
    index = 0
    for compiler in compilers:
        for program in programs:
            log = (CORPUS / compiler / f"{program}.log").read_text()
            findings = [finding_from_report(r) for r in parse_reports(log)]
            bucketer.add(RunRecord(test=f"Corpus.{program}", run=index, seed=index, strategy="noise",
                                   command=["./t"], outcome="race", returncode=66, duration=0.1,
                                   log_dir=str(tmp_path / "runs" / str(index)), findings=findings))
            index += 1
    buckets = [bucket_result(b, tmp_path) for b in bucketer.buckets.values()]
    return make_result([entry_for_test(f"Corpus.{p}", 3, 3) for p in programs], buckets)


def test_a_baseline_of_signature_v2_ids_still_knows_every_bucket(tmp_path):
    # Written by racegate before signature v3 (main's code then) from these programs' clang 19 logs. v3 splits the
    # lambda_globals bucket in three and the test_bodies bucket in two: a bug known then is known in all its parts.
    programs = ["race_global", "race_heap", "lambda_globals", "test_bodies"]
    result = _corpus_result(tmp_path, programs)
    assert len(result.buckets) == 7
    known = gate.load_baseline(FIXTURES / "baseline_signature_v2.json")
    assert not {b.id for b in result.buckets} & set(known)  # every id changed with v3 ...
    result = with_baseline(result, known)
    assert gate.exit_code(result) == 0  # ... and the legacy ids still match
    notes = {b.title.split(":")[1].split("(")[0].strip(): b.baseline_note for b in result.buckets}
    assert notes["count_hits"] == "known since the v2 releases (race_global)"
    # A program the baseline does not hold stays new.
    more = _corpus_result(tmp_path / "more", programs + ["race_inlined"])
    more = with_baseline(more, known)
    assert [b.signature for b in more.buckets if b.new] == [["race_inlined.cpp:pump"] * 2 + ["global:g_level"]]


# Programs added since clang 19 left the machine have clang 14 and gcc 12 logs only.
V5_COMPILERS = ("clang14", "gcc12")


def test_a_baseline_of_signature_v4_ids_still_knows_every_bucket_and_a_new_race_stays_new(tmp_path):
    # Written by racegate before signature v5 (77198db's code) from these programs' clang 14 and gcc 12 logs: v5
    # adds the global to race_global's and self_race_one's self races and folds fileless_pool's bucket per test
    # into one; every bucket is still known.
    programs = ["race_global", "self_race_one", "fileless_pool"]
    known = gate.load_baseline(FIXTURES / "baseline_signature_v4.json")
    result = _corpus_result(tmp_path, programs, V5_COMPILERS)
    assert len(result.buckets) == 3
    assert not {b.id for b in result.buckets} & set(known)  # every id changed with v5 ...
    result = with_baseline(result, known)
    assert gate.exit_code(result) == 0  # ... and the legacy ids still match
    notes = {b.signature[-1]: b.baseline_note for b in result.buckets}
    assert notes["global:g_created_ctx"] == "known since the v4 releases (self_race_one)"
    # A race the baseline does not hold stays new.
    more = with_baseline(_corpus_result(tmp_path / "more", programs + ["race_inlined"], V5_COMPILERS), known)
    assert [b.signature for b in more.buckets if b.new] == [["race_inlined.cpp:pump"] * 2 + ["global:g_level"]]
    assert gate.exit_code(more) == 1
    # The other race of configure (self_race_two's g_mode_too_late) had the v4 id of the known one: a v4 baseline
    # still knows it through that id (a split bucket is known in all its parts); a baseline of v5 ids does not.
    split = _corpus_result(tmp_path / "split", ["self_race_two"], V5_COMPILERS)
    assert gate.exit_code(with_baseline(split, known)) == 0
    current = {b.id: {"id": b.id} for b in result.buckets}
    assert [b.signature[-1] for b in with_baseline(split, current).buckets if b.new] == ["global:g_mode_too_late"]


def test_known_library_reports_and_timing_sensitive_failures_pass_unless_asked_and_every_part_shows_it():
    from racegate.library_reports import BY_RULE
    from racegate.result import RunConfig

    library = bucket("aaaa00000001", "T.a", 2, library_issue=next(iter(BY_RULE.values())))
    timing = bucket("bbbb00000002", "T.a", 1, kind="test failure", timing_sensitive=True)
    plain = bucket("cccc00000003", "T.a", 1)
    tests = [entry_for_test("T.a", 10, 4)]
    result = make_result(tests, [library, timing, plain])
    # The verdict orders the buckets (gating first) and is what the summary counts and the reporters show.
    assert [result.status(b) for b in result.buckets] == ["new", "library", "timing-sensitive"]
    assert result.summary.new_buckets == 1 and result.known_buckets == 2 and gate.exit_code(result) == 1
    again = result_from_json(json.loads(json.dumps(result_json(result))))
    assert [b.status for b in again.buckets] == ["new", "library", "timing-sensitive"]
    strict = make_result(tests, [library, timing, plain], config=RunConfig(strict=True, gate_library_reports=True))
    assert [b.status for b in strict.buckets] == ["new"] * 3
    known = with_baseline(result, {"cccc00000003": {"note": "tracked"}})
    assert [b.status for b in known.buckets] == ["library", "timing-sensitive", "baselined"]
    assert gate.exit_code(known) == 0


V4_PROGRAMS = ["alloc_wrapper", "leak_shim_a", "leak_shim_b", "stack_restore_full", "stack_restore_lost",
               "truncated_exit", "truncated_full", "unlock_unlocked"]


def test_a_baseline_of_signature_v3_ids_still_knows_every_bucket(tmp_path):
    # Written by racegate before signature v4 (main@540f88b's code) from these programs' clang 14 and gcc 12 logs:
    # v4 splits the allocator wrapper's bucket and gcc's sideless leak bucket in two, and folds partial reports into
    # their whole ones' buckets; every bucket is still known.
    bucketer = Bucketer(tmp_path / "reports")
    for index, (compiler, program) in enumerate((c, p) for c in ("clang14", "gcc12") for p in V4_PROGRAMS):
        test = f"Corpus.{program.replace('_full', '').replace('_lost', '').replace('_exit', '')}"
        log = (CORPUS / compiler / f"{program}.log").read_text()
        findings = [finding_from_report(r, test) for r in parse_reports(log)]
        bucketer.add(RunRecord(test=test, run=index, seed=index, strategy="noise", command=["./t"], outcome="race",
                               returncode=66, duration=0.1, log_dir=str(tmp_path / "runs" / str(index)),
                               findings=findings))
    buckets = [bucket_result(b, tmp_path) for b in bucketer.buckets.values()]
    result = make_result([entry_for_test(t, 3, 3) for t in sorted({t for b in buckets for t in b.tests})], buckets)
    known = gate.load_baseline(FIXTURES / "baseline_signature_v3.json")
    assert not {b.id for b in result.buckets} & set(known)  # every id changed with v4 ...
    result = with_baseline(result, known)
    assert gate.exit_code(result) == 0  # ... and the legacy ids still match
    # Under v4: two lifetime bugs, a race each for stack_restore and truncated (their partial reports folded in),
    # the leaks (each compiler's), the unlock (each compiler's).
    assert len(result.buckets) == 2 + 1 + 1 + 4 + 2
