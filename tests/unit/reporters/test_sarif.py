from __future__ import annotations

import gzip
import json

import pytest

from racegate.reporters import sarif
from samples_helpers import SARIF_SCHEMA
from racegate.result.codec import result_from_json


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def _errors(validator, doc: dict) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_sample_validates_against_sarif_schema(validator, sample):
    doc = json.loads(sarif.render(result_from_json(sample)))
    assert _errors(validator, doc) == []


def test_one_rule_per_kind_and_one_result_per_bucket(sample):
    run = json.loads(sarif.render(result_from_json(sample)))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert sorted(r["id"] for r in rules) == sorted({sarif.rule_id(b["kind"]) for b in sample["buckets"]})
    assert len(run["results"]) == len(sample["buckets"])
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    lock = next(r for r in rules if r["id"] == "racegate/lock-order-inversion-potential-deadlock")
    assert "std::scoped_lock" in lock["help"]["text"]


def test_results_carry_bucket_id_level_and_repository_relative_location(sample):
    run = json.loads(sarif.render(result_from_json(sample)))["runs"][0]
    by_id = {r["partialFingerprints"]["primaryLocationLineHash"]: r for r in run["results"]}
    assert set(by_id) == {b["id"] for b in sample["buckets"]}
    registry = by_id["3f9a1c0b7d2e4a55"]
    assert registry["level"] == "error" and registry["baselineState"] == "new"
    loc = registry["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "src/registry.hpp", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 15
    src = sample["config"]["source_dir"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file://" + src + "/"
    known = by_id["91f2c3d4e5a6b7c8"]
    assert known["level"] in ("note", "warning") and known["baselineState"] == "unchanged"


def test_both_access_stacks_become_thread_flows_and_related_locations(sample):
    run = json.loads(sarif.render(result_from_json(sample)))["runs"][0]
    registry = next(r for r in run["results"] if r["properties"]["bucketId"] == "3f9a1c0b7d2e4a55")
    flows = registry["codeFlows"][0]["threadFlows"]
    assert [f["message"]["text"] for f in flows] == [s["header"] for s in
                                                     sample["buckets"][0]["stacks"]]
    # Execution order: the access itself (innermost frame) comes last.
    last = flows[0]["locations"][-1]["location"]["physicalLocation"]
    assert last["artifactLocation"]["uri"].endswith("hashtable.h")
    # Every project frame of both stacks, repo-relative; the library frames stay in the code flows only.
    related = [r["physicalLocation"] for r in registry["relatedLocations"]]
    assert [(r["artifactLocation"]["uri"], r["region"]["startLine"]) for r in related] == [
        ("src/registry.hpp", 15), ("tests/registry_test.cpp", 18), ("src/registry.hpp", 20),
        ("tests/registry_test.cpp", 24)]
    assert all(r["artifactLocation"]["uriBaseId"] == "%SRCROOT%" for r in related)
    assert "std::unordered_map" in registry["message"]["text"]


def test_hostile_and_odd_paths_are_uri_encoded(sample):
    run = json.loads(sarif.render(result_from_json(sample)))["runs"][0]
    evil = next(r for r in run["results"] if r["properties"]["bucketId"] == "0bad0bad0bad0bad")
    assert evil["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/evil%20%3Cb%3E.cpp"


def test_bucket_without_frames_still_has_a_location(sample):
    run = json.loads(sarif.render(result_from_json(sample)))["runs"][0]
    crash = next(r for r in run["results"] if r["properties"]["bucketId"] == "e4417bd2c09a3f16")
    assert crash["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert "codeFlows" not in crash


def test_500_buckets_validate_and_stay_within_github_limits(validator, big):
    text = sarif.render(result_from_json(big))
    doc = json.loads(text)
    assert _errors(validator, doc) == []
    results = doc["runs"][0]["results"]
    assert len(results) == 500 <= sarif.MAX_RESULTS
    assert len(gzip.compress(text.encode())) <= sarif.MAX_GZIP_BYTES
    assert doc["runs"][0]["invocations"][0]["toolExecutionNotifications"] == []


def test_too_many_results_are_truncated_most_important_first_with_a_notification(validator, big):
    doc = json.loads(sarif.render(result_from_json(big), max_results=100))
    results = doc["runs"][0]["results"]
    assert len(results) == 100
    assert all(r["level"] == "error" for r in results)  # new buckets outrank baselined ones
    note = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert "400 of 500" in note
    assert _errors(validator, doc) == []


def test_oversized_output_is_halved_until_it_fits(big):
    text = sarif.render(result_from_json(big), max_gzip_bytes=60_000)
    doc = json.loads(text)
    assert len(gzip.compress(text.encode())) <= 60_000
    kept = len(doc["runs"][0]["results"])
    assert 0 < kept < 500
    notification = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert f"{500 - kept} of 500" in notification["message"]["text"]
