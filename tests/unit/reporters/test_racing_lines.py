"""The racing lines in every format: read from the source root when the result is built, stored in racegate.json,
shown again when the file is rendered where the tree is gone; linked to the commit on GitHub; escaped everywhere."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from racegate import result as results
from racegate.advice import Advice
from racegate.model import SourceFrame, StackTrace
from racegate.reporters import RenderOptions, console, github, html, junit, markdown, sarif
from racegate.result import BucketResult, FirstSeen, RunConfig, StrategyStats, TestResult, build_result
from racegate.result.codec import result_from_json, result_json

SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "sarif-schema-2.1.0.json"
URL = "https://github.com/acme/queue/blob/0123abc"
# What C++ source lines carry that every format must print literally.
WRITE_LINE = "    if (a < b && c) slots_[i] = `x` | y;  // <script>alert(1)</script>"
READ_LINE = "    return slots_[i] | **bold** & [link](http://e.vil) <img src=x onerror=alert(2)>;"


def bucket(bid: str, test: str, runs_with: int, frames: list[SourceFrame],
           stacks: list[StackTrace] = ()) -> results.BucketResult:  # type: ignore[assignment]
    return BucketResult(
        id=bid, kind="data race", title=f"data race: f{bid} vs g{bid}", signature=[f"a.cpp:f{bid}"], frames=frames,
        stacks=list(stacks), tests=[test], occurrences=runs_with, runs_with_bucket=runs_with,
        first_seen=FirstSeen(test=test, run=0, seed=1, strategy="noise", command=["./t"], log_dir="runs/0"),
        strategies={"noise": runs_with}, advice=Advice("w", "f"), raw_report=f"reports/{bid}.txt")


def entry_for_test(name: str, runs: int, failed: int) -> TestResult:
    return TestResult(name=name, runs=runs,
                      outcomes={"pass": runs - failed, "race": failed, "fail": 0, "crash": 0, "timeout": 0},
                      threads=2, mean_seconds=0.5, command=["./t"], is_gtest=True)


def make_result(tests: list[TestResult], buckets: list[BucketResult], config: RunConfig) -> results.Result:
    runs = sum(t.runs for t in tests)
    return build_result(config, tests, buckets, {"noise": StrategyStats(runs, 0, len(buckets))},
                        [[runs, len(buckets)]], 1.5, False)


def _project(root: Path) -> None:
    (root / "src").mkdir(parents=True)
    lines = [f"// line {n}" for n in range(1, 31)]
    lines[9], lines[19] = WRITE_LINE, READ_LINE
    (root / "src" / "queue.hpp").write_text("\n".join(lines) + "\n")


def _stack(header: str, line: int, root: Path) -> StackTrace:
    return StackTrace(header, (
        SourceFrame("std::atomic_store_impl(int*)", "/usr/include/c++/12/bits/atomic_base.h", 480),
        SourceFrame("Queue::op()", f"{root}/src/queue.hpp", line),
        SourceFrame("std::__invoke_impl<void>", "/usr/include/c++/12/bits/invoke.h", 61),
        SourceFrame("std::thread::_State_impl::_M_run()", "/usr/include/c++/12/bits/std_thread.h", 244),
        SourceFrame("QueueTest_Race_Test::TestBody()", f"{root}/tests/queue_test.cpp", 7)))


def _result(root: Path, url: str | None = URL):
    frames = [SourceFrame("Queue::push(int)", f"{root}/src/queue.hpp", 10),
              SourceFrame("Queue::pop()", f"{root}/src/queue.hpp", 20)]
    b = bucket("ab" * 8, "QueueTest.Race", 3, frames=frames,
               stacks=[_stack("Write of size 4 at 0x1 by thread T1:", 10, root),
                       _stack("Previous read of size 4 at 0x1 by thread T2:", 20, root)])
    config = RunConfig(seed=1, source_dir="/somewhere/else", source_root=str(root), source_url=url)
    return make_result([entry_for_test("QueueTest.Race", 10, 3)], [b], config)


@pytest.fixture
def stored(tmp_path):
    """A result built over a project tree, written, and read back after the tree is gone."""
    root = tmp_path / "project"
    _project(root)
    path = tmp_path / "out" / "racegate.json"
    results.save(_result(root), path)
    shutil.rmtree(root)
    return results.load(path)


def test_excerpts_are_read_when_the_result_is_built_and_stored(stored):
    data = result_json(stored)
    x = data["buckets"][0]["excerpts"]
    assert [e["line"] for e in x] == [10, 20]
    assert WRITE_LINE in x[0]["lines"] and READ_LINE in x[1]["lines"]
    assert x[0]["first"] == 7 and len(x[0]["lines"]) == 7
    assert data["config"]["source_root"].endswith("project") and data["config"]["source_url"] == URL


def test_a_result_without_a_source_root_reads_nothing(tmp_path):
    root = tmp_path / "project"
    _project(root)
    b = bucket("cd" * 8, "T", 1, frames=[SourceFrame("f", f"{root}/src/queue.hpp", 10)])
    built = make_result([entry_for_test("T", 2, 1)], [b], RunConfig(seed=1, source_dir=str(root)))
    assert built.buckets[0].excerpts == [] and "excerpts" not in result_json(built)["buckets"][0]


def test_markdown_shows_both_racing_lines_marked_escaped_and_linked(stored):
    text = markdown.render(stored)
    assert "&gt; 10 |     if (a &lt; b &amp;&amp; c) slots_[i] = `x` | y;  // &lt;script&gt;" in text
    assert "&gt; 20 |     return slots_[i] | **bold** &amp; [link](http://e.vil) &lt;img src=x" in text
    assert "<script>" not in text and "<img" not in text
    # the problems table links each side to the file at the commit; so do the stacks in the report
    assert f"[src/queue.hpp:10]({URL}/src/queue.hpp#L10)" in text
    assert f'<a href="{URL}/src/queue.hpp#L20">src/queue.hpp:20</a>' in text
    assert f'<a href="{URL}/tests/queue_test.cpp#L7">tests/queue_test.cpp:7</a>' in text
    # the library frames fold: one before the project frame, two between it and the test body
    assert "(1 standard-library frame)" in text and "(2 standard-library frames)" in text
    assert "std::__invoke_impl" not in text


def test_console_shows_the_racing_lines(stored):
    text = console.render(stored)
    assert f"> 10 | {WRITE_LINE}" in text and f"> 20 | {READ_LINE}" in text
    assert "   9 | // line 9" in text


def test_html_shows_the_stored_lines_linked_and_the_library_frames_folded(stored):
    page = html.render(stored)
    assert '<span class="row hit"><span class="ln">10</span>    if (a &lt; b &amp;&amp; c)' in page
    assert '<span class="row hit"><span class="ln">20</span>    return slots_[i] | **bold** &amp;' in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert f'<a href="{URL}/src/queue.hpp#L10">src/queue.hpp:10</a>' in page
    assert '<li class="fold" value="2"><details><summary>2 standard-library frames</summary>' in page


def test_sarif_carries_snippets_and_every_project_frame(stored):
    jsonschema = pytest.importorskip("jsonschema")
    text = sarif.render(stored)
    doc = json.loads(text)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(doc)
    res = doc["runs"][0]["results"][0]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "src/queue.hpp", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 10, "snippet": {"text": WRITE_LINE}}
    assert loc["contextRegion"]["startLine"] == 7 and loc["contextRegion"]["endLine"] == 13
    read = next(r["physicalLocation"] for r in res["relatedLocations"]
                if r["physicalLocation"]["region"]["startLine"] == 20)
    assert read["region"]["snippet"]["text"] == READ_LINE and READ_LINE in read["contextRegion"]["snippet"]["text"]
    related = [(r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"])
               for r in res["relatedLocations"]]
    assert related == [("src/queue.hpp", 10), ("tests/queue_test.cpp", 7), ("src/queue.hpp", 20)]
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/project/")


def test_annotation_lands_on_the_first_racing_line(stored):
    line = github.render(stored).splitlines()[0]
    assert line.startswith("::error file=src/queue.hpp,line=10,")
    # the message carries both racing lines, escaped as workflow commands need
    assert "%0A  10 | if (a < b && c) slots_[i] = `x` | y;" in line and "%0A  20 | return slots_[i] |" in line


def test_junit_and_github_stay_well_formed_with_hostile_lines(stored):
    import xml.dom.minidom
    xml.dom.minidom.parseString(junit.render(stored))
    assert all(line.startswith("::") for line in github.render(stored).splitlines())


def test_no_links_outside_github_actions(tmp_path):
    root = tmp_path / "project"
    _project(root)
    built = _result(root, url=None)
    assert "blob/" not in markdown.render(built) and "<a href" not in html.render(built)
    assert "href=" not in markdown.render(built)


def test_re_rendering_the_stored_result_gives_the_same_reports(tmp_path, stored):
    again = result_from_json(json.loads(json.dumps(result_json(stored))))
    for fmt in (markdown, html, sarif, console):
        assert fmt.render(again, RenderOptions()) == fmt.render(stored, RenderOptions())


def test_folded_frames_say_whose_they_are():
    from racegate.reporters.view import StackRow
    std = SourceFrame("std::thread::_State_impl::_M_run()", "/usr/include/c++/12/bits/std_thread.h", 244)
    unnamed = SourceFrame("", "", None)
    gtest = SourceFrame("testing::internal::HandleExceptionsInMethodIfSupported<testing::Test, void>", "", None)
    tsan = SourceFrame("__tsan_write4", "", None)
    assert StackRow(None, folded=(std, std, unnamed)).fold_words == "3 standard-library frames"
    assert StackRow(None, folded=(gtest,)).fold_words == "1 GoogleTest frame"
    assert StackRow(None, folded=(tsan, std)).fold_words == "2 library and runtime frames"
    assert StackRow(None, folded=(unnamed,)).fold_words == "1 runtime frame"


@pytest.mark.parametrize("fixture", ["result_release_0_1_0.json", "result_samples.json"])
def test_results_of_earlier_releases_render_in_every_format_without_excerpts(fixture):
    data = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / fixture).read_text(encoding="utf-8"))
    old = result_from_json(data)
    assert old.config.source_root is None and all(b.excerpts == [] for b in old.buckets)
    assert "excerpts" not in json.dumps(result_json(old)) and "source_root" not in result_json(old)["config"]
    for fmt in (console, github, html, junit, markdown, sarif):
        assert fmt.render(old, RenderOptions())
    json.loads(sarif.render(old))
