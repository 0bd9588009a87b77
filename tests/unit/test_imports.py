"""racegate's imports, parsed (ast) from every module: no import cycle (module-level and function-level imports
alike), and no module importing a later stage of the pipeline. STAGES is the order of docs/architecture.md's stage
table; an import inside `if TYPE_CHECKING:` is an annotation, not an import at run time, and is not counted."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "harness" / "racegate"

# Each tier may import its own and earlier tiers. The shared tier (the model and the rule tables every stage reads)
# imports only itself; the commands wire the stages and nothing but a command imports them.
STAGES = (
    ("shared", {"errors", "kinds", "model", "signature_rules", "frame_kinds", "signature", "stats", "jsonfile",
                "outdir", "tsan_options", "shim", "progress"}),
    ("build", {"build"}),
    ("discover", {"discover", "frameworks"}),
    ("plan", {"schedule", "arms", "strategies", "probe", "history", "focus"}),
    ("run", {"execute", "memory", "stall", "run_env"}),
    ("analyse", {"analyse", "batch", "tsan_parse", "library_reports", "failure", "failure_rules", "suppressions"}),
    ("bucket", {"bucket"}),
    ("result", {"result", "copies", "steady_crash", "advice", "sourcetree", "changes"}),
    ("report", {"reporters"}),
    ("gate", {"gate"}),
    ("commands", {"cli", "__main__", "session", "replay", "merge", "doctor", "compilers", "elf", "init_project",
                  "github_actions"}),
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("racegate", *path.relative_to(PACKAGE).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _runtime_nodes(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    return ast.walk(tree)


def imports_of(name: str) -> set[str]:
    """The racegate modules `name` imports at run time, wherever in the module the import is."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def tier(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    if top == "__init__":
        return 0
    return next(i for i, (_, names) in enumerate(STAGES) if top in names)


def cycles() -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return groups


def test_every_module_has_a_stage():
    unplaced = [m for m in MODULES if m != "racegate" and not any(m.split(".")[1] in n for _, n in STAGES)]
    assert unplaced == []


def test_no_import_cycle():
    assert cycles() == []


def test_no_module_imports_a_later_stage():
    later = [f"{m} ({STAGES[tier(m)][0]}) imports {d} ({STAGES[tier(d)][0]})"
             for m, deps in sorted(GRAPH.items()) for d in sorted(deps) if tier(d) > tier(m)]
    assert later == []


def test_the_checks_see_function_level_and_relative_imports_but_not_annotations():
    assert "racegate.model" in GRAPH["racegate.signature"]  # `from .model import ...`
    assert "racegate.merge" in GRAPH["racegate.cli"]  # imported inside cmd_merge
    assert "racegate.result.model" not in GRAPH["racegate.gate"]  # under TYPE_CHECKING only
    assert tier("racegate.reporters.html") < tier("racegate.gate")
