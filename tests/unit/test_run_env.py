"""The argv and environment of a run: prepare_run's composition, racegate's TSan defaults and log path,
the shim preload as planned, and the environment kept for reproducing a run."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from racegate import run_env, strategies
from racegate.model import PlannedRun, TestCase
from racegate.run_env import prepare_planned_run, prepare_run, replay_env
from racegate.strategies import run_timeout
from racegate.tsan_options import tsan_option_dict

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
    assert tsan_option_dict(env["TSAN_OPTIONS"])["log_path"] == "/out/runs/7/tsan"
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
    assert tsan_option_dict(env["TSAN_OPTIONS"]) == {
        "halt_on_error": "0", "log_path": "/out/runs/7/tsan", "enable_adaptive_delay": "1"}
    for strategy in ("none", "pin", "noise", "pct", "preempt"):
        _, env = prepare_run(strategy, 3, PLAIN, BASE, SHIM, REPORT)
        assert env["TSAN_OPTIONS"] == BASE["TSAN_OPTIONS"]


def test_test_environment_overrides_base_but_not_log_path():
    test = TestCase(name="t", command=("/b/t",),
                    env=(("TSAN_OPTIONS", "log_path=/elsewhere halt_on_error=1 history_size=4"), ("FOO", "bar")))
    _, env = prepare_run("tsan-delay", 9, test, BASE, SHIM, REPORT)
    assert tsan_option_dict(env["TSAN_OPTIONS"]) == {
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
    assert 1 <= run_env.gtest_seed(seed) <= 99999


def test_repeat_in_process_rejects_non_gtest_tests():
    with pytest.raises(ValueError, match="GoogleTest"):
        prepare_run("repeat-in-process", 1, PLAIN, BASE, SHIM, REPORT)


def test_gtest_recognised_by_command_too():
    test = TestCase(name="x", command=("/b/x", "--gtest_filter=A.B"))
    argv, _ = prepare_run("repeat-in-process", 1, test, BASE, SHIM, REPORT)
    assert "--gtest_shuffle" in argv


def test_other_strategies_keep_argv():
    for strategy in ("none", "pin", "noise", "pct", "preempt", "tsan-delay"):
        assert prepare_run(strategy, 5, GTEST, BASE, SHIM, REPORT)[0] == list(GTEST.command)


@pytest.mark.parametrize("strategy", strategies.STRATEGIES)
@given(seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_deterministic_for_strategy_and_seed(strategy, seed):
    test = GTEST if strategy == "repeat-in-process" else PLAIN
    first = prepare_run(strategy, seed, test, BASE, SHIM, REPORT)
    assert first == prepare_run(strategy, seed, test, BASE, SHIM, REPORT)


def test_rejects_unknown_strategy_and_bad_seed():
    with pytest.raises(ValueError, match="unknown strategy"):
        prepare_run("chaos", 1, PLAIN, BASE, SHIM, REPORT)
    with pytest.raises(ValueError, match="64-bit"):
        prepare_run("none", -1, PLAIN, BASE, SHIM, REPORT)
    with pytest.raises(ValueError, match="64-bit"):
        prepare_run("none", 2**64, PLAIN, BASE, SHIM, REPORT)


# ---- a planned run: racegate's defaults and log path, the user's TSAN_OPTIONS, the planned preload ----

def test_user_tsan_options_are_kept_but_log_path_is_ours(tmp_path):
    base = {"TSAN_OPTIONS": "history_size=2 log_path=/elsewhere"}
    argv, env = prepare_planned_run(PlannedRun(TestCase("t", ("true",)), 0, 1, "none"), tmp_path / "r", None, base)
    options = re.split(r"[\s:,]+", env["TSAN_OPTIONS"])
    assert "history_size=2" in options and options[-1] == f"log_path={tmp_path / 'r' / 'tsan'}"
    assert options.index("history_size=2") > options.index("history_size=7")
    assert env["RACEGATE_SHIM_REPORT"] == str(tmp_path / "r" / "shim.txt")


def test_the_shim_is_preloaded_only_when_the_plan_asks_for_it(tmp_path):
    test = TestCase("t", ("true",))
    _, env = prepare_planned_run(PlannedRun(test, 0, 1, "none"), tmp_path / "r", tmp_path / "shim.so", {})
    assert env["LD_PRELOAD"].split(":")[0] == str(tmp_path / "shim.so")
    _, env = prepare_planned_run(PlannedRun(test, 1, 1, "none", preload_shim=False), tmp_path / "r",
                                 tmp_path / "shim.so", {})
    assert str(tmp_path / "shim.so") not in env.get("LD_PRELOAD", "")


def test_log_path_with_separators_is_quoted(tmp_path):
    run_dir = tmp_path / "out,a:b c"
    _, env = prepare_planned_run(PlannedRun(TestCase("t", ("true",)), 0, 1, "none"), run_dir, None, {})
    assert env["TSAN_OPTIONS"].endswith(f'log_path="{run_dir / "tsan"}"')


def test_replay_env_keeps_what_a_person_needs_and_lets_tsan_print_to_the_terminal(tmp_path):
    test = TestCase("t", ("/b/t",), env=(("FOO", "bar"),))
    _, env = prepare_planned_run(PlannedRun(test, 0, 42, "pct"), tmp_path, tmp_path / "shim.so",
                                 {"PATH": "/usr/bin", "HOME": "/home/me"})
    kept = replay_env(test, env)
    assert kept.keys() == {"FOO", "RACEGATE_SEED", "RACEGATE_SCHEDULE", "TSAN_OPTIONS", "LD_PRELOAD"}
    assert kept["RACEGATE_SEED"] == "42" and kept["LD_PRELOAD"] == str(tmp_path / "shim.so")
    assert "log_path" not in kept["TSAN_OPTIONS"] and "halt_on_error=0" in kept["TSAN_OPTIONS"]


def test_the_timeout_of_an_in_process_repeat_covers_every_iteration():
    assert run_timeout("repeat-in-process", 3.0) == 3.0 * strategies.GTEST_REPEAT
    assert run_timeout("pct", 3.0) == 3.0
