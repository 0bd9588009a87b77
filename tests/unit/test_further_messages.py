"""A failure bucket's further messages (the other failures of its runs: one failing run is one problem) are shown
by every format, escaped where markup could carry, and survive racegate.json."""
from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET

import pytest

from racegate import reporters
from racegate.result import Result
from racegate.result.codec import result_from_json, result_json
from result_factory import bucket, entry_for_test, make_result

FURTHER = ["CHECK: fees == 0 <b>x</b> (ledger.cpp:45)", "CHECK: tax == 0 (ledger.cpp:48)"]


@pytest.fixture
def result() -> Result:
    failure = bucket("0123456789abcdef", "Ledger.Balances", 3, kind="test failure", further_messages=FURTHER)
    return make_result([entry_for_test("Ledger.Balances", 3, 3)], [failure])


@pytest.mark.parametrize("fmt", ["console", "markdown", "github"])
def test_text_formats_list_them_under_the_bucket(result, fmt):
    text = reporters.render(fmt, result)
    for message in FURTHER:  # Markdown's detail sits in <pre>: escaped there
        shown = html.escape(message, quote=False) if fmt == "markdown" and "<" in message else message
        assert f"also failed: {shown}" in text or f"also failed: {html.escape(message)}" in text


def test_html_shows_them_escaped(result):
    page = reporters.render("html", result)
    assert "CHECK: fees == 0 &lt;b&gt;x&lt;/b&gt; (ledger.cpp:45)" in page and "<b>x</b>" not in page
    assert "CHECK: tax == 0 (ledger.cpp:48)" in page


def test_junit_carries_them_in_the_failure_text(result):
    root = ET.fromstring(reporters.render("junit", result))
    texts = [f.text or "" for f in root.iter("failure")]
    assert any(all(f"also failed: {m}" in t for m in FURTHER) for t in texts)


def test_sarif_carries_them_in_the_message(result):
    (run,) = json.loads(reporters.render("sarif", result))["runs"]
    (finding,) = run["results"]
    assert all(f"also failed: {m}" in finding["message"]["text"] for m in FURTHER)


def test_they_survive_racegate_json(result):
    again = result_from_json(result_json(result))
    assert again.buckets[0].further_messages == FURTHER
