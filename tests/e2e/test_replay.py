"""Replay re-runs a bucket's first run as it was: same seed and schedule, the shim only if it had it.

e2e: each test first lets `racegate run` find a bucket in a test command.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from racegate.replay import replay
from racegate.result import Result, load
from racegate.signature_rules import V2, bucket_id
from samples_helpers import LAUNCHER, default_sigint, process_ends

pytestmark = pytest.mark.e2e
# Fails on every run and says what it was preloaded with.
SHOWS_PRELOAD = "import os, sys\nprint('PRELOAD=' + os.environ.get('LD_PRELOAD', ''))\nsys.exit(3)\n"


def result_of(tmp_path: Path, code: str, *options: str) -> Result:
    out = tmp_path / "first"
    subprocess.run([sys.executable, str(LAUNCHER), "run", "--runs", "1", "--out", str(out), *options, "--",
                    sys.executable, "-c", code], capture_output=True, timeout=120)
    return load(out / "racegate.json")


@pytest.mark.parametrize("strategy,first_had_shim,preloaded", [
    ("none", True, True),
    ("none", False, False),  # a plain run after the test's first, when the thread count was known
    ("pct", False, True),  # the shim carries out pct: never without it
])
def test_the_shim_is_preloaded_as_the_first_run_had_it(tmp_path, strategy, first_had_shim, preloaded):
    result = result_of(tmp_path, SHOWS_PRELOAD, "--schedule", "none")
    (bucket,) = result.buckets
    env = bucket.first_seen.env
    assert "racegate_sched-" in env.get("LD_PRELOAD", "")  # the test's first run had it
    if not first_had_shim:
        del env["LD_PRELOAD"]
    shim = tmp_path / "cache" / "racegate_sched-0123.so"
    outcome = replay(result, bucket.id, 1, tmp_path / "replay", shim, strategy)
    assert outcome.reproduced == 1
    output = (tmp_path / "replay" / "runs" / "0" / "output.txt").read_text()
    assert (f"PRELOAD={shim}" in output) == preloaded


def test_a_result_of_an_earlier_signature_version_replays(tmp_path):
    result = result_of(tmp_path, SHOWS_PRELOAD, "--schedule", "none")
    (found,) = result.buckets
    # As a release of signature v2 wrote it: the bucket named by its v2 id, which the replayed run carries as legacy.
    bucket = replace(found, id=bucket_id(found.kind, found.signature, V2))
    result = replace(result, buckets=[bucket])
    assert bucket.id in bucket.legacy_ids
    outcome = replay(result, bucket.id, 1, tmp_path / "replay", None, "none")
    assert outcome.reproduced == 1


def test_an_interrupted_replay_kills_its_test_and_keeps_what_it_printed(tmp_path, beacon):
    # Fails on the first run; on the replay it tells the beacon its pid, then hangs.
    marker = tmp_path / "ran-once"
    code = (f"import os, sys, time\nprint('pid', os.getpid(), flush=True)\n"
            f"if not os.path.exists({str(marker)!r}):\n    open({str(marker)!r}, 'w').close()\n    sys.exit(3)\n"
            f"open({str(beacon.path)!r}, 'w').write(f'{{os.getpid()}}\\n')\n"
            "time.sleep(600)\n")
    result = result_of(tmp_path, code)
    (bucket,) = result.buckets
    out = tmp_path / "replay"
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "replay", bucket.id, "--from",
                             str(tmp_path / "first" / "racegate.json"), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    (pid,) = beacon.wait()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert [p.name for p in (out / "runs").iterdir()] == ["0"]
    assert (out / "runs" / "0" / "output.txt").read_text() == f"pid {pid}\n"
    assert process_ends(int(pid), within=10)


def test_a_replay_gets_the_suppressions_file_the_session_gave_its_runs(tmp_path):
    supp = tmp_path / "my tsan.supp"
    supp.write_text("race:third_party_refresh\n")
    shows_tsan = "import os, sys\nprint('TSAN=' + os.environ.get('TSAN_OPTIONS', ''))\nsys.exit(3)\n"
    result = result_of(tmp_path, shows_tsan, "--schedule", "none", "--suppressions", str(supp))
    (bucket,) = result.buckets
    replay(result, bucket.id, 1, tmp_path / "replay", None)
    output = (tmp_path / "replay" / "runs" / "0" / "output.txt").read_text()
    assert f'suppressions="{supp}"' in output and "print_suppressions=1" in output
