"""The shim's report reader and where its builds are cached (the shim itself runs in tests/e2e/test_shim.py)."""
from __future__ import annotations

from racegate.shim import NO_REPORT, default_cache_dir, read_shim_report, thread_count


def test_read_shim_report_merges_processes(tmp_path):
    path = tmp_path / "shim.txt"
    path.write_text(
        "pid=10\nphase=start\nschedule=pct\napplied=pct\nseed=5\nmax_threads=1\nthreads_created=0\nmutex_locks=0\n"
        "end=1\n"
        "pid=10\nphase=max\nschedule=pct\napplied=pct\nseed=5\nmax_threads=3\nthreads_created=2\nmutex_locks=4\n"
        "end=1\n"
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


def test_shim_cache_avoids_paths_ld_preload_cannot_carry(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "my cache"))
    assert " " not in str(default_cache_dir()) and ":" not in str(default_cache_dir())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "plain"))
    assert default_cache_dir() == tmp_path / "plain" / "racegate"


def _block(pid, image, phase="exit", tsan=1, ppid=1, origin="exec", threads=1, **extra):
    """One block as the shim writes it (racegate_sched.c write_report / write_uninstrumented_block)."""
    keys = {"pid": pid, "image": image, "phase": phase, "tsan": tsan, "ppid": ppid, "origin": origin}
    if tsan:
        keys.update(strategy="noise", applied="noise", seed=7, max_threads=threads, threads_created=threads - 1)
    keys.update(extra)
    return "".join(f"{k}={v}\n" for k, v in keys.items()) + "end=1\n"


def _report(tmp_path, *blocks):
    path = tmp_path / "shim.txt"
    path.write_text("".join(blocks))
    return read_shim_report(path)


def test_a_forked_child_counts_its_own_threads(tmp_path):
    # acutest's default: a single-threaded parent, and the test case's two threads in the forked child.
    report = _report(tmp_path, _block(10, 100, phase="fork", forks=1),
                     _block(11, 200, origin="fork", ppid=10, threads=3),
                     _block(10, 100, forks=1))
    assert (report["max_threads"], report["processes"], report["forks"]) == (3, 2, 1)
    assert "unobserved" not in report
    assert thread_count(report) == (3, None)


def test_a_forking_runner_is_single_threaded_only_when_every_child_was_counted(tmp_path):
    counted = _report(tmp_path, _block(10, 100, forks=2), _block(11, 200, origin="fork", ppid=10),
                      _block(12, 300, origin="fork", ppid=10))
    assert thread_count(counted) == (1, None)
    missing = _report(tmp_path, _block(10, 100, forks=2), _block(11, 200, origin="fork", ppid=10))
    assert thread_count(missing) == (None, "1 of its 2 forked children wrote no report")


def test_a_child_that_execs_a_program_without_tsan_goes_uncounted(tmp_path):
    report = _report(tmp_path, _block(10, 100, forks=1),
                     _block(11, 200, phase="exec", origin="fork", ppid=10, exec="/bin/true"),
                     _block(11, 300, phase="start", tsan=0, ppid=10, exe="true"))
    assert report["processes"] == 2
    assert thread_count(report) == (None, "it ran true, which is not built with TSan")


def test_an_exec_the_shim_never_saw_the_end_of_goes_uncounted(tmp_path):
    # A static program, or one started with LD_PRELOAD cleared, loads no shim and writes nothing.
    report = _report(tmp_path, _block(10, 100, forks=1),
                     _block(11, 200, phase="exec", origin="fork", ppid=10, exec="/opt/static-helper"))
    threads, why = thread_count(report)
    assert threads is None and "exec'd /opt/static-helper, where the shim wrote nothing" in why


def test_a_child_that_execs_an_instrumented_program_keeps_both_images(tmp_path):
    # fork + exec of a TSan program: the same pid twice, each image with its own count.
    report = _report(tmp_path, _block(10, 100, forks=1),
                     _block(11, 200, phase="exec", origin="fork", ppid=10, threads=4, exec="./helper"),
                     _block(11, 300, ppid=10))
    assert (report["processes"], report["max_threads"]) == (2, 4)
    assert thread_count(report) == (4, None)


def test_a_program_started_with_posix_spawn_must_report(tmp_path):
    spawned = _report(tmp_path, _block(10, 100, spawns=1), _block(20, 200, ppid=10))
    assert thread_count(spawned) == (1, None)
    silent = _report(tmp_path, _block(10, 100, spawns=1))
    assert "1 of the 1 programs it started with posix_spawn wrote no report" in thread_count(silent)[1]


def test_more_than_one_thread_anywhere_is_enough(tmp_path):
    report = _report(tmp_path, _block(10, 100, threads=2), _block(11, 200, tsan=0, ppid=10, exe="sh"))
    assert report["unobserved"] == "it ran sh, which is not built with TSan"
    assert thread_count(report) == (2, None)


def test_wrappers_and_the_tsan_symbolizer_do_not_hide_threads(tmp_path):
    # `env X=1 ./test` execs the TSan test in place of a program without TSan that racegate started; TSan
    # starts llvm-symbolizer to print a report's stacks. Neither runs any of the test's code.
    report = _report(tmp_path, _block(10, 50, phase="start", tsan=0, ppid=1, exe="env"), _block(10, 100),
                     _block(12, 300, tsan=0, ppid=10, exe="llvm-symbolizer"))
    assert thread_count(report) == (1, None)


def test_no_tsan_process_means_no_count(tmp_path):
    assert _report(tmp_path, _block(10, 50, tsan=0, exe="python3")) == {}
    assert thread_count({}) == (None, NO_REPORT)
