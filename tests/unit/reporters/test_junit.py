from __future__ import annotations

import xml.etree.ElementTree as ET

from racegate.reporters import junit

from conftest import HOSTILE
from racegate.result.codec import result_from_json


def _parse(result: dict) -> ET.Element:
    return ET.fromstring(junit.render(result_from_json(result)).encode("utf-8"))


def _props(case: ET.Element) -> dict:
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def test_counts_are_consistent_at_every_level(sample, big):
    for result in (sample, big):
        root = _parse(result)
        suites = root.findall("testsuite")
        for suite in suites:
            cases = suite.findall("testcase")
            assert int(suite.get("tests")) == len(cases)
            assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)
        assert int(root.get("failures")) == sum(int(s.get("failures")) for s in suites)


def test_one_testcase_per_test_with_run_counts(sample):
    suite = _parse(sample).find("testsuite[@name='racegate.tests']")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {t["name"] for t in sample["tests"]}
    registry = _props(cases["RegistryTest.ConcurrentAdd"])
    assert (registry["runs"], registry["failed_runs"], registry["flaky"], registry["race"]) == \
        ("40", "17", "true", "17")
    assert cases["RegistryTest.ConcurrentAdd"].find("system-out").text.startswith("FLAKY: 17 of 40 runs failed")
    assert cases["RegistryTest.ConcurrentAdd"].find("failure").get("type") == "flaky"
    assert cases["MathTest.Add"].find("failure") is None
    assert cases["PipelineTest.Counts"].find("failure").get("type") == "failed"
    assert "EvilTest." + HOSTILE in cases  # markup survives as text


def test_one_testcase_per_bucket_new_fail_known_pass(sample):
    suite = _parse(sample).find("testsuite[@name='racegate.problems']")
    cases = suite.findall("testcase")
    assert len(cases) == len(sample["buckets"])
    failing = {_props(c)["id"] for c in cases if c.find("failure") is not None}
    assert failing == {b["id"] for b in sample["buckets"] if b["new"]}
    known = next(c for c in cases if _props(c)["id"] == "91f2c3d4e5a6b7c8")
    note = next(b["baseline_note"] for b in sample["buckets"] if b["id"] == "91f2c3d4e5a6b7c8")
    assert known.find("system-out").text.endswith(f"baseline: {note}")
    registry = next(c for c in cases if _props(c)["id"] == "3f9a1c0b7d2e4a55")
    assert "reproduce: " in registry.find("failure").text


def test_flaky_test_whose_failures_are_all_known_passes_but_is_marked(sample):
    for b in sample["buckets"]:
        if "WorkerTest.Drain" in b["tests"]:
            b["new"] = False
    suite = _parse(sample).find("testsuite[@name='racegate.tests']")
    drain = next(c for c in suite.findall("testcase") if c.get("name") == "WorkerTest.Drain")
    assert drain.find("failure") is None
    assert drain.find("flakyFailure") is not None
    assert _props(drain)["flaky"] == "true"


def test_control_characters_do_not_break_the_xml(sample):
    sample["buckets"][0]["title"] = "race \x1b[31mred\x1b[0m \x00 end"
    root = _parse(sample)
    names = [c.get("name") for c in root.iter("testcase")]
    assert any(n.startswith("race [31mred[0m  end") for n in names)
