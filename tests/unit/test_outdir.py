"""The output directory layout, and the rule that racegate only ever clears what it wrote itself."""
from __future__ import annotations

import pytest

from racegate import outdir
from racegate.errors import RacegateError


def leave(out, *names):
    """What an earlier racegate (or a user) left: dirs for names ending in /, files otherwise."""
    for name in names:
        path = out / name
        if name.endswith("/"):
            path.mkdir(parents=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")


def test_the_logs_an_earlier_racegate_left_are_cleared_and_the_rest_stays(tmp_path):
    runs, reports = outdir.runs_dir(tmp_path), outdir.reports_dir(tmp_path)
    kept = outdir.kept_run_dir(runs, 12)
    leave(tmp_path, f"{kept.relative_to(tmp_path)}/", f"{outdir.output_file(kept).relative_to(tmp_path)}",
          f"{outdir.scratch_dir(runs, 3).relative_to(tmp_path)}/",
          f"{outdir.raw_report_file(reports, 'a7af29cb66215fb4').relative_to(tmp_path)}",
          outdir.RESULT_FILE, outdir.BUILD_LOG, "racegate.html", "notes.txt")
    outdir.clear_logs(tmp_path)
    assert not runs.exists() and not reports.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build.log", "notes.txt", "racegate.html", "racegate.json"]


@pytest.mark.parametrize("foreign", ("runs/precious.txt", "runs/12-old/", "reports/summary.md", "reports/A7AF.txt"))
def test_a_dir_holding_anything_racegate_did_not_write_is_refused_and_left_alone(tmp_path, foreign):
    leave(tmp_path, "runs/4/output.txt", "reports/0279f3c8566aa29c.txt", foreign)
    with pytest.raises(RacegateError, match="racegate did not write: not a racegate output dir"):
        outdir.clear_logs(tmp_path)
    assert (tmp_path / foreign).exists() and (tmp_path / "runs" / "4" / "output.txt").exists()


def test_a_replay_clears_its_runs_only(tmp_path):
    leave(tmp_path, "runs/0/output.txt", "reports/0279f3c8566aa29c.txt")
    outdir.clear_logs(tmp_path, reports=False)
    assert not (tmp_path / "runs").exists() and (tmp_path / "reports" / "0279f3c8566aa29c.txt").exists()


def test_nothing_to_clear_is_fine(tmp_path):
    outdir.clear_logs(tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_tsan_logs_are_the_files_tsan_writes_from_the_log_path(tmp_path):
    leave(tmp_path, "tsan.20", "tsan.3", "output.txt", "shim.txt", "tsanity.txt")
    assert outdir.tsan_log_path(tmp_path) == tmp_path / "tsan"
    assert outdir.tsan_logs(tmp_path) == [tmp_path / "tsan.20", tmp_path / "tsan.3"]
