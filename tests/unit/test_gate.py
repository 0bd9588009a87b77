import json

import pytest

from racegate import gate
from racegate.errors import RacegateError

from result_factory import bucket, make_result, entry_for_test


def sample():
    return make_result([entry_for_test("T.a", 10, 4)], [bucket("aaaa00000001", "T.a", 4), bucket("bbbb00000002", "T.a", 1)])


def test_new_buckets_fail_the_gate_and_a_baseline_of_them_passes(tmp_path):
    result = sample()
    assert gate.exit_code(result) == 1
    path = tmp_path / "baseline.json"
    assert gate.write_baseline(result, path, "tracked in JIRA-1") == (2, 2)
    known = gate.load_baseline(path)
    gate.apply_baseline(result, known)
    assert result.summary.new_buckets == 0 and gate.exit_code(result) == 0
    assert all(b.baseline_note == "tracked in JIRA-1" for b in result.buckets)


def test_baseline_update_keeps_notes_and_adds_only_missing(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"schema": 1, "known": [{"id": "aaaa00000001", "note": "mine"}]}))
    assert gate.write_baseline(sample(), path, None) == (1, 2)
    notes = {e["id"]: e["note"] for e in json.loads(path.read_text())["known"]}
    assert notes["aaaa00000001"] == "mine"
    partial = sample()
    gate.apply_baseline(partial, {"aaaa00000001": {"note": "mine"}})
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
