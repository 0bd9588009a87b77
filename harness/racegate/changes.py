"""`--changed-since REF`: what changed between REF and the work tree (git), which test executables compile it (the
build's CMake file API codemodel, else its dependency files), and which buckets lie on the changed lines.

The ranking's rule (the groups and their shares) is focus.py's; this module only reads git and the build."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

from racegate.focus import CHANGED, HISTORY, REST
from racegate.history import History
from racegate.model import TestCase
from racegate.result.buckets import BucketResult
from racegate.result.model import ChangeFocus, Result

# The codemodel reply CMake writes at configure for build.py's query (build.CODEMODEL_QUERY).
_REPLY = Path(".cmake/api/v1/reply")
_GIT_TIMEOUT = 60
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
# An object file's path names its target: <subdir>/CMakeFiles/<target>.dir/<source>.o
_TARGET_DIR = re.compile(r"(?:^|/)CMakeFiles/([^/]+)\.dir/")


@dataclass(frozen=True)
class ChangeSet:
    """What changed since the merge base of REF and HEAD: committed and uncommitted changes to tracked files."""

    ref: str
    base: str  # the merge-base commit
    files: frozenset[Path]  # absolute, resolved
    lines: Mapping[Path, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # first, last line (work tree)

    def on_changed_line(self, file: str, line: int | None, root: Path) -> bool:
        if not file or not line:
            return False
        path = _absolute(file, root)
        return any(first <= line <= last for first, last in self.lines.get(path, ()))

    def holds(self, file: str, root: Path) -> bool:
        return bool(file) and _absolute(file, root) in self.files


def read_changes(root: Path, ref: str) -> ChangeSet | str:
    """The changes between `ref`'s merge base with HEAD and the work tree of the git repository holding `root`, or
    why there is no focus (no git, not a repository, a REF git does not know)."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None:
        return f"{root} is not in a git work tree (or git is not installed)"
    top_dir = Path(top.strip()).resolve()
    if _git(top_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") is None:
        return f"git does not know {ref!r} here (a shallow clone may lack it: fetch it, or use fetch-depth: 0)"
    base = _git(top_dir, "merge-base", ref, "HEAD")
    if base is None:
        return f"{ref!r} and HEAD have no common ancestor"
    base = base.strip()
    # Against the work tree, not HEAD: what was built includes uncommitted edits, and line numbers are the tree's.
    names = _git(top_dir, "-c", "core.quotePath=false", "diff", "--no-ext-diff", "--no-renames", "--name-only",
                 "-z", base)
    hunks = _git(top_dir, "-c", "core.quotePath=false", "diff", "--no-ext-diff", "--no-renames", "--no-color",
                 "-U0", base)
    if names is None or hunks is None:
        return "git diff failed"
    files = frozenset((top_dir / n).resolve() for n in names.split("\0") if n)
    return ChangeSet(ref, base, files, changed_lines(hunks, top_dir))


def read_or_say(root: Path, ref: str) -> ChangeSet | str:
    """read_changes, saying once on stderr when there is no focus: the run goes on without one."""
    change = read_changes(root, ref)
    if isinstance(change, str):
        print(f"racegate: --changed-since {ref}: no focus: {change}", file=sys.stderr)
    return change


def changed_lines(diff: str, top: Path) -> dict[Path, tuple[tuple[int, int], ...]]:
    """{file: (first, last) line ranges of the new side} from `git diff -U0` output. A hunk that only deletes
    lines ("+c,0": after line c) marks the two lines it ran between: dropping a lock changes the lines beside it."""
    lines: dict[Path, list[tuple[int, int]]] = {}
    current: Path | None = None
    for text in diff.splitlines():
        if text.startswith("+++ "):
            name = text[4:]
            current = (top / name[2:]).resolve() if name.startswith("b/") else None
            continue
        match = _HUNK.match(text)
        if match and current is not None:
            start, count = int(match.group(1)), int(match.group(2) if match.group(2) is not None else 1)
            first, last = (start, start + count - 1) if count else (max(start, 1), start + 1)
            lines.setdefault(current, []).append((first, last))
    return {path: tuple(ranges) for path, ranges in lines.items()}


def _git(cwd: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                              errors="surrogateescape", timeout=_GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _absolute(file: str, root: Path) -> Path:
    path = Path(file)
    return (path if path.is_absolute() else root / path).resolve()


# --- what each executable is built from -------------------------------------------------------------------------

@dataclass
class _Target:
    artifacts: set[Path] = field(default_factory=set)
    files: set[Path] = field(default_factory=set)  # sources, and the headers the dependency files list


def built_from(build_dir: Path) -> dict[Path, set[Path]]:
    """{executable: every file its compilation read}: the codemodel's artifacts and sources, with the headers the
    build's dependency files (Ninja's .ninja_deps, Make's depend files) list per target. Without a codemodel the
    executable is found by its target's name: the file of that name its tests run."""
    targets = _codemodel(build_dir)
    for name, files in _dependencies(build_dir).items():
        targets.setdefault(name, _Target()).files |= files
    executables: dict[Path, set[Path]] = {}
    for name, target in targets.items():
        for artifact in target.artifacts or {Path(name)}:
            executables.setdefault(artifact, set()).update(target.files)
    return executables


def _codemodel(build_dir: Path) -> dict[str, _Target]:
    reply = build_dir / _REPLY
    indexes = sorted(reply.glob("index-*.json"))
    if not indexes:
        return {}
    try:
        index = json.loads(indexes[-1].read_text(encoding="utf-8"))
        model_file = index["reply"]["codemodel-v2"]["jsonFile"]
        model = json.loads((reply / model_file).read_text(encoding="utf-8"))
        source_top, build_top = Path(model["paths"]["source"]), Path(model["paths"]["build"])
        targets: dict[str, _Target] = {}
        for config in model["configurations"]:
            for entry in config["targets"]:
                data = json.loads((reply / entry["jsonFile"]).read_text(encoding="utf-8"))
                target = targets.setdefault(data["name"], _Target())
                target.artifacts |= {_absolute(a["path"], build_top) for a in data.get("artifacts", [])}
                target.files |= {_absolute(s["path"], source_top) for s in data.get("sources", [])}
        return targets
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # a reply of another CMake, or half written: the dependency files still tell


def _dependencies(build_dir: Path) -> dict[str, set[Path]]:
    if (build_dir / ".ninja_deps").is_file():
        return _ninja_deps(build_dir)
    return _make_deps(build_dir)


def _ninja_deps(build_dir: Path) -> dict[str, set[Path]]:
    try:
        proc = subprocess.run(["ninja", "-C", str(build_dir), "-t", "deps"], capture_output=True, text=True,
                              errors="surrogateescape", timeout=_GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return {}
    deps: dict[str, set[Path]] = {}
    current: set[Path] | None = None
    for line in proc.stdout.splitlines():
        if line and not line[0].isspace():
            match = _TARGET_DIR.search(line.split(":", 1)[0])
            current = deps.setdefault(match.group(1), set()) if match else None
        elif line.strip() and current is not None:
            current.add(_absolute(line.strip(), build_dir))
    return deps


def _make_deps(build_dir: Path) -> dict[str, set[Path]]:
    deps: dict[str, set[Path]] = {}
    for target_dir in build_dir.glob("**/CMakeFiles/*.dir"):
        files = [*target_dir.glob("**/*.d"), target_dir / "depend.make", target_dir / "compiler_depend.make"]
        found = deps.setdefault(target_dir.name[:-len(".dir")], set())
        for path in files:
            found |= _make_rule_inputs(path, build_dir)
    return deps


def _make_rule_inputs(path: Path, build_dir: Path) -> set[Path]:
    """The prerequisites of the rules in a Make-syntax dependency file."""
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return set()
    inputs: set[Path] = set()
    for rule in text.replace("\\\n", " ").splitlines():
        if rule.startswith("#") or ":" not in rule:
            continue
        _, _, after = rule.partition(": ")
        for token in re.split(r"(?<!\\)\s+", after.strip()):
            if token:
                inputs.add(_absolute(token.replace("\\ ", " "), build_dir))
    return inputs


# --- the ranking, and the marking of buckets ----------------------------------------------------------------------

def test_groups(tests: Iterable[TestCase], executables: Mapping[Path, set[Path]], change: ChangeSet,
                history: History | None, root: Path) -> dict[str, str]:
    """{test: focus group}: CHANGED when an executable its command runs reads a changed file, else HISTORY when a
    file of its past buckets' frames changed, else REST."""
    touched = {exe for exe, files in executables.items() if files & change.files}
    groups = {}
    for test in tests:
        past = history.tests.get(test.name) if history else None
        if any(_runs(arg, touched) for arg in test.command):
            groups[test.name] = CHANGED
        elif past is not None and any(change.holds(f, root) for f in past.files):
            groups[test.name] = HISTORY
        else:
            groups[test.name] = REST
    return groups


def focus_groups(change: ChangeSet | str | None, tests: Iterable[TestCase], build_dir: Path | None,
                 history: History | None, root: Path) -> dict[str, str] | None:
    """Each test's group when there is a change set; None (no focus) otherwise. `-- CMD` has no build to read."""
    if not isinstance(change, ChangeSet):
        return None
    return test_groups(tests, built_from(build_dir) if build_dir else {}, change, history, root)


def _runs(arg: str, touched: set[Path]) -> bool:
    """Whether an argument of a test's command is a touched executable: by its path, or by its name alone for a
    target the codemodel did not describe (built_from)."""
    path = Path(arg)
    return path.is_absolute() and (path.resolve() in touched or Path(path.name) in touched)


def focus_record(ref: str, change: ChangeSet | str, root: Path) -> ChangeFocus:
    """What the result keeps of the focus: the base and the changed files (relative to the source root where they
    lie under it), or why there was none."""
    if isinstance(change, str):
        return ChangeFocus(ref=ref, note=change)
    files = sorted(str(f.relative_to(root)) if root in f.parents else str(f) for f in change.files)
    return ChangeFocus(ref=ref, base=change.base, files=files)


def in_change(bucket: BucketResult, change: ChangeSet, root: Path) -> bool:
    """Whether a new bucket has a frame of its report's stacks on a changed line."""
    frames = [*bucket.frames, *(f for s in bucket.stacks for f in s.frames)]
    return bucket.new and any(change.on_changed_line(f.file, f.line, root) for f in frames)


def marked(result: Result, change: ChangeSet | str, root: Path) -> Result:
    """The result, before anything renders or saves it, with its new buckets on changed lines marked."""
    if isinstance(change, str):
        return result
    return replace(result, buckets=[replace(b, in_change=in_change(b, change, root)) for b in result.buckets])
