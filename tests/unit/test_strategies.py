"""The strategy names, the default portfolio, which strategies apply to a test, and the shim's agreement."""
from __future__ import annotations

import re

from racegate import probe, strategies
from racegate.model import TestCase
from racegate.shim import SOURCE


def test_default_portfolio_uses_known_strategies():
    assert set(strategies.DEFAULT_PORTFOLIO) <= set(strategies.STRATEGIES)
    assert set(strategies.SHIM_STRATEGIES) <= set(strategies.STRATEGIES)


def test_repeat_in_process_offered_only_for_gtest_commands(monkeypatch):
    monkeypatch.setattr(strategies, "probe_tsan_runtime_flags", lambda command: frozenset({"history_size"}))
    assert "repeat-in-process" in strategies.probe_applicable_strategies(["/b/t", "--gtest_filter=A.B"])
    assert "repeat-in-process" not in strategies.probe_applicable_strategies(["/b/t"])
    assert "tsan-delay" not in strategies.probe_applicable_strategies(["/b/t"])
    monkeypatch.setattr(strategies, "probe_tsan_runtime_flags", lambda command: frozenset({"enable_adaptive_delay"}))
    assert "tsan-delay" in strategies.probe_applicable_strategies(["/b/t"])


def test_the_binary_is_probed_only_when_tsan_delay_is_asked_for(monkeypatch):
    probed = []
    monkeypatch.setattr(strategies, "probe_tsan_runtime_flags", lambda command: probed.append(command) or frozenset())
    strategies.probe_applicable_strategies(["/b/t"], ["none", "pct"])
    assert probed == []
    strategies.probe_applicable_strategies(["/b/t"], ["none", "tsan-delay"])
    assert probed == [["/b/t"]]


def test_schedules_for_a_test_keep_the_asked_order_and_fall_back_to_a_plain_run(monkeypatch):
    monkeypatch.setattr(strategies, "probe_tsan_runtime_flags", lambda command: frozenset())
    gtest = TestCase("A.B", ("/b/t", "--gtest_filter=A.B"), is_gtest=True)
    plain = TestCase("plain", ("/b/plain",))
    wanted = ["pct", "repeat-in-process", "tsan-delay", "none", "noise"]
    assert strategies.probe_strategies_for_test(gtest, wanted, have_shim=True) == [
        "pct", "repeat-in-process", "none", "noise"]
    # Without the shim nothing carries out pin, noise or pct.
    assert strategies.probe_strategies_for_test(gtest, wanted, have_shim=False) == ["repeat-in-process", "none"]
    assert strategies.probe_strategies_for_test(plain, ["pct", "repeat-in-process"], have_shim=False) == ["none"]


def test_probing_never_runs_a_program_without_tsan(tmp_path):
    marker = tmp_path / "ran"
    names = strategies.probe_applicable_strategies(["sh", "-c", f"touch {marker}"])
    assert not marker.exists()
    assert "tsan-delay" not in names and "none" in names


def test_the_shim_knows_the_same_strategies():
    # The shim parses RACEGATE_SCHEDULE itself; every name it compares against must be one of ours
    # (or the prober's mode), and the ones it carries out must be SHIM_SCHEDULES.
    source = SOURCE.read_text()
    compared = set(re.findall(r'strcmp\(g_schedule, "([^"]+)"\)', source))
    assert compared == set(strategies.STRATEGIES) | {probe.SHIM_PROBE_MODE}
    carried_out = re.findall(r'!strcmp\(g_schedule, "([^"]+)"\)\) \{\s*g_mode = M_', source)
    assert sorted(carried_out) == sorted(strategies.SHIM_STRATEGIES)


def test_preempt_is_a_shim_schedule_and_needs_the_shim(monkeypatch):
    # preempt's timers live in the shim: without it the run would be a plain one under another name.
    monkeypatch.setattr(strategies, "probe_tsan_runtime_flags", lambda command: frozenset())
    plain = TestCase("plain", ("/b/plain",))
    assert strategies.PREEMPT in strategies.SHIM_STRATEGIES
    assert strategies.probe_strategies_for_test(plain, ["preempt", "none"], have_shim=True) == ["preempt", "none"]
    assert strategies.probe_strategies_for_test(plain, ["preempt"], have_shim=False) == ["none"]
