"""Each side of a race is shown with its own access kind in every format (#53): the frames are stored in the
signature's sorted order, the stacks in the report's, and the kind comes from the side's own stack."""
from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from racegate.reporters import FORMATS, render
from racegate.reporters.view import by_importance
from racegate.result import BucketResult, Result
from racegate.result.codec import result_from_json, result_json
from racegate.signature import finding_from_report
from racegate.tsan_parse import parse_reports
from result_factory import bucket, entry_for_test, make_result


def report(current: str, previous: str) -> str:
    return ("WARNING: ThreadSanitizer: data race (pid=1)\n"
            "  Write of size 8 at 0x10 by thread T3:\n"
            f"    #0 {current}() /src/q.cpp:10:5 (t+0x10)\n"
            "\n"
            "  Previous read of size 8 at 0x10 by thread T2:\n"
            f"    #0 {previous}() /src/q.cpp:20:5 (t+0x20)\n"
            "\n"
            "SUMMARY: ThreadSanitizer: data race /src/q.cpp:10:5 in f\n")


def result_of(current: str, previous: str) -> Result:
    (parsed,) = parse_reports(report(current, previous))
    finding = finding_from_report(parsed)
    b = replace(bucket("0123456789abcdef", "T.t", 1), frames=finding.frames, stacks=finding.stacks)
    return make_result([entry_for_test("T.t", 3, 1)], [b])


# current sorts after the previous side (the signature order puts it second), and before it
PAIRS = [("zz_write", "aa_read"), ("aa_write", "zz_read")]


@pytest.mark.parametrize("current,previous", PAIRS)
def test_each_side_carries_its_own_access_kind_in_report_order(current, previous):
    result = result_of(current, previous)
    (v,) = by_importance(result)
    assert [(s.label, s.function) for s in v.sides] == [("write", current + "()"), ("previous read", previous + "()")]
    assert [s.header.split()[0] for s in v.bucket.stacks] == ["Write", "Previous"]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("current,previous", PAIRS)
def test_every_format_pairs_the_kind_with_its_function(fmt, current, previous):
    text = render(fmt, result_of(current, previous)).replace("%0A", "\n")  # github: one line per annotation
    # between a kind and the function it names: sizes, threads, markup and location, never another kind
    gap = r"(?:(?!\b(?:write|read)\b).){0,300}?"
    assert re.search(rf"(?<!previous )(?<!\w)write{gap}{current}", text, re.I | re.S), text
    assert re.search(rf"(?<!\w)previous read{gap}{previous}", text, re.I | re.S), text
    assert not re.search(rf"(?<!previous )(?<!\w)write{gap}{previous}\b", text, re.I | re.S), text
    assert not re.search(rf"(?<!\w)previous read{gap}{current}\b", text, re.I | re.S), text


def test_a_stored_result_with_frames_in_signature_order_renders_the_right_pairs():
    # racegate.json files written before the fix hold the same fields: frames sorted, stacks as reported.
    data = result_json(result_of("zz_write", "aa_read"))
    assert [f["function"] for f in data["buckets"][0]["frames"]] == ["aa_read()", "zz_write()"]
    (v,) = by_importance(result_from_json(json.loads(json.dumps(data))))
    assert [(s.label, s.function) for s in v.sides] == [("write", "zz_write()"), ("previous read", "aa_read()")]


def test_a_frame_no_stack_holds_is_a_location():
    b: BucketResult = bucket("0123456789abcdef", "T.t", 1)
    (v,) = by_importance(make_result([entry_for_test("T.t", 3, 1)], [b]))
    assert [s.label for s in v.sides] == ["location"]
