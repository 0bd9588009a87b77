"""The memory readers on fake cgroup and /proc files, and the admission arithmetic (docs/scheduling.md, "Memory")."""
from __future__ import annotations

import threading

from racegate import memory
from racegate.memory import GIB, Admission, Cgroup


def write(path, **files):
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name.replace("_", ".", 1)).write_text(text)
    return path


def meminfo(tmp_path, kib):
    path = tmp_path / "meminfo"
    path.write_text(f"MemTotal:       32000000 kB\nMemFree:  100 kB\nMemAvailable:   {kib} kB\n")
    return path


def test_v2_cgroup_limit_usage_and_oom_kills(tmp_path):
    group = Cgroup(write(tmp_path / "g", memory_max="4294967296\n", memory_current="1073741824\n",
                         memory_events="low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n"))
    assert group.v2 and group.limit() == 4 * GIB and group.usage() == GIB and group.oom_kills() == 2


def test_v2_unlimited_and_v1_files(tmp_path):
    assert Cgroup(write(tmp_path / "a", memory_max="max\n", memory_current="5\n")).limit() is None
    v1 = Cgroup(write(tmp_path / "b", memory_limit_in_bytes="9223372036854771712\n", memory_usage_in_bytes="7\n",
                      memory_oom_control="oom_kill_disable 0\nunder_oom 0\noom_kill 4\n"))
    assert not v1.v2 and v1.limit() is None and v1.usage() == 7 and v1.oom_kills() == 4
    limited = Cgroup(write(tmp_path / "c", memory_limit_in_bytes="2147483648\n", memory_usage_in_bytes="0\n"))
    assert limited.limit() == 2 * GIB


def test_missing_files_are_unknown(tmp_path):
    group = Cgroup(tmp_path / "none")
    assert group.limit() is None and group.usage() is None and group.oom_kills() is None
    assert memory.available([group], tmp_path / "no-meminfo") is None


def test_available_is_the_least_of_meminfo_and_each_limit(tmp_path):
    info = meminfo(tmp_path, 8 * 1024 * 1024)  # 8 GiB
    tight = Cgroup(write(tmp_path / "child", memory_max=str(3 * GIB), memory_current=str(GIB)))
    loose = Cgroup(write(tmp_path / "parent", memory_max="max", memory_current=str(5 * GIB)))
    assert memory.available([loose], info) == 8 * GIB
    assert memory.available([tight, loose], info) == 2 * GIB
    over = Cgroup(write(tmp_path / "over", memory_max=str(GIB), memory_current=str(2 * GIB)))
    assert memory.available([over], info) == 0


def test_own_cgroups_walks_v1_memory_path_and_ancestors(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/ci/job7\n1:cpu:/\n0::/\n")
    root = tmp_path / "fs"
    (root / "memory" / "ci" / "job7").mkdir(parents=True)
    found = memory.own_cgroups(proc, root)
    assert [g.path for g in found] == [root / "memory/ci/job7", root / "memory/ci"]


def test_own_cgroups_v2_and_root(tmp_path):
    proc = tmp_path / "cgroup"
    root = write(tmp_path / "fs", cgroup_controllers="cpu memory\n")
    proc.write_text("0::/user.slice/racegate\n")
    assert [g.path for g in memory.own_cgroups(proc, root)] == [root / "user.slice/racegate", root / "user.slice"]
    proc.write_text("0::/\n")
    assert memory.own_cgroups(proc, root) == []


def test_env_variable_points_at_a_fake_cgroup(tmp_path, monkeypatch):
    monkeypatch.setenv(memory.CGROUP_ENV, str(tmp_path))
    assert [g.path for g in memory.own_cgroups()] == [tmp_path]
    monkeypatch.setenv(memory.MEMINFO_ENV, str(meminfo(tmp_path, 1024)))
    assert memory.meminfo_available() == 1024 * 1024


def test_oom_kills_falls_back_to_vmstat(tmp_path):
    vmstat = tmp_path / "vmstat"
    vmstat.write_text("pgfault 10\noom_kill 6\n")
    assert memory.oom_kills([], vmstat) == 6
    assert memory.oom_kills([Cgroup(write(tmp_path / "g", memory_events="oom_kill 1\n"))], vmstat) == 1


def admission(tmp_path, free_gib, peaks, said):
    group = Cgroup(write(tmp_path / "g", memory_max=str(int(free_gib * GIB)), memory_current="0"))
    return Admission(peaks, [group], tmp_path / "no-meminfo", say=said.append)


def test_a_run_alone_is_admitted_even_when_it_does_not_fit(tmp_path):
    said: list[str] = []
    gate = admission(tmp_path, 1, {"big": 3 * GIB}, said)
    assert gate.admit(["big"]) is not None and not said


def test_a_second_copy_that_would_not_fit_is_held_once_said(tmp_path):
    said: list[str] = []
    gate = admission(tmp_path, 3, {"t": 2 * GIB}, said)
    first = gate.admit(["t"])
    assert gate.fits(2 * GIB) == (False, 3 * GIB)
    got: list[int | None] = []
    waiter = threading.Thread(target=lambda: got.append(gate.admit(["t"], poll=0.05)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not got
    assert said == ["racegate: memory: holding runs of t: needs ~2.0 GiB, 1.0 GiB available"]
    gate.done(first, "t", 2 * GIB)
    waiter.join(5)
    assert got and got[0] is not None and len(said) == 1


def test_two_that_fit_run_together(tmp_path):
    gate = admission(tmp_path, 5, {"t": 2 * GIB}, [])
    assert gate.admit(["t"]) is not None and gate.admit(["t"]) is not None


def test_unknown_peak_is_the_largest_seen_or_the_floor(tmp_path):
    gate = admission(tmp_path, 8, {}, [])
    assert gate.expected("new") == memory.UNKNOWN_FLOOR
    token = gate.admit(["a"])
    gate.done(token, "a", 3 * GIB)
    assert gate.expected("a") == 3 * GIB and gate.expected("new") == 3 * GIB
    gate.done(gate.admit(["a"]), "a", GIB)  # a smaller peak later does not lower what is expected
    assert gate.expected("a") == 3 * GIB


def test_stop_releases_a_held_worker(tmp_path):
    gate = admission(tmp_path, 1, {"t": 2 * GIB}, [])
    gate.admit(["t"])
    got: list[int | None] = []
    waiter = threading.Thread(target=lambda: got.append(gate.admit(["t"], poll=0.05)))
    waiter.start()
    gate.stop()
    waiter.join(5)
    assert got == [None]
