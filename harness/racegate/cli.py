"""Command line: wires the pipeline stages for run, report, merge, replay, baseline and init."""
from __future__ import annotations

import argparse
import io
import os
import secrets
import signal
import sys
import traceback
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable

from racegate import __version__, changes, discover, frame_kinds, gate, github_actions, outdir, shim, strategies
from racegate import suppressions
from racegate import history as histories
from racegate import result as results
from racegate.build import build_preset, compiler, uses_tsan
from racegate.sourcetree import source_root
from racegate.errors import EXIT_CLEAN, EXIT_FOUND, EXIT_INTERRUPTED, EXIT_USAGE, RacegateError
from racegate.model import TestCase
from racegate.progress import Progress
from racegate.reporters import FILE_FORMATS, RenderOptions, render, write_reports
from racegate.reporters.words import SEED_DID_NOT_REPRODUCE
from racegate.session import Session, SessionConfig, planned_runs


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Test names and commands may hold bytes that are not UTF-8: print them escaped, never fail on them.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    # Everything after `--` is the test command, never racegate's options.
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    parser = _parser()
    args = parser.parse_args(argv)
    if command and args.command != "run":
        parser.error("`-- CMD` is only for `racegate run`")
    args.test_command = command
    # CI cancels jobs with SIGTERM: treat it like Ctrl-C, so partial results are still written.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return args.handler(args)
    except RacegateError as exc:
        print(f"racegate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a tool that is missing, a dir that cannot be written, ...
        print(f"racegate: {exc.filename or ''}{': ' if exc.filename else ''}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("racegate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # a bug in racegate must not read as "races found" (exit 1)
        traceback.print_exc()
        print("racegate: internal error (traceback above)", file=sys.stderr)
        return EXIT_USAGE


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line, like every other error (exit 2)."""

    def error(self, message: str):
        print(f"racegate: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="racegate", description="Repeat C++ tests under ThreadSanitizer and schedule perturbation, "
        "bucket the races, gate the pipeline. Exit codes: 0 clean, 1 new races or failing tests, "
        "2 usage or environment error, 3 some test completed no run (nothing else found), 130 interrupted.")
    parser.add_argument("--version", action="version", version=f"racegate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        subparser = sub.add_parser(name, help=command.help, usage=command.usage)
        for option in command.options:
            option.add_to(subparser)
        subparser.set_defaults(handler=command.handler)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    """`racegate run`: the stages of docs/architecture.md's table, in its order."""
    frame_kinds.use_allocator_wrappers(args.allocator_wrappers)
    formats = _formats(args.format)
    portfolio = _parse_strategies(args.schedule)
    shard = discover.parse_shard(args.shard) if args.shard else None
    known = gate.load_baseline(args.baseline)
    out_dir = args.out.resolve()
    source_dir = args.source.resolve()
    supp = suppressions.suppression_file(args.suppressions, os.environ.get("TSAN_OPTIONS", ""), out_dir)
    if not args.test_command:
        _preflight(args, source_dir)
    build_dir = _build(args, source_dir, out_dir)
    tests, unbuilt = discover.select(_discover(args, build_dir), shard, check_built=build_dir is not None)
    not_built = [results.TestResult.never_ran(t, why) for t, why in unbuilt]
    master_seed = args.seed if args.seed is not None else secrets.randbits(32)
    root = source_root(build_dir, source_dir)
    change = changes.read_or_say(root, args.changed_since) if args.changed_since else None
    # plan, run, analyse and bucket: the session's, on its worker threads.
    session = _session(args, tests, portfolio, master_seed, out_dir, supp, change, build_dir, root)
    wall = session.run(Progress(sys.stderr, planned_runs(len(tests), args.runs, args.time_budget,
                                                         args.until_confident), args.time_budget))
    config = _run_config(args, portfolio, master_seed, source_dir, build_dir, out_dir, supp)
    if change is not None:
        config = replace(config, changed_since=changes.focus_record(args.changed_since, change, root))
    result = session.result(config, wall, not_built, known)
    if change is not None:
        result = changes.marked(result, change, root)
    if args.history:
        # Written whatever the verdict, and after an interrupt too: what the runs taught is kept either way. A
        # history that cannot be written is a warning: the results below are what the job is for.
        histories.save_or_warn(session.learned(), args.history)
    _publish(result, out_dir, formats)
    if session.interrupted:
        print(f"racegate: interrupted; partial results in {out_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_CLEAN if args.no_gate else gate.exit_code(result)


def _preflight(args: argparse.Namespace, source_dir: Path) -> None:
    from racegate.doctor import preflight

    preflight(source_dir, args.preset, args.build_dir.resolve() if args.build_dir else None)


def _build(args: argparse.Namespace, source_dir: Path, out_dir: Path) -> Path | None:
    """The binary dir the tests come from, built first when a preset is given; None for `-- CMD`."""
    if args.test_command:
        if args.preset or args.build_dir:
            raise RacegateError("give one of --preset, --build-dir or -- CMD, not several")
        return None
    if args.target and not args.preset:
        raise RacegateError("--target needs --preset: racegate builds only through a preset")
    if args.preset:
        print(f"racegate: configuring and building preset {args.preset} ...", file=sys.stderr)
        return build_preset(source_dir, args.preset, outdir.build_log(out_dir), args.jobs, tuple(args.target))
    if args.build_dir:
        return args.build_dir.resolve()
    raise RacegateError("nothing to run: give --preset NAME, --build-dir DIR or -- CMD ARGS")


def _discover(args: argparse.Namespace, build_dir: Path | None) -> list[TestCase]:
    """The -R-selected tests of the binary dir, or the one test `-- CMD` is (or its gtest/doctest cases)."""
    if build_dir is None:
        return discover.command_tests(args.test_command)
    tests = discover.discover(build_dir, args.tests)
    if not uses_tsan(build_dir):
        print(f"racegate: warning: {build_dir} is not built with -fsanitize=thread; only failures, crashes "
              "and hangs can be found", file=sys.stderr)
    return tests


def _session(args: argparse.Namespace, tests: list[TestCase], portfolio: list[str], master_seed: int,
             out_dir: Path, supp: suppressions.SuppressionFile | None, change: changes.ChangeSet | str | None,
             build_dir: Path | None, root: Path) -> Session:
    shim_path = _shim()
    strategies_for = partial(strategies.probe_strategies_for_test, wanted=portfolio, have_shim=shim_path is not None)
    past = histories.load_or_empty(args.history) if args.history else None
    focus = changes.focus_groups(change, tests, build_dir, past, root)
    session = Session(tests, strategies_for, SessionConfig(
        out_dir=out_dir, jobs=args.jobs, master_seed=master_seed, runs=args.runs, time_budget=args.time_budget,
        timeout=args.timeout, until_confident=args.until_confident, shim_path=shim_path, suppressions=supp,
        batch=not args.no_batch, history=past, plain_arm=args.schedule is None, focus=focus))
    print(f"racegate: {len(tests)} tests, seed {master_seed}, schedules {','.join(portfolio)}, "
          f"{args.jobs} jobs", file=sys.stderr)
    return session


def _run_config(args: argparse.Namespace, portfolio: list[str], master_seed: int, source_dir: Path,
                build_dir: Path | None, out_dir: Path, supp: suppressions.SuppressionFile | None) -> results.RunConfig:
    """What the result records of how it was run."""
    root = source_root(build_dir, source_dir)
    return results.RunConfig(
        runs=args.runs, time_budget=args.time_budget, jobs=args.jobs, seed=master_seed, strategies=portfolio,
        shard=args.shard, until_confident=args.until_confident, source_dir=str(source_dir),
        source_root=str(root), source_url=github_actions.source_url(root),
        build_dir=str(build_dir) if build_dir else None, out_dir=str(out_dir),
        compiler=compiler(build_dir) if build_dir else None, strict=args.strict,
        gate_library_reports=args.gate_library_reports, suppression_files=list(supp.sources) if supp else None,
        allow_uncovered=args.allow_uncovered)


def cmd_report(args: argparse.Namespace) -> int:
    result = results.load(args.result)
    if args.baseline:
        result = results.with_baseline(result, gate.load_baseline(args.baseline))
    out_dir = (args.out or args.result.parent).resolve()
    _publish(result, out_dir, _formats(args.format), save=False, result_dir=args.result.resolve().parent)
    return gate.exit_code(result) if args.gate else EXIT_CLEAN


def cmd_merge(args: argparse.Namespace) -> int:
    from racegate.merge import merge

    if args.history:
        merged = histories.merge_files(args.results)
        histories.save(merged, args.output)
        print(f"racegate: wrote {args.output} ({len(merged.tests)} tests)", file=sys.stderr)
        return EXIT_CLEAN

    inputs = [(path.resolve(), results.load(path)) for path in args.results]
    out_path = args.output.resolve()
    result = merge(inputs, out_path, gate.load_baseline(args.baseline) if args.baseline else None)
    results.save(result, out_path)
    _publish(result, out_path.parent, _formats(args.format), save=False)
    return EXIT_CLEAN if args.no_gate else gate.exit_code(result)


def cmd_replay(args: argparse.Namespace) -> int:
    from racegate.replay import replay

    result = results.load(args.result)
    out_dir = (args.out or outdir.replay_dir(args.result.parent)).resolve()
    strategy = _parse_strategies(args.schedule)[0] if args.schedule else None
    outcome = replay(result, args.bucket, args.runs, out_dir, _shim(), strategy, args.timeout)
    bucket = outcome.bucket
    print(f"{bucket.id}: {bucket.title}")
    print(f"replayed {bucket.first_seen.test} with seed {outcome.seed} under {outcome.strategy}: "
          f"reproduced in {outcome.reproduced} of {outcome.runs} runs "
          f"(logs of the runs that did not pass in {outdir.runs_dir(out_dir)})")
    if outcome.runs and not outcome.reproduced:
        print(f"not reproduced: {SEED_DID_NOT_REPRODUCE}")
    return EXIT_FOUND if outcome.reproduced else EXIT_CLEAN


def cmd_baseline(args: argparse.Namespace) -> int:
    result = results.load(args.result)
    added, total = gate.write_baseline(result, args.output, args.note)
    print(f"racegate: {args.output}: added {added} buckets, {total} known")
    if args.suppressions_out:
        written = suppressions.write_for_buckets(result.buckets, args.suppressions_out)
        print(f"racegate: {args.suppressions_out}: {written} suppressions for {len(result.buckets)} buckets")
    return EXIT_CLEAN


def cmd_init(args: argparse.Namespace) -> int:
    from racegate.init_project import init_project

    # abspath, not resolve: a vendored dir that is a symlink must stay inside the project.
    racegate_dir = Path(os.path.abspath(args.racegate_dir or Path(__file__).resolve().parents[2]))
    if not (racegate_dir / "presets" / "racegate.json").is_file():
        raise RacegateError(f"{racegate_dir} is not a racegate checkout (no presets/racegate.json); "
                            "pass --racegate-dir with the path of the vendored copy")
    for line in init_project(args.project.resolve(), racegate_dir):
        print(line)
    return EXIT_CLEAN


def cmd_doctor(args: argparse.Namespace) -> int:
    from racegate import doctor

    checks = doctor.diagnose(args.source.resolve(), args.preset, args.build_dir.resolve() if args.build_dir else None,
                             args.build_log)
    for check in checks:
        print("\n".join(check.lines()), flush=True)
    error = doctor.summary_error(checks)
    if error:
        raise RacegateError(error)
    return EXIT_CLEAN


def _publish(result: results.Result, out_dir: Path, formats: list[str], save: bool = True,
             result_dir: Path | None = None) -> None:
    """Save the result and every report; print the console summary and, in GitHub Actions, annotations.
    `result_dir` holds the racegate.json whose relative raw-report paths the reports embed."""
    if save:
        results.save(result, outdir.result_file(out_dir))
    options = RenderOptions(base_dir=result_dir or out_dir)
    written = write_reports(result, out_dir, formats, options)
    print(render("console", result, RenderOptions(base_dir=options.base_dir, color=sys.stdout.isatty())))
    github_actions.publish(result, options)
    for path in written:
        print(f"racegate: wrote {path}", file=sys.stderr)


def _formats(text: str | None) -> list[str]:
    if text is None:
        return list(FILE_FORMATS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FILE_FORMATS]
    if unknown:
        raise RacegateError(f"unknown report format {unknown[0]!r}; known: {', '.join(FILE_FORMATS)}")
    return names


def _parse_strategies(text: str | None) -> list[str]:
    if text is None:
        return list(strategies.DEFAULT_PORTFOLIO)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in strategies.STRATEGIES]
    if unknown or not names:
        raise RacegateError(f"unknown schedule {unknown[0] if unknown else text!r}; "
                            f"known: {', '.join(strategies.STRATEGIES)}")
    return names


def _shim() -> Path | None:
    try:
        return shim.ensure_shim()
    except shim.ShimBuildError as exc:
        print(f"racegate: warning: no scheduling shim ({exc}); only plain and in-process repeats",
              file=sys.stderr)
        return None


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


# --- the options, each defined once, and the subcommands that combine them --------------------------------------

@dataclass(frozen=True)
class Opt:
    """One option (or positional argument): argparse's flags and settings. `but` varies it for one subcommand
    where the meaning there differs (its help, its default), so what is the same is written once."""

    flags: tuple[str, ...]
    settings: dict[str, Any]

    def but(self, **changes: Any) -> Opt:
        return Opt(self.flags, {**self.settings, **changes})

    def add_to(self, parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
        parser.add_argument(*self.flags, **self.settings)


@dataclass(frozen=True)
class OneOf:
    """Options of which a command line gives one at most."""

    options: tuple[Opt, ...]

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for option in self.options:
            option.add_to(group)


def _opt(*flags: str, **settings: Any) -> Opt:
    return Opt(flags, settings)


class Opts:
    """Every option of every subcommand (coverage.py's cmdline.Opts is the model)."""

    preset = _opt("--preset")
    build_dir = _opt("--build-dir", type=Path)
    source = _opt("-S", "--source", type=Path, default=Path("."), help="project dir holding the presets (default .)")
    target = _opt("--target", action="append", default=[], metavar="TARGET",
                  help="build only this target of the preset (repeatable; replaces a build preset's targets)")
    runs = _opt("--runs", type=_positive_int)
    time_budget = _opt("--time-budget", type=_positive_float, metavar="SECONDS",
                       help="end the session after this many seconds: runs still going are cut")
    jobs = _opt("--jobs", "-j", type=_positive_int, default=len(os.sched_getaffinity(0)),
                help="parallel runs (default: the CPUs this process may use)")
    tests = _opt("-R", "--tests", metavar="REGEX", help="only tests whose name matches")
    seed = _opt("--seed", type=int, help="master seed; the same seed replays the same run seeds")
    shard = _opt("--shard", metavar="I/N", help="run only shard I of N of the tests")
    baseline = _opt("--baseline", type=Path, help="known races that do not fail the gate")
    suppressions = _opt("--suppressions", type=Path, metavar="FILE",
                        help="TSan suppressions file for every run (with TSAN_OPTIONS suppressions= too, both apply); "
                        "the result counts what each entry matched and lists the stale ones")
    out = _opt("--out", type=Path)
    history = _opt("--history", type=Path, metavar="FILE",
                   help="what earlier sessions learned per test: read at the start (missing: empty; unreadable: "
                   "ignored with a warning), rewritten at the end; keep it in the CI cache")
    schedule = _opt("--schedule")
    timeout = _opt("--timeout", type=_positive_float)
    until_confident = _opt("--until-confident", type=_probability, metavar="P",
                           help="stop once the chance that one more run finds a new bucket is below P")
    no_batch = _opt("--no-batch", action="store_true",
                    help="run every test's first run in a process of its own (default: the first runs of a "
                    "GoogleTest executable's tests share a few processes)")
    format = _opt("--format", metavar="LIST", help=f"comma-separated report files to write "
                  f"(default and choices: {','.join(FILE_FORMATS)}; the console summary always prints)")
    no_gate = _opt("--no-gate", action="store_true", help="exit 0 even when new races are found (shard jobs)")
    strict = _opt("--strict", action="store_true",
                  help="timing-sensitive failures (assertions on elapsed time or deadlines) fail the gate too")
    gate_library_reports = _opt("--gate-library-reports", action="store_true",
                                help="known races inside the standard library's own state (e.g. GCC bug 77704) "
                                "fail the gate too")
    allow_uncovered = _opt("--allow-uncovered", action="store_true",
                           help="exit 0, not 3, when nothing new was found but some selected test completed no run "
                           "(a suite sharded on purpose); the reports still name each such test")
    allocator_wrappers = _opt("--allocator-wrappers", metavar="REGEX",
                              help="the project's own allocation/free wrappers (function names, fully matched): "
                              "like malloc and free, they never name a side of a report")
    result = _opt("result", type=Path)
    results = _opt("results", type=Path, nargs="+")
    result_from = _opt("--from", dest="result", type=Path, default=outdir.result_file(Path("racegate-out")))
    output = _opt("-o", "--output", type=Path)
    gate = _opt("--gate", action="store_true",
                help="exit 1 when the result has new buckets, else 3 when a test completed no run (as `run` does)")
    merge_history = _opt("--history", action="store_true",
                         help="the inputs are --history files: write their merged history to -o, no reports")
    bucket = _opt("bucket", help="bucket id (a unique prefix is enough)")
    note = _opt("--note", help="note stored with each newly added bucket")
    suppressions_out = _opt("--suppressions-out", type=Path, metavar="FILE",
                            help="also write a TSan suppressions file silencing the result's buckets "
                            "(for ctest alone)")
    project = _opt("project", type=Path, nargs="?", default=Path("."))
    racegate_dir = _opt("--racegate-dir", type=Path,
                        help="the vendored racegate checkout (default: the one this racegate runs from)")
    changed_since = _opt("--changed-since", metavar="REF",
                         help="spend most of the budget on the tests that build what changed since git REF "
                         "(docs/scheduling.md); without git or a REF git knows: no focus, said once")
    build_log = _opt("--build-log", type=Path,
                     help="build output to scan for -Wtsan warnings (default racegate-out/build.log if present)")


@dataclass(frozen=True)
class Command:
    help: str
    handler: Callable[[argparse.Namespace], int]
    options: tuple[Opt | OneOf, ...]
    usage: str | None = None  # argparse's own when None


COMMANDS = {
    "run": Command(
        "discover, run repeatedly, bucket, report, gate", cmd_run, (
            OneOf((Opts.preset.but(help="configure and build this CMake preset, then run its tests"),
                   Opts.build_dir.but(help="run the tests of this already built CMake binary dir"))),
            Opts.target, Opts.source,
            Opts.runs.but(help="runs per test (default 10 without --time-budget)"),
            Opts.time_budget, Opts.jobs, Opts.tests, Opts.seed, Opts.shard, Opts.baseline, Opts.suppressions,
            Opts.out.but(default=Path("racegate-out"), help="output dir (default racegate-out)"),
            Opts.history,
            Opts.schedule.but(metavar="LIST", help=f"comma-separated strategies to search with "
                              f"({', '.join(strategies.STRATEGIES)}); default {','.join(strategies.DEFAULT_PORTFOLIO)}"
                              ", with plain runs competing; a list given here is used as is"),
            Opts.timeout.but(metavar="SECONDS",
                             help="per-run timeout (default: the test's TIMEOUT property, else 300)"),
            Opts.until_confident, Opts.no_batch, Opts.format, Opts.no_gate, Opts.strict, Opts.gate_library_reports,
            Opts.allow_uncovered, Opts.allocator_wrappers, Opts.changed_since),
        usage="racegate run [options] [--preset NAME | --build-dir DIR | -- CMD ARGS...]"),
    "report": Command(
        "re-render reports from a saved racegate.json", cmd_report, (
            Opts.result,
            Opts.out.but(help="where to write the report files (default: beside the result)"),
            Opts.baseline.but(help="re-mark buckets as new or known against this baseline"),
            Opts.gate, Opts.format)),
    "merge": Command(
        "merge shard results (or, with --history, history files) into one", cmd_merge, (
            Opts.results,
            Opts.output.but(required=True, help="merged racegate.json to write"),
            Opts.merge_history, Opts.baseline, Opts.no_gate, Opts.format)),
    "replay": Command(
        "re-run the first test/seed/schedule that produced a bucket", cmd_replay, (
            Opts.bucket, Opts.result_from, Opts.runs.but(default=10),
            Opts.schedule.but(help="override the schedule (e.g. none, to compare)"), Opts.timeout,
            Opts.out.but(help="where to keep the replay logs (default: <result dir>/replay)"))),
    "baseline": Command(
        "write or update the known-races baseline from a result", cmd_baseline, (
            Opts.result_from, Opts.output.but(default=Path("racegate-baseline.json")), Opts.note,
            Opts.suppressions_out)),
    "init": Command(
        "add racegate presets and a GitHub workflow to a CMake project", cmd_init, (
            Opts.project, Opts.racegate_dir)),
    "doctor": Command(
        "check this machine (and a build) for what breaks or weakens TSan runs", cmd_doctor, (
            OneOf((Opts.preset.but(help="check for this CMake preset (its compiler, and its build dir if built)"),
                   Opts.build_dir.but(help="check this built CMake binary dir and the libraries its tests load"))),
            Opts.source, Opts.build_log),
        usage="racegate doctor [--preset NAME | --build-dir DIR] [-S DIR] [--build-log FILE]"),
}
