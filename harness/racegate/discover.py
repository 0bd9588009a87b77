"""Discover tests from a CMake binary dir through `ctest --show-only=json-v1`."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

from racegate import frameworks
from racegate.errors import RacegateError
from racegate.frameworks.gtest import is_gtest_command
from racegate.model import NOT_BUILT, TestCase


# gtest_discover_tests registers this placeholder in place of the tests of a target that was not built.
# The placeholder gtest_discover_tests (`<target>_NOT_BUILT`) and doctest_discover_tests
# (`<target>_NOT_BUILT-<hash>`) register for a target that was not built.
_NOT_BUILT = re.compile(r"(?P<target>.+)_NOT_BUILT(?:-[0-9a-f]+)?")


def discover(build_dir: Path, pattern: str | None = None) -> list[TestCase]:
    """Every enabled test of `build_dir` whose name matches `pattern`, with its exact command, environment
    and properties, whether or not its executable was built: selection comes first, so a test that is not
    selected never matters (`missing_executable` says which selected ones cannot run)."""
    roots = testing_roots(build_dir)
    if not roots:
        raise RacegateError(f"{build_dir} has no CTestTestfile.cmake, nor any of its subdirs: not a built CMake dir "
                            "with enable_testing()")
    tests = _unique_names([t for root in roots for t in (test_from_json(entry) for entry in _listing(root))
                           if t is not None])
    if pattern is not None:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise RacegateError(f"bad --tests regex {pattern!r}: {exc}") from None
        # `-R suite` keeps all of a split test's cases, `-R suite/case` (or `-R case`) the cases it matches.
        return [case for test in tests for case in split_ctest_test(test)
                if regex.search(test.name) or regex.search(case.name)]
    return [case for test in tests for case in split_ctest_test(test)]


def testing_roots(build_dir: Path) -> list[Path]:
    """The dirs of `build_dir` whose tests ctest lists: itself when its top level enables testing; else, breadth
    first, each subdir holding a CTestTestfile.cmake that no shallower one covers (`enable_testing()` called only
    in `tests/`, or in several sibling subdirs: all of them, as one `enable_testing()` at the top would list).
    A subdir that is a binary tree of its own (a CMakeCache.txt: an external project's build) is not searched,
    nor CMakeFiles, which holds no tests."""
    if (build_dir / CTEST_FILE).is_file():
        return [build_dir]
    roots: list[Path] = []
    level = [build_dir]
    while level:
        below: list[Path] = []
        for directory in level:
            try:
                subdirs = sorted(e.path for e in os.scandir(directory) if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
            for sub in map(Path, subdirs):
                if sub.name == "CMakeFiles" or (sub / "CMakeCache.txt").is_file():
                    continue
                (roots if (sub / CTEST_FILE).is_file() else below).append(sub)
        level = below
    return roots


CTEST_FILE = "CTestTestfile.cmake"


def _listing(root: Path) -> list[dict]:
    """ctest's json-v1 entries of the tests under `root`, each with the command CMake registered for it when
    ctest left it out (its program was not built)."""
    proc = subprocess.run(
        ["ctest", "--show-only=json-v1", "--test-dir", str(root)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no output"])[0]
        raise RacegateError(f"ctest could not list the tests of {root}: {first}")
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RacegateError(f"ctest printed invalid JSON for {root}: {exc}") from None
    entries = info.get("tests", [])
    if any(not entry.get("command") for entry in entries):
        registered = _registered_commands(root)
        entries = [entry if entry.get("command") else dict(entry, command=registered.get(entry.get("name"), []))
                   for entry in entries]
    return entries


def missing_executable(test: TestCase) -> str | None:
    """Why `test` cannot run because its program was not built ("not built: PATH is missing"), or None."""
    if not test.command:
        placeholder = _NOT_BUILT.fullmatch(test.name)
        if placeholder:
            # The target's name is what the user passes to `--target` to build it.
            return f"{NOT_BUILT}: {placeholder.group('target')} is missing"
        return f"{NOT_BUILT}: the executable of {test.name} is missing"
    program = test.command[0]
    if _runnable(program):
        return None
    if os.sep in program and os.path.isfile(program):
        return f"{NOT_BUILT}: {program} is not executable"
    return f"{NOT_BUILT}: {program} is missing"


def _registered_commands(build_dir: Path) -> dict[str, list[str]]:
    """The commands CMake wrote for each test into the CTestTestfile.cmake files of `build_dir` and its
    subdirs. ctest's listing leaves out the command of a test whose program does not exist; these files
    still say which program that is."""
    commands: dict[str, list[str]] = {}
    pending = [build_dir]
    while pending:
        directory = pending.pop()
        try:
            text = (directory / CTEST_FILE).read_text(errors="replace")
        except OSError:
            continue
        for match in _ADD_TEST.finditer(text):
            name = match.group("bracketed") if match.group("bracketed") is not None else match.group("plain")
            args = [re.sub(r"\\(.)", r"\1", arg) for arg in _QUOTED.findall(match.group("args"))]
            commands.setdefault(name, args)
        pending.extend(directory / sub for sub in reversed(_SUBDIRS.findall(text)))
    return commands


# `add_test([=[name]=] "program" "arg")` (policy CMP0110 NEW) or `add_test(name "program" "arg")` (OLD).
_ADD_TEST = re.compile(r'^add_test\((?:\[(?P<eq>=*)\[(?P<bracketed>.*?)\](?P=eq)\]|(?P<plain>[^\s"]+)) (?P<args>.*)\)$',
                       re.MULTILINE)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SUBDIRS = re.compile(r'^subdirs\("((?:[^"\\]|\\.)*)"\)$', re.MULTILINE)


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
    """One test of ctest's json-v1 listing; None for a disabled test. A test whose program was not built has
    no command (ctest leaves it out) or the one CMake registered for it; `missing_executable` tells."""
    props = {p.get("name"): p.get("value") for p in entry.get("properties", [])}
    command = entry.get("command")
    if props.get("DISABLED"):
        return None
    env = []
    for item in props.get("ENVIRONMENT") or []:
        key, sep, value = item.partition("=")
        if sep:
            env.append((key, value))
    timeout = props.get("TIMEOUT")
    skip_code = props.get("SKIP_RETURN_CODE")
    return TestCase(
        name=entry["name"],
        command=tuple(command or ()),
        cwd=props.get("WORKING_DIRECTORY"),
        env=tuple(env),
        timeout=float(timeout) if timeout else None,
        labels=tuple(props.get("LABELS") or ()),
        is_gtest=is_gtest_command(command or ()),
        will_fail=bool(props.get("WILL_FAIL")),
        skip_return_code=int(skip_code) if skip_code is not None else None,
        run_serial=bool(props.get("RUN_SERIAL")),
        resource_locks=tuple(sorted(set(_strings(props.get("RESOURCE_LOCK"))))),
        processors=max(1, int(props.get("PROCESSORS") or 1)),
    )


def _strings(value: object) -> list[str]:
    """A list property as ctest lists it; a lone string (hand-written listings) as one item."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def command_test(argv: list[str]) -> TestCase:
    """A test made of an arbitrary command (`racegate run -- CMD ARGS`)."""
    if not argv:
        raise RacegateError("nothing to run: give --preset, --build-dir or -- CMD ARGS")
    # Run where racegate was started: the reproduce line then says so (env -C), relative paths and all.
    return TestCase(name=command_name(argv)[:200], command=tuple(argv), cwd=os.getcwd(),
                    is_gtest=is_gtest_command(argv))


# An argument the name must quote, or `prog "a b"` and `prog a b` would be one test to the history and baseline.
_NEEDS_QUOTING = re.compile(r"""[\s'"\\]""")


def command_name(argv: list[str]) -> str:
    """The test name of a command: its arguments joined by spaces, shell-quoted where one is empty or holds a space
    or a quote; others stay bare (even `*`), so the names of earlier releases' histories and baselines hold."""
    return " ".join(shlex.quote(a) if not a or _NEEDS_QUOTING.search(a) else a for a in argv)


def command_tests(argv: list[str]) -> list[TestCase]:
    """The tests of `racegate run -- CMD ARGS`: each test of a program of a framework racegate knows (as its
    listing lists them, honouring a selection given: `--gtest_list_tests`, doctest's `--list-test-cases`;
    Boost.Test's and Catch2's when the command selects none), named as listed, else the command as one test."""
    whole = command_test(argv)
    return split_into_cases(whole, lambda case: case)


def split_ctest_test(test: TestCase) -> list[TestCase]:
    """A CTest test that runs a whole Boost.Test or Catch2 program (a plain `add_test`), as one test per case,
    named `<test>/<case>`; any other test as it is."""
    # By the program alone, once per program: the thousands of tests gtest_discover_tests registers share one.
    framework = frameworks.of_program(test.command[0]) if test.command else None
    if framework is None or not framework.splits_ctest_tests:
        return [test]
    return split_into_cases(test, lambda case: f"{test.name}/{case}")


def split_into_cases(test: TestCase, name_of: Callable[[str], str]) -> list[TestCase]:
    """One test per case the test's program lists (named `name_of(case)`, its command selecting the case), when
    the program is of a framework racegate knows and the test selects no cases of its own; else the test as
    it is (also when the listing fails or lists nothing: the test's own run says what is wrong)."""
    framework = frameworks.of_command(test.command)
    if framework is None or framework.selects_cases(test):
        return [test]
    try:
        proc = subprocess.run([*test.command, framework.list_option], capture_output=True, text=True,
                              errors="replace", stdin=subprocess.DEVNULL, timeout=LISTING_TIMEOUT, cwd=test.cwd,
                              env={**os.environ, **dict(test.env)})
    except (OSError, subprocess.TimeoutExpired):
        return [test]
    if not framework.listing_ok(proc.returncode):
        return [test]
    listing = proc.stderr if framework.lists_on_stderr else proc.stdout
    return [dataclasses.replace(test, name=name_of(case), command=framework.select_one(test.command, case))
            for case in framework.parse_listing(listing)] or [test]


LISTING_TIMEOUT = 120.0  # seconds for a test program to list its tests (under TSan it starts slowly)


def shard(tests: list[TestCase], index: int, count: int) -> list[TestCase]:
    """Shard `index` (1-based) of `count`: round-robin over the tests sorted by name, so shards balance
    and every machine computes the same split from the same test list."""
    ordered = sorted(tests, key=lambda t: t.name)
    return [t for i, t in enumerate(ordered) if i % count == index - 1]


def select(found: list[TestCase], shard_of: tuple[int, int] | None,
           check_built: bool = True) -> tuple[list[TestCase], list[tuple[TestCase, str]]]:
    """The tests to run, and the selected ones whose executable was not built with why (they are listed as not
    run). -R (in discovery) and the shard choose first, so an unbuilt test they leave out never matters.
    `check_built` is False for `-- CMD`, which is run as given: a missing program there is the command's own
    failure, not a partial build."""
    missing = {t.name: why for t in found if check_built and (why := missing_executable(t))}
    if found and len(missing) == len(found):
        # Decided before sharding, the same way on every shard: a shard whose tests all happen to be
        # unbuilt only lists them, like an empty shard, while the others run.
        first = found[0]
        more = f", and {len(found) - 1} more" if len(found) > 1 else ""
        raise RacegateError(f"nothing to run: no selected test is built ({first.name}: "
                            f"{missing[first.name].removeprefix(f'{NOT_BUILT}: ')}{more})")
    if shard_of:
        found = shard(found, *shard_of)
    if not found and not shard_of:
        raise RacegateError("nothing to run: no test matched")
    # An empty shard (more shards than tests) is not an error: its result merges as nothing.
    not_built = [(t, missing[t.name]) for t in found if t.name in missing]
    if not_built:
        names = ", ".join(t.name for t, _ in not_built[:5]) + (" ..." if len(not_built) > 5 else "")
        print(f"racegate: {len(not_built)} selected test{'s' if len(not_built) != 1 else ''} not built, "
              f"listed as not run: {names}", file=sys.stderr)
    return [t for t in found if t.name not in missing], not_built


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match:
        raise RacegateError(f"bad --shard {text!r}: expected I/N, e.g. 1/4")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        raise RacegateError(f"bad --shard {text!r}: I must be between 1 and N")
    return index, count
