from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from racegate.reporters import html as html_report

from conftest import HOSTILE
from racegate.result.codec import result_from_json


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in self.raw else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        (self.raw[self._in] if self._in else self.text).append(data)


def _parse(text: str) -> _Collect:
    parser = _Collect()
    parser.feed(text)
    parser.close()
    return parser


def test_hostile_names_are_text_never_markup(sample, options):
    page = html_report.render(result_from_json(sample), options)
    parsed = _parse(page)
    assert not [t for t, _ in parsed.tags if t == "img"]
    assert [t for t, _ in parsed.tags].count("script") == 1
    assert not [a for _, attrs in parsed.tags for a in attrs if a.startswith("on")]
    text = "".join(parsed.text)
    assert HOSTILE in text
    assert "</pre><script>alert('x')</script>" in text  # a frame name, shown literally
    assert "// <img src=x onerror=alert(2)>" in text  # a source line of the fixture, shown literally


def test_self_contained_with_a_csp_that_allows_only_its_own_style_and_script(sample, options):
    page = html_report.render(result_from_json(sample), options)
    parsed = _parse(page)
    meta = next(a for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    csp = meta["content"]
    assert "default-src 'none'" in csp
    for kind in ("style", "script"):
        body = "".join(parsed.raw[kind])
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{kind}-src 'sha256-{digest}'" in csp
    urls = [v for _, attrs in parsed.tags for k, v in attrs.items() if k in ("src", "href") and v]
    assert urls == []
    assert not re.search(r"https?://", page)
    assert not [a for _, a in parsed.tags if "style" in a]  # no inline style attributes (the CSP would block them)


def test_buckets_sorted_by_severity_then_frequency(sample, options):
    page = html_report.render(result_from_json(sample), options)
    ids = re.findall(r'<article class="bucket \w+" id="b-([0-9a-f]+)"', page)
    assert ids[:2] == ["91f2c3d4e5a6b7c8", "e4417bd2c09a3f16"]  # vptr race and crash: critical
    assert ids[2:5] == ["a81c44e0f2b9d310", "3f9a1c0b7d2e4a55", "0bad0bad0bad0bad"]  # races by frequency
    assert sorted(ids) == sorted(b["id"] for b in sample["buckets"])


def test_source_lines_around_each_access_are_shown(sample, options):
    page = html_report.render(result_from_json(sample), options)
    assert '<span class="row hit"><span class="ln">15</span>    items_.emplace(key, std::move(value));' in page
    assert '<span class="row hit"><span class="ln">20</span>    auto it = items_.find(key);' in page
    assert "hashtable.h:1930" in page  # system header frames are listed...
    assert "src/registry.hpp:15</div>" in page


def test_files_outside_the_source_dir_are_not_read(sample, options, tmp_path):
    secret = tmp_path / "secret.cpp"
    secret.write_text("TOP SECRET LINE\n" * 5)
    sample["buckets"][0]["stacks"][0]["frames"] = [{"function": "f", "file": str(secret), "line": 2}]
    sample["buckets"][0]["frames"][0] = {"function": "f", "file": str(secret), "line": 2}
    assert "TOP SECRET" not in html_report.render(result_from_json(sample), options)


def test_page_has_discovery_curve_estimate_advice_and_reproduce(sample, options):
    page = html_report.render(result_from_json(sample), options)
    assert '<path class="curve" d="M' in page
    assert "Good–Turing estimate" in page and "0.6%" in page
    assert "std::scoped_lock" in page  # lock-order advice
    assert html_report.e("'$(touch /tmp/pwned)'") in page  # quoted reproduce command
    assert "WARNING: ThreadSanitizer: data race (pid=41237)" in page  # raw report embedded
    assert "flaky</span>" in page


def test_large_result_renders(big):
    page = html_report.render(result_from_json(big))
    assert page.count("<article") == 500


def test_the_full_tests_table_keeps_quiet_tests_behind_a_filter(sample, options):
    page = html_report.render(result_from_json(sample), options)
    row = re.search(r'<tr class="quiet hidden"><td>MathTest\.Add</td>', page)
    assert row and 'id="toggle-quiet"' in page and "1 single-threaded test passed" in page


@pytest.mark.parametrize("buckets, runs_with_bucket, rising", [(3, 1, True), (1, 2, False)])
def test_the_discovery_reading_agrees_with_the_good_turing_estimate(buckets, runs_with_bucket, rising):
    # Buckets found on the second-last of 40 runs: three seen in one run each, the estimate is 7.5% and more runs
    # would likely find more; one seen in two, the estimate is 0% and the reading must not promise more.
    page = html_report.render(result_from_json(_buckets(40, buckets, runs_with_bucket)))
    assert ("would likely find more" in page) is rising
    assert ("unlikely to find a new one" in page) is not rising


def _buckets(runs: int, buckets: int, runs_with_bucket: int) -> dict:
    outcomes = {"pass": runs - runs_with_bucket * buckets, "race": runs_with_bucket * buckets}
    return {"schema": 1, "tests": [{"name": "T.a", "runs": runs, "outcomes": outcomes}],
            "buckets": [{"id": f"abc{i}", "kind": "data race", "tests": ["T.a"], "runs_with_bucket": runs_with_bucket,
                         "first_seen": {"test": "T.a", "run": runs - 2}} for i in range(buckets)]}


def test_few_completed_runs_tell_nothing_either_way():
    page = html_report.render(result_from_json(_buckets(10, 1, 2)))
    assert "too few to tell whether more runs would find more" in page
    assert "unlikely to find a new one" not in page
    assert "new problem: <strong>not known (10 completed runs)</strong>" in page
    assert '<div class="num">not known (10 completed runs)</div>' in page
