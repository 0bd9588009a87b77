"""The argv and environment of one run: racegate's TSan defaults, the user's and the test's settings, then
the strategy's (seed, schedule, shim preload, TSan flags); and the part of it a person needs to reproduce a run."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from racegate import frameworks, outdir
from racegate.frameworks.gtest import is_gtest_command
from racegate.model import PlannedRun, TestCase
from racegate.strategies import GTEST_REPEAT, REPEAT_IN_PROCESS, STRATEGIES, TSAN_DELAY, TSAN_DELAY_FLAG
from racegate.tsan_options import merge_tsan_options, tsan_option_dict, without_tsan_option

# racegate's TSan defaults: keep going after the first report, both deadlock stacks, the longest history.
TSAN_DEFAULTS = "halt_on_error=0 second_deadlock_stack=1 history_size=7"
# Set over the user's: at exit TSan prints how often each suppression matched, which racegate counts.
TSAN_FORCED = {"print_suppressions": "1"}


def prepare_planned_run(plan: PlannedRun, run_dir: Path, shim_path: Path | None,
                        base_env: Mapping[str, str] = os.environ,
                        tsan_flags: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of one planned run writing its logs into `run_dir`: ours, then the test's
    own (merged by the strategy), then the strategy's. `tsan_flags` are the session's own TSan flags over the
    user's (the suppressions file every run gets)."""
    env = dict(base_env)
    # A private dir per run: two copies of one test running at once never meet in a shared /tmp. TMPDIR is a
    # default the test's own environment may override; RACEGATE_RUN_DIR always names the run's dir.
    private = str(outdir.run_tmp_dir(run_dir))
    env["TMPDIR"] = private
    # Later options win in TSan's parser: user settings override our defaults; log_path stays ours
    # (quoted when the path holds a separator such as a space, comma or colon).
    options = " ".join(filter(None, (TSAN_DEFAULTS, env.get("TSAN_OPTIONS", ""))))
    # A batch's reports go to stderr, the same file as its framework's markers, so their place tells which test
    # printed them (frameworks/); any other run's go to files of their own, apart from the test's output.
    log_path = "stderr" if plan.batch else str(outdir.tsan_log_path(run_dir))
    env["TSAN_OPTIONS"] = merge_tsan_options(options, {**TSAN_FORCED, **(tsan_flags or {}), "log_path": log_path})
    shim = shim_path if plan.preload_shim else None
    argv, env = prepare_run(plan.strategy, plan.seed, plan.test, env, shim, outdir.shim_report_file(run_dir))
    env["RACEGATE_RUN_DIR"] = private
    if plan.batch:
        argv.extend(frameworks.of_batch(plan.test).batch_args(run_dir))
    return argv, env


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
    if strategy == REPEAT_IN_PROCESS:
        if not (test.is_gtest or is_gtest_command(argv)):
            raise ValueError(f"repeat-in-process applies only to GoogleTest tests, not {test.name!r}")
        argv += [f"--gtest_repeat={GTEST_REPEAT}", "--gtest_shuffle", f"--gtest_random_seed={gtest_seed(seed)}"]

    env = dict(base_env)
    test_env = dict(test.env)
    base_tsan = env.get("TSAN_OPTIONS", "")
    env.update(test_env)
    tsan = base_tsan
    if "TSAN_OPTIONS" in test_env:
        tsan = merge_tsan_options(base_tsan, tsan_option_dict(test_env["TSAN_OPTIONS"]), keep=("log_path",))
    if strategy == TSAN_DELAY:
        tsan = merge_tsan_options(tsan, {TSAN_DELAY_FLAG: "1"})
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


def gtest_seed(seed: int) -> int:
    """GoogleTest accepts --gtest_random_seed in 1..99999."""
    return 1 + seed % 99999


# Paths into the run's own dir, gone once it is settled: a replay by hand gets none of them.
_RUN_PATHS = {"RACEGATE_SHIM_REPORT", "RACEGATE_RUN_DIR"}


def replay_env(test: TestCase, env: dict[str, str]) -> dict[str, str]:
    """The part of a run's environment that a person needs to reproduce it by hand: the test's own
    variables and racegate's; TSan then reports to the terminal rather than into the old run dir."""
    keys = {k for k in env if k.startswith("RACEGATE_") and k not in _RUN_PATHS}
    keys |= {k for k, _ in test.env} | ({"TSAN_OPTIONS", "LD_PRELOAD"} & env.keys())
    replay = {k: env[k] for k in sorted(keys) if k in env}
    if "TSAN_OPTIONS" in replay:
        replay["TSAN_OPTIONS"] = without_tsan_option(replay["TSAN_OPTIONS"], "log_path")
    return replay
