"""`racegate init`: wire a CMake project to a vendored racegate (presets include + `tsan` presets + workflow)."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from racegate.build import PRESET_KINDS, PRESETS_FILES, parse_presets, preset_names, read_presets_file
from racegate.errors import RacegateError

PRESETS_FILE, USER_PRESETS_FILE = PRESETS_FILES
WORKFLOW_FILE = Path(".github") / "workflows" / "racegate.yml"
PRESET_NAME = "tsan"
BASE_PRESET = "racegate-tsan"
MIN_VERSION = 6  # the contract's schema; `include` itself needs 4


class InitError(RacegateError):
    """The project cannot be set up as asked; the message says why in one line."""


def init_project(project_dir: Path, racegate_dir: Path) -> list[str]:
    """Add racegate's presets and a GitHub workflow to the project; return one line per thing done."""
    # abspath, not resolve: a vendored racegate that is a symlink into the project must keep its in-project path.
    project = Path(os.path.abspath(project_dir))
    racegate = Path(os.path.abspath(racegate_dir))
    if not (project / "CMakeLists.txt").is_file():
        raise InitError(f"{project} has no CMakeLists.txt; run racegate init in the top directory of a CMake project")
    racegate_presets = racegate / "presets" / "racegate.json"
    if not racegate_presets.is_file():
        raise InitError(f"{racegate_presets} not found; "
                        "racegate init needs a racegate checkout vendored into the project")

    rel = Path(os.path.relpath(racegate, project)).as_posix()
    prefix = "" if rel == "." else f"{rel}/"
    include = f"{prefix}presets/racegate.json"
    lines: list[str] = []
    if rel.startswith(".."):
        lines.append(
            f"note: racegate ({racegate}) is outside the project, so CI will not find it; vendor it, e.g. "
            f"`git submodule add <racegate url> third_party/racegate`, and run that copy's `racegate init`"
        )

    # Work out every change before writing anything, so a refusal leaves the project untouched.
    _check_user_presets(project / USER_PRESETS_FILE)
    presets_path = project / PRESETS_FILE
    has_test_base = BASE_PRESET in preset_names(read_presets_file(racegate_presets), "testPresets")
    if presets_path.exists():
        text = presets_path.read_text(encoding="utf-8-sig")  # CMake accepts a byte-order mark
        doc = _parse_presets(text, presets_path)
        changes = _merge_presets(doc, project, include, racegate_presets, has_test_base)
        if changes:
            _write_atomic(presets_path, _dump(doc, _indent_of(text)))
            lines += [f"{PRESETS_FILE}: {c}" for c in changes]
        else:
            lines.append(f"{PRESETS_FILE}: already set up, unchanged")
    else:
        doc = {"version": MIN_VERSION}
        _merge_presets(doc, project, include, racegate_presets, has_test_base)
        _write_atomic(presets_path, _dump(doc, 2))
        lines.append(f"{PRESETS_FILE}: created (includes {include}, presets '{PRESET_NAME}')")
    if (project / USER_PRESETS_FILE).exists():
        lines.append(f"{USER_PRESETS_FILE}: left as is")

    workflow = project / WORKFLOW_FILE
    if workflow.exists():
        lines.append(f"{WORKFLOW_FILE.as_posix()}: exists, left as is")
    else:
        workflow.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(workflow, _workflow(prefix))
        lines.append(f"{WORKFLOW_FILE.as_posix()}: created (uses ./{prefix}ci/github)")
    lines.append(f"next: cmake --preset {PRESET_NAME} && cmake --build --preset {PRESET_NAME}, "
                 f"or ./{prefix}racegate run --preset {PRESET_NAME}")
    return lines


# init reads presets files through build.py's reader too, but as documents to edit, not as resolved presets: it
# keeps each file's own keys, order and indentation, and judges only the names a file defines itself.

def _parse_presets(text: str, path: Path) -> dict[str, Any]:
    try:
        return parse_presets(text, path)
    except RacegateError as e:
        raise InitError(f"{e}; fix it or add the racegate include by hand") from None


def _check_user_presets(path: Path) -> None:
    """CMakeUserPresets.json includes CMakePresets.json implicitly; a `tsan` there would clash with ours."""
    if not path.exists():
        return
    try:
        doc = parse_presets(path.read_text(encoding="utf-8-sig"), path)
    except RacegateError:
        return  # not ours to judge (init leaves the file as is); cmake will report it
    for kind in PRESET_KINDS:
        if PRESET_NAME in preset_names(doc, kind):
            raise InitError(f"{path.name} already defines a '{PRESET_NAME}' preset in {kind}; "
                            "rename it and run init again")


def _inherits(preset: dict[str, Any], name: str) -> bool:
    parents = preset.get("inherits", [])
    return parents == name or (isinstance(parents, list) and name in parents)


def _merge_presets(doc: dict[str, Any], project: Path, include: str, racegate_presets: Path,
                   has_test_base: bool) -> list[str]:
    """Edit doc in place to include racegate and define the `tsan` presets; return what changed."""
    changes: list[str] = []
    path = project / PRESETS_FILE

    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InitError(f"{path} has no integer \"version\"; fix it or add the racegate include by hand")
    if version < MIN_VERSION:
        doc["version"] = MIN_VERSION
        changes.append(f"version {version} -> {MIN_VERSION} (needs CMake 3.25+)")

    if "include" not in doc:
        _insert_after(doc, ("version", "cmakeMinimumRequired"), "include", [])
    includes = doc["include"]
    if not isinstance(includes, list):
        raise InitError(f"{path}: \"include\" is not a list")
    present = False
    for entry in includes:
        if not isinstance(entry, str) or not entry.endswith("presets/racegate.json"):
            continue
        if (project / entry).resolve() != racegate_presets.resolve():
            raise InitError(f"{path} already includes another racegate ({entry}); remove that include or run its init")
        present = True
    if not present:
        includes.append(include)
        changes.append(f"added include {include}")

    wanted = {
        "configurePresets": {"name": PRESET_NAME, "inherits": BASE_PRESET},
        "buildPresets": {"name": PRESET_NAME, "configurePreset": PRESET_NAME},
        "testPresets": ({"name": PRESET_NAME, "inherits": BASE_PRESET, "configurePreset": PRESET_NAME}
                        if has_test_base else {"name": PRESET_NAME, "configurePreset": PRESET_NAME}),
    }
    for kind, preset in wanted.items():
        presets = doc.setdefault(kind, [])
        if not isinstance(presets, list):
            raise InitError(f"{path}: \"{kind}\" is not a list")
        existing = next((p for p in presets if isinstance(p, dict) and p.get("name") == PRESET_NAME), None)
        if existing is None:
            presets.append(preset)
            changes.append(f"added {kind[:-7]} preset '{PRESET_NAME}'")
        elif not _compatible(kind, existing):
            raise InitError(f"{path} already has a {kind[:-7]} preset '{PRESET_NAME}' that is not racegate's; "
                            f"rename it or make it {_requirement(kind)}")
    return changes


def _insert_after(doc: dict[str, Any], anchors: tuple[str, ...], key: str, value: Any) -> None:
    """Put a new key after the last anchor present (dicts keep insertion order), so the file reads naturally."""
    items = list(doc.items())
    at = max((i + 1 for i, (k, _) in enumerate(items) if k in anchors), default=0)
    items.insert(at, (key, value))
    doc.clear()
    doc.update(items)


def _compatible(kind: str, preset: dict[str, Any]) -> bool:
    if kind == "configurePresets":
        return _inherits(preset, BASE_PRESET)
    return preset.get("configurePreset") == PRESET_NAME or _inherits(preset, BASE_PRESET)


def _requirement(kind: str) -> str:
    if kind == "configurePresets":
        return f"inherit \"{BASE_PRESET}\""
    return f"use \"configurePreset\": \"{PRESET_NAME}\""


def _indent_of(text: str) -> int:
    """Keep the file's own indentation (first indented line), 2 when there is none."""
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(stripped) < len(line):
            return len(line) - len(stripped)
    return 2


def _dump(doc: dict[str, Any], indent: int) -> str:
    return json.dumps(doc, indent=indent, ensure_ascii=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, so an interruption never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _workflow(prefix: str) -> str:
    return f"""\
# Written by `racegate init`. Builds the `{PRESET_NAME}` preset under ThreadSanitizer, repeats the tests,
# and fails on new races. Reports are uploaded as the `racegate` artifact. See {prefix}docs/ci.md.
name: racegate

on:
  pull_request:
  push:
    branches: [main]

permissions:
  contents: read

jobs:
  racegate:
    runs-on: ubuntu-24.04
    # For code scanning alerts (public repositories or GitHub Advanced Security) set `sarif: true` below
    # and grant: permissions: {{contents: read, security-events: write, actions: read}}
    steps:
      - uses: actions/checkout@v5
        with:
          submodules: recursive
      - uses: ./{prefix}ci/github
        with:
          preset: {PRESET_NAME}
          compiler: clang
          time-budget: "300"
          baseline: racegate-baseline.json
          sarif: false
"""
