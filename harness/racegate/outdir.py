"""The layout of racegate's output directory; every other module asks here for its paths.

    <out>/racegate.json            the result (reports/ paths in it are relative to <out>)
    <out>/build.log                cmake's output of `run --preset`
    <out>/runs/<run>/              logs of one run that did not pass or was cut short:
                                   output.txt, tsan.<pid>, shim.txt, gtest.json (a batch)
    <out>/runs/pending-<k>/        scratch dirs of runs in progress, removed when racegate ends
    <run dir>/tmp/                 the run's private scratch dir (its TMPDIR and RACEGATE_RUN_DIR): removed
                                   with a passing run's logs, kept with those of a run that did not pass
    <out>/reports/<bucket id>.txt  one full raw report per bucket
    <result dir>/replay/runs/...   `racegate replay`'s run logs, laid out as <out>/runs
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from racegate.errors import RacegateError

RESULT_FILE = "racegate.json"
BUILD_LOG = "build.log"
RUNS = "runs"
REPORTS = "reports"
REPLAY = "replay"
SCRATCH_PREFIX = "pending-"
# In a run dir: the test's stdout and stderr, TSan's log_path prefix (TSan adds .<pid>), the shim's report.
OUTPUT_FILE = "output.txt"
TSAN_LOG = "tsan"
SHIM_REPORT = "shim.txt"
GTEST_JSON = "gtest.json"  # a batched run's --gtest_output=json file
# The run's own dir for the files it makes (TMPDIR): two copies of one test running at once never share one.
RUN_TMP = "tmp"

# What racegate writes into runs/ and reports/, and so may clear again.
_OURS = {RUNS: re.compile(rf"\d+|{re.escape(SCRATCH_PREFIX)}\d+"), REPORTS: re.compile(r"[0-9a-f]+\.txt")}


def result_file(out_dir: Path) -> Path:
    return out_dir / RESULT_FILE


def build_log(out_dir: Path) -> Path:
    return out_dir / BUILD_LOG


def runs_dir(out_dir: Path) -> Path:
    return out_dir / RUNS


def reports_dir(out_dir: Path) -> Path:
    return out_dir / REPORTS


def replay_dir(result_dir: Path) -> Path:
    """Where `racegate replay` keeps its logs unless told otherwise: beside the result it replays."""
    return result_dir / REPLAY


def kept_run_dir(runs: Path, run: int) -> Path:
    return runs / str(run)


def scratch_dir(runs: Path, number: int) -> Path:
    return runs / f"{SCRATCH_PREFIX}{number}"


def raw_report_file(reports: Path, bucket_id: str) -> Path:
    return reports / f"{bucket_id}.txt"


def output_file(run_dir: Path) -> Path:
    return run_dir / OUTPUT_FILE


def tsan_log_path(run_dir: Path) -> Path:
    """The log_path given to TSan, which writes <log_path>.<pid>, one file per process."""
    return run_dir / TSAN_LOG


def tsan_logs(run_dir: Path) -> list[Path]:
    """The TSan log files of a run, in name order."""
    return [run_dir / name for name in sorted(os.listdir(run_dir)) if name.startswith(TSAN_LOG + ".")]


def gtest_json_file(run_dir: Path) -> Path:
    return run_dir / GTEST_JSON


def run_tmp_dir(run_dir: Path) -> Path:
    return run_dir / RUN_TMP


def shim_report_file(run_dir: Path) -> Path:
    return run_dir / SHIM_REPORT


def clear_logs(out_dir: Path, *, reports: bool = True) -> None:
    """Remove the runs/ (and reports/) an earlier racegate left in `out_dir`, so its logs do not count
    again. Only ever what racegate wrote: a dir holding anything else is refused with a clear error."""
    ours = [runs_dir(out_dir)] + ([reports_dir(out_dir)] if reports else [])
    stale = [path for path in ours if path.exists()]
    # Every dir is checked before any is removed: a refused output dir keeps all it had.
    for path in stale:
        if not all(_OURS[path.name].fullmatch(p.name) for p in path.iterdir()):
            raise RacegateError(f"{path} holds files racegate did not write: not a racegate output dir; "
                                "pass another --out")
    for path in stale:
        shutil.rmtree(path)
