"""The scheduling shim on real TSan builds (clang: runtime in the executable, shim below TSan; gcc:
libtsan.so.2, shim above TSan): interception, thread counting, termination under every strategy,
seeded determinism, the PCT permission fallback, the tsan-delay probe, errno kept across the shim's own
system calls, watchdog slots reused over many threads, symbol lookup re-entered from inside dlsym,
pct giving up its priorities on spinning code, and preempt's timer signal delaying atomics-only code
at its atomic operations (where TSan runs the deferred handler) with errno kept and 1000 threads, while
never interrupting a thread blocked in poll, select, epoll_wait or recv."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from racegate import probe, run_env, strategies
from racegate.model import TestCase
from racegate.shim import SOURCE, ensure_shim, read_shim_report
from samples_helpers import TESTS, TSAN_MARK

pytestmark = pytest.mark.e2e

PROGRAMS = TESTS / "shim_programs"
PROGRAM = PROGRAMS / "shimprog.cpp"
COMPILERS = {"clang": "clang++", "gcc": "g++"}
SHIM_STRATEGIES = ("none", "pin", "noise", "pct", "preempt")


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
        prefix: tuple[str, ...] = (), arg: str | None = None, env_extra: dict[str, str] | None = None,
        report: Path | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = report or tmp_path / f"shim-{mode}-{strategy}-{seed}.txt"
    test = TestCase(name=mode, command=(str(exe), mode) + ((arg,) if arg else ()))
    base_env = dict(os.environ, TSAN_OPTIONS="halt_on_error=0", **(env_extra or {}))
    argv, env = run_env.prepare_run(strategy, seed, test, base_env, shim, report)
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
def test_pct_fallback_puts_the_main_thread_back_to_normal_scheduling(programs, shim, tmp_path, compiler):
    setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
    if not setpriv or not prlimit:
        pytest.skip("needs setpriv and prlimit (util-linux)")
    # RLIMIT_RTPRIO 3 lets the shim make main real-time while probing, but is too low for pct (depth 3
    # needs 5 priorities): the fallback must not leave main at a real-time priority.
    if subprocess.run([prlimit, "--rtprio=3", "true"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("cannot raise RLIMIT_RTPRIO to 3 here (needs CAP_SYS_RESOURCE when the hard limit is lower)")
    prefix = (prlimit, "--rtprio=3", setpriv, "--bounding-set=-sys_nice", "--inh-caps=-sys_nice", "--")
    proc, rep = run(programs[compiler], "policy", "pct", 2, shim, tmp_path, prefix=prefix)
    assert proc.returncode == 0, proc.stderr
    assert rep["applied"] == "noise+pin" and "fell back" in rep["note"]
    assert f"policy={os.SCHED_OTHER}" in proc.stdout


def require_sched_fifo() -> None:
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except PermissionError:
        pytest.skip("this machine does not allow SCHED_FIFO")


@pytest.mark.parametrize("compiler", COMPILERS)
def test_real_pct_when_permitted(programs, shim, tmp_path, compiler):
    require_sched_fifo()
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


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("strategy", SHIM_STRATEGIES)
def test_program_errno_survives_the_shims_system_calls(programs, shim, tmp_path, compiler, strategy):
    # A report file in a missing directory: the shim's open() fails at each new maximum of live threads,
    # inside the program's pthread_create.
    missing = tmp_path / "missing" / "shim.txt"
    proc, _ = run(programs[compiler], "errno", strategy, 4, shim, tmp_path, report=missing)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "errno changed 0 times" in proc.stdout


@pytest.mark.parametrize("compiler", COMPILERS)
def test_pct_manages_threads_created_after_many_others_ended(programs, shim, tmp_path, compiler):
    require_sched_fifo()
    # 1000 threads come and go, then two spin on each other: only the watchdog's rotations let the
    # lower-priority one run, so the last thread must still get a slot. Spin give-up is off here.
    proc, rep = run(programs[compiler], "many", "pct", 6, shim, tmp_path, arg="1000",
                    env_extra={"RACEGATE_PCT_SPIN_SLICES": "1000000"})
    assert proc.returncode == 0, proc.stderr
    assert rep["applied"] == "pct" and rep["threads_created"] == 1001
    assert rep["pct_rotations"] > 0 and rep["pct_released"] == 0


@pytest.mark.parametrize("compiler", COMPILERS)
def test_pct_gives_up_priorities_on_spinning_code(programs, shim, tmp_path, compiler):
    require_sched_fifo()
    # 20 pure spin hand-offs: each waits for a rotation, a slice without any event.
    for seed in (1, 2):
        proc, rep = run(programs[compiler], "spin", "pct", seed, shim, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert rep["applied"] == "pct"
        assert rep["pct_spin_slices"] == 3 and rep["pct_released"] == 1


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("mode", ["condvar", "sleep", "lockpoll"])
def test_pct_keeps_priorities_when_threads_sync_or_sleep(programs, shim, tmp_path, compiler, mode):
    require_sched_fifo()
    proc, rep = run(programs[compiler], mode, "pct", 3, shim, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert rep["applied"] == "pct" and rep["pct_released"] == 0


@pytest.mark.parametrize("compiler", COMPILERS)
def test_functions_reentered_during_symbol_lookup_still_work(programs, shim, tmp_path, compiler):
    # ifunc_yield.so, preloaded after the shim, runs a resolver inside the shim's dlsym that yields
    # and sleeps through the shim before it knows the real functions.
    helper = tmp_path / "ifunc_yield.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", str(PROGRAMS / "ifunc_yield.c"), "-o", str(helper)],
                   check=True, timeout=120)
    proc, rep = run(programs[compiler], "yield", "none", 1, shim, tmp_path,
                    env_extra={"LD_PRELOAD": str(helper)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resolver: sched_yield returned 0, clock_nanosleep returned 0" in proc.stderr
    assert rep["yields"] > 0


def test_shim_source_refuses_other_architectures(tmp_path):
    clang = shutil.which("clang")
    if not clang:
        pytest.skip("needs clang (cross-target preprocessing)")
    proc = subprocess.run([clang, "--target=aarch64-linux-gnu", "-fsyntax-only", str(SOURCE)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "racegate scheduling shim: unsupported architecture (only x86_64 is supported)" in proc.stderr


@pytest.mark.parametrize("compiler", COMPILERS)
def test_preempt_delays_atomics_only_code_at_its_atomic_operations(programs, shim, tmp_path, compiler):
    # Two threads run about as long either way; in `atomics` every operation is a TSan safe point, in
    # `compute` there is none until the end. TSan defers the timer signal to a safe point and the timer is
    # re-armed only by the handler, so the handler runs hundreds of times inside atomics-only code and a
    # few times (at thread start and end) around pure computation: the delays are at atomic operations.
    _, noise = run(programs[compiler], "atomics", "noise", 3, shim, tmp_path, arg="30")
    proc, atomics = run(programs[compiler], "atomics", "preempt", 3, shim, tmp_path, arg="30")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert atomics["applied"] == "preempt" and atomics["preempt_timers"] == 2
    assert atomics["preempt_delays"] >= 20, atomics
    # noise acts only at the calls the shim wraps: thread start and end, here
    assert noise["delays"] <= 4 and "preempt_delays" not in noise
    proc, compute = run(programs[compiler], "compute", "preempt", 3, shim, tmp_path, arg="30")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert compute["preempt_signals"] <= 8, compute


@pytest.mark.parametrize("compiler", COMPILERS)
def test_preempt_keeps_errno_and_tsan_quiet_in_atomics_only_code(programs, shim, tmp_path, compiler):
    # TSan itself reports a handler that changes errno ("signal handler spoils errno"); the program checks
    # errno after every atomic operation, where the handler runs.
    for seed in (1, 2):
        proc, rep = run(programs[compiler], "atomics", "preempt", seed, shim, tmp_path, arg="20")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "errno changed 0 times" in proc.stdout
        assert TSAN_MARK not in proc.stderr, proc.stderr[-3000:]
        assert rep["preempt_delays"] > 0


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("mode", ["threads", "many"])
def test_preempt_with_1000_threads(programs, shim, tmp_path, compiler, mode):
    # threads: 1000 alive at once, waiting on one condition variable and contending for one mutex;
    # many: 1000 one after another, then a spin hand-off. Every thread gets a timer, none is left behind.
    proc, rep = run(programs[compiler], mode, "preempt", 5, shim, tmp_path, arg="1000")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert rep["applied"] == "preempt" and rep["threads_created"] in (1000, 1001)
    assert rep["preempt_timers"] == rep["threads_created"] + 1 and rep["preempt_timer_failures"] == 0
    assert TSAN_MARK not in proc.stderr, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def blocking_calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("blocking_calls")
    built = {}
    for name, cc in (("clang", "clang"), ("gcc", "gcc")):
        if not shutil.which(cc):
            pytest.skip(f"{cc} not installed")
        exe = out / f"blocking_calls-{name}"
        subprocess.run([cc, "-fsanitize=thread", "-g", "-O1", str(PROGRAMS / "blocking_calls.c"), "-o", str(exe),
                        "-lpthread"], check=True, timeout=300)
        built[name] = exe
    return built


@pytest.fixture(scope="module")
def sleepy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sleepy")
    built = {}
    for name, cxx in COMPILERS.items():
        exe = out / f"sleepy-{name}"
        subprocess.run([cxx, "-std=c++17", "-fsanitize=thread", "-g", "-O1", str(PROGRAMS / "sleepy.cpp"),
                        "-o", str(exe)], check=True, timeout=300)
        built[name] = exe
    return built


@pytest.mark.parametrize("compiler", COMPILERS)
def test_preempt_never_interrupts_blocking_calls(blocking_calls, shim, tmp_path, compiler):
    # The kernel restarts none of poll, select, epoll_wait and recv with SO_RCVTIMEO after a signal handler,
    # SA_RESTART or not: before the shim paused preempt's timer in them, every run failed (3 of 4 calls with
    # clang, 2 of 4 with gcc). The spinning thread and the computation between the waits are still delayed.
    for seed in range(1, 21):
        report = tmp_path / f"blocking-{seed}.txt"
        proc, rep = run(blocking_calls[compiler], "2", "preempt", seed, shim, tmp_path, report=report)  # 2 rounds
        assert proc.returncode == 0, f"seed {seed}: {proc.stdout}{proc.stderr[-3000:]}"
        assert "interrupted 0 of 8 calls" in proc.stdout, proc.stdout
        assert rep["applied"] == "preempt" and rep["preempt_timers"] == 2, rep
        assert rep["preempt_delays"] >= 20, rep


@pytest.mark.parametrize("compiler", COMPILERS)
def test_preempt_lets_sleep_run_its_full_length(sleepy, shim, tmp_path, compiler):
    # glibc's sleep() reaches clock_nanosleep inside libc, past the shim's wrapper: without a sleep()
    # wrapper the first timer signal ended sleep(2) at once, returning 2. The spinning thread keeps the
    # process at two live threads, so the main thread's timer fires (and delays) while it is awake.
    proc, rep = run(sleepy[compiler], "2", "preempt", 4, shim, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    fields = dict(item.split("=") for item in proc.stdout.split())
    assert rep["applied"] == "preempt" and rep["preempt_signals"] > 0, rep
    assert fields["left"] == "0", proc.stdout
    assert float(fields["took"]) >= 1.95, proc.stdout
    assert rep["sleeps"] >= 1, rep
