"""Configure and build a project through a CMake preset, and check what was built."""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

from racegate.errors import RacegateError

_WRITTEN_TO = re.compile(r"^-- Build files have been written to: (.+)$", re.MULTILINE)
# Linker complaints that mean the compiler has no TSan runtime to link against.
_NO_RUNTIME = re.compile(r"cannot find -ltsan|libclang_rt\.tsan[^\s:]*: No such file|cannot find .*libclang_rt\.tsan"
                         r"|unsupported option '-fsanitize=thread'|libtsan\.so[.\d]*: cannot open")


def build_preset(source_dir: Path, preset: str, log_path: Path, jobs: int) -> Path:
    """Configure and build `preset` in `source_dir`; return the binary dir. Output goes to `log_path`."""
    if not (source_dir / "CMakePresets.json").is_file() and not (source_dir / "CMakeUserPresets.json").is_file():
        raise RacegateError(f"no CMakePresets.json in {source_dir}: run `racegate init` there or pass -S DIR")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("")
    returncode, output = _logged(["cmake", "--preset", preset], source_dir, log_path)
    if returncode != 0:
        raise RacegateError(_explain(f"configure of preset {preset!r} failed", output, log_path))
    found = _WRITTEN_TO.findall(output)
    if not found:
        raise RacegateError(f"cmake did not say where preset {preset!r} builds (see {log_path})")
    binary_dir = Path(found[-1].strip())
    returncode, output = _logged(["cmake", "--build", str(binary_dir), "--parallel", str(jobs)], source_dir, log_path)
    if returncode != 0:
        raise RacegateError(_explain(f"build of preset {preset!r} failed", output, log_path))
    return binary_dir


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
    if _NO_RUNTIME.search(output):
        return (f"{what}: the compiler has no ThreadSanitizer runtime "
                f"(install libtsan2 for gcc or libclang-rt-dev for clang; see {log_path})")
    errors = [line.strip() for line in output.splitlines() if re.search(r"\berror\b|Error", line)]
    detail = errors[0] if errors else "see the log"
    return f"{what} ({log_path}): {detail}"


def cache_value(build_dir: Path, key: str) -> str | None:
    """A value from the binary dir's CMakeCache.txt, or None."""
    try:
        text = (build_dir / "CMakeCache.txt").read_text(errors="replace")
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
    """"Clang 14.0.6" / "GNU 12.2.0": what CMake detected for C++ in this binary dir."""
    for path in sorted(build_dir.glob("CMakeFiles/*/CMakeCXXCompiler.cmake")):
        text = path.read_text(errors="replace")
        found = [re.search(rf'^set\(CMAKE_CXX_COMPILER_{key} "([^"]*)"\)', text, re.MULTILINE)
                 for key in ("ID", "VERSION")]
        if found[0]:
            return " ".join(m.group(1) for m in found if m and m.group(1))
    return None
