"""Test runners that fork a child per test case (tests/fork_programs: an acutest-style runner of our own, Check
in CK_FORK mode), built with racegate's presets under clang and gcc: the children's threads are counted, the
racy cases are repeated and their races found; a single-threaded test is still kept to one run, with the reason;
a child that execs a program without TSan, or a static one, makes its test count as multi-threaded; a TSan
program started with posix_spawn counts too. The shim in a forked child draws from a seed of its own that a
replay of the run gives it again, and a multi-threaded parent forks safely under every schedule."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from racegate.arms import SINGLE_THREADED, UNOBSERVED
from racegate.shim import ensure_shim, read_shim_report, thread_count
from samples_helpers import TESTS, TEST_CXX, build_with_preset, racegate

pytestmark = pytest.mark.e2e

PROGRAMS = TESTS / "fork_programs"


@pytest.fixture(scope="module", params=list(TEST_CXX))
def build(request: pytest.FixtureRequest) -> Path:
    return build_with_preset(PROGRAMS, f"tsan-{request.param}", f"fork-programs-{request.param}")


def test_the_children_of_a_forking_runner_count_and_their_race_is_found(build, tmp_path):
    out = tmp_path / "out"
    # 40 runs: the portfolio finds these races mostly through pct (about half its runs in a child, on this
    # project's machines); plain runs see them rarely (none of 40 with gcc).
    proc = racegate("run", "--build-dir", str(build), "--runs", "40", "--jobs", "2", "--seed", "1",
                    "--out", str(out), "--format", "junit")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((out / "racegate.json").read_text())
    tests = {t["name"]: t for t in result["tests"]}
    # The parent's one thread and the child's main thread with its two: three alive at once in the child; the
    # same in the runner spawn_tally starts again with posix_spawn, and in that one's forked child.
    for racy in ("fork_runner.tally", "check_suite", "fork_runner.spawn_tally"):
        # 40 search runs; re-checks and replays of a race first seen under perturbation come on top.
        assert tests[racy]["runs"] >= 40 and tests[racy]["threads"] == 3, racy
        assert "not_repeated" not in tests[racy] and "notes" not in tests[racy]
    racing = {t for b in result["buckets"] if b["kind"] == "data race" for t in b["tests"]}
    # tally and spawn_tally run the same racy code (one bucket): either shows it; Check's suite has its own.
    assert "check_suite" in racing and racing & {"fork_runner.tally", "fork_runner.spawn_tally"}
    # Its children have one thread each, all counted: the single-thread rule applies, and says so.
    for single in ("fork_runner.arithmetic", "solo"):
        assert (tests[single]["runs"], tests[single]["threads"]) == (1, 1), single
        assert tests[single]["not_repeated"] == SINGLE_THREADED
    assert f"note: 2 of 7 tests {SINGLE_THREADED}: fork_runner.arithmetic, solo" in proc.stdout
    # A child that exec'd /bin/true, whose threads nobody counts: repeated as multi-threaded, and told why.
    exec_true = tests["fork_runner.exec_true"]
    assert (exec_true["runs"], exec_true["threads"]) == (40, None)
    assert exec_true["notes"] == [f"{UNOBSERVED}: it ran true, which is not built with TSan"]
    # One that exec'd a static program, where the shim cannot load: the same.
    exec_static = tests["fork_runner.exec_static"]
    assert (exec_static["runs"], exec_static["threads"]) == (40, None)
    assert exec_static["notes"] == [f"{UNOBSERVED}: it exec'd {build / 'static_helper' / 'static_helper'}, where "
                                    "the shim wrote nothing (a static program, or LD_PRELOAD cleared)"]


def _children(report: Path) -> list[dict[str, str]]:
    """The last block of each child the first process forked, in a shim report, in fork order."""
    blocks: dict[str, dict[str, str]] = {}
    block: dict[str, str] = {}
    root = None
    for line in report.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "end":
            root = root or block["pid"]
            if block.get("origin") == "fork" and block["ppid"] == root:
                blocks[block["pid"]] = block
            block = {}
        else:
            block[key] = value
    return list(blocks.values())


@pytest.mark.parametrize("strategy", ["noise", "pct"])
def test_a_forked_child_is_perturbed_under_a_seed_a_replay_gives_it_again(build, tmp_path, strategy):
    shim = ensure_shim(tmp_path / "shim-cache")

    def children(seed: int, name: str) -> list[dict[str, str]]:
        report = tmp_path / name
        env = dict(os.environ, LD_PRELOAD=str(shim), RACEGATE_SCHEDULE=strategy, RACEGATE_SEED=str(seed),
                   RACEGATE_SHIM_REPORT=str(report), TSAN_OPTIONS="halt_on_error=0 report_bugs=0")
        # No case named: the runner forks one child per case, five in all.
        subprocess.run([str(build / "fork_runner")], env=env, capture_output=True, timeout=120)
        return _children(report)

    first, replay, other = children(5, "first.txt"), children(5, "replay.txt"), children(6, "other.txt")
    assert len(first) == 5
    seeds = [c["seed"] for c in first]
    assert len(set(seeds)) == 5 and "5" not in seeds  # each child its own seed, none its parent's
    assert seeds == [c["seed"] for c in replay] and seeds != [c["seed"] for c in other]
    tally = first[0]
    # Perturbed as its parent is (pct falls back to noise+pin without real-time priorities), its threads counted.
    assert tally["applied"] in (strategy, "noise+pin") and tally["max_threads"] == "3"
    if tally["applied"] == "pct":  # real priorities: the child drew its own, and draws them again on a replay
        assert tally["pct_priorities"] == replay[0]["pct_priorities"] != first[1]["pct_priorities"]


@pytest.mark.parametrize("strategy", ["none", "pin", "noise", "pct", "preempt"])
def test_a_multi_threaded_parent_forks_under_every_schedule(build, tmp_path, strategy):
    # The fork handlers run while TSan holds its locks and another thread of the parent is working: none of
    # the children may hang or die, and each is counted.
    shim = ensure_shim(tmp_path / "shim-cache")
    report = tmp_path / "shim.txt"
    env = dict(os.environ, LD_PRELOAD=str(shim), RACEGATE_SCHEDULE=strategy, RACEGATE_SEED="3",
               RACEGATE_SHIM_REPORT=str(report), TSAN_OPTIONS="halt_on_error=0")
    proc = subprocess.run([str(build / "threaded_fork")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    summary = read_shim_report(report)
    assert (summary["processes"], summary["forks"], summary["max_threads"]) == (6, 5, 2)
    assert thread_count(summary) == (2, None)
    assert [c["max_threads"] for c in _children(report)] == ["1"] * 5


@pytest.mark.parametrize("case, racy", [("every_run", True), ("locked", False)])
def test_no_false_uncounted_note_when_the_forked_child_is_counted(build, tmp_path, case, racy):
    # Field #31: a forked child's race in every run (or none), plain runs loading no shim once the count is known,
    # and a budget whose end cuts the runs still going, some before their program started: no run of it went
    # uncounted, so no note says one did.
    out = tmp_path / "out"
    proc = racegate("run", "--time-budget", "6", "--jobs", "2", "--seed", "3", "--out", str(out), "--format", "junit",
                    "--", str(build / "fork_runner"), case)
    assert proc.returncode == (1 if racy else 0), proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((out / "racegate.json").read_text())
    (test,) = result["tests"]
    assert test["threads"] == 3 and test["strategies"]["none"]["runs"] >= 2
    assert "notes" not in test and UNOBSERVED not in proc.stdout + proc.stderr
    assert [b["kind"] for b in result["buckets"]] == (["data race"] if racy else [])
