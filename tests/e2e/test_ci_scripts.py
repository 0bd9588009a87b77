"""ci/github/run.sh against stub tools on a fake GitHub runner, and the validators of the CI files: each test runs
the script or the tools as processes (tests/unit/test_ci_files.py reads the files)."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from samples_helpers import REPO

pytestmark = pytest.mark.e2e

GITHUB = REPO / "ci" / "github"
ACTION = GITHUB / "action.yml"
RUN_SH = GITHUB / "run.sh"
EXAMPLE = GITHUB / "workflow-example.yml"
GITLAB = REPO / "ci" / "gitlab" / "racegate.gitlab-ci.yml"
VALIDATE = REPO / ".ci" / "validate-ci-files"

# --- run.sh against stubs -----------------------------------------------------------------------

RACEGATE_STUB = """#!/bin/sh
if [ "$1" = doctor ]; then
  printf '%s\\0' "$@" > "$STUB_LOG/doctor-argv"
  echo 'ok    stub doctor line'
  if [ "${STUB_DOCTOR_RC:-0}" != 0 ]; then echo 'racegate: doctor: stub check: broken; fix: mend it' >&2; fi
  exit "${STUB_DOCTOR_RC:-0}"
fi
printf '%s\\0' "$@" > "$STUB_LOG/argv"
printf 'CC=%s\\nCXX=%s\\n' "$CC" "$CXX" > "$STUB_LOG/env"
out=racegate-out
history=
while [ $# -gt 0 ]; do
  if [ "$1" = --out ]; then out=$2; fi
  if [ "$1" = --history ]; then history=$2; fi
  shift
done
if [ "$STUB_RC" != 2 ]; then
  if [ -n "$history" ]; then echo '{}' > "$history"; fi
  mkdir -p "$out"
  echo '{}' > "$out/racegate.json"
  echo '{}' > "$out/racegate.sarif"
  echo '## racegate stub summary' >> "$GITHUB_STEP_SUMMARY"
fi
exit "$STUB_RC"
"""


# Logs its name and argv; a compiler stub answers -dumpversion and "links" unless STUB_CXX_FAILS=1.
LOGGING_STUB = """#!/bin/sh
name=$(basename "$0")
echo "$name $*" >> "$STUB_LOG/calls"
case "$name" in
  cmake) echo "cmake version ${STUB_CMAKE_VERSION:-3.28.3}" ;;
  sysctl) exit "${STUB_SYSCTL_RC:-0}" ;;
  clang|clang++|gcc|g++)
    if [ "$1" = -dumpversion ]; then echo 18.1.3; exit 0; fi
    exit "${STUB_CXX_FAILS:-0}" ;;
esac
exit 0
"""


class Harness:
    """A fake GitHub runner around run.sh: stub tools on PATH, GITHUB_* files, a recording racegate.
    The tests using it run the whole script with its tools as processes, so they are e2e."""

    def __init__(self, tmp: Path) -> None:
        self.work = tmp / "work"
        self.logs = tmp / "logs"
        self.bin = tmp / "bin"
        for d in (self.work, self.logs, self.bin, tmp / "runner-temp"):
            d.mkdir()
        self._stub("racegate", RACEGATE_STUB)
        for name in ("cmake", "ninja", "sysctl", "apt-get", "clang", "clang++", "gcc", "g++"):
            self._stub(name, LOGGING_STUB)
        self.mmap_bits = tmp / "mmap_rnd_bits"
        self.mmap_bits.write_text("28\n")
        self.files = {name: tmp / name for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")}
        for f in self.files.values():
            f.write_text("")
        self.env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp),
            "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": str(tmp / "runner-temp"),
            **{k: str(v) for k, v in self.files.items()},
            "RACEGATE_BIN": str(self.bin / "racegate"),
            "RACEGATE_SYSCTL": str(self.bin / "sysctl"),
            "RACEGATE_APT_GET": str(self.bin / "apt-get"),
            "RACEGATE_MMAP_RND_BITS_FILE": str(self.mmap_bits),
            "RACEGATE_SUDO": "",
            "STUB_LOG": str(self.logs),
            "STUB_RC": "0",
        }

    def _stub(self, name: str, text: str) -> None:
        path = self.bin / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(RUN_SH)], cwd=self.work, env={**self.env, **env},
                              capture_output=True, text=True, timeout=60)

    def argv(self, name: str = "argv") -> list[str] | None:
        path = self.logs / name
        return path.read_text().split("\0")[:-1] if path.exists() else None

    def calls(self, name: str) -> list[list[str]]:
        path = self.logs / "calls"
        lines = path.read_text().splitlines() if path.exists() else []
        return [line.split()[1:] for line in lines if line.split()[0] == name]

    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.files["GITHUB_OUTPUT"].read_text().splitlines())


@pytest.fixture
def gh(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_defaults(gh: Harness) -> None:
    result = gh.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert gh.argv() == ["run", "--preset", "racegate-tsan-clang", "--out", "racegate-out"]
    assert (gh.logs / "env").read_text() == "CC=clang\nCXX=clang++\n"
    out = gh.outputs()
    assert out["out-dir"] == str(gh.work / "racegate-out")
    assert out["artifact-name"] == "racegate"
    assert out["exit-code"] == "0"
    assert out["result"] == str(gh.work / "racegate-out" / "racegate.json")
    assert out["sarif-file"] == str(gh.work / "racegate-out" / "racegate.sarif")


def test_every_input_becomes_an_argument_verbatim(gh: Harness) -> None:
    (gh.work / "known.json").write_text("{}")
    hostile = "Ledger.*|$(touch pwned); `touch pwned2`"
    result = gh.run(
        INPUT_PRESET="tsan", INPUT_COMPILER="gcc", INPUT_RUNS="50", INPUT_TIME_BUDGET="120", INPUT_JOBS="2",
        INPUT_SHARD="2/4", INPUT_BASELINE="known.json", INPUT_SUPPRESSIONS="my tsan.supp", INPUT_TESTS=hostile,
        INPUT_OUT="out dir",
        INPUT_GATE="false", INPUT_EXTRA_ARGS="--seed 7 --schedule 'sleep, yield' --timeout 30",
        INPUT_ARTIFACT_NAME="races",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert gh.argv() == [
        "run", "--preset", "tsan", "--runs", "50", "--time-budget", "120", "--jobs", "2", "--shard", "2/4",
        "--tests", hostile, "--baseline", "known.json", "--suppressions", "my tsan.supp", "--out", "out dir",
        "--no-gate",
        "--seed", "7", "--schedule", "sleep, yield", "--timeout", "30",
    ]
    assert not list(gh.work.glob("pwned*")) and not list(Path.cwd().glob("pwned*"))
    assert (gh.logs / "env").read_text() == "CC=gcc\nCXX=g++\n"
    assert gh.outputs()["artifact-name"] == "races-shard-2-of-4"
    assert gh.outputs()["out-dir"] == str(gh.work / "out dir")


def test_history_is_passed_and_its_file_named_for_the_cache_step(gh: Harness) -> None:
    assert gh.run(INPUT_HISTORY="h.json").returncode == 0
    assert gh.argv()[-4:] == ["--history", "h.json", "--out", "racegate-out"]
    assert gh.outputs()["history-file"] == "h.json"
    gh.files["GITHUB_OUTPUT"].write_text("")
    assert gh.run(STUB_RC="2", INPUT_HISTORY="other.json").returncode == 2
    assert "history-file" not in gh.outputs()  # nothing to save: the cache step is skipped


@pytest.mark.parametrize("given,base,expected", [
    ("auto", "main", ["--changed-since", "origin/main"]),  # a pull request: its base branch
    ("auto", "", []),  # a push: no base, no focus
    ("v1.2", "main", ["--changed-since", "v1.2"]),  # a ref given is used as is
    ("", "main", []),
])
def test_changed_since_defaults_to_a_pull_requests_base(gh: Harness, given: str, base: str,
                                                        expected: list[str]) -> None:
    assert gh.run(INPUT_CHANGED_SINCE=given, GITHUB_BASE_REF=base).returncode == 0
    argv = gh.argv()
    assert argv[argv.index("--out") - len(expected):argv.index("--out")] == expected
    assert ("--changed-since" in argv) == bool(expected)


def test_gcc_preset_picks_gcc_and_probes_it(gh: Harness) -> None:
    assert gh.run(INPUT_PRESET="racegate-tsan-gcc").returncode == 0
    assert (gh.logs / "env").read_text() == "CC=gcc\nCXX=g++\n"
    assert gh.calls("g++") and gh.calls("g++")[0][0] == "-fsanitize=thread"
    assert gh.calls("clang++") == []


def test_job_cc_cxx_win(gh: Harness) -> None:
    assert gh.run(INPUT_PRESET="tsan", CC="clang", CXX="clang++").returncode == 0
    assert (gh.logs / "env").read_text() == "CC=clang\nCXX=clang++\n"


@pytest.mark.parametrize("gate, racegate_rc, expected", [
    ("true", "0", 0), ("true", "1", 1), ("true", "2", 2), ("true", "130", 130),
    ("false", "0", 0), ("false", "1", 0), ("false", "2", 2),
])
def test_exit_code(gh: Harness, gate: str, racegate_rc: str, expected: int) -> None:
    result = gh.run(INPUT_GATE=gate, STUB_RC=racegate_rc)
    assert result.returncode == expected, result.stdout + result.stderr
    assert gh.outputs()["exit-code"] == racegate_rc
    assert ("--no-gate" in gh.argv()) == (gate == "false")


def test_summary_fallback_only_when_racegate_wrote_none(gh: Harness) -> None:
    gh.run(STUB_RC="1")
    assert gh.files["GITHUB_STEP_SUMMARY"].read_text() == "## racegate stub summary\n"
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        gh.files[name].write_text("")
    gh.run(STUB_RC="2")  # the stub, like racegate on a setup error, writes nothing
    assert "racegate exited with status 2 before writing a summary" in gh.files["GITHUB_STEP_SUMMARY"].read_text()
    assert "sarif-file" not in gh.outputs() and "result" not in gh.outputs()  # the first run's are stale


@pytest.mark.parametrize("bits, lowered", [("32\n", True), ("29", True), ("28\n", False), ("18\n", False)])
def test_mmap_rnd_bits(gh: Harness, bits: str, lowered: bool) -> None:
    gh.mmap_bits.write_text(bits)
    assert gh.run().returncode == 0
    assert gh.calls("sysctl") == ([["-w", "vm.mmap_rnd_bits=28"]] if lowered else [])


def test_mmap_rnd_bits_unreadable_or_sysctl_failing_still_runs(gh: Harness) -> None:
    gh.mmap_bits.unlink()
    assert gh.run().returncode == 0
    assert gh.calls("sysctl") == []

    gh.mmap_bits.write_text("32\n")
    result = gh.run(STUB_SYSCTL_RC="1")
    assert result.returncode == 0
    assert "::warning::could not lower vm.mmap_rnd_bits" in result.stdout
    assert gh.argv() is not None


def test_missing_baseline_warns_and_is_not_passed(gh: Harness) -> None:
    result = gh.run(INPUT_BASELINE="racegate-baseline.json")
    assert result.returncode == 0
    assert "::warning::baseline 'racegate-baseline.json' does not exist" in result.stdout
    assert "--baseline" not in gh.argv()


@pytest.mark.parametrize("env, message", [
    ({"INPUT_COMPILER": "gcc"}, "compiler 'gcc' contradicts preset 'racegate-tsan-clang'"),
    ({"INPUT_COMPILER": "icc", "INPUT_PRESET": "tsan"}, "compiler must be clang or gcc"),
    ({"INPUT_SHARD": "2 of 4"}, "shard must look like I/N"),
    ({"INPUT_GATE": "maybe"}, "expected true or false"),
    ({"STUB_CMAKE_VERSION": "3.22.1"}, "cmake 3.22 is too old"),
])
def test_usage_errors_stop_before_racegate(gh: Harness, env: dict[str, str], message: str) -> None:
    result = gh.run(**env)
    assert result.returncode == 2
    assert f"::error::{message}" in result.stdout
    assert gh.argv() is None


def test_workflow_command_data_is_escaped(gh: Harness) -> None:
    # An input must not be able to end the ::error:: command and start one of its own.
    result = gh.run(INPUT_SHARD="1/2\n::notice::injected 100%")
    assert result.returncode == 2
    assert "::error::shard must look like I/N, got '1/2%0A::notice::injected 100%25'" in result.stdout
    assert "\n::notice::injected" not in result.stdout


def test_missing_tsan_runtime_is_installed_then_reported(gh: Harness) -> None:
    result = gh.run(STUB_CXX_FAILS="1")
    assert result.returncode == 2
    assert "cannot link a -fsanitize=thread program" in result.stdout
    calls = gh.calls("apt-get")
    assert calls[0] == ["update", "-qq"]
    installed = [c[-1] for c in calls[1:]]
    assert installed == ["clang", "libclang-rt-18-dev", "libclang-rt-dev"]
    assert all(c[:4] == ["install", "-y", "-qq", "--no-install-recommends"] for c in calls[1:])
    assert gh.argv() is None


def test_setup_can_be_skipped(gh: Harness) -> None:
    gh.mmap_bits.write_text("32\n")
    assert gh.run(RACEGATE_SKIP_SETUP="1", STUB_CXX_FAILS="1").returncode == 0
    assert gh.calls("sysctl") == [] and gh.calls("clang++") == []


def test_doctor_runs_first_and_its_report_is_in_the_log(gh: Harness) -> None:
    result = gh.run(INPUT_PRESET="tsan")
    assert result.returncode == 0, result.stdout + result.stderr
    assert gh.argv("doctor-argv") == ["doctor", "--preset", "tsan"]
    log = result.stdout
    assert log.index("::group::racegate doctor") < log.index("ok    stub doctor line") < log.index("+ racegate run")


def test_doctor_without_a_preset_checks_the_machine(gh: Harness) -> None:
    assert gh.run(INPUT_PRESET="", INPUT_EXTRA_ARGS="--build-dir build").returncode == 0
    assert gh.argv("doctor-argv") == ["doctor"]


def test_a_failing_doctor_fails_the_job_early_with_its_reason(gh: Harness) -> None:
    result = gh.run(STUB_DOCTOR_RC="2")
    assert result.returncode == 2
    assert "ok    stub doctor line" in result.stdout  # the whole report is in the log
    assert "::error::racegate: doctor: stub check: broken; fix: mend it" in result.stdout
    assert gh.argv() is None  # racegate run never started


# --- the validators .ci/run installs from the npm registry ----------------------------------------

VALIDATORS = REPO / ".ci" / "node" / "node_modules" / ".bin"


needs_validators = pytest.mark.skipif(
    not all((VALIDATORS / tool).exists() for tool in ("action-validator", "gitlab-ci-local")),
    reason="validators not installed (.ci/run installs them into .ci/node)")


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(VALIDATE), *map(str, paths)], capture_output=True, text=True, timeout=300)


@needs_validators
def test_validators_accept_the_ci_files() -> None:
    result = validate()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" ok\n") == 3


@needs_validators
@pytest.mark.parametrize("original, old, new, complaint", [
    (ACTION, "using: composite", "using: kompozit", "/runs/using"),
    (EXAMPLE, "runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", "runs_on"),
    (GITLAB, "when: always", "when: alwayz", "cache[0].when is not"),
], ids=["action", "workflow", "gitlab"])
def test_validators_reject_a_broken_copy(tmp_path: Path, original: Path, old: str, new: str, complaint: str) -> None:
    text = original.read_text()
    assert old in text
    broken = tmp_path / original.name  # the validators tell the file's kind by its name
    broken.write_text(text.replace(old, new, 1))
    result = validate(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert complaint in result.stderr
    assert f"validate-ci-files: {broken} is invalid" in result.stderr
