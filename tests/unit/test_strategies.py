"""prepare_run's argv/environment composition, TSAN_OPTIONS merging and the shim report reader."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from racegate import strategies
from racegate.model import TestCase
from racegate.shim import read_shim_report
from racegate.strategies import _tsan_option_dict, merge_tsan_options, prepare_run

SHIM = Path("/cache/racegate_sched-0123.so")
REPORT = Path("/out/runs/7/shim.txt")
PLAIN = TestCase(name="plain", command=("/b/plain_test", "--fast"))
GTEST = TestCase(name="Suite.Case", command=("/b/suite_test", "--gtest_filter=Suite.Case"), is_gtest=True)
BASE = {"PATH": "/usr/bin", "TSAN_OPTIONS": "halt_on_error=0:log_path=/out/runs/7/tsan"}


@pytest.mark.parametrize("strategy", strategies.STRATEGIES)
def test_every_strategy_sets_the_run_contract(strategy):
    test = GTEST if strategy == "repeat-in-process" else PLAIN
    argv, env = prepare_run(strategy, 42, test, BASE, SHIM, REPORT)
    assert argv[: len(test.command)] == list(test.command)
    assert env["RACEGATE_SEED"] == "42"
    assert env["RACEGATE_SCHEDULE"] == strategy
    assert env["RACEGATE_SHIM_REPORT"] == str(REPORT)
    assert env["LD_PRELOAD"] == str(SHIM)
    assert _tsan_option_dict(env["TSAN_OPTIONS"])["log_path"] == "/out/runs/7/tsan"
    assert env["PATH"] == "/usr/bin"


def test_base_env_is_not_modified():
    base = dict(BASE, LD_PRELOAD="/lib/other.so")
    before = dict(base)
    prepare_run("tsan-delay", 1, PLAIN, base, SHIM, REPORT)
    assert base == before


def test_shim_goes_first_in_an_existing_preload():
    _, env = prepare_run("none", 1, PLAIN, dict(BASE, LD_PRELOAD="/lib/other.so"), SHIM, REPORT)
    assert env["LD_PRELOAD"] == f"{SHIM}:/lib/other.so"


def test_no_shim_leaves_preload_alone():
    _, env = prepare_run("noise", 1, PLAIN, dict(BASE, LD_PRELOAD="/lib/other.so"), None, REPORT)
    assert env["LD_PRELOAD"] == "/lib/other.so"
    _, env = prepare_run("noise", 1, PLAIN, BASE, None, REPORT)
    assert "LD_PRELOAD" not in env


def test_tsan_delay_adds_its_flag_and_keeps_the_rest():
    _, env = prepare_run("tsan-delay", 3, PLAIN, BASE, SHIM, REPORT)
    assert _tsan_option_dict(env["TSAN_OPTIONS"]) == {
        "halt_on_error": "0", "log_path": "/out/runs/7/tsan", "enable_adaptive_delay": "1"}
    for strategy in ("none", "pin", "noise", "pct"):
        _, env = prepare_run(strategy, 3, PLAIN, BASE, SHIM, REPORT)
        assert env["TSAN_OPTIONS"] == BASE["TSAN_OPTIONS"]


def test_test_environment_overrides_base_but_not_log_path():
    test = TestCase(name="t", command=("/b/t",),
                    env=(("TSAN_OPTIONS", "log_path=/elsewhere halt_on_error=1 history_size=4"), ("FOO", "bar")))
    _, env = prepare_run("tsan-delay", 9, test, BASE, SHIM, REPORT)
    assert _tsan_option_dict(env["TSAN_OPTIONS"]) == {
        "halt_on_error": "1", "log_path": "/out/runs/7/tsan", "history_size": "4", "enable_adaptive_delay": "1"}
    assert env["FOO"] == "bar"


def test_test_preload_is_kept_after_the_shim():
    test = TestCase(name="t", command=("/b/t",), env=(("LD_PRELOAD", "/lib/mine.so"),))
    _, env = prepare_run("none", 9, test, BASE, SHIM, REPORT)
    assert env["LD_PRELOAD"] == f"{SHIM}:/lib/mine.so"


def test_repeat_in_process_adds_seeded_gtest_flags():
    argv, _ = prepare_run("repeat-in-process", 123456, GTEST, BASE, SHIM, REPORT)
    assert argv == [*GTEST.command, f"--gtest_repeat={strategies.GTEST_REPEAT}", "--gtest_shuffle",
                    f"--gtest_random_seed={1 + 123456 % 99999}"]
    seeds = {prepare_run("repeat-in-process", s, GTEST, BASE, SHIM, REPORT)[0][-1] for s in range(50)}
    assert len(seeds) == 50


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_gtest_seed_is_in_gtest_range(seed):
    assert 1 <= strategies.gtest_seed(seed) <= 99999


def test_repeat_in_process_rejects_non_gtest_tests():
    with pytest.raises(ValueError, match="GoogleTest"):
        prepare_run("repeat-in-process", 1, PLAIN, BASE, SHIM, REPORT)


def test_gtest_recognised_by_command_too():
    test = TestCase(name="x", command=("/b/x", "--gtest_filter=A.B"))
    argv, _ = prepare_run("repeat-in-process", 1, test, BASE, SHIM, REPORT)
    assert "--gtest_shuffle" in argv


def test_other_strategies_keep_argv():
    for strategy in ("none", "pin", "noise", "pct", "tsan-delay"):
        assert prepare_run(strategy, 5, GTEST, BASE, SHIM, REPORT)[0] == list(GTEST.command)


@pytest.mark.parametrize("strategy", strategies.STRATEGIES)
@given(seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_deterministic_for_strategy_and_seed(strategy, seed):
    test = GTEST if strategy == "repeat-in-process" else PLAIN
    assert prepare_run(strategy, seed, test, BASE, SHIM, REPORT) == prepare_run(strategy, seed, test, BASE, SHIM, REPORT)


def test_rejects_unknown_strategy_and_bad_seed():
    with pytest.raises(ValueError, match="unknown strategy"):
        prepare_run("chaos", 1, PLAIN, BASE, SHIM, REPORT)
    with pytest.raises(ValueError, match="64-bit"):
        prepare_run("none", -1, PLAIN, BASE, SHIM, REPORT)
    with pytest.raises(ValueError, match="64-bit"):
        prepare_run("none", 2**64, PLAIN, BASE, SHIM, REPORT)


def test_default_portfolio_uses_known_strategies():
    assert set(strategies.DEFAULT_PORTFOLIO) <= set(strategies.STRATEGIES)


def test_repeat_in_process_offered_only_for_gtest_commands(monkeypatch):
    monkeypatch.setattr(strategies, "_runtime_flags", lambda command: frozenset({"history_size"}))
    assert "repeat-in-process" in strategies.available(["/b/t", "--gtest_filter=A.B"])
    assert "repeat-in-process" not in strategies.available(["/b/t"])
    assert "tsan-delay" not in strategies.available(["/b/t"])
    monkeypatch.setattr(strategies, "_runtime_flags", lambda command: frozenset({"enable_adaptive_delay"}))
    assert "tsan-delay" in strategies.available(["/b/t"])


# ---- TSAN_OPTIONS merging ----

def test_merge_keeps_separators_quotes_and_order():
    existing = "halt_on_error=0 suppressions='/a b/s.txt',history_size=3:log_path=/x/tsan"
    merged = merge_tsan_options(existing, {"history_size": "7", "report_signal_unsafe": "0"})
    assert merged == "halt_on_error=0:suppressions='/a b/s.txt':log_path=/x/tsan:history_size=7:report_signal_unsafe=0"


def test_merge_keep_protects_existing_flags_only():
    assert merge_tsan_options("log_path=/a", {"log_path": "/b"}, keep=("log_path",)) == "log_path=/a"
    assert merge_tsan_options("", {"log_path": "/b"}, keep=("log_path",)) == "log_path=/b"


def test_merge_quotes_values_with_separators():
    merged = merge_tsan_options("", {"suppressions": "/my dir/supp.txt"})
    assert _tsan_option_dict(merged) == {"suppressions": "/my dir/supp.txt"}


_names = st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True)
_values = st.from_regex(r"[A-Za-z0-9_/.\-]{1,12}", fullmatch=True)


@given(st.dictionaries(_names, _values, max_size=6), st.dictionaries(_names, _values, max_size=4))
def test_merge_property(existing, additions):
    text = " ".join(f"{k}={v}" for k, v in existing.items())
    assert _tsan_option_dict(merge_tsan_options(text, additions)) == {**existing, **additions}


# ---- shim report ----

def test_read_shim_report_merges_processes(tmp_path):
    path = tmp_path / "shim.txt"
    path.write_text(
        "pid=10\nphase=start\nschedule=pct\napplied=pct\nseed=5\nmax_threads=1\nthreads_created=0\nmutex_locks=0\nend=1\n"
        "pid=10\nphase=max\nschedule=pct\napplied=pct\nseed=5\nmax_threads=3\nthreads_created=2\nmutex_locks=4\nend=1\n"
        "pid=11\nphase=exit\nschedule=pct\napplied=noise+pin\nseed=5\nnote=pct: fell back\nmax_threads=2\n"
        "threads_created=1\nmutex_locks=6\ncpu=1\nend=1\n"
        "pid=10\nphase=exit\nschedule=pct\napplied=pct\nseed=5\nmax_threads=3\nthreads_created=2\nmutex_locks=9\n"
        "cpu=0\npct_priorities=40,12,77\nend=1\n")
    assert read_shim_report(path) == {
        "processes": 2, "schedule": "pct", "applied": "pct", "seed": 5, "max_threads": 3,
        "threads_created": 3, "mutex_locks": 15, "cpu": 0, "pct_priorities": "40,12,77", "note": "pct: fell back"}


def test_read_shim_report_missing_or_empty(tmp_path):
    assert read_shim_report(tmp_path / "absent.txt") == {}
    (tmp_path / "empty.txt").write_text("")
    assert read_shim_report(tmp_path / "empty.txt") == {}


def test_read_shim_report_ignores_a_torn_last_block(tmp_path):
    path = tmp_path / "shim.txt"
    path.write_text("pid=3\nphase=start\nmax_threads=1\nend=1\npid=3\nphase=max\nmax_thr")
    assert read_shim_report(path)["max_threads"] == 1


def test_available_never_runs_a_program_without_tsan(tmp_path):
    marker = tmp_path / "ran"
    names = strategies.available(["sh", "-c", f"touch {marker}"])
    assert not marker.exists()
    assert "tsan-delay" not in names and "none" in names


def test_shim_cache_avoids_paths_ld_preload_cannot_carry(monkeypatch, tmp_path):
    from racegate.shim import default_cache_dir
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "my cache"))
    assert " " not in str(default_cache_dir()) and ":" not in str(default_cache_dir())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "plain"))
    assert default_cache_dir() == tmp_path / "plain" / "racegate"
