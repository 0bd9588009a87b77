"""Command line: wires the pipeline stages for run, report, merge, replay, baseline and init."""
from __future__ import annotations

import argparse
import io
import os
import secrets
import signal
import sys
import traceback
from functools import partial
from pathlib import Path

from racegate import __version__, discover, gate, outdir, shim, signature, strategies, suppressions
from racegate import history as histories
from racegate import result as results
from racegate.build import build_preset, compiler, uses_tsan
from racegate.errors import EXIT_CLEAN, EXIT_FOUND, EXIT_INTERRUPTED, EXIT_USAGE, RacegateError
from racegate.model import TestCase
from racegate.progress import Progress
from racegate.reporters import FILE_FORMATS, RenderOptions, render, write_reports
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
        "2 usage or environment error, 130 interrupted.")
    parser.add_argument("--version", action="version", version=f"racegate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="discover, run repeatedly, bucket, report, gate",
                         usage="racegate run [options] [--preset NAME | --build-dir DIR | -- CMD ARGS...]")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--preset", help="configure and build this CMake preset, then run its tests")
    where.add_argument("--build-dir", type=Path, help="run the tests of this already built CMake binary dir")
    run.add_argument("--target", action="append", default=[], metavar="TARGET",
                     help="build only this target of the preset (repeatable; replaces a build preset's targets)")
    run.add_argument("-S", "--source", type=Path, default=Path("."), help="project dir holding the presets (default .)")
    run.add_argument("--runs", type=_positive_int, help="runs per test (default 10 without --time-budget)")
    run.add_argument("--time-budget", type=_positive_float, metavar="SECONDS",
                     help="end the session after this many seconds: runs still going are cut")
    run.add_argument("--jobs", "-j", type=_positive_int, default=len(os.sched_getaffinity(0)),
                     help="parallel runs (default: the CPUs this process may use)")
    run.add_argument("-R", "--tests", metavar="REGEX", help="only tests whose name matches")
    run.add_argument("--seed", type=int, help="master seed; the same seed replays the same run seeds")
    run.add_argument("--shard", metavar="I/N", help="run only shard I of N of the tests")
    run.add_argument("--baseline", type=Path, help="known races that do not fail the gate")
    run.add_argument("--suppressions", type=Path, metavar="FILE",
                     help="TSan suppressions file for every run (with TSAN_OPTIONS suppressions= too, both apply); "
                     "the result counts what each entry matched and lists the stale ones")
    run.add_argument("--out", type=Path, default=Path("racegate-out"), help="output dir (default racegate-out)")
    run.add_argument("--history", type=Path, metavar="FILE",
                     help="what earlier sessions learned per test: read at the start (missing: empty; unreadable: "
                     "ignored with a warning), rewritten at the end; keep it in the CI cache")
    run.add_argument("--schedule", metavar="LIST",
                     help=f"comma-separated strategies to search with ({', '.join(strategies.STRATEGIES)}); "
                     f"default {','.join(strategies.DEFAULT_PORTFOLIO)}, with plain runs competing; a list "
                     "given here is used as is")
    run.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                     help="per-run timeout (default: the test's TIMEOUT property, else 300)")
    run.add_argument("--until-confident", type=_probability, metavar="P",
                     help="stop once the chance that one more run finds a new bucket is below P")
    run.add_argument("--no-batch", action="store_true",
                     help="run every test's first run in a process of its own (default: the first runs of a "
                     "GoogleTest executable's tests share a few processes)")
    _format_option(run)
    run.add_argument("--no-gate", action="store_true", help="exit 0 even when new races are found (shard jobs)")
    run.add_argument("--strict", action="store_true",
                     help="timing-sensitive failures (assertions on elapsed time or deadlines) fail the gate too")
    run.add_argument("--gate-library-reports", action="store_true",
                     help="known races inside the standard library's own state (e.g. GCC bug 77704) fail the gate too")
    run.add_argument("--allocator-wrappers", metavar="REGEX",
                     help="the project's own allocation/free wrappers (function names, fully matched): like malloc "
                     "and free, they never name a side of a report")
    run.set_defaults(handler=cmd_run)

    report = sub.add_parser("report", help="re-render reports from a saved racegate.json")
    report.add_argument("result", type=Path)
    report.add_argument("--out", type=Path, help="where to write the report files (default: beside the result)")
    report.add_argument("--baseline", type=Path, help="re-mark buckets as new or known against this baseline")
    report.add_argument("--gate", action="store_true", help="exit 1 when the result has new buckets")
    _format_option(report)
    report.set_defaults(handler=cmd_report)

    merge = sub.add_parser("merge", help="merge shard results (or, with --history, history files) into one")
    merge.add_argument("results", type=Path, nargs="+")
    merge.add_argument("-o", "--output", type=Path, required=True, help="merged racegate.json to write")
    merge.add_argument("--history", action="store_true",
                       help="the inputs are --history files: write their merged history to -o, no reports")
    merge.add_argument("--baseline", type=Path)
    merge.add_argument("--no-gate", action="store_true")
    _format_option(merge)
    merge.set_defaults(handler=cmd_merge)

    replay = sub.add_parser("replay", help="re-run the first test/seed/schedule that produced a bucket")
    replay.add_argument("bucket", help="bucket id (a unique prefix is enough)")
    replay.add_argument("--from", dest="result", type=Path, default=outdir.result_file(Path("racegate-out")))
    replay.add_argument("--runs", type=_positive_int, default=10)
    replay.add_argument("--schedule", help="override the schedule (e.g. none, to compare)")
    replay.add_argument("--timeout", type=_positive_float)
    replay.add_argument("--out", type=Path, help="where to keep the replay logs (default: <result dir>/replay)")
    replay.set_defaults(handler=cmd_replay)

    baseline = sub.add_parser("baseline", help="write or update the known-races baseline from a result")
    baseline.add_argument("--from", dest="result", type=Path, default=outdir.result_file(Path("racegate-out")))
    baseline.add_argument("-o", "--output", type=Path, default=Path("racegate-baseline.json"))
    baseline.add_argument("--note", help="note stored with each newly added bucket")
    baseline.add_argument("--suppressions-out", type=Path, metavar="FILE",
                          help="also write a TSan suppressions file silencing the result's buckets (for ctest alone)")
    baseline.set_defaults(handler=cmd_baseline)

    init = sub.add_parser("init", help="add racegate presets and a GitHub workflow to a CMake project")
    init.add_argument("project", type=Path, nargs="?", default=Path("."))
    init.add_argument("--racegate-dir", type=Path,
                      help="the vendored racegate checkout (default: the one this racegate runs from)")
    init.set_defaults(handler=cmd_init)

    doctor = sub.add_parser("doctor", help="check this machine (and a build) for what breaks or weakens TSan runs",
                            usage="racegate doctor [--preset NAME | --build-dir DIR] [-S DIR] [--build-log FILE]")
    where = doctor.add_mutually_exclusive_group()
    where.add_argument("--preset", help="check for this CMake preset (its compiler, and its build dir if built)")
    where.add_argument("--build-dir", type=Path,
                       help="check this built CMake binary dir and the libraries its tests load")
    doctor.add_argument("-S", "--source", type=Path, default=Path("."),
                        help="project dir holding the presets (default .)")
    doctor.add_argument("--build-log", type=Path,
                        help="build output to scan for -Wtsan warnings (default racegate-out/build.log if present)")
    doctor.set_defaults(handler=cmd_doctor)
    return parser


def _format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", metavar="LIST", help=f"comma-separated report files to write "
                        f"(default and choices: {','.join(FILE_FORMATS)}; the console summary always prints)")


def cmd_run(args: argparse.Namespace) -> int:
    signature.use_allocator_wrappers(args.allocator_wrappers)
    formats = _formats(args.format)
    schedules = _schedules(args.schedule)
    shard = discover.parse_shard(args.shard) if args.shard else None
    known = gate.load_baseline(args.baseline)
    out_dir = args.out.resolve()
    source_dir = args.source.resolve()
    supp = suppressions.suppression_file(args.suppressions, os.environ.get("TSAN_OPTIONS", ""), out_dir)
    if not args.test_command:
        from racegate.doctor import preflight

        preflight(source_dir, args.preset, args.build_dir.resolve() if args.build_dir else None)
    found, build_dir = _build_and_discover(args, source_dir, out_dir)
    tests, not_built = _select(found, build_dir, shard)
    shim_path = _shim()
    master_seed = args.seed if args.seed is not None else secrets.randbits(32)
    schedules_for = partial(strategies.probe_schedules_for_test, wanted=schedules, have_shim=shim_path is not None)
    past = histories.load_or_empty(args.history) if args.history else None
    session = Session(tests, schedules_for, SessionConfig(
        out_dir=out_dir, jobs=args.jobs, master_seed=master_seed, runs=args.runs, time_budget=args.time_budget,
        timeout=args.timeout, until_confident=args.until_confident, shim_path=shim_path, suppressions=supp,
        batch=not args.no_batch, history=past, plain_arm=args.schedule is None))
    print(f"racegate: {len(tests)} tests, seed {master_seed}, schedules {','.join(schedules)}, "
          f"{args.jobs} jobs", file=sys.stderr)
    planned = planned_runs(len(tests), args.runs, args.time_budget, args.until_confident)
    progress = Progress(sys.stderr, planned, args.time_budget)
    wall = session.run(progress)
    config = results.RunConfig(
        runs=args.runs, time_budget=args.time_budget, jobs=args.jobs, seed=master_seed, schedules=schedules,
        shard=args.shard, until_confident=args.until_confident, source_dir=str(source_dir),
        build_dir=str(build_dir) if build_dir else None, out_dir=str(out_dir),
        compiler=compiler(build_dir) if build_dir else None, strict=args.strict,
        gate_library_reports=args.gate_library_reports, suppression_files=list(supp.sources) if supp else None)
    result = session.result(config, wall)
    if args.history:
        # Written whatever the verdict, and after an interrupt too: what the runs taught is kept either way. A
        # history that cannot be written is a warning: the results below are what the job is for.
        histories.save_or_warn(session.learned(), args.history)
    result.tests.extend(not_built)
    gate.apply_baseline(result, known)
    _publish(result, out_dir, formats)
    if session.interrupted:
        print(f"racegate: interrupted; partial results in {out_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_CLEAN if args.no_gate else gate.exit_code(result)


def _build_and_discover(args: argparse.Namespace, source_dir: Path,
                        out_dir: Path) -> tuple[list[TestCase], Path | None]:
    """Build the preset when one is given, then discover: the tests to run and the binary dir they come
    from (None for `-- CMD`)."""
    if args.test_command:
        if args.preset or args.build_dir:
            raise RacegateError("give one of --preset, --build-dir or -- CMD, not several")
        return discover.command_tests(args.test_command), None
    if args.target and not args.preset:
        raise RacegateError("--target needs --preset: racegate builds only through a preset")
    if args.preset:
        print(f"racegate: configuring and building preset {args.preset} ...", file=sys.stderr)
        build_dir = build_preset(source_dir, args.preset, outdir.build_log(out_dir), args.jobs, tuple(args.target))
    elif args.build_dir:
        build_dir = args.build_dir.resolve()
    else:
        raise RacegateError("nothing to run: give --preset NAME, --build-dir DIR or -- CMD ARGS")
    tests = discover.discover(build_dir, args.tests)
    if not uses_tsan(build_dir):
        print(f"racegate: warning: {build_dir} is not built with -fsanitize=thread; only failures, crashes "
              "and hangs can be found", file=sys.stderr)
    return tests, build_dir


def _select(found: list[TestCase], build_dir: Path | None,
            shard: tuple[int, int] | None) -> tuple[list[TestCase], list[results.TestResult]]:
    """The tests to run, and the selected ones whose executable was not built as results that never ran.
    -R (in discovery) and the shard choose first, so an unbuilt test they leave out never matters."""
    # `-- CMD` is run as given: a missing program there is the command's own failure, not a partial build.
    missing = {t.name: why for t in found if build_dir and (why := discover.missing_executable(t))}
    if found and len(missing) == len(found):
        # Decided before sharding, the same way on every shard: a shard whose tests all happen to be
        # unbuilt only lists them, like an empty shard, while the others run.
        first = found[0]
        more = f", and {len(found) - 1} more" if len(found) > 1 else ""
        raise RacegateError(f"nothing to run: no selected test is built ({first.name}: "
                            f"{missing[first.name].removeprefix('not built: ')}{more})")
    if shard:
        found = discover.shard(found, *shard)
    if not found and not shard:
        raise RacegateError("nothing to run: no test matched")
    # An empty shard (more shards than tests) is not an error: its result merges as nothing.
    not_built = [results.TestResult.never_ran(t, missing[t.name]) for t in found if t.name in missing]
    if not_built:
        names = ", ".join(t.name for t in not_built[:5]) + (" ..." if len(not_built) > 5 else "")
        print(f"racegate: {len(not_built)} selected test{'s' if len(not_built) != 1 else ''} not built, "
              f"listed as not run: {names}", file=sys.stderr)
    return [t for t in found if t.name not in missing], not_built


def cmd_report(args: argparse.Namespace) -> int:
    result = results.load(args.result)
    if args.baseline:
        gate.apply_baseline(result, gate.load_baseline(args.baseline))
    out_dir = (args.out or args.result.parent).resolve()
    _publish(result, out_dir, _formats(args.format), save=False, result_dir=args.result.resolve().parent)
    return gate.exit_code(result) if args.gate else EXIT_CLEAN


def cmd_merge(args: argparse.Namespace) -> int:
    from racegate.merge import merge

    if args.history:
        merged = histories.History()
        for path in args.results:
            # Named explicitly: a missing one is a mistake here, unlike run --history's first session.
            if not path.is_file():
                raise RacegateError(f"{path}: no such history file")
            try:
                merged = merged.merged(histories.load(path))
            except histories.HistoryError as exc:
                raise RacegateError(f"{path}: {exc}") from None
        histories.save(merged, args.output)
        print(f"racegate: wrote {args.output} ({len(merged.tests)} tests)", file=sys.stderr)
        return EXIT_CLEAN

    inputs = [(path.resolve(), results.load(path)) for path in args.results]
    out_path = args.output.resolve()
    result = merge(inputs, out_path)
    if args.baseline:
        gate.apply_baseline(result, gate.load_baseline(args.baseline))
    results.save(result, out_path)
    _publish(result, out_path.parent, _formats(args.format), save=False)
    return EXIT_CLEAN if args.no_gate else gate.exit_code(result)


def cmd_replay(args: argparse.Namespace) -> int:
    from racegate.replay import replay

    result = results.load(args.result)
    out_dir = (args.out or outdir.replay_dir(args.result.parent)).resolve()
    schedule = _schedules(args.schedule)[0] if args.schedule else None
    outcome = replay(result, args.bucket, args.runs, out_dir, _shim(), schedule, args.timeout)
    bucket = outcome.bucket
    print(f"{bucket.id}: {bucket.title}")
    print(f"replayed {bucket.first_seen.test} with seed {outcome.seed} under {outcome.schedule}: "
          f"reproduced in {outcome.reproduced} of {outcome.runs} runs "
          f"(logs of the runs that did not pass in {outdir.runs_dir(out_dir)})")
    return EXIT_FOUND if outcome.reproduced else EXIT_CLEAN


def cmd_baseline(args: argparse.Namespace) -> int:
    result = results.load(args.result)
    added, total = gate.write_baseline(result, args.output, args.note)
    print(f"racegate: {args.output}: added {added} buckets, {total} known")
    if args.suppressions_out:
        text = suppressions.suppressions_text(
            (b.id, b.kind, b.title, next((f.function for f in b.frames if f.function), None))
            for b in result.buckets)
        args.suppressions_out.write_text(text, encoding="utf-8")
        written = sum(1 for line in text.splitlines() if not line.startswith("#"))
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
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(render("github", result, options))
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8", errors="backslashreplace") as summary:
            summary.write(render("markdown", result, options))
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


def _schedules(text: str | None) -> list[str]:
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
