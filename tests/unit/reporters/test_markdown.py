from __future__ import annotations

import re
from dataclasses import replace

from racegate.reporters import markdown

from conftest import HOSTILE
from racegate.result.codec import result_from_json


def test_md_escapes_markup_and_markdown():
    assert markdown.md("<b>|*x*|</b>") == "&lt;b&gt;\\|\\*x\\*\\|&lt;/b&gt;"
    # what needs no escape keeps its form, readable in a raw log (#59)
    assert markdown.md("the budget's deadline: raise --time-budget") == "the budget's deadline: raise --time-budget"
    assert markdown.md("NOT COVERED: 1 of 2 (0 known)") == "NOT COVERED: 1 of 2 (0 known)"
    assert markdown.md("try_pop at q.hpp:12, \"a\" & b") == "try_pop at q.hpp:12, \"a\" & b"
    # an entity, emphasis that could open or close, and marks that start a block at the line's start
    assert markdown.md("&amp; _x_ `c` ~F() $m$ @u") == "&amp;amp; \\_x\\_ \\`c\\` \\~F() \\$m\\$ \\@u"
    assert [markdown.md(t) for t in ("- a", "+ a", "# a", "1. a", "2) a", "==")] == [
        "\\- a", "\\+ a", "\\# a", "1\\. a", "2\\) a", "\\=="]


def test_hostile_names_stay_inert_in_markdown():
    for hostile in ("<img src=x onerror=alert(1)>", "](javascript:alert(1))", "[x](javascript:alert(1))",
                    "<script>x</script>", "![i](http://e/x.png)", "&lt;img&gt;"):
        out = markdown.md(hostile)
        assert "<" not in out and ">" not in out.replace("&gt;", "")
        # no unescaped bracket: nothing can open or close a link or an image
        assert re.search(r"(?<!\\)[\[\]]", out) is None, out
        assert "&lt;img&gt;" not in out or out.startswith("&amp;")
    assert markdown.md("a\nb") == "a b"


def test_sample_summary_has_tables_and_escaped_details(sample, options):
    text = markdown.render(result_from_json(sample), options)
    assert text.startswith("## :x: racegate: FAIL")
    assert "| tests | runs |" in text and "### Tests" in text and "### Strategies" in text
    assert text.count("<details>") == len(sample["buckets"])
    assert HOSTILE not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "</pre><script>" not in text and "<script>" not in text
    # a race's stacks come folded, with where its whole raw report is; a crash, which has none, shows its report
    assert "WARNING: ThreadSanitizer: data race (pid=41237)" not in text
    assert "(1 standard-library frame)" in text and "raw report: reports/" in text
    assert "Segmentation fault" in text or "SEGV" in text
    assert "**flaky**" in text


def test_500_buckets_stay_under_one_mebibyte(big):
    # Every report whole as long as GitHub's limit allows (the shorter target lists the rest in one line each).
    text = markdown.render(result_from_json(big), target_bytes=markdown.MAX_BYTES)
    assert len(text.encode("utf-8")) < 1024 * 1024
    assert "Truncated" in text
    assert text.count("<details>") == text.count("</details>")


def test_truncation_note_counts_what_was_left_out(sample):
    text = markdown.render(result_from_json(sample), max_bytes=6000, target_bytes=markdown.MAX_BYTES)
    assert len(text.encode("utf-8")) < 6000 + 1024
    shown = text.count("<details>")
    assert shown < len(sample["buckets"])
    assert f"{len(sample['buckets']) - shown} more reports left out" in text


def test_passing_result_says_so(sample):
    for b in sample["buckets"]:
        b["new"] = False
    sample["summary"]["new_buckets"] = 0
    assert markdown.render(result_from_json(sample)).startswith("## :white_check_mark: racegate: PASS")


def test_single_threaded_passing_tests_fold_into_one_line(sample):
    text = markdown.render(result_from_json(sample))
    tests_table = text.split("### Tests", 1)[1].split("###", 1)[0]
    assert "MathTest" not in tests_table  # one thread, every run passed
    assert "1 single-threaded test passed" in tests_table
    assert "RegistryTest" in tests_table


def test_notes_say_what_the_console_says_and_are_escaped(sample):
    from racegate.reporters import html
    from racegate.reporters.sentences import coverage_notes

    result = result_from_json(sample)
    noted = replace(result.tests[0], notes=[f"noise slowed {HOSTILE} past 5x its plain run: noise disabled for it"])
    result = replace(result, tests=[noted, *result.tests[1:]])
    (note,) = [n for n in coverage_notes(result) if "noise slowed" in n]
    text = markdown.render(result)
    assert "### Notes" in text and "- " + markdown.md(note) in text and HOSTILE not in text
    page = html.render(result)
    assert '<h2 id="notes">Notes</h2>' in page and HOSTILE not in page
    assert "noise slowed &lt;img src=x onerror=alert(1)&gt; past 5x" in page
    result = replace(result, tests=[replace(noted, notes=[]), *result.tests[1:]])
    assert not coverage_notes(result)  # nothing to say: no section
    assert "### Notes" not in markdown.render(result) and 'id="notes"' not in html.render(result)


def test_reports_past_the_target_are_one_line_each(big):
    text = markdown.render(result_from_json(big))
    assert len(text.encode("utf-8")) < 1024 * 1024
    assert "in one line each to keep this summary short; racegate.html has them whole." in text
    assert text.count("<details>") == text.count("</details>")
