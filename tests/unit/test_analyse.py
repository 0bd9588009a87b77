"""The analyse stage on what runs leave behind: real TSan logs from tests/corpus, exit statuses, shim reports."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from racegate.analyse import analyse_run
from racegate.errors import RacegateError
from racegate.execute import Execution
from racegate.model import CutCause, PlannedRun, TestCase
from racegate.run_env import prepare_planned_run
from racegate.shim import NO_REPORT
from racegate.signature_rules import bucket_id
from racegate.tsan_parse import parse_reports

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
COMPILERS = ("clang14", "clang19", "gcc12")
TEST = TestCase("Ledger.Race", ("/b/ledger_test", "--gtest_filter=Ledger.Race"), cwd="/b", is_gtest=True)


def execution(tmp_path: Path, returncode: int = 0, output: str = "", tsan_log: str = "", timed_out: bool = False,
              strategy: str = "pct", preload_shim: bool = True, cut: str | None = None) -> Execution:
    plan = PlannedRun(TEST, run=7, seed=42, strategy=strategy, preload_shim=preload_shim)
    argv, env = prepare_planned_run(plan, tmp_path, tmp_path / "racegate_sched-0123.so", {"PATH": "/usr/bin"})
    return Execution(plan=plan, argv=argv, env=env, returncode=returncode, timed_out=timed_out, timeout=30.0,
                     duration=1.5, output=output, tsan_log=tsan_log, shim_report=tmp_path / "shim.txt",
                     run_dir=tmp_path, cut=cut)


@pytest.mark.parametrize("compiler", COMPILERS)
def test_a_real_race_log_is_one_signed_race_and_tsans_exit_status_is_not_a_failure(tmp_path, compiler):
    log = (CORPUS / compiler / "race_global.log").read_text()
    record = analyse_run(execution(tmp_path, returncode=66, tsan_log=log))
    assert record.outcome == "race"
    (finding,) = record.findings
    assert finding.kind == "data race" and finding.title.startswith("data race: count_hits (race_global.cpp")
    # The same race signs alike whichever compiler built it, under signature v6 and under v1 to v5 (whose ids the
    # baselines of earlier releases hold: what release 0.1.0 and the v2 to v5 releases wrote for it).
    assert finding.id == bucket_id(finding.kind, finding.signature) == "ebf13e16419d138b"
    assert finding.legacy_ids == ["a7af29cb66215fb4", "b75abdbb99e5be19", "2a9547f46ae69687",
                                  "6198cf69b874356e", "d9d6534123a40f5b"]
    assert (record.test, record.run, record.seed, record.strategy) == ("Ledger.Race", 7, 42, "pct")
    assert record.command[:2] == list(TEST.command) and record.cwd == "/b"
    assert record.returncode == 66 and record.duration == 1.5 and record.log_dir == ""


def test_logs_of_several_processes_give_a_finding_each(tmp_path):
    log = "".join((CORPUS / "gcc12" / f"{name}.log").read_text() for name in ("race_global", "lock_order_inversion"))
    record = analyse_run(execution(tmp_path, returncode=66, tsan_log=log))
    assert record.outcome == "race"
    assert [f.kind for f in record.findings] == ["data race", "lock-order-inversion (potential deadlock)"]


def test_the_shim_report_gives_the_thread_count_and_its_note(tmp_path):
    (tmp_path / "shim.txt").write_text("pid=5\nphase=exit\nschedule=pct\napplied=noise+pin\nmax_threads=4\n"
                                       "note=pct: no CAP_SYS_NICE; fell back to noise+pin\nend=1\n")
    record = analyse_run(execution(tmp_path))
    assert record.outcome == "pass" and record.findings == []
    assert record.threads == 4 and record.strategy_note == "pct: no CAP_SYS_NICE; fell back to noise+pin"


def test_without_a_shim_report_the_thread_count_is_unknown(tmp_path):
    record = analyse_run(execution(tmp_path))
    assert record.threads is None and record.strategy_note is None


def test_a_run_that_preloaded_the_shim_and_got_no_report_went_uncounted(tmp_path):
    record = analyse_run(execution(tmp_path))
    assert record.threads_unobserved == NO_REPORT


def test_a_plain_run_without_the_shim_says_nothing_of_what_went_uncounted(tmp_path):
    # Field #31: every run a forked child's race, the plain ones loading no shim by design; their missing file must
    # not read as a process the shim could not see.
    log = (CORPUS / "gcc12" / "race_global.log").read_text()
    record = analyse_run(execution(tmp_path, returncode=1, tsan_log=log, strategy="none", preload_shim=False))
    assert record.outcome != "pass" and (record.threads, record.threads_unobserved) == (None, None)


def test_a_run_racegate_cut_says_nothing_of_what_went_uncounted(tmp_path):
    # Killed at the budget's end before its program started: no shim file at all.
    assert analyse_run(execution(tmp_path, cut=CutCause.BUDGET)).threads_unobserved is None
    # Killed before its forked child wrote a block: the one-thread parent counts one fork, no child answers. The
    # parent's one thread is no count of the test's either way.
    (tmp_path / "shim.txt").write_text("pid=5\nimage=1\nphase=fork\ntsan=1\nppid=1\norigin=\nmax_threads=1\n"
                                       "forks=1\nend=1\n")
    whole = analyse_run(execution(tmp_path))
    assert (whole.threads, whole.threads_unobserved) == (None, "1 of its 1 forked children wrote no report")
    cut = analyse_run(execution(tmp_path, cut=CutCause.BUDGET))
    assert (cut.threads, cut.threads_unobserved) == (None, None)


def test_failures_without_a_tsan_report_are_classified(tmp_path):
    record = analyse_run(execution(tmp_path, returncode=3, output="boom\n"))
    assert record.outcome == "fail" and record.findings[0].title == "test failure: Ledger.Race exited with status 3"
    record = analyse_run(execution(tmp_path, returncode=-9, timed_out=True))
    assert record.outcome == "timeout" and "longer than 30 s" in record.findings[0].title


def test_the_record_keeps_the_environment_to_reproduce_the_run_without_the_log_path(tmp_path):
    record = analyse_run(execution(tmp_path))
    assert record.env["RACEGATE_SEED"] == "42" and record.env["RACEGATE_SCHEDULE"] == "pct"
    assert "log_path" not in record.env["TSAN_OPTIONS"] and "RACEGATE_SHIM_REPORT" not in record.env
    assert "PATH" not in record.env


@pytest.mark.parametrize("where", ("output", "tsan_log"))
def test_a_tsan_runtime_that_cannot_map_memory_is_an_environment_error(tmp_path, where):
    text = "FATAL: ThreadSanitizer: unexpected memory mapping 0x7f0000000000-0x7f0000001000\n"
    with pytest.raises(RacegateError, match=r"sysctl -w vm\.mmap_rnd_bits=28"):
        analyse_run(execution(tmp_path, returncode=66, **{where: text}))


TAP_SUITE = "1..3\nok 1 - balances\nnot ok 2 - drains\n# Assertion failed in suite.c on line 20: left == 0\nok 3 - x\n"


def test_a_failure_comes_from_the_race_only_with_evidence(tmp_path):
    # The report's pid, and whether the process racegate started printed it or a child of it did.
    log = (CORPUS / "gcc12" / "race_global.log").read_text()
    pid = parse_reports(log)[0].pid or 0
    assert pid
    child_exit = replace(execution(tmp_path, returncode=1, output="child failed\n", tsan_log=log), pid=pid + 1)
    record = analyse_run(child_exit)
    assert record.outcome == "race" and record.findings[1].from_race  # the child's exit 66 failed its parent
    # A suite (three TAP tests) whose one test failed its check, beside a race of its own process or a child's.
    for runner in (pid, pid + 1):
        record = analyse_run(replace(execution(tmp_path, returncode=66, output=TAP_SUITE, tsan_log=log), pid=runner))
        assert record.outcome == "race"
        assert record.findings[1].title.endswith("drains: left == 0 (suite.c:20)")
        assert not record.findings[1].from_race
    # The report in the process racegate started, which exited 1 itself: no child's exit to blame.
    own = analyse_run(replace(execution(tmp_path, returncode=1, output=TAP_SUITE.replace("# Ass", "# ass"),
                                        tsan_log=log), pid=pid))
    assert not own.findings[1].from_race
