"""The CI adoption files: action/workflow/GitLab YAML, and ci/github/run.sh run locally against stubs."""
from __future__ import annotations

import os
import re
import shutil
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


# --- the validators' script (the validators themselves, and run.sh against stubs: tests/e2e/test_ci_scripts.py) ---

VALIDATE = REPO / ".ci" / "validate-ci-files"


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
