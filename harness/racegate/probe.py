"""Ask a test binary's TSan runtime which flags it knows. This starts the binary (and may build the shim)."""
from __future__ import annotations

import mmap
import os
import re
import shutil
import subprocess

from racegate.shim import ShimBuildError, ensure_shim

_PROBE_TIMEOUT = 60.0
# The shim's RACEGATE_SCHEDULE value that makes it exit once TSan has printed its flags; not a strategy.
SHIM_PROBE_MODE = "probe"

_probe_cache: dict[tuple[str, int, int], frozenset[str]] = {}


def probe_tsan_runtime_flags(command: list[str]) -> frozenset[str]:
    """Names of the TSan runtime flags the binary's runtime knows (TSAN_OPTIONS=help=1), once per binary.

    The shim in probe mode exits right after TSan has printed its flags, so the test body never
    runs; without the shim the test runs once under the timeout.
    """
    binary = command[0]
    try:
        st = os.stat(binary)
        key = (os.path.realpath(binary), st.st_mtime_ns, st.st_size)
    except OSError:
        key = (binary, 0, 0)
    if key in _probe_cache:
        return _probe_cache[key]
    if not _links_tsan(binary):
        # Probing runs the program: never do that to one that has no TSan runtime to print flags.
        _probe_cache[key] = frozenset()
        return _probe_cache[key]
    env = dict(os.environ)
    env["TSAN_OPTIONS"] = "help=1"
    env["RACEGATE_SCHEDULE"] = SHIM_PROBE_MODE
    env.pop("RACEGATE_SHIM_REPORT", None)
    try:
        env["LD_PRELOAD"] = str(ensure_shim())
    except ShimBuildError:
        env.pop("LD_PRELOAD", None)
    try:
        proc = subprocess.run(
            list(command), env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=_PROBE_TIMEOUT
        )
        text = (proc.stdout + proc.stderr).decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired) as exc:
        out = getattr(exc, "stderr", None) or b""
        text = out.decode(errors="replace") if isinstance(out, bytes) else ""
    flags = frozenset(re.findall(r"^\t(\w+)\n\t\t- ", text, re.MULTILINE))
    _probe_cache[key] = flags
    return flags


def _links_tsan(binary: str) -> bool:
    """Whether the executable has TSan linked in (clang) or imports it (gcc): both name __tsan_init."""
    path = binary if os.sep in binary else shutil.which(binary)
    try:
        with open(path or binary, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(b"__tsan_init") != -1
    except (OSError, ValueError):
        return False
