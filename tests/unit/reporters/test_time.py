"""Time in every human-facing report: when each problem was first seen (runs and seconds), and where the time went
(per test, per strategy, search against the re-checks). Results of earlier releases, which have none of it, render
without invented figures."""
from __future__ import annotations

from html.parser import HTMLParser

import xml.etree.ElementTree as ET

from racegate.reporters import console, html, junit, markdown, sentences, view
from racegate.reporters.text import seconds

from conftest import HOSTILE
from racegate.result.codec import result_from_json


def _section(page: str, ident: str) -> str:
    start = page.index(f'<h2 id="{ident}">')
    end = page.find("<h2 ", start + 1)
    return page[start:end if end != -1 else len(page)]


def test_the_steps_of_discovery_read_both_curves(timed):
    steps = view.discovery_steps(result_from_json(timed))
    assert [(s.found, s.runs, s.seconds) for s in steps][:3] == [(1, 1, 0.4), (2, 3, 1.2), (3, 6, 2.4)]
    assert len(steps) == 8 and steps[-1].runs == 59
    assert sentences.quiet_tail(result_from_json(timed)) == "261 runs (69.8 s)"


def test_the_budget_line_splits_search_from_verification(timed):
    line = sentences.budget_line(result_from_json(timed))
    assert line == ("201.7 s of test runs in 93.4 s on 2 jobs: search 196.0 s in 310 runs; verification 5.75 s in "
                    "10 runs (6 plain re-checks 2.50 s, 4 seed replays 3.25 s)")


def test_console_shows_when_each_problem_came_and_where_the_time_went(timed):
    text = console.render(result_from_json(timed))
    assert "found by: yield (run 2, seed 1002, after 1.20 s)" in text
    lines = text.splitlines()
    assert next(x for x in lines if x.startswith("yield ")).split() == ["yield", "107", "34", "4", "66.1", "s"]
    time = next(x for x in lines if x.startswith("time: "))
    assert time.endswith("(6 plain re-checks 2.50 s, 4 seed replays 3.25 s)")
    top = lines[lines.index("most time (5 of 8 tests):") + 1]
    assert top.split()[:6] == ["QueueTest.Shutdown", "40", "runs", "113.0", "s", "56%"]
    assert "sleep 13 runs 49.4 s · yield 13 runs 37.0 s · none 14 runs 26.6 s" in top
    # Runs ended, as a count: the second problem's first run is run 2 (from 0) above, the third run to end here.
    assert ("distinct problems first seen at: #1 after 1 run, 0.40 s · #2 after 3 runs, 1.20 s" in text
            and "#8 after 59 runs, 23.6 s; nothing new in the last 261 runs (69.8 s)" in text)


def test_markdown_has_a_time_section_with_tests_and_discovery_tables(timed):
    text = markdown.render(result_from_json(timed))
    time = text[text.index("### Time"):text.index("### Reports")]
    assert "verification 5.75 s in 10 runs" in time
    assert "| QueueTest.Shutdown | 40 | 113.0 s | 56% | sleep 13 runs 49.4 s" in time
    assert "| 8 | 59 | 23.6 s |" in time and "Nothing new in the last 261 runs (69.8 s)" in time
    assert "| yield | 107 | 34 | 4 | 66.1 s |" in text
    assert "| yield, after 1.20 s |" in text  # the problems table's "found by"


def test_html_draws_both_curves_and_lists_every_test_by_time(timed):
    page = html.render(result_from_json(timed))
    discovery = _section(page, "discovery")
    assert discovery.count("<svg ") == 2
    assert 'aria-label="distinct problems found versus seconds since the start"' in discovery
    assert "<title>23.6 s: 8 distinct</title>" in discovery and "<title>run 59: 8 distinct</title>" in discovery
    time = _section(page, "time")
    assert "search 196.0 s in 310 runs" in time
    assert time.count("<tr>") == 1 + 8  # the head, and every test that ran
    assert "<td>QueueTest.Shutdown</td><td>40</td><td>113.0 s</td><td>56%" in time
    assert "strategy <strong>yield</strong> in run 2, seed 1002, test RegistryTest.ConcurrentAdd, after 1.20 s" in page
    assert "<th>seconds</th>" in _section(page, "strategies")


def test_junit_gives_each_test_the_seconds_its_runs_took(timed):
    root = ET.fromstring(junit.render(result_from_json(timed)))
    case = root.find("testsuite[@name='racegate.tests']/testcase[@name='QueueTest.Shutdown']")
    assert case is not None and case.get("time") == "113.050"


def test_a_large_suite_lists_the_tests_that_took_most_time_and_sums_the_rest(big):
    page = html.render(result_from_json(big))  # 20 tests of 50 runs at 0.2 s each
    assert _section(page, "time").count("<tr>") == 1 + 20  # fewer than TIME_ROWS: every test, no sum row
    many = dict(big, tests=[dict(big["tests"][0], name=f"T{i:03d}", mean_seconds=0.01 * (i + 1)) for i in range(80)])
    time = _section(html.render(result_from_json(many)), "time")
    assert time.count("<tr>") == 1 + html.TIME_ROWS + 1
    assert "<td>T079</td>" in time and "<td>T000</td>" not in time  # the slowest are listed
    rest = sum(50 * 0.01 * (i + 1) for i in range(80 - html.TIME_ROWS))
    assert f'<td class="muted">{80 - html.TIME_ROWS} more tests</td><td>{50 * (80 - html.TIME_ROWS)}</td>' \
           f"<td>{seconds(rest)}</td>" in time


def test_a_result_of_an_earlier_release_shows_no_invented_times(sample):
    result = result_from_json(sample)
    text = console.render(result)
    assert ", after " not in text and "verification" not in text
    assert next(x for x in text.splitlines() if x.startswith("yield ")).split() == ["yield", "107", "34", "4"]
    assert "time: 135.6 s of test runs in 93.4 s on 2 jobs\n" in text  # from each test's mean
    assert "#8 after 59 runs; nothing new in the last 261 runs\n" in text
    page = html.render(result)
    assert _section(page, "discovery").count("<svg ") == 1 and "<th>seconds</th>" not in _section(page, "strategies")
    assert "per strategy" not in _section(page, "time")
    md = markdown.render(result)
    assert "after seconds" not in md and "per strategy" not in md


def test_names_in_the_time_tables_stay_text(timed):
    # A strategy name comes from the file as much as a test name does.
    timed["tests"][0]["strategies"][HOSTILE + "\x1b[2J"] = {"runs": 1, "seconds": 99.0}
    result = result_from_json(timed)
    page = html.render(result)
    time = _section(page, "time")
    assert HOSTILE not in time and "&lt;img src=x onerror=alert(1)&gt;" in time

    class Tags(HTMLParser):
        found: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.found.append(tag)

    parser = Tags()
    parser.feed(time)
    assert "img" not in parser.found
    md = markdown.render(result)
    assert HOSTILE not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    text = console.render(result)
    assert "\x1b" not in text and HOSTILE + "[2J 1 run 99.0 s" in text
