#!/usr/bin/env python3
"""Buckets per real bug, with each compiler: target exactly 1 per bug and no stray bucket.

Two measures, both printed by one invocation:

* `--build-dir DIR` (the samples): each racy sample test holds one bug (its header says which); fixed samples hold
  none. The script runs `racegate run` on each TSan build given, then prints, per racy test, how many buckets name
  it, and the buckets that name a fixed test (stray). A failure folded into a race as its symptom counts with the
  race, as racegate reports it.
* `--reproductions` (issue 19's field cases, tests/corpus/programs): a stack TSan could not restore, an allocator
  wrapper, thread leaks and a mutex misuse whose stacks the preloaded shim hides under gcc, a report cut short by the
  process's end; (signature v5) a function racing with itself on two globals and its fix of one, a pool's members
  printed without a file, a comparator the compilers inline differently. It also names the bugs whose bucket ids
  differ between the compilers. Each program is built with clang 14 and gcc 12 and run `--runs` times; every run
  is one run of its test (a program's `_full`/`_lost`/`_exit` variants are runs of one test: the same bug, seen
  whole or not; self_race_two and self_race_one, the racy and the fixed commit, too), and all runs of one compiler
  are bucketed as one session, by this tree's rules and, side by side, by the rules of the release given with
  `--old-rev` (read with `git show`) or `--old-harness` (a checkout's harness/ directory).

    /usr/bin/python3 bench/buckets_per_bug.py --build-dir samples/build/tsan-clang --build-dir samples/build/tsan-gcc
    /usr/bin/python3 bench/buckets_per_bug.py --reproductions --runs 5 --old-rev 77198db
    /usr/bin/python3 bench/buckets_per_bug.py --failures --runs 3

* `--failures` (issue 19's failure cases: each framework's failed checks, two failed checks in one run, failing
  asserts, a forked child's race that fails its parent, a suite with two races and an unrelated failure, a check
  after a fixed sleep): each built with clang 14 and gcc 12, run `--runs` times and read by racegate's analyse stage;
  its buckets with symptoms folded, by this tree's symptom rule and the one before it, side by side.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))
RACY_SUITE = re.compile(r"^(\w+Race|\w+CheckThenAct)\.")
FIXED_SUITE = re.compile(r"^\w+Fixed\.")

# The reproductions: program -> its test (variants of one source are runs of one test), and the test's bugs, each
# told by a function only its reports print ("" when the test holds one bug).
TEST_OF = {
    "alloc_wrapper": "alloc_wrapper", "leak_shim_a": "leak_shim_a", "leak_shim_b": "leak_shim_b",
    "stack_restore_full": "stack_restore", "stack_restore_lost": "stack_restore",
    "truncated_exit": "truncated", "truncated_full": "truncated", "unlock_unlocked": "unlock_unlocked",
    # Signature v5 (field tests #23, #26, #25): a function racing with itself on two globals, and its fix of one;
    # a pool's fileless members destroyed in three tests; a comparator the compilers inline differently.
    "self_race_two": "self_race", "self_race_one": "self_race", "fileless_pool": "fileless_pool",
    "static_comparator": "static_comparator",
}
BUGS = {
    "alloc_wrapper": {"session freed under a reader": "close_session", "cache freed under a reader": "drop_cache"},
    "leak_shim_a": {"thread leaked": ""}, "leak_shim_b": {"thread leaked": ""},
    "stack_restore": {"status race": ""}, "truncated": {"total race": ""},
    "unlock_unlocked": {"unlock of an unlocked mutex": ""},
    "self_race": {"mode flag race": "'g_mode_too_late'", "context count race": "'g_created_ctx'"},
    "fileless_pool": {"running flag race": ""}, "static_comparator": {"handle table race": ""},
}
COMPILERS = {"clang14": "clang++", "gcc12": "g++"}


def run(build_dir: Path, runs: int, jobs: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, str(REPO / "racegate"), "run", "--build-dir", str(build_dir),
                        "--runs", str(runs), "--jobs", str(jobs), "--seed", str(seed), "--out", out,
                        "--format", "junit"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return json.loads((Path(out) / "racegate.json").read_text())


def samples(args: argparse.Namespace) -> None:
    for build_dir in args.build_dir:
        result = run(build_dir.resolve(), args.runs, args.jobs, args.seed)
        racy = sorted(t["name"] for t in result["tests"] if RACY_SUITE.match(t["name"]))
        print(f"\n{build_dir} ({result['config'].get('compiler')}), {args.runs} runs per test, "
              f"{result['summary']['runs']} runs")
        print(f"{'racy test':<58} buckets  kinds / symptoms")
        for test in racy:
            buckets = [b for b in result["buckets"] if test in b["tests"]]
            detail = "; ".join(
                f"{b['kind']}" + (f" ({', '.join(b['kinds'])})" if b.get("kinds") else "")
                + (f", {sum(s['runs'] for s in b['symptoms'])} failing runs as symptoms" if b.get("symptoms") else "")
                for b in buckets)
            print(f"{test:<58} {len(buckets):>7}  {detail}")
        stray = [b for b in result["buckets"] if any(FIXED_SUITE.match(t) for t in b["tests"])]
        found = [t for t in racy if any(t in b["tests"] for b in result["buckets"])]
        print(f"bugs found {len(found)} of {len(racy)}; buckets per found bug "
              f"{sum(1 for b in result['buckets'] if set(b['tests']) & set(racy)) / max(len(found), 1):.2f} "
              f"(target 1.00); stray buckets {len(stray)} (target 0)")
        for b in stray:
            print(f"  stray: {b['id']} {b['title']}")


# -- the reproductions ------------------------------------------------------------------------------------------

def load_package(harness: Path, name: str) -> ModuleType:
    """The racegate package under `harness` imported as `name`, beside this tree's (its modules import each other
    relatively, so they stay among themselves)."""
    spec = importlib.util.spec_from_file_location(name, harness / "racegate" / "__init__.py",
                                                  submodule_search_locations=[str(harness / "racegate")])
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return package


def old_harness(args: argparse.Namespace, tmp: Path) -> Path:
    if args.old_harness:
        return args.old_harness.resolve()
    # The package's own modules, as `git show` gives them at that revision.
    package = tmp / "harness" / "racegate"
    package.mkdir(parents=True)
    names = subprocess.run(["git", "-C", str(REPO), "ls-tree", "--name-only", f"{args.old_rev}:harness/racegate"],
                           capture_output=True, text=True, check=True).stdout.split()
    for name in (n for n in names if n.endswith(".py")):
        text = subprocess.run(["git", "-C", str(REPO), "show", f"{args.old_rev}:harness/racegate/{name}"],
                              capture_output=True, check=True).stdout
        (package / name).write_bytes(text)
    return tmp / "harness"


def load_generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_generate", REPO / "tests" / "corpus" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_generate"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def reproduce(runs: int) -> dict[str, list[tuple[str, str]]]:
    """Per compiler, (test, log) of every run of every reproduction."""
    generate = load_generate()
    programs = [generate.load_program(p) for p in sorted(generate.PROGRAMS.iterdir()) if p.stem in TEST_OF]
    shim = generate.racegate_shim()
    logs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for tag, cxx in COMPILERS.items():
        if not shutil.which(cxx):
            print(f"{tag}: {cxx} is not installed, skipped", file=sys.stderr)
            continue
        for prog in programs:
            exe = generate.build(prog, tag, cxx)
            logs[tag] += [(TEST_OF[prog.name], generate.run_built(prog, exe, shim)) for _ in range(runs)]
    return logs


def bug_of(test: str, raw: str) -> str:
    bugs = BUGS[test]
    if len(bugs) == 1:
        return f"{test}: {next(iter(bugs))}"
    told = [name for name, marker in bugs.items() if marker in raw]
    return f"{test}: {told[0]}" if len(told) == 1 else f"{test}: ?"


def buckets_now(runs: list[tuple[str, str]], rules: ModuleType | None = None) -> dict[str, set[str]]:
    """Bucket id -> the bugs of its reports, through this tree's Bucketer (which folds partial reports), the findings
    made by this tree's signature rules or by `rules`, an older release's package that folds them too (v4)."""
    from racegate.bucket import Bucketer
    from racegate.model import RunRecord
    if rules is None:
        from racegate.signature import finding_from_report
        from racegate.tsan_parse import parse_reports
    else:
        finding_from_report, parse_reports = rules.signature.finding_from_report, rules.tsan_parse.parse_reports
    with tempfile.TemporaryDirectory() as reports_dir:
        bucketer = Bucketer(Path(reports_dir))
        findings = []
        for index, (test, log) in enumerate(runs):
            found = [finding_from_report(r, test) for r in parse_reports(log)]
            findings += [(test, f) for f in found]
            bucketer.add(RunRecord(test=test, run=index, seed=index, strategy="none", command=[], outcome="race",
                                   returncode=66, duration=0.1, log_dir="", findings=found))
    bugs: dict[str, set[str]] = defaultdict(set)
    for test, finding in findings:
        bugs[finding.id].add(bug_of(test, finding.raw))  # the id the bucketer gave it, folded or its own
    assert set(bugs) == set(bucketer.buckets)
    return bugs


def partial_reports(runs: list[tuple[str, str]]) -> str:
    """How many reports the runs printed, and how many of them were partial, by why."""
    from racegate.signature import missing
    from racegate.tsan_parse import parse_reports
    reports = [r for _, log in runs for r in parse_reports(log)]
    partial = Counter(missing(r) for r in reports if missing(r))
    return f"{len(reports)} reports; partial: " + (", ".join(f"{n} {why}" for why, n in sorted(partial.items()))
                                                   or "none")


def buckets_then(old: ModuleType, runs: list[tuple[str, str]]) -> dict[str, set[str]]:
    """The old release's rules: from v4 its findings fold like this tree's (partial reports into whole ones);
    before, its Bucketer keyed every finding on bucket_id(kind, signature)."""
    if old.signature.SIGNATURE_VERSION >= 4:
        return buckets_now(runs, old)
    bugs: dict[str, set[str]] = defaultdict(set)
    for test, log in runs:
        for report in old.tsan_parse.parse_reports(log):
            finding = old.signature.finding_from_report(report)
            bugs[old.signature.bucket_id(finding.kind, finding.signature)].add(bug_of(test, finding.raw))
    return bugs


def per_bug(buckets: dict[str, set[str]]) -> dict[str, int]:
    """How many buckets hold each bug."""
    counts: dict[str, int] = defaultdict(int)
    for bugs in buckets.values():
        for bug in bugs:
            counts[bug] += 1
    return counts


def ids_by_bug(buckets: dict[str, set[str]]) -> dict[str, set[str]]:
    """Each bug -> the ids of the buckets holding it (compared across compilers: one bug, one id)."""
    ids: dict[str, set[str]] = defaultdict(set)
    for bucket_id, bugs in buckets.items():
        for bug in bugs:
            ids[bug].add(bucket_id)
    return ids


def measure(buckets: dict[str, set[str]]) -> dict[str, float]:
    """Bugs found, buckets, buckets per found bug, merged buckets (one bucket for several bugs: all but one hidden)
    and stray buckets (a bug's buckets beyond its first: the same bug shown again as new)."""
    counts = per_bug(buckets)
    return {"found": len(counts), "expected": sum(len(b) for b in BUGS.values()), "buckets": len(buckets),
            "per_bug": sum(counts.values()) / max(len(counts), 1),
            "merged": sum(1 for bugs in buckets.values() if len(bugs) > 1),
            "stray": sum(n - 1 for n in counts.values())}


def reproductions(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        old_dir = old_harness(args, Path(tmp))
        old = load_package(old_dir, "racegate_then")
        for module in ("tsan_parse", "signature"):
            importlib.import_module(f"racegate_then.{module}")
        label = args.old_rev if not args.old_harness else str(args.old_harness)
        logs = reproduce(args.runs)
    from racegate.signature_rules import SIGNATURE_VERSION
    rules = {f"{label} (signature v{old.signature.SIGNATURE_VERSION})": lambda runs: buckets_then(old, runs),
             f"this tree (signature v{SIGNATURE_VERSION})": buckets_now}
    print(f"\nReproductions (tests/corpus/programs), {args.runs} runs of each program per compiler; "
          f"{len(TEST_OF)} programs, {sum(len(b) for b in BUGS.values())} bugs")
    print(f"{'compiler':<9} {'rules':<36} {'bugs found':>10} {'buckets':>8} {'buckets/bug':>12} {'merged':>7} "
          f"{'stray':>6}")
    columns: list[tuple[str, dict[str, int]]] = []
    merged: list[str] = []
    ids_of: dict[str, dict[str, dict[str, set[str]]]] = defaultdict(dict)  # rules -> compiler -> bug -> its ids
    for tag, runs in logs.items():
        for name, bucketing in rules.items():
            buckets = bucketing(runs)
            ids_of[name][tag] = ids_by_bug(buckets)
            m = measure(buckets)
            print(f"{tag:<9} {name:<36} {m['found']:>4} of {m['expected']:<3} {m['buckets']:>8} "
                  f"{m['per_bug']:>12.2f} {m['merged']:>7} {m['stray']:>6}")
            columns.append((f"{tag} v{name.split('signature v')[1].rstrip(')')}", per_bug(buckets)))
            merged += [f"{columns[-1][0]}: {' + '.join(sorted(b))}" for b in buckets.values() if len(b) > 1]
    print("(targets: every bug found, 1.00 bucket per bug, 0 merged, 0 stray. merged: a bucket holding several bugs;"
          " stray: a bug's buckets beyond its first)")
    print(f"\n{'buckets holding each bug':<50}" + "".join(f"{title:>12}" for title, _ in columns))
    for bug in sorted(f"{test}: {name}" for test, bugs in BUGS.items() for name in bugs):
        print(f"{bug:<50}" + "".join(f"{counts.get(bug, 0):>12}" for _, counts in columns))
    for line in merged:
        print(f"one bucket, several bugs: {line}")
    for name, by_compiler in ids_of.items():
        if len(by_compiler) > 1:
            apart = sorted(bug for bug in set().union(*by_compiler.values())
                           if len({frozenset(bugs.get(bug, ())) for bugs in by_compiler.values()}) > 1)
            print(f"bugs whose ids differ by compiler, {name}: {len(apart)}" + (f" ({', '.join(apart)})"
                                                                                if apart else ""))
    for tag, runs in logs.items():
        print(f"{tag}: {partial_reports(runs)}")


# -- the failure reproductions ----------------------------------------------------------------------------------

# Failing programs (tests/failure_corpus/programs, tests/evidence_programs): each is one test, and its bugs, each told
# by the kind of bucket and a word of its title ("" when the test holds one bug). A failure folded into a race as
# its symptom counts with the race, as racegate reports it; a timing bucket counts as the bug it is.
FAILURE_PROGRAMS = REPO / "tests" / "failure_corpus" / "programs"
EVIDENCE_PROGRAMS = REPO / "tests" / "evidence_programs"
FAILURE_BUGS = {
    **{name: {"failed checks": ""} for name in (
        "gtest_checks", "doctest_checks", "catch2_checks", "boost_checks", "check_checks", "cmocka_checks",
        "glog_checks", "assert_fails", "uncaught_exception", "abort_message", "tap_checks", "tiny_checks", "lib_assert",
        "doctest_abort", "catch2_abort", "boost_abort")},
    "fork_child_race": {"child's race": ""},
    "suite_races": {"hits race": "count_hits", "log race": "write_log", "closes failure": "closes"},
    "pool_timing": {"2 ms assumption": ""},
}


def run_failing(exe: Path, variant: list[str], env: dict[str, str]):
    """One run of a failing program as racegate runs a test: output as one stream, TSan logs per process; its
    record through racegate's own analyse stage."""
    from racegate.analyse import analyse_run
    from racegate.execute import Execution
    from racegate.model import PlannedRun, TestCase
    work = exe.parent
    for old in work.glob("tsan.*"):
        old.unlink()
    run_env = {**os.environ, **env, "TSAN_OPTIONS": f"halt_on_error=0 log_path={work / 'tsan'}"}
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([str(exe), *variant], cwd=work, env=run_env, stdout=out, stderr=subprocess.STDOUT)
        proc.wait(timeout=120)
        out.seek(0)
        output = out.read().decode(errors="replace")
    logs = "".join(p.read_text(errors="replace") for p in sorted(work.glob("tsan.*")))
    plan = PlannedRun(TestCase(exe.name, (str(exe),)), run=0, seed=0, strategy="none")
    return analyse_run(Execution(plan=plan, argv=[str(exe)], env={}, returncode=proc.returncode, timed_out=False,
                                 timeout=120.0, duration=0.1, output=output, tsan_log=logs,
                                 shim_report=work / "no-shim.txt", run_dir=work, pid=proc.pid))


def failure_runs(runs: int) -> dict[str, list]:
    """Per compiler, the records of every run of every failing program."""
    spec = importlib.util.spec_from_file_location("failure_generate", FAILURE_PROGRAMS.parent / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    sources = [p for d in (FAILURE_PROGRAMS, EVIDENCE_PROGRAMS) for p in sorted(d.iterdir())
               if p.stem in FAILURE_BUGS and p.suffix in (".c", ".cpp")]
    records: dict[str, list] = defaultdict(list)
    for tag, (cc, cxx) in generate.COMPILERS.items():
        build = Path(tempfile.mkdtemp(prefix=f"buckets-per-bug-{tag}-"))
        for source in sources:
            libs, env, *_ = generate.directives(source)
            exe = build / source.stem / source.stem
            exe.parent.mkdir()
            std = ["-std=c11"] if source.suffix == ".c" else ["-std=c++17"]
            built = subprocess.run([cc if source.suffix == ".c" else cxx, *std, *generate.FLAGS, str(source), "-o",
                                    str(exe), *libs], capture_output=True, timeout=600)
            if built.returncode != 0:
                print(f"{tag}: {source.name} does not build here (its framework is not installed), skipped",
                      file=sys.stderr)
                continue
            for index in range(runs):
                record = run_failing(exe, [], env)
                record.run = len(records[tag])
                records[tag].append(record)
        shutil.rmtree(build, ignore_errors=True)
    return records


def failure_bug_of(test: str, bucket) -> str:
    bugs = FAILURE_BUGS[test]
    if len(bugs) == 1:
        return f"{test}: {next(iter(bugs))}"
    told = [name for name, marker in bugs.items() if marker in bucket.finding.title]
    return f"{test}: {told[0]}" if len(told) == 1 else f"{test}: ?"


def failure_buckets(records: list, evidence: bool) -> dict[str, set[str]]:
    """Bucket id -> the bugs it holds, symptoms folded into their races; `evidence`: this tree's symptom rule (the
    failure must come from the race), else the rule before it (any race of the same test in 90 % of its runs)."""
    from racegate.bucket import Bucketer
    with tempfile.TemporaryDirectory() as reports_dir:
        bucketer = Bucketer(Path(reports_dir))
        for record in records:
            findings = record.findings if evidence else [replace(f, from_race=True) for f in record.findings]
            bucketer.add(replace(record, findings=findings))
        symptoms = bucketer.symptoms()
    bugs: dict[str, set[str]] = defaultdict(set)
    for bucket in bucketer.buckets.values():
        key = symptoms[bucket.id].cause if bucket.id in symptoms else bucket.id
        bugs[key] |= {failure_bug_of(test, bucket) for test in bucket.tests}
    return bugs


def failures(args: argparse.Namespace) -> None:
    records = failure_runs(args.runs)
    built = {r.test for runs in records.values() for r in runs}
    expected = sum(len(b) for test, b in FAILURE_BUGS.items() if test in built)
    print(f"\nFailure reproductions (tests/failure_corpus/programs, tests/evidence_programs), {args.runs} runs of each "
          f"of {len(built)} programs built here per compiler, {expected} bugs")
    print(f"{'compiler':<9} {'symptom rule':<36} {'bugs found':>10} {'buckets':>8} {'buckets/bug':>12} {'merged':>7} "
          f"{'stray':>6} {'timing':>7}")
    for tag, runs in records.items():
        timing = sorted({r.test for r in runs for f in r.findings if f.timing_sensitive})
        for name, evidence in (("same run (before)", False), ("evidence it comes from the race", True)):
            buckets = failure_buckets(runs, evidence)
            counts = per_bug(buckets)
            merged = [b for b in buckets.values() if len(b) > 1]
            print(f"{tag:<9} {name:<36} {len(counts):>4} of {expected:<3} {len(buckets):>8} "
                  f"{sum(counts.values()) / max(len(counts), 1):>12.2f} {len(merged):>7} "
                  f"{sum(n - 1 for n in counts.values()):>6} {len(timing):>7}")
            for bugs in merged:
                print(f"  one bucket, several bugs: {' + '.join(sorted(bugs))}")
            tests = {r.test for r in runs}
            missing = [f"{t}: {b}" for t in sorted(tests) for b in FAILURE_BUGS[t] if f"{t}: {b}" not in counts]
            if missing:
                print(f"  not shown in these runs: {', '.join(missing)}")
    print("(timing: programs whose failure reads as a check on time by its words and values; pool_timing's is told by"
          " behaviour, which needs plain and perturbed runs of a session: tests/e2e/test_failure_evidence.py)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", type=Path, action="append", default=[], help="a TSan build of samples/")
    ap.add_argument("--reproductions", action="store_true", help="measure issue 19's reproductions too")
    ap.add_argument("--failures", action="store_true", help="measure the failure reproductions too")
    ap.add_argument("--old-rev", default="77198db", help="the release whose rules to compare with (git revision)")
    ap.add_argument("--old-harness", type=Path, help="or the harness/ directory of a checkout of it")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not args.build_dir and not args.reproductions and not args.failures:
        ap.error("give --build-dir, --reproductions, --failures or several")
    samples(args)
    if args.reproductions:
        reproductions(args)
    if args.failures:
        failures(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
