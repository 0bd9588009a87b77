"""The scheduling shim on real TSan builds (clang: runtime in the executable, shim below TSan; gcc:
libtsan.so.2, shim above TSan): interception, thread counting, termination under every strategy,
seeded determinism, the PCT permission fallback and the tsan-delay probe."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from racegate import probe, run_env, strategies
from racegate.model import TestCase
from racegate.shim import ensure_shim, read_shim_report
from samples_helpers import TESTS, TSAN_MARK

pytestmark = pytest.mark.e2e

PROGRAM = TESTS / "shim_programs" / "shimprog.cpp"
COMPILERS = {"clang": "clang++", "gcc": "g++"}
SHIM_STRATEGIES = ("none", "pin", "noise", "pct")


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_shim(tmp_path_factory.mktemp("shim-cache"))


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("shimprog")
    built = {}
    for name, cxx in COMPILERS.items():
        if not shutil.which(cxx):
            pytest.skip(f"{cxx} not installed")
        exe = out / f"shimprog-{name}"
        subprocess.run([cxx, "-std=c++17", "-fsanitize=thread", "-g", "-O1", str(PROGRAM), "-o", str(exe)],
                       check=True, timeout=300)
        built[name] = exe
    return built


def run(exe: Path, mode: str, strategy: str, seed: int, shim: Path, tmp_path: Path,
        prefix: tuple[str, ...] = (), arg: str | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / f"shim-{mode}-{strategy}-{seed}.txt"
    test = TestCase(name=mode, command=(str(exe), mode) + ((arg,) if arg else ()))
    argv, env = run_env.prepare_run(strategy, seed, test, dict(os.environ, TSAN_OPTIONS="halt_on_error=0"),
                                    shim, report)
    proc = subprocess.run([*prefix, *argv], env=env, capture_output=True, text=True, errors="replace", timeout=120)
    return proc, read_shim_report(report)


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("strategy", SHIM_STRATEGIES)
def test_counts_threads_and_intercepts_locks(programs, shim, tmp_path, compiler, strategy):
    proc, rep = run(programs[compiler], "threads", strategy, 3, shim, tmp_path, arg="4")
    assert proc.returncode == 0, proc.stderr
    assert rep["applied"] == strategy
    assert rep["max_threads"] == 5  # main + 4 workers, all alive at once
    assert rep["threads_created"] == 4
    assert rep["joins"] == 4
    assert rep["mutex_locks"] >= 404 and rep["mutex_unlocks"] >= 404


@pytest.mark.parametrize("compiler", COMPILERS)
def test_single_threaded_test_counts_one(programs, shim, tmp_path, compiler):
    proc, rep = run(programs[compiler], "single", "none", 1, shim, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (rep["max_threads"], rep["threads_created"], rep["mutex_locks"]) == (1, 0, 10)


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("strategy", SHIM_STRATEGIES)
def test_condition_waits_intercepted(programs, shim, tmp_path, compiler, strategy):
    # The main thread always blocks in 100 waits, half untimed (pthread_cond_wait, which clang's TSan
    # looks up by version) and half timed (pthread_cond_clockwait).
    proc, rep = run(programs[compiler], "condvar", strategy, 5, shim, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert rep["cond_waits"] >= 100


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("strategy", SHIM_STRATEGIES)
@pytest.mark.parametrize("mode", ["spin", "yield", "sleep", "lockpoll"])
def test_waiting_loops_terminate(programs, shim, tmp_path, compiler, strategy, mode):
    for seed in (1, 2):
        proc, rep = run(programs[compiler], mode, strategy, seed, shim, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert rep["applied"] == strategy
    if mode == "yield":
        assert rep["yields"] > 0
    if mode == "sleep":
        assert rep["sleeps"] > 0


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("strategy", SHIM_STRATEGIES)
def test_tsan_still_reports_races(programs, shim, tmp_path, compiler, strategy):
    proc, rep = run(programs[compiler], "race", strategy, 9, shim, tmp_path)
    assert TSAN_MARK in proc.stderr
    assert proc.returncode == 66  # TSan's exit code after a report
    assert rep["max_threads"] == 2


@pytest.mark.parametrize("compiler", COMPILERS)
def test_same_seed_same_choices(programs, shim, tmp_path, compiler):
    def choices(seed: int) -> tuple:
        proc, rep = run(programs[compiler], "threads", "pct", seed, shim, tmp_path, arg="3")
        assert proc.returncode == 0, proc.stderr
        return rep.get("cpu"), rep["pct_priorities"], rep["pct_change_points"]

    first = choices(11)
    assert first == choices(11)
    assert len(first[1].split(",")) == 4  # a priority for main and each of the 3 threads
    assert len({choices(seed) for seed in range(1, 6)}) > 1


@pytest.mark.parametrize("compiler", COMPILERS)
def test_pin_confines_to_one_seeded_cpu(programs, shim, tmp_path, compiler):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    cpus = [run(programs[compiler], "single", "pin", seed, shim, tmp_path)[1]["cpu"] for seed in (4, 4, 5, 6, 7, 8)]
    assert cpus[0] == cpus[1]
    assert set(cpus) <= os.sched_getaffinity(0)
    assert len(set(cpus)) > 1


@pytest.mark.parametrize("compiler", COMPILERS)
def test_pct_falls_back_without_cap_sys_nice(programs, shim, tmp_path, compiler):
    setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
    if not setpriv or not prlimit:
        pytest.skip("needs setpriv and prlimit (util-linux)")
    # no CAP_SYS_NICE (bounding and inheritable sets) and no real-time rlimit
    prefix = (prlimit, "--rtprio=0", setpriv, "--bounding-set=-sys_nice", "--inh-caps=-sys_nice", "--")
    proc, rep = run(programs[compiler], "condvar", "pct", 2, shim, tmp_path, prefix=prefix)
    assert proc.returncode == 0, proc.stderr
    assert rep["schedule"] == "pct"
    assert rep["applied"] == "noise+pin"
    assert "fell back" in rep["note"]
    assert proc.stderr.count("racegate: pct:") == 1
    assert rep["delays"] > 0


@pytest.mark.parametrize("compiler", COMPILERS)
def test_real_pct_when_permitted(programs, shim, tmp_path, compiler):
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except PermissionError:
        pytest.skip("this machine does not allow SCHED_FIFO")
    proc, rep = run(programs[compiler], "threads", "pct", 8, shim, tmp_path, arg="2")
    assert proc.returncode == 0, proc.stderr
    assert rep["applied"] == "pct" and "note" not in rep
    assert rep["pct_changes_hit"] >= 1  # 2 change points among the first 200 sync events


@pytest.mark.parametrize("compiler", COMPILERS)
def test_tsan_delay_probe_reads_the_runtime_flags(programs, compiler):
    flags = probe.probe_tsan_runtime_flags([str(programs[compiler]), "spin"])
    assert {"history_size", "halt_on_error", "log_path"} <= flags
    offered = strategies.probe_applicable_strategies([str(programs[compiler]), "spin"])
    assert "tsan-delay" not in offered  # neither clang 14 nor gcc 12 has enable_adaptive_delay
    assert {"none", "pin", "noise", "pct"} <= set(offered)


def test_tsan_delay_offered_when_runtime_has_the_flag(tmp_path):
    fake = tmp_path / "newer-runtime-test"
    # racegate probes only executables that name __tsan_init (TSan linked in or imported); so does this one.
    fake.write_text("#!/bin/sh\n# __tsan_init\nprintf 'Available flags for ThreadSanitizer:\\n"
                    "\\tenable_adaptive_delay\\n\\t\\t- Adaptive delays. (Current Value: false)\\n' >&2\n")
    fake.chmod(0o755)
    assert "tsan-delay" in strategies.probe_applicable_strategies([str(fake)])
