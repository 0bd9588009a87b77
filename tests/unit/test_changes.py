"""--changed-since: the changed lines of a diff, the build's dependency files, the ranking of tests, the budget's
split between the focus groups, and the marking of buckets on changed lines (no C++ build: git and files only)."""
from __future__ import annotations

import subprocess
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from racegate import changes
from racegate.focus import CHANGED, HISTORY, REST, SHARES, group_to_serve
from racegate.history import History, TestHistory
from racegate.model import RunRecord, SourceFrame, StackTrace, TestCase
from racegate.reporters import RenderOptions, render
from racegate.result import ChangeFocus, load, save
from racegate.schedule import Scheduler
from result_factory import bucket, entry_for_test, make_result

DIFF = """\
diff --git a/src/queue.cpp b/src/queue.cpp
--- a/src/queue.cpp
+++ b/src/queue.cpp
@@ -10,0 +11,3 @@ void push()
@@ -20 +23 @@ void pop()
@@ -30,2 +32,0 @@ void drain()
diff --git a/gone.h b/gone.h
--- a/gone.h
+++ /dev/null
@@ -1,4 +0,0 @@
"""


def test_changed_lines_are_the_new_sides_ranges_and_a_deletion_marks_its_neighbours(tmp_path):
    lines = changes.changed_lines(DIFF, tmp_path)
    assert lines == {(tmp_path / "src/queue.cpp").resolve(): ((11, 13), (23, 23), (32, 33))}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_changes_since_a_ref_include_uncommitted_edits_in_work_tree_lines(tmp_path):
    (tmp_path / "a.cpp").write_text("one\ntwo\nthree\n")
    (tmp_path / "b.cpp").write_text("b\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "first")
    (tmp_path / "a.cpp").write_text("one\nTWO\nthree\n")
    git(tmp_path, "commit", "-qam", "second")
    (tmp_path / "b.cpp").write_text("zero\nb\n")  # uncommitted
    change = changes.read_changes(tmp_path, "HEAD~1")
    assert isinstance(change, changes.ChangeSet)
    assert change.files == {(tmp_path / "a.cpp").resolve(), (tmp_path / "b.cpp").resolve()}
    assert change.on_changed_line("a.cpp", 2, tmp_path) and not change.on_changed_line("a.cpp", 3, tmp_path)
    assert change.on_changed_line(str(tmp_path / "b.cpp"), 1, tmp_path)


def test_no_git_or_an_unknown_ref_is_no_focus_with_the_reason(tmp_path):
    assert "not in a git work tree" in changes.read_changes(tmp_path, "main")
    git(tmp_path, "init", "-q")
    (tmp_path / "a").write_text("a")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "first")
    reason = changes.read_changes(tmp_path, "no-such-branch")
    assert isinstance(reason, str) and "does not know 'no-such-branch'" in reason


def test_make_dependency_files_give_each_target_its_sources_and_headers(tmp_path):
    target = tmp_path / "sub" / "CMakeFiles" / "queue_test.dir"
    target.mkdir(parents=True)
    (target / "queue.cpp.o.d").write_text(
        "sub/CMakeFiles/queue_test.dir/queue.cpp.o: /src/queue.cpp /src/ring\\ buffer.h \\\n /usr/include/stdio.h\n")
    (target / "compiler_depend.make").write_text("# Empty compiler generated dependencies file for queue_test.\n")
    built = changes.built_from(tmp_path)
    assert built == {Path("queue_test"): {Path("/src/queue.cpp"), Path("/src/ring buffer.h"),
                                          Path("/usr/include/stdio.h")}}


def test_the_codemodel_names_each_targets_artifact(tmp_path):
    reply = tmp_path / ".cmake/api/v1/reply"
    reply.mkdir(parents=True)
    (reply / "index-1.json").write_text('{"reply": {"codemodel-v2": {"jsonFile": "cm.json"}}}')
    (reply / "cm.json").write_text('{"paths": {"source": "/src", "build": "%s"}, "configurations": '
                                   '[{"targets": [{"jsonFile": "t.json"}]}]}' % tmp_path)
    (reply / "t.json").write_text('{"name": "queue_test", "artifacts": [{"path": "bin/queue_test"}], '
                                  '"sources": [{"path": "queue.cpp"}]}')
    assert changes.built_from(tmp_path) == {(tmp_path / "bin/queue_test").resolve(): {Path("/src/queue.cpp")}}


def test_tests_rank_by_what_their_executable_reads_then_by_their_past_buckets_files(tmp_path):
    change = changes.ChangeSet("main", "abc", frozenset({Path("/src/ring.h").resolve()}))
    built = {Path("/b/queue_test"): {Path("/src/queue.cpp"), Path("/src/ring.h")},
             Path("stack_test"): {Path("/src/stack.cpp")}}
    tests = [TestCase("queue", ("/b/queue_test", "--gtest_filter=Q.*")), TestCase("stack", ("/b/stack_test",)),
             TestCase("old", ("/b/old_test",)), TestCase("other", ("/b/other_test",))]
    history = History({"old": TestHistory(files=["/src/ring.h"]), "other": TestHistory(files=["/src/x.cpp"])})
    groups = changes.test_groups(tests, built, change, history, Path("/src"))
    assert groups == {"queue": CHANGED, "stack": REST, "old": HISTORY, "other": REST}
    assert changes.test_groups(tests, built, change, None, Path("/src"))["old"] == REST  # no history: none in 2


def test_the_group_furthest_below_its_share_is_served():
    assert group_to_serve([CHANGED, HISTORY, REST], {}) == CHANGED
    assert group_to_serve([CHANGED, REST], {CHANGED: 9.0, REST: 0.1}) == REST  # 99 % is past 94 %: rest's turn
    assert group_to_serve([CHANGED, REST], {CHANGED: 9.0, REST: 1.0}) == CHANGED  # 90 % is below it
    assert group_to_serve([CHANGED, HISTORY, REST], {CHANGED: 8.0, HISTORY: 0.0, REST: 2.0}) == HISTORY
    assert group_to_serve([REST], {CHANGED: 100.0}) == REST  # a group with nothing to run passes its share on
    with pytest.raises(ValueError):
        group_to_serve([], {})


def test_the_scheduler_gives_every_test_its_first_run_then_the_changed_group_its_share():
    tests = [TestCase(n, (f"./{n}",)) for n in ("r1", "r2", "r3", "touched")]
    focus = {"touched": CHANGED, "r1": REST, "r2": REST, "r3": REST}
    s = Scheduler(tests, lambda t: ["noise"], 5, runs=None, deadline=time.monotonic() + 3600, focus=focus)
    order, spent = [], Counter()
    for _ in range(200):
        plan = s.next()
        order.append(plan.test.name)
        spent[focus[plan.test.name]] += 0.01
        s.record(RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, strategy=plan.strategy, command=[],
                           outcome="pass", returncode=0, duration=0.01, log_dir="", threads=2))
    s.stop()
    assert order[0] == "touched" and set(order[:4]) == {"r1", "r2", "r3", "touched"}  # first runs, closest first
    target = SHARES[CHANGED] / (SHARES[CHANGED] + SHARES[REST])  # the history group is empty
    assert abs(spent[CHANGED] / sum(spent.values()) - target) < 0.02


def racy_bucket(line: int, bid: str = "a" * 16):
    frame = SourceFrame("push", "/src/queue.cpp", line)
    return replace(bucket(bid, "queue", 3), frames=[frame, SourceFrame("pop", "/src/queue.cpp", 90)],
                   stacks=[StackTrace("Write of size 4", (frame,))])


def test_new_buckets_with_a_frame_on_a_changed_line_are_marked_in_every_format(tmp_path):
    change = changes.ChangeSet("main", "abc", frozenset({Path("/src/queue.cpp")}),
                               {Path("/src/queue.cpp"): ((10, 12),)})
    on, off = racy_bucket(11), racy_bucket(40, "f" * 16)
    known = replace(racy_bucket(11, "e" * 16), new=False)
    assert changes.in_change(on, change, Path("/src")) and not changes.in_change(off, change, Path("/src"))
    assert not changes.in_change(known, change, Path("/src"))  # only new buckets are the change's
    result = make_result([entry_for_test("queue", 10, 3)], [on, off])
    result = replace(result, config=replace(result.config, changed_since=changes.focus_record(
        "main", change, Path("/src"))))
    result = changes.marked(result, change, Path("/src"))
    assert [b.in_change for b in result.buckets] == [True, False]
    save(result, tmp_path / "racegate.json")
    again = load(tmp_path / "racegate.json")
    assert [b.in_change for b in again.buckets] == [True, False]
    assert again.config.changed_since == ChangeFocus("main", "abc", ["queue.cpp"])
    options = RenderOptions(base_dir=tmp_path)
    for fmt in ("console", "markdown", "html", "sarif"):
        assert render(fmt, again, options).count("in this change") + render(fmt, again, options).count(
            '"inChange": true') >= 1, fmt


def test_without_the_option_an_old_result_loads_without_a_focus(tmp_path):
    result = make_result([entry_for_test("queue", 10, 3)], [racy_bucket(11)])
    save(result, tmp_path / "racegate.json")
    text = (tmp_path / "racegate.json").read_text()
    assert "changed_since" not in text and "in_change" not in text and '"focus"' not in text
    again = load(tmp_path / "racegate.json")
    assert again.config.changed_since is None and again.budget_split == []


def test_the_history_keeps_the_files_of_each_tests_buckets_for_the_next_ranking(tmp_path):
    from racegate import history as histories
    from racegate.model import Finding

    race = Finding("data race", "r", ["x"], [SourceFrame("push", "/src/ring.h", 4), SourceFrame("pop", "", None)], "")
    record = RunRecord(test="queue", run=0, seed=1, strategy="none", command=[], outcome="race", returncode=66,
                       duration=0.1, log_dir="", findings=[race])
    learned = histories.from_session([record], {0: [race.id]})
    assert learned.tests["queue"].files == ["/src/ring.h"]
    histories.save(learned, tmp_path / "h.json")
    again = histories.load(tmp_path / "h.json")
    assert again.tests["queue"].files == ["/src/ring.h"]
    assert again.merged(again).tests["queue"].files == ["/src/ring.h"]


def test_the_budget_split_sums_each_groups_tests_seconds_and_runs():
    from racegate.result import Spent

    def timed(name: str, runs: int, secs: float, group: str):
        return replace(entry_for_test(name, runs, 0), strategies={"none": Spent(runs, secs)}, focus=group)
    result = make_result([timed("a", 8, 8.0, CHANGED), timed("b", 1, 1.0, REST), timed("c", 1, 1.0, REST)], [])
    split = result.budget_split
    assert [(g.group, g.tests, g.runs, g.seconds, g.share) for g in split] == [
        (CHANGED, 1, 8, 8.0, 0.8), (REST, 2, 2, 2.0, 0.2)]
