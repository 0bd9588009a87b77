"""Memory-aware parallelism on real TSan builds with clang and gcc (docs/scheduling.md, "Memory"): racegate
records a test's peak memory in the result and the history, holds a second copy of it when two would not fit in
what its cgroup has available (said once, and the copies never overlap), and reads a run the OOM killer ended
as the environment's, not a crash bucket.

The cgroup is a fake (RACEGATE_CGROUP_DIR, docs/contract.md): this machine's memory controller is bound to the
cgroup v1 hierarchy its sandbox owns, so no cgroup of our own can limit memory here. The fake's memory.max is set
from the peak the first session measured; the OOM kill is played by the test program itself (memhog.cpp), which
counts the kill in the fake memory.events and SIGKILLs itself, as the kernel counts and kills its victim."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from samples_helpers import LAUNCHER, REPO, TEST_CXX, compile_tsan_program

pytestmark = pytest.mark.e2e

MIB = 1 << 20
HOG_MIB = "64"  # what memhog allocates; TSan's shadow makes its peak several times that


@pytest.fixture(scope="module", params=sorted(TEST_CXX))
def memhog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"memhog-{request.param}")
    return compile_tsan_program(request.param, REPO / "tests" / "memory_programs" / "memhog.cpp", out / "memhog")


def suite(tmp_path: Path, exe: Path) -> Path:
    build = tmp_path / "suite"
    build.mkdir(exist_ok=True)
    (build / "CTestTestfile.cmake").write_text(f'add_test(memhog "{exe}" {HOG_MIB})\n')
    return build


def fake_cgroup(tmp_path: Path, limit: int) -> Path:
    group = tmp_path / "cgroup"
    group.mkdir(exist_ok=True)
    (group / "memory.max").write_text(f"{limit}\n")
    (group / "memory.current").write_text("0\n")
    (group / "memory.events").write_text("oom 0\noom_kill 0\n")
    return group


def racegate(tmp_path: Path, exe: Path, out: str, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, dict]:
    proc = subprocess.run([sys.executable, str(LAUNCHER), "run", "--out", str(tmp_path / out), "--build-dir",
                           str(suite(tmp_path, exe)), "--history", str(tmp_path / "history.json"), *args],
                          capture_output=True, text=True, timeout=600, env={**os.environ, **env})
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads((tmp_path / out / "racegate.json").read_text())


def test_peak_is_recorded_and_a_second_copy_that_would_not_fit_is_held(memhog: Path, tmp_path: Path):
    _, first = racegate(tmp_path, memhog, "first", "--runs", "1", "--jobs", "1")
    peak = first["tests"][0]["peak_memory"]
    assert peak > int(HOG_MIB) * MIB  # the program's own allocation, and TSan's shadow of it
    learned = json.loads((tmp_path / "history.json").read_text())["tests"]["memhog"]["peak_memory"]
    assert learned == peak

    # Room for one copy and a half: the second of two jobs must wait for the first to end, every time.
    group = fake_cgroup(tmp_path, peak * 3 // 2)
    log = tmp_path / "runs.log"
    proc, result = racegate(tmp_path, memhog, "held", "--runs", "4", "--jobs", "2",
                            RACEGATE_CGROUP_DIR=str(group), MEMHOG_LOG=str(log))
    assert proc.returncode == 0 and result["tests"][0]["outcomes"]["pass"] == 4
    held = [line for line in proc.stderr.splitlines() if "racegate: memory: holding" in line]
    # Said once, with the peak the history knew before this session's first run.
    assert held == [f"racegate: memory: holding runs of memhog: needs ~{peak / (1 << 30):.1f} GiB, "
                    f"{max(0, peak * 3 // 2 - peak) / (1 << 30):.1f} GiB available"]
    spans = sorted(tuple(map(int, line.split())) for line in log.read_text().splitlines())
    assert len(spans) == 4
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))  # never two at once


def test_an_oom_kill_reads_as_the_environment_not_a_crash(memhog: Path, tmp_path: Path):
    group = fake_cgroup(tmp_path, 64 << 30)
    proc, result = racegate(tmp_path, memhog, "oom", "--runs", "3", "--jobs", "1",
                            RACEGATE_CGROUP_DIR=str(group), MEMHOG_FAKE_OOM=str(group / "memory.events"))
    test = result["tests"][0]
    assert test["cuts"] == {"oom": 1} and test["outcomes"]["crash"] == 0 and test["outcomes"]["pass"] >= 1
    assert result["buckets"] == []  # no crash bucket: the kill is the environment's
    assert proc.returncode == 0
    assert re.search(r"note: memory: the out-of-memory killer ended runs of memhog \(1 run, peak ~[0-9.]+ GiB\)"
                     r": the environment ran out of memory", proc.stdout)
    assert "run fewer --jobs, use a runner with more memory, or exclude the test" in proc.stdout
    assert "cut by racegate" not in proc.stdout


def test_without_the_oom_evidence_a_sigkill_stays_a_crash(memhog: Path, tmp_path: Path):
    group = fake_cgroup(tmp_path, 64 << 30)
    events = group / "memory.events"
    # Evidence read from elsewhere: the program "kills" itself, but racegate's cgroup counts no OOM kill.
    other = tmp_path / "elsewhere.events"
    other.write_text("oom_kill 0\n")
    _, result = racegate(tmp_path, memhog, "kill", "--runs", "1", "--jobs", "1",
                         RACEGATE_CGROUP_DIR=str(group), MEMHOG_FAKE_OOM=str(other))
    assert events.read_text() == "oom 0\noom_kill 0\n"
    assert result["tests"][0]["outcomes"]["crash"] == 1 and "cuts" not in result["tests"][0]
    assert [b["kind"] for b in result["buckets"]] == ["crash"]
