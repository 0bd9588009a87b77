"""Build the scheduling shim (shim/racegate_sched.c) once per source and compiler, and read its reports."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "shim" / "racegate_sched.c"

# clang's TSan looks up the condition-variable functions with dlvsym(..., "GLIBC_2.3.2"); an
# unversioned definition in the shim would be skipped there, so these two carry glibc's version.
_VERSION_SCRIPT = "GLIBC_2.3.2 {\n  global: pthread_cond_wait; pthread_cond_timedwait;\n};\n"
_FLAGS = ("-shared", "-fPIC", "-O2", "-fvisibility=hidden")
_NAME_PREFIX = "racegate_sched-"  # then the build key and ".so"
_LIBS = ("-ldl", "-lpthread")


class ShimBuildError(RuntimeError):
    """The shim could not be compiled; the message is one line saying why."""


def _compiler() -> str:
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return path
    raise ShimBuildError("cannot build the racegate scheduling shim: no C compiler (cc, gcc or clang) on PATH")


def _compiler_id(cc: str) -> str:
    try:
        out = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ShimBuildError(f"cannot build the racegate scheduling shim: {cc} --version failed: {exc}") from exc
    return os.path.realpath(cc) + "\n" + (out.splitlines() or [""])[0]


# The shim binds glibc's x86-64 symbol versions (GLIBC_2.2.5, GLIBC_2.3.2); other targets have other ones.
SUPPORTED_ARCHITECTURES = ("x86_64",)


def _target_architecture(cc: str) -> str:
    """The CPU the compiler builds for, from its target triple (e.g. x86_64-linux-gnu -> x86_64)."""
    try:
        out = subprocess.run([cc, "-dumpmachine"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ShimBuildError(f"cannot build the racegate scheduling shim: {cc} -dumpmachine failed: {exc}") from exc
    return out.strip().split("-", 1)[0]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    cache = Path(base) / "racegate"
    # LD_PRELOAD splits on spaces and colons: a shim under such a path would silently not load.
    if any(c in str(cache) for c in " :"):
        cache = Path(tempfile.gettempdir()) / f"racegate-{os.getuid()}"
    return cache


def ensure_shim(cache_dir: Path | None = None) -> Path:
    """Return the path of the compiled shim, compiling it first when this source/compiler has no build yet."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cc = _compiler()
    arch = _target_architecture(cc)
    if arch not in SUPPORTED_ARCHITECTURES:
        raise ShimBuildError(f"cannot build the racegate scheduling shim: architecture {arch or 'unknown'} is not "
                             f"supported ({cc} targets it; the shim supports {', '.join(SUPPORTED_ARCHITECTURES)})")
    try:
        source = SOURCE.read_bytes()
    except OSError as exc:
        raise ShimBuildError(f"cannot build the racegate scheduling shim: {exc}") from exc
    key = hashlib.sha256(
        b"\0".join([source, _VERSION_SCRIPT.encode(), _compiler_id(cc).encode(), " ".join(_FLAGS + _LIBS).encode()])
    ).hexdigest()[:16]
    target = cache / f"{_NAME_PREFIX}{key}.so"
    if target.is_file():
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ShimBuildError(f"cannot build the racegate scheduling shim: cache dir {cache}: {exc}") from exc
    # Build under a private name and rename: concurrent runners never see a half-written library.
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        script = Path(tmp) / "shim.map"
        script.write_text(_VERSION_SCRIPT)
        out = Path(tmp) / target.name
        argv = [cc, *_FLAGS, f"-Wl,--version-script={script}", "-o", str(out), str(SOURCE), *_LIBS]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ShimBuildError(f"cannot build the racegate scheduling shim: {exc}") from exc
        if proc.returncode != 0:
            first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:200])
            raise ShimBuildError(f"cannot build the racegate scheduling shim with {cc}: {first}")
        os.replace(out, target)
    return target


def preloads_shim(ld_preload: str) -> bool:
    """Whether an LD_PRELOAD value (entries split by spaces or colons) loads a build of the shim."""
    return any(Path(entry).name.startswith(_NAME_PREFIX) for entry in re.split(r"[\s:]+", ld_preload) if entry)


# Keys that describe the schedule of the first process; all other numeric keys add up over processes.
_FIRST_PROCESS_KEYS = ("schedule", "applied", "seed", "cpu", "pct_priorities", "pct_change_points")


def _parse_blocks(text: str) -> dict[str, dict[str, str]]:
    """Last complete snapshot per pid (a block ends with end=1), in order of first appearance."""
    blocks: dict[str, dict[str, str]] = {}
    pid = ""
    current: dict[str, str] | None = None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "pid":
            pid, current = value, {}
        elif key == "end" and current is not None:
            blocks[pid] = current  # a later snapshot replaces the earlier one, keeping its place
            current = None
        elif current is not None:
            current[key] = value
    return blocks


def read_shim_report(path: str | os.PathLike[str]) -> dict:
    """Summarise the shim's report file; {} when it is missing or empty (e.g. not a TSan process).

    Returns max_threads (most alive at once in any one process), threads_created and the event
    counters (mutex_locks, mutex_unlocks, cond_waits, joins, yields, sleeps, delays, ...) summed
    over processes, schedule/applied/seed/cpu/pct_* of the first process, "note" when the shim
    had to fall back, and "processes".
    """
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return {}
    blocks = _parse_blocks(text)
    if not blocks:
        return {}
    result: dict = {"processes": len(blocks)}
    notes: list[str] = []
    for index, block in enumerate(blocks.values()):
        for key, value in block.items():
            if key == "phase":
                continue
            if key == "note":
                if value not in notes:
                    notes.append(value)
            elif key in _FIRST_PROCESS_KEYS:
                if index == 0:
                    result[key] = int(value) if value.isdigit() else value
            elif value.isdigit():
                number = int(value)
                if key == "max_threads":
                    result[key] = max(result.get(key, 0), number)
                else:
                    result[key] = result.get(key, 0) + number
    if notes:
        result["note"] = "; ".join(notes)
    return result
