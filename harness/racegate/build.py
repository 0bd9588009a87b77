"""Configure and build a project through a CMake preset, and check what was built."""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from racegate.errors import RacegateError

_WRITTEN_TO = re.compile(r"^-- Build files have been written to: (.+)$", re.MULTILINE)
# Linker complaints that mean the compiler has no TSan runtime to link against.
NO_RUNTIME = re.compile(r"cannot find -ltsan|libclang_rt\.tsan[^\s:]*: No such file|cannot find .*libclang_rt\.tsan"
                        r"|unsupported option '-fsanitize=thread'|libtsan\.so[.\d]*: cannot open")
# gcc's "'atomic_thread_fence' is not supported with '-fsanitize=thread'" made an error by the project's -Werror.
_WERROR_TSAN = re.compile(r"\[-Werror=tsan\]")
WERROR_TSAN_FIX = ("the racegate-tsan-gcc preset keeps it a warning (-Wno-error=tsan); with racegate-tsan and gcc, "
                   "or flags of your own, use racegate-tsan-gcc or add -Wno-error=tsan to CMAKE_C_FLAGS and "
                   "CMAKE_CXX_FLAGS (gcc only: clang rejects it under -Werror)")


def build_preset(source_dir: Path, preset: str, log_path: Path, jobs: int, targets: tuple[str, ...] = ()) -> Path:
    """Configure and build `preset` in `source_dir`; return the binary dir. Output goes to `log_path`.

    When the project has a build preset of that name, the build goes through it (its `targets`, `jobs` and
    `configuration` apply) after configuring its configure preset; otherwise `preset` is a configure preset
    and every target of its binary dir is built. `targets` replace what would be built."""
    if not any((source_dir / name).is_file() for name in PRESETS_FILES):
        raise RacegateError(f"no CMakePresets.json in {source_dir}: run `racegate init` there or pass -S DIR")
    build = find_build_preset(source_dir, preset)
    configure = build.configure_preset if build else preset
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("")
    expected = binary_dir_of(source_dir, configure)
    if expected is not None:
        write_codemodel_query(expected)
    returncode, output = _logged(["cmake", "--preset", configure], source_dir, log_path)
    if returncode != 0:
        raise RacegateError(_explain(f"configure of preset {configure!r} failed", output, log_path))
    found = _WRITTEN_TO.findall(output)
    if not found:
        raise RacegateError(f"cmake did not say where preset {configure!r} builds (see {log_path})")
    binary_dir = Path(found[-1].strip())
    if expected is None and binary_dir.is_dir():
        # A binaryDir whose macros racegate does not expand: asked now, answered by the next configure; until
        # then --changed-since reads the build's dependency files (changes.py).
        write_codemodel_query(binary_dir)
    if build is None:
        argv = ["cmake", "--build", str(binary_dir), "--parallel", str(jobs)]
    else:
        # A preset's own `jobs` is the project's choice; without one, build as parallel as racegate runs.
        argv = ["cmake", "--build", "--preset", preset] + ([] if build.has_jobs else ["--parallel", str(jobs)])
    for target in targets:
        argv += ["--target", target]
    returncode, output = _logged(argv, source_dir, log_path)
    if returncode != 0:
        raise RacegateError(_explain(f"build of preset {preset!r} failed", output, log_path))
    return binary_dir


# CMake's file API: this empty query file asks the next configure for the codemodel (each target's sources and
# artifacts), which --changed-since reads from the reply dir (changes.py).
CODEMODEL_QUERY = Path(".cmake/api/v1/query/codemodel-v2")


def write_codemodel_query(build_dir: Path) -> None:
    query = build_dir / CODEMODEL_QUERY
    query.parent.mkdir(parents=True, exist_ok=True)
    query.touch()


def binary_dir_of(source_dir: Path, configure: str) -> Path | None:
    """The binaryDir of a configure preset (following inherits and includes) before CMake makes it, when it uses
    only the macros ${sourceDir}, ${sourceParentDir}, ${sourceDirName} and ${presetName}; else None (left to
    cmake)."""
    text = load_presets(source_dir).inherited("configurePresets", configure, "binaryDir")
    if not isinstance(text, str):
        return None
    for macro, value in (("${sourceDir}", str(source_dir)), ("${sourceParentDir}", str(source_dir.parent)),
                         ("${sourceDirName}", source_dir.name), ("${presetName}", configure)):
        text = text.replace(macro, value)
    if "$" in text:
        return None
    return (source_dir / text).resolve()


@dataclass(frozen=True)
class BuildPreset:
    """What racegate needs of a build preset: the configure preset to configure first, whether it sets jobs."""

    name: str
    configure_preset: str
    has_jobs: bool


def find_build_preset(source_dir: Path, name: str) -> BuildPreset | None:
    """The visible build preset `name` of the project's CMakePresets.json and CMakeUserPresets.json (and the
    files they include), with inherited fields resolved; None when there is none."""
    presets = load_presets(source_dir)
    preset = presets.get("buildPresets", name)
    # A hidden one is only a base to inherit from: cmake refuses to build through it, so `name` is a configure preset.
    if preset is None or preset.get("hidden"):
        return None
    configure = presets.inherited("buildPresets", name, "configurePreset")
    if not isinstance(configure, str):
        raise RacegateError(f"build preset {name!r} names no configurePreset")
    return BuildPreset(name, configure, presets.inherited("buildPresets", name, "jobs") is not None)


# --- the one reader of CMake presets files (`run --preset`, doctor and init read them through it) ---------------

PRESETS_FILES = ("CMakePresets.json", "CMakeUserPresets.json")
PRESET_KINDS = ("configurePresets", "buildPresets", "testPresets")


@dataclass(frozen=True)
class Presets:
    """The presets of a project's presets files and the files they include, by kind and name. The first
    definition of a name wins (CMake refuses a project that defines one twice, so which is moot)."""

    by_kind: dict[str, dict[str, dict]]

    def get(self, kind: str, name: str) -> dict | None:
        return self.by_kind.get(kind, {}).get(name)

    def inherited(self, kind: str, name: str, key: str) -> Any:
        """`key` of preset `name`, or of the first preset it inherits from that has it: depth first, parents in
        their order, as CMake resolves `inherits`; None when none has it."""
        return self._inherited(self.by_kind.get(kind, {}), name, key, frozenset())

    def _inherited(self, presets: dict[str, dict], name: str, key: str, seen: frozenset[str]) -> Any:
        preset = presets.get(name)
        if preset is None or name in seen:
            return None
        if key in preset:
            return preset[key]
        parents = preset.get("inherits", [])
        for parent in [parents] if isinstance(parents, str) else parents:
            value = self._inherited(presets, parent, key, seen | {name})
            if value is not None:
                return value
        return None


def load_presets(source_dir: Path) -> Presets:
    """Every preset of `source_dir`'s presets files; RacegateError (one line) naming a file that cannot be read,
    is not a JSON object, or includes what is not a file."""
    by_kind: dict[str, dict[str, dict]] = {kind: {} for kind in PRESET_KINDS}
    for path in _preset_files(source_dir):
        doc = read_presets_file(path)
        for kind, presets in by_kind.items():
            entries = doc.get(kind, [])
            for preset in entries if isinstance(entries, list) else []:
                if isinstance(preset, dict) and isinstance(preset.get("name"), str):
                    presets.setdefault(preset["name"], preset)
    return Presets(by_kind)


def read_presets_file(path: Path) -> dict:
    """The top-level object of one presets file (after a byte-order mark, which CMake accepts)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise RacegateError(f"cannot read presets file {path}: {exc}") from None
    return parse_presets(text, path)


def parse_presets(text: str, path: Path) -> dict:
    """The top-level object of the presets file `path` whose text is `text`."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RacegateError(f"cannot parse presets file {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise RacegateError(f"presets file {path} is not a JSON object")
    return doc


def preset_names(doc: dict, kind: str) -> list[str]:
    """The names of the presets of one kind a presets file defines itself (a list that is not one has none)."""
    presets = doc.get(kind, [])
    if not isinstance(presets, list):
        return []
    return [str(p["name"]) for p in presets if isinstance(p, dict) and "name" in p]


def _preset_files(source_dir: Path) -> list[Path]:
    """CMakePresets.json, CMakeUserPresets.json and every file they include (paths relative to the file
    that includes them), each once."""
    pending = [source_dir / name for name in PRESETS_FILES if (source_dir / name).is_file()]
    files: list[Path] = []
    seen: set[Path] = set()
    while pending:
        path = pending.pop(0)
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        files.append(path)
        includes = read_presets_file(path).get("include", [])
        if not isinstance(includes, list):
            raise RacegateError(f"presets file {path}: \"include\" is not a list")
        for include in includes:
            included = path.parent / include
            if not included.is_file():
                raise RacegateError(f"{path} includes {include}, which is not a file")
            pending.append(included)
    return files


def _logged(argv: list[str], cwd: Path, log_path: Path) -> tuple[int, str]:
    """Run a step with its output appended to the log as it comes (a long build can be followed there);
    on an interrupt, the step's whole process group (make, compilers) is killed with it."""
    with open(log_path, "ab") as log:
        log.write(f"$ {shlex.join(argv)}\n".encode())
        log.flush()
        start = log.tell()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            returncode = proc.wait()
        except KeyboardInterrupt:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    with open(log_path, "rb") as log:
        log.seek(start)
        return returncode, log.read().decode("utf-8", errors="replace")


def _explain(what: str, output: str, log_path: Path) -> str:
    if NO_RUNTIME.search(output):
        return (f"{what}: the compiler has no ThreadSanitizer runtime "
                f"(install libtsan2 for gcc or libclang-rt-dev for clang; see {log_path})")
    errors = [line.strip() for line in output.splitlines() if re.search(r"\berror\b|Error", line)]
    detail = errors[0] if errors else "see the log"
    if _WERROR_TSAN.search(output):
        # The first error line is then the fence line itself, which says nothing of the way out.
        detail += f"; gcc warns that TSan ignores atomic_thread_fence and -Werror made that an error: {WERROR_TSAN_FIX}"
    return f"{what} ({log_path}): {detail}"


def tree_top(build_dir: Path) -> Path | None:
    """The top of the binary tree `build_dir` is in: itself or the nearest dir above holding CMakeCache.txt (a
    `--build-dir` naming the subdir whose tests are, when only that subdir calls enable_testing()); None when no
    dir above is one."""
    for directory in (build_dir, *build_dir.parents):
        if (directory / CACHE_FILE).is_file():
            return directory
    return None


CACHE_FILE = "CMakeCache.txt"


def cache_value(build_dir: Path, key: str) -> str | None:
    """A value from the CMakeCache.txt of the binary tree `build_dir` is in, or None."""
    top = tree_top(build_dir)
    if top is None:
        return None
    try:
        text = (top / CACHE_FILE).read_text(errors="replace")
    except OSError:
        return None
    match = re.search(rf"^{re.escape(key)}:[A-Z]+=(.*)$", text, re.MULTILINE)
    return match.group(1) if match else None


def uses_tsan(build_dir: Path) -> bool:
    """Whether the cached compile flags ask for ThreadSanitizer (presets and most setups put it there)."""
    flags = " ".join(filter(None, (cache_value(build_dir, k) for k in (
        "CMAKE_CXX_FLAGS", "CMAKE_C_FLAGS", "CMAKE_EXE_LINKER_FLAGS",
        f"CMAKE_CXX_FLAGS_{(cache_value(build_dir, 'CMAKE_BUILD_TYPE') or '').upper()}"))))
    return "-fsanitize=thread" in flags


def compiler(build_dir: Path) -> str | None:
    """"Clang 14.0.6" / "GNU 12.2.0": what CMake detected for C++ in the binary tree `build_dir` is in."""
    top = tree_top(build_dir)
    for path in sorted(top.glob("CMakeFiles/*/CMakeCXXCompiler.cmake") if top else ()):
        text = path.read_text(errors="replace")
        found = [re.search(rf'^set\(CMAKE_CXX_COMPILER_{key} "([^"]*)"\)', text, re.MULTILINE)
                 for key in ("ID", "VERSION")]
        if found[0]:
            return " ".join(m.group(1) for m in found if m and m.group(1))
    return None
