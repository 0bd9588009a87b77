"""The shim's report reader and where its builds are cached (the shim itself runs in tests/e2e/test_shim.py)."""
from __future__ import annotations

from racegate.shim import default_cache_dir, read_shim_report


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
