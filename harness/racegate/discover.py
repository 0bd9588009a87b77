"""Discover tests from a CMake binary dir through `ctest --show-only=json-v1`."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from racegate.errors import RacegateError
from racegate.model import TestCase


def discover(build_dir: Path, pattern: str | None = None) -> list[TestCase]:
    """Every enabled test of `build_dir`, with its exact command, environment and properties."""
    if not (build_dir / "CTestTestfile.cmake").is_file():
        raise RacegateError(f"{build_dir} has no CTestTestfile.cmake: not a built CMake dir with enable_testing()")
    proc = subprocess.run(
        ["ctest", "--show-only=json-v1", "--test-dir", str(build_dir)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no output"])[0]
        raise RacegateError(f"ctest could not list the tests of {build_dir}: {first}")
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RacegateError(f"ctest printed invalid JSON for {build_dir}: {exc}") from None
    tests = _unique_names([t for t in (test_from_json(entry) for entry in info.get("tests", [])) if t is not None])
    if pattern is not None:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise RacegateError(f"bad --tests regex {pattern!r}: {exc}") from None
        tests = [t for t in tests if regex.search(t.name)]
    for test in tests:
        if not _runnable(test.command[0]):
            raise RacegateError(f"test {test.name!r}: {test.command[0]} does not exist or is not executable "
                                "(is the build complete?)")
    return tests


def _unique_names(tests: list[TestCase]) -> list[TestCase]:
    """CTest lets two directories register the same test name; racegate keys everything on it."""
    seen: dict[str, int] = {}
    unique = []
    for test in tests:
        count = seen[test.name] = seen.get(test.name, 0) + 1
        unique.append(test if count == 1 else dataclasses.replace(test, name=f"{test.name} #{count}"))
    return unique


def _runnable(program: str) -> bool:
    if os.sep in program:
        return os.access(program, os.X_OK) and not os.path.isdir(program)
    return shutil.which(program) is not None


def test_from_json(entry: dict) -> TestCase | None:
    """One test of ctest's json-v1 listing; None for a disabled test."""
    props = {p.get("name"): p.get("value") for p in entry.get("properties", [])}
    command = entry.get("command")
    if props.get("DISABLED"):
        return None
    if not command:
        # ctest leaves the command out when the test's executable does not exist.
        raise RacegateError(f"test {entry.get('name')!r} has no executable (is the build complete?)")
    env = []
    for item in props.get("ENVIRONMENT") or []:
        key, sep, value = item.partition("=")
        if sep:
            env.append((key, value))
    timeout = props.get("TIMEOUT")
    skip_code = props.get("SKIP_RETURN_CODE")
    return TestCase(
        name=entry["name"],
        command=tuple(command),
        cwd=props.get("WORKING_DIRECTORY"),
        env=tuple(env),
        timeout=float(timeout) if timeout else None,
        labels=tuple(props.get("LABELS") or ()),
        is_gtest=is_gtest_command(command),
        will_fail=bool(props.get("WILL_FAIL")),
        skip_return_code=int(skip_code) if skip_code is not None else None,
        run_serial=bool(props.get("RUN_SERIAL")),
    )


def is_gtest_command(command: list[str] | tuple[str, ...]) -> bool:
    return any(arg.startswith("--gtest_") for arg in command[1:])


def command_test(argv: list[str]) -> TestCase:
    """A test made of an arbitrary command (`racegate run -- CMD ARGS`)."""
    if not argv:
        raise RacegateError("nothing to run: give --preset, --build-dir or -- CMD ARGS")
    return TestCase(name=" ".join(argv)[:200], command=tuple(argv), is_gtest=is_gtest_command(argv))


def shard(tests: list[TestCase], index: int, count: int) -> list[TestCase]:
    """Shard `index` (1-based) of `count`: round-robin over the tests sorted by name, so shards balance
    and every machine computes the same split from the same test list."""
    ordered = sorted(tests, key=lambda t: t.name)
    return [t for i, t in enumerate(ordered) if i % count == index - 1]


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match:
        raise RacegateError(f"bad --shard {text!r}: expected I/N, e.g. 1/4")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        raise RacegateError(f"bad --shard {text!r}: I must be between 1 and N")
    return index, count
