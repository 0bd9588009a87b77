"""The CI adoption files: action/workflow/GitLab YAML, and ci/github/run.sh run locally against stubs."""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from samples_helpers import REPO

GITHUB = REPO / "ci" / "github"
ACTION = GITHUB / "action.yml"
RUN_SH = GITHUB / "run.sh"
EXAMPLE = GITHUB / "workflow-example.yml"
GITLAB = REPO / "ci" / "gitlab" / "racegate.gitlab-ci.yml"

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict), path
    return doc


def all_steps(doc: dict) -> list[dict]:
    if "runs" in doc:
        return doc["runs"]["steps"]
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def run_sh_inputs() -> set[str]:
    return set(re.findall(r"\bINPUT_[A-Z_]+\b", RUN_SH.read_text()))


# --- static checks ------------------------------------------------------------------------------

def test_action_is_a_composite_action_calling_run_sh() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    run_steps = [s for s in action["runs"]["steps"] if "run" in s]
    assert [s["run"].strip() for s in run_steps] == ['bash "$GITHUB_ACTION_PATH/run.sh"']
    assert all(s["shell"] == "bash" for s in run_steps)
    assert RUN_SH.is_file() and os.access(RUN_SH, os.X_OK)


def test_every_used_input_is_declared_and_every_input_is_used() -> None:
    text = ACTION.read_text()
    declared = set(load(ACTION)["inputs"])
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", " ".join(EXPRESSION.findall(text))))
    assert used - declared == set()
    assert declared - used == set()
    assert load(ACTION)["inputs"]["preset"]["default"] == "racegate-tsan-clang"


def test_run_sh_inputs_match_the_action_env() -> None:
    step = next(s for s in load(ACTION)["runs"]["steps"] if s.get("id") == "run")
    assert set(step["env"]) == run_sh_inputs()
    for name, value in step["env"].items():
        assert value == "${{ inputs.%s }}" % name[len("INPUT_"):].lower().replace("_", "-")


@pytest.mark.parametrize("path", [ACTION, EXAMPLE], ids=lambda p: p.name)
def test_no_expression_inside_run_scripts(path: Path) -> None:
    """`${{ }}` in a script body is pasted in before the shell parses it: an injection hole."""
    for step in all_steps(load(path)):
        if "run" in step:
            assert "${{" not in step["run"], step


def test_uploads_survive_a_failing_gate_and_sarif_is_optional() -> None:
    steps = {s.get("uses", "").split("@")[0]: s for s in load(ACTION)["runs"]["steps"]}
    artifact = steps["actions/upload-artifact"]
    sarif = steps["github/codeql-action/upload-sarif"]
    assert "!cancelled()" in artifact["if"] and "!cancelled()" in sarif["if"]
    assert "inputs.sarif == 'true'" in sarif["if"]
    assert artifact["with"]["path"] == "${{ steps.run.outputs.out-dir }}"
    assert sarif["with"]["sarif_file"] == "${{ steps.run.outputs.sarif-file }}"


def test_workflow_example_shards_and_merges() -> None:
    doc = load(EXAMPLE)
    race, merge = doc["jobs"]["race"], doc["jobs"]["merge"]
    shards = race["strategy"]["matrix"]["shard"]
    action = next(s for s in race["steps"] if s.get("uses", "").endswith("ci/github"))
    assert action["with"]["shard"] == "${{ matrix.shard }}/%d" % len(shards)
    assert shards == list(range(1, len(shards) + 1))  # racegate shards count from 1
    assert action["with"]["gate"] == "false"
    assert set(action["with"]) <= set(load(ACTION)["inputs"])

    assert merge["needs"] == "race"
    assert merge["permissions"]["security-events"] == "write"
    download = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"]["pattern"] == "racegate-shard-*"  # run.sh names shard artifacts so
    script = next(s["run"] for s in merge["steps"] if "racegate merge" in s.get("run", ""))
    assert "-o merged/racegate.json" in script and "--baseline" in script
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in merge["steps"])


def test_gitlab_template() -> None:
    doc = load(GITLAB)
    job = doc[".racegate"]
    assert job["artifacts"]["reports"]["junit"] == "racegate-out/racegate-junit.xml"
    assert job["artifacts"]["when"] == "always"
    script = "\n".join(job["script"])
    assert "CI_NODE_INDEX/$CI_NODE_TOTAL" in script
    assert 'ci/github/run.sh"' in script  # which runs racegate doctor first (tested below)
    assert set(re.findall(r"\bINPUT_[A-Z_]+\b", script)) == run_sh_inputs() - {"INPUT_ARTIFACT_NAME"}
    # Each input comes from the variable of the same name (a suppressions file, a baseline, ...).
    for name in set(re.findall(r"\bINPUT_([A-Z_]+)=\"\$RACEGATE_", script)):
        assert f'INPUT_{name}="$RACEGATE_{name}"' in script and f"RACEGATE_{name}" in job["variables"]
    assert "racegate-shards/*/racegate.json" in "\n".join(doc[".racegate-merge"]["script"])


def cache_steps(doc: dict) -> dict[str, dict]:
    return {s["uses"].split("@")[0]: s for s in doc["runs"]["steps"] if s.get("uses", "").startswith("actions/cache")}


def test_action_keeps_the_history_in_the_cache_per_job_preset_shard_and_branch() -> None:
    action = load(ACTION)
    assert action["inputs"]["history"]["default"] == "racegate-history.json"
    steps = cache_steps(action)
    restore, save = steps["actions/cache/restore"], steps["actions/cache/save"]
    names = [s.get("uses", s.get("id", "")).split("@")[0] for s in action["runs"]["steps"]]
    assert names.index("actions/cache/restore") < names.index("run") < names.index("actions/cache/save")
    # The same file, under the same key: one per run (entries are immutable), naming everything that must not
    # share a file.
    assert restore["with"]["path"] == save["with"]["path"] == \
        "${{ inputs.working-directory }}/${{ inputs.history }}"
    key = restore["with"]["key"]
    assert save["with"]["key"] == key
    for part in ("github.job", "inputs.preset", "inputs.shard", "github.ref_name", "github.run_id"):
        assert "${{ %s }}" % part in key
    # Fallbacks: the newest of this branch, then of any branch; never another shard's or preset's.
    fallbacks = restore["with"]["restore-keys"].strip().splitlines()
    assert [key.startswith(f) for f in fallbacks] == [True, True]
    assert "github.ref_name" in fallbacks[0] and "github.ref_name" not in fallbacks[1]
    assert all("inputs.shard" in f and "inputs.preset" in f for f in fallbacks)
    assert "inputs.history != ''" in restore["if"]
    assert "!cancelled()" in save["if"] and "steps.run.outputs.history-file != ''" in save["if"]


def test_gitlab_template_keeps_the_history_in_the_cache_per_branch_and_shard() -> None:
    job = load(GITLAB)[".racegate"]
    cache = job["cache"]
    assert "$CI_COMMIT_REF_SLUG" in cache["key"] and "$CI_NODE_INDEX" in cache["key"]
    assert all("$CI_NODE_INDEX" in k and "$CI_DEFAULT_BRANCH" in k for k in cache["fallback_keys"])
    assert cache["paths"] == [job["variables"]["RACEGATE_HISTORY"]] and cache["when"] == "always"
    assert 'INPUT_HISTORY="$RACEGATE_HISTORY"' in "\n".join(job["script"])


def test_run_sh_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck not installed")
    result = subprocess.run([shellcheck, str(RUN_SH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


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


@pytest.mark.e2e
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


@pytest.mark.e2e
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


@pytest.mark.e2e
def test_history_is_passed_and_its_file_named_for_the_cache_step(gh: Harness) -> None:
    assert gh.run(INPUT_HISTORY="h.json").returncode == 0
    assert gh.argv()[-4:] == ["--history", "h.json", "--out", "racegate-out"]
    assert gh.outputs()["history-file"] == "h.json"
    gh.files["GITHUB_OUTPUT"].write_text("")
    assert gh.run(STUB_RC="2", INPUT_HISTORY="other.json").returncode == 2
    assert "history-file" not in gh.outputs()  # nothing to save: the cache step is skipped


@pytest.mark.e2e
def test_gcc_preset_picks_gcc_and_probes_it(gh: Harness) -> None:
    assert gh.run(INPUT_PRESET="racegate-tsan-gcc").returncode == 0
    assert (gh.logs / "env").read_text() == "CC=gcc\nCXX=g++\n"
    assert gh.calls("g++") and gh.calls("g++")[0][0] == "-fsanitize=thread"
    assert gh.calls("clang++") == []


@pytest.mark.e2e
def test_job_cc_cxx_win(gh: Harness) -> None:
    assert gh.run(INPUT_PRESET="tsan", CC="clang", CXX="clang++").returncode == 0
    assert (gh.logs / "env").read_text() == "CC=clang\nCXX=clang++\n"


@pytest.mark.parametrize("gate, racegate_rc, expected", [
    ("true", "0", 0), ("true", "1", 1), ("true", "2", 2), ("true", "130", 130),
    ("false", "0", 0), ("false", "1", 0), ("false", "2", 2),
])
@pytest.mark.e2e
def test_exit_code(gh: Harness, gate: str, racegate_rc: str, expected: int) -> None:
    result = gh.run(INPUT_GATE=gate, STUB_RC=racegate_rc)
    assert result.returncode == expected, result.stdout + result.stderr
    assert gh.outputs()["exit-code"] == racegate_rc
    assert ("--no-gate" in gh.argv()) == (gate == "false")


@pytest.mark.e2e
def test_summary_fallback_only_when_racegate_wrote_none(gh: Harness) -> None:
    gh.run(STUB_RC="1")
    assert gh.files["GITHUB_STEP_SUMMARY"].read_text() == "## racegate stub summary\n"
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        gh.files[name].write_text("")
    gh.run(STUB_RC="2")  # the stub, like racegate on a setup error, writes nothing
    assert "racegate exited with status 2 before writing a summary" in gh.files["GITHUB_STEP_SUMMARY"].read_text()
    assert "sarif-file" not in gh.outputs() and "result" not in gh.outputs()  # the first run's are stale


@pytest.mark.parametrize("bits, lowered", [("32\n", True), ("29", True), ("28\n", False), ("18\n", False)])
@pytest.mark.e2e
def test_mmap_rnd_bits(gh: Harness, bits: str, lowered: bool) -> None:
    gh.mmap_bits.write_text(bits)
    assert gh.run().returncode == 0
    assert gh.calls("sysctl") == ([["-w", "vm.mmap_rnd_bits=28"]] if lowered else [])


@pytest.mark.e2e
def test_mmap_rnd_bits_unreadable_or_sysctl_failing_still_runs(gh: Harness) -> None:
    gh.mmap_bits.unlink()
    assert gh.run().returncode == 0
    assert gh.calls("sysctl") == []

    gh.mmap_bits.write_text("32\n")
    result = gh.run(STUB_SYSCTL_RC="1")
    assert result.returncode == 0
    assert "::warning::could not lower vm.mmap_rnd_bits" in result.stdout
    assert gh.argv() is not None


@pytest.mark.e2e
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
@pytest.mark.e2e
def test_usage_errors_stop_before_racegate(gh: Harness, env: dict[str, str], message: str) -> None:
    result = gh.run(**env)
    assert result.returncode == 2
    assert f"::error::{message}" in result.stdout
    assert gh.argv() is None


@pytest.mark.e2e
def test_workflow_command_data_is_escaped(gh: Harness) -> None:
    # An input must not be able to end the ::error:: command and start one of its own.
    result = gh.run(INPUT_SHARD="1/2\n::notice::injected 100%")
    assert result.returncode == 2
    assert "::error::shard must look like I/N, got '1/2%0A::notice::injected 100%25'" in result.stdout
    assert "\n::notice::injected" not in result.stdout


@pytest.mark.e2e
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


@pytest.mark.e2e
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

VALIDATE = REPO / ".ci" / "validate-ci-files"
VALIDATORS = REPO / ".ci" / "node" / "node_modules" / ".bin"
needs_validators = pytest.mark.skipif(
    not all((VALIDATORS / tool).exists() for tool in ("action-validator", "gitlab-ci-local")),
    reason="validators not installed (.ci/run installs them into .ci/node)")


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(VALIDATE), *map(str, paths)], capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
@needs_validators
def test_validators_accept_the_ci_files() -> None:
    result = validate()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" ok\n") == 3


@pytest.mark.e2e
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


def test_validate_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck not installed")
    result = subprocess.run([shellcheck, str(VALIDATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_validate_script_says_when_a_validator_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(["bash", str(VALIDATE)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "RACEGATE_VALIDATORS": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr == f"validate-ci-files: {tmp_path}/action-validator missing (.ci/run installs it)\n"
