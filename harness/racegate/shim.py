"""Build the scheduling shim (shim/racegate_sched.c) once per source and compiler, and read its reports."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
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
# Keys that say which process image a block is of and where it came from, not what happened in it.
_IMAGE_KEYS = ("pid", "image", "phase", "tsan", "ppid", "origin", "exe", "exec")
# Programs without TSan that the TSan runtime itself starts (to symbolize a report's stacks): they run none of
# the test's code, so their threads do not matter.
RUNTIME_HELPERS = ("llvm-symbolizer", "addr2line")


@dataclass
class _Image:
    """One process image: a pid's program from its start (or its fork) to its exec or exit. `block` is its
    last complete snapshot."""

    pid: str
    block: dict[str, str]

    @property
    def instrumented(self) -> bool:
        return self.block.get("tsan", "1") == "1"  # reports of earlier releases came from TSan processes only

    def number(self, key: str) -> int:
        value = self.block.get(key, "")
        return int(value) if value.isdigit() else 0


def _parse_images(text: str) -> list[_Image]:
    """The last complete snapshot of each process image (a block ends with end=1), in order of first
    appearance. Blocks of one pid with another `image` stamp are another image: a forked child that exec'd."""
    images: dict[tuple[str, str], _Image] = {}
    key: tuple[str, str] | None = None
    current: dict[str, str] | None = None
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if not sep:
            continue
        if name == "pid":
            key, current = (value, ""), {"pid": value}
        elif current is None or key is None:
            continue
        elif name == "end":
            key = (key[0], current.get("image", ""))
            if key in images:
                images[key].block = current  # a later snapshot replaces the earlier one, keeping its place
            else:
                images[key] = _Image(key[0], current)
            current = None
        else:
            current[name] = value
    return list(images.values())


def _unobserved(images: list[_Image]) -> list[str]:
    """Why the threads of some process of the test went uncounted: each process the shim could not see."""
    reasons: list[str] = []
    traced = {i.pid for i in images if i.instrumented}
    by_pid: dict[str, list[_Image]] = {}
    for image in images:
        by_pid.setdefault(image.pid, []).append(image)
    for image in images:
        same_pid = by_pid[image.pid]
        earlier, later = same_pid[:same_pid.index(image)], same_pid[same_pid.index(image) + 1:]
        exe = image.block.get("exe", "?")
        # Started by a TSan process of the test (forked and exec'd, spawned, or exec'd in its place); a program
        # without TSan that starts the test (a wrapper such as `env`) has no TSan parent and is none of these.
        started_by_test = image.block.get("ppid") in traced or any(i.instrumented for i in earlier)
        if not image.instrumented and started_by_test and not exe.startswith(RUNTIME_HELPERS):
            reasons.append(f"it ran {exe}, which is not built with TSan")
        elif image.instrumented and image.block.get("phase") == "exec":
            if not later:
                reasons.append(f"it exec'd {image.block.get('exec', '?')}, where the shim wrote nothing "
                               "(a static program, or LD_PRELOAD cleared)")
    for pid in traced:
        forks = sum(i.number("forks") for i in by_pid[pid])
        children = {i.pid for i in images if i.block.get("origin") == "fork" and i.block.get("ppid") == pid}
        if len(children) < forks:
            reasons.append(f"{forks - len(children)} of its {forks} forked children wrote no report")
        spawns = sum(i.number("spawns") for i in by_pid[pid])
        spawned = {i.pid for i in images if i.block.get("origin") == "exec" and i.block.get("ppid") == pid
                   and i.pid not in children}
        if len(spawned) < spawns:
            reasons.append(f"{spawns - len(spawned)} of the {spawns} programs it started with posix_spawn wrote no "
                           "report (static programs, or LD_PRELOAD cleared)")
    return list(dict.fromkeys(reasons))


def read_shim_report(path: str | os.PathLike[str]) -> dict:
    """Summarise the shim's report file; {} when it is missing or holds no TSan process.

    Returns max_threads (most alive at once in any one process), threads_created and the event
    counters (mutex_locks, mutex_unlocks, cond_waits, joins, yields, sleeps, delays, ...) summed
    over the TSan processes, schedule/applied/seed/cpu/pct_* of the first process, "note" when the shim
    had to fall back, "processes" (TSan processes), and "unobserved" when some process of the test ran
    without the shim counting its threads (a program without TSan, a forked child or exec'd program that
    wrote nothing): why, one clause per cause.
    """
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return {}
    images = _parse_images(text)
    traced = [i for i in images if i.instrumented]
    if not traced:
        return {}
    result: dict = {"processes": len({i.pid for i in traced})}
    notes: list[str] = []
    for index, image in enumerate(traced):
        for key, value in image.block.items():
            if key in _IMAGE_KEYS:
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
    unobserved = _unobserved(images)
    if unobserved:
        result["unobserved"] = "; ".join(unobserved)
    return result


NO_REPORT = "the shim wrote no report (the test ran no TSan program it could load in)"


def thread_count(report: dict) -> tuple[int | None, str | None]:
    """The most threads any process of the run had alive at once, and why it is not known when it is not.

    None unless the shim counted every process: a single thread in the processes it saw says nothing of
    those it did not (a forked child of a single-threaded test runner is where the test's threads are).
    More than one in any process is enough to know the test is multi-threaded."""
    if not report:
        return None, NO_REPORT
    threads = report.get("max_threads")
    unobserved = report.get("unobserved")
    if unobserved and (threads is None or threads <= 1):
        return None, unobserved
    return threads, None
