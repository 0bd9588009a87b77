"""Schedule perturbation strategies: (strategy, seed, test) -> argv and environment of one run.

The shim (shim/racegate_sched.c) changes the schedule for pin, noise and pct. Under the other
strategies it only counts threads, so the runner preloads it there until it knows a test's count.
"""
from __future__ import annotations

import mmap
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterable

from racegate.discover import is_gtest_command
from racegate.model import TestCase
from racegate.shim import ShimBuildError, ensure_shim

STRATEGIES = ("none", "pin", "noise", "pct", "tsan-delay", "repeat-in-process")

# From bench/detection.py (docs/scheduling.md): pct detects the ordering-masked sample race on the
# most runs with both compilers, pin next; noise is the one that keeps threads on all CPUs, so races
# that need real parallelism stay visible.
DEFAULT_PORTFOLIO = ("noise", "pct")
SHIM_SCHEDULES = ("pin", "noise", "pct")  # the strategies the shim carries out

GTEST_REPEAT = 20  # iterations per process under repeat-in-process
_TSAN_DELAY_FLAG = "enable_adaptive_delay"
_PROBE_TIMEOUT = 60.0

# Sanitizer flag strings separate flags with any of these (sanitizer_flag_parser's is_space).
_SEPARATORS = " ,:\n\t\r"


def _split_tsan_options(text: str) -> list[tuple[str, str]]:
    """[(name, raw token)] in order; values may be quoted with ' or " and then hold separators."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in _SEPARATORS:
            i += 1
            continue
        start = i
        while i < n and text[i] not in _SEPARATORS and text[i] != "=":
            i += 1
        name = text[start:i]
        if i < n and text[i] == "=":
            i += 1
            if i < n and text[i] in "'\"":
                close = text.find(text[i], i + 1)
                i = n if close < 0 else close + 1
            else:
                while i < n and text[i] not in _SEPARATORS:
                    i += 1
        tokens.append((name, text[start:i]))
    return tokens


def merge_tsan_options(existing: str, additions: dict[str, str], keep: tuple[str, ...] = ()) -> str:
    """Add or replace flags in a TSAN_OPTIONS string, leaving every other flag as it was.

    Flags named in `keep` are never replaced when `existing` already sets them.
    """
    tokens = _split_tsan_options(existing)
    present = {name for name, _ in tokens}
    replaced = {k for k in additions if not (k in keep and k in present)}
    out = [raw for name, raw in tokens if name not in replaced]
    for key in additions:
        if key in replaced:
            value = additions[key]
            if any(c in _SEPARATORS for c in value):
                value = '"' + value + '"'
            out.append(f"{key}={value}")
    return ":".join(out)


def without_tsan_option(text: str, name: str) -> str:
    """The TSAN_OPTIONS string with every `name=` flag removed, the others kept as written."""
    return ":".join(raw for flag, raw in _split_tsan_options(text) if flag != name)


def _tsan_option_dict(text: str) -> dict[str, str]:
    result = {}
    for name, raw in _split_tsan_options(text):
        value = raw[len(name) + 1 :]
        if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
            value = value[1:-1]
        result[name] = value
    return result


def gtest_seed(seed: int) -> int:
    """GoogleTest accepts --gtest_random_seed in 1..99999."""
    return 1 + seed % 99999


_probe_cache: dict[tuple[str, int, int], frozenset[str]] = {}


def _runtime_flags(command: list[str]) -> frozenset[str]:
    """Names of the TSan runtime flags the binary's runtime knows (TSAN_OPTIONS=help=1).

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
    env["RACEGATE_SCHEDULE"] = "probe"
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


def available(test_command: list[str], wanted: Iterable[str] = STRATEGIES) -> list[str]:
    """The strategies of `wanted` that apply to this command, in STRATEGIES order.

    tsan-delay needs a TSan runtime with enable_adaptive_delay (LLVM 23+; probed once per binary, and
    only when asked for: the probe starts the binary); repeat-in-process needs a GoogleTest command
    (one with a --gtest_ argument, as CTest registers them).
    """
    result = []
    for name in STRATEGIES:
        if name not in wanted:
            continue
        if name == "tsan-delay" and _TSAN_DELAY_FLAG not in _runtime_flags(list(test_command)):
            continue
        if name == "repeat-in-process" and not is_gtest_command(test_command):
            continue
        result.append(name)
    return result


def prepare_run(
    strategy: str,
    seed: int,
    test: TestCase,
    base_env: dict[str, str],
    shim: Path | None,
    report_path: Path,
) -> tuple[list[str], dict[str, str]]:
    """argv and full environment for one run of `test` under `strategy` with `seed`.

    The environment is base_env, then the test's own environment (its TSAN_OPTIONS merged into the
    base ones, never replacing the base log_path), then racegate's: RACEGATE_SEED, RACEGATE_SCHEDULE,
    RACEGATE_SHIM_REPORT, the shim prepended to LD_PRELOAD, and strategy flags added to TSAN_OPTIONS.
    The same arguments always give the same result.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an unsigned 64-bit integer, got {seed}")
    argv = list(test.command)
    if strategy == "repeat-in-process":
        if not (test.is_gtest or is_gtest_command(argv)):
            raise ValueError(f"repeat-in-process applies only to GoogleTest tests, not {test.name!r}")
        argv += [f"--gtest_repeat={GTEST_REPEAT}", "--gtest_shuffle", f"--gtest_random_seed={gtest_seed(seed)}"]

    env = dict(base_env)
    test_env = dict(test.env)
    base_tsan = env.get("TSAN_OPTIONS", "")
    env.update(test_env)
    tsan = base_tsan
    if "TSAN_OPTIONS" in test_env:
        tsan = merge_tsan_options(base_tsan, _tsan_option_dict(test_env["TSAN_OPTIONS"]), keep=("log_path",))
    if strategy == "tsan-delay":
        tsan = merge_tsan_options(tsan, {_TSAN_DELAY_FLAG: "1"})
    if tsan:
        env["TSAN_OPTIONS"] = tsan
    else:
        env.pop("TSAN_OPTIONS", None)

    env["RACEGATE_SEED"] = str(seed)
    env["RACEGATE_SCHEDULE"] = strategy
    env["RACEGATE_SHIM_REPORT"] = str(report_path)
    if shim is not None:
        preload = env.get("LD_PRELOAD", "").strip()
        env["LD_PRELOAD"] = f"{shim}:{preload}" if preload else str(shim)
    return argv, env
