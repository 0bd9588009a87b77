"""End-to-end, with both compilers: `racegate run --suppressions` on the TSan builds of samples/ counts what each
entry matched and names the stale one; the file `racegate baseline --suppressions-out` writes silences the samples'
races when TSan alone runs the tests."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from samples_helpers import TSAN_MARK, racegate

pytestmark = pytest.mark.e2e

SUPPRESSED_TEST = "WordCounterRace.TwoThreadsCountDifferentDocuments"  # its race is in WordCounter::add
KEPT_TEST = "ScoreTallyRace.FourTasksSumOneSeason"  # its race is in tally_scores, no entry matches it
STALE_ENTRY = "race:no_such_function_in_the_samples"
STEADY = ("WordCounterRace.TwoThreadsCountDifferentDocuments", "StockLevelsRace.StorefrontReadsWhileRestockWrites",
          "ScoreTallyRace.FourTasksSumOneSeason", "PriceCacheRace.WorkersShareOneMemo",
          "DownloadProgressRace.CallbackRunsOnLibraryThread")


@pytest.mark.parametrize("given", ("option", "TSAN_OPTIONS"))
def test_a_run_counts_each_entrys_matches_and_names_the_stale_one(samples_build, tmp_path, monkeypatch, given):
    # A relative path, as a user types it: racegate hands every test (which runs elsewhere) the absolute one.
    (tmp_path / "tsan.supp").write_text(f"# samples\nrace:WordCounter::add\n{STALE_ENTRY}\n")
    option = ["--suppressions", "tsan.supp"] if given == "option" else []
    if given == "TSAN_OPTIONS":
        monkeypatch.setenv("TSAN_OPTIONS", "suppressions=tsan.supp")
    proc = racegate("run", "--build-dir", str(samples_build), "--out", "out", "--seed", "7", "--jobs", "2",
                    "--runs", "3", *option, "-R", f"^({SUPPRESSED_TEST}|{KEPT_TEST})$", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads((tmp_path / "out" / "racegate.json").read_text())
    supp_file = str(tmp_path / "tsan.supp")
    assert result["config"]["suppression_files"] == [supp_file]
    matched, stale = result["suppressions"]
    assert matched["entry"] == "race:WordCounter::add" and matched["file"] == supp_file
    assert matched["matched"] >= 3 and matched["stale"] is False  # at least one report per run
    assert stale == {"entry": STALE_ENTRY, "file": supp_file, "matched": 0, "stale": True}
    # The suppressed race is gone; the other one is still found.
    assert [b["tests"] for b in result["buckets"]] == [[KEPT_TEST]]
    lines = proc.stdout.splitlines()
    assert any(line.split()[:2] == ["race:WordCounter::add", str(matched["matched"])] for line in lines)
    assert any(line.split() == [STALE_ENTRY, "0", "STALE"] for line in lines)
    assert "2 suppressions in use" in proc.stdout and "1 stale" in proc.stdout


def _tsan_reports(test: dict, tsan_options: str) -> int:
    proc = subprocess.run(test["command"], cwd=test["cwd"], env=dict(os.environ, TSAN_OPTIONS=tsan_options),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", timeout=120)
    return proc.stdout.count(TSAN_MARK)


def test_the_file_baseline_writes_silences_the_races_under_tsan_alone(samples_build, tmp_path):
    out = tmp_path / "out"
    proc = racegate("run", "--build-dir", str(samples_build), "--out", str(out), "--seed", "3", "--jobs", "2",
                    "--runs", "2", "--schedule", "none", "-R", "^(" + "|".join(STEADY) + ")$")
    assert proc.returncode == 1, proc.stderr[-3000:]
    supp = tmp_path / "found.supp"
    proc = racegate("baseline", "--from", str(out / "racegate.json"), "-o", str(tmp_path / "baseline.json"),
                    "--suppressions-out", str(supp))
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "racegate.json").read_text())
    entries = [line for line in supp.read_text().splitlines() if not line.startswith("#")]
    assert len(entries) == len(result["buckets"]) >= len(STEADY)
    assert all(line.startswith("race:") for line in entries), entries
    # ctest alone, as a team without racegate in the gate runs it: each test reports races without the file
    # and none with it.
    for test in result["tests"]:
        assert _tsan_reports(test, "halt_on_error=0") > 0, test["name"]
        assert _tsan_reports(test, f"halt_on_error=0 suppressions={supp}") == 0, test["name"]
