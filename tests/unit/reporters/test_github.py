from __future__ import annotations

import re

from racegate.reporters import github
from racegate.result.codec import result_from_json


def _unescape(text: str) -> str:
    words = {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}
    return re.sub("%(25|0D|0A|3A|2C)", lambda m: words[m.group(1)], text)


def _parse(line: str) -> tuple[str, dict, str]:
    """Split a workflow command the way the runner does: `::cmd k=v,k=v::message`."""
    assert line.startswith("::")
    head, _, message = line[2:].partition("::")
    command, _, props = head.partition(" ")
    values = dict(p.split("=", 1) for p in props.split(",")) if props else {}
    return command, {k: _unescape(v) for k, v in values.items()}, _unescape(message)


def test_escaping_rules():
    assert github.escape_data("100%\r\n:,") == "100%25%0D%0A:,"
    assert github.escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_sample_annotations_are_single_lines_in_importance_order(sample):
    lines = github.render(result_from_json(sample)).splitlines()
    assert len(lines) == len(sample["buckets"])  # 8 <= 10: nothing left out, no notice
    commands = [_parse(line) for line in lines]
    assert [c for c, _, _ in commands] == ["error"] * 7 + ["warning"]
    assert commands[0][2].startswith("WorkerTest.Drain crashed")  # crash outranks races
    registry = next(p for c, p, m in commands if p.get("line") == "15")
    assert registry["file"] == "src/registry.hpp"
    assert registry["title"] == "racegate (new): data race"


def test_hostile_text_cannot_inject_commands(sample):
    bucket = next(b for b in sample["buckets"] if b["id"] == "0bad0bad0bad0bad")
    bucket["title"] = "evil\n::error::injected\r,title=x"
    hostile = sample["config"]["source_dir"] + "/src/a,b:c.cpp"
    for frame in [*bucket["frames"], *(f for s in bucket.get("stacks", []) for f in s["frames"])]:
        frame["file"] = hostile  # the annotation's side is the report's first access, wherever its frame is
    lines = github.render(result_from_json(sample)).splitlines()
    assert len(lines) == len(sample["buckets"])
    line = next(x for x in lines if "a%2Cb%3Ac.cpp" in x)
    command, props, message = _parse(line)
    assert props["file"] == "src/a,b:c.cpp"
    assert message.splitlines()[0] == "evil"
    assert message.splitlines()[1] == "::error::injected,title=x"  # \r dropped, rest kept as text


def test_at_most_ten_then_a_notice(big):
    lines = github.render(result_from_json(big)).splitlines()
    assert len(lines) == github.MAX_ANNOTATIONS + 1
    assert all(_parse(x)[0] == "error" for x in lines[:10])  # new ones first
    command, _, message = _parse(lines[-1])
    assert command == "notice" and "490 more problems" in message
