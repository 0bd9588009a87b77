"""Re-run the test, seed and schedule that first produced a bucket, and say whether it came back."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from racegate import memory, outdir
from racegate.analyse import run_analysed
from racegate.errors import RacegateError
from racegate.execute import Executor
from racegate.model import PlannedRun
from racegate.result import BucketResult, Result
from racegate.shim import preloads_shim
from racegate.strategies import SHIM_STRATEGIES
from racegate.tsan_options import tsan_option_dict


@dataclass
class ReplayOutcome:
    bucket: BucketResult
    strategy: str
    seed: int
    runs: int
    reproduced: int


def replay(result: Result, prefix: str, runs: int, out_dir: Path, shim_path: Path | None,
           strategy: str | None = None, timeout: float | None = None) -> ReplayOutcome:
    bucket = result.find_bucket(prefix)
    first = bucket.first_seen
    try:
        test = result.test(first.test).test_case()
    except RacegateError as exc:
        raise RacegateError(f"{exc}; cannot replay it") from None
    strategy = strategy or first.strategy
    outdir.clear_logs(out_dir, reports=False)  # logs of an earlier replay must not count again
    # The suppressions file the session gave every run, so a replay sees what the session saw.
    supp = tsan_option_dict(first.env.get("TSAN_OPTIONS", "")).get("suppressions")
    # With admission, as in a session: an OOM kill of a replayed run reads as the environment, not a crash.
    executor = Executor(outdir.runs_dir(out_dir), shim_path, timeout,
                        tsan_flags={"suppressions": supp} if supp else None, admission=memory.Admission({}))
    # As the first run had it: a plain run after the test's first went without the shim.
    preload = strategy in SHIM_STRATEGIES or preloads_shim(first.env.get("LD_PRELOAD", ""))
    reproduced = 0
    started = time.monotonic()
    try:
        for i in range(runs):
            plan = PlannedRun(test=test, run=i, seed=first.seed, strategy=strategy, preload_shim=preload)
            _, (record,) = run_analysed(executor, plan, started)
            # A result of an earlier release names its buckets by their ids under an earlier signature version.
            if any(bucket.id == f.id or bucket.id in f.legacy_ids for f in record.findings):
                reproduced += 1
    except KeyboardInterrupt:
        executor.stop()  # the test runs in its own session: Ctrl-C does not reach it
        raise
    finally:
        executor.close()
    return ReplayOutcome(bucket, strategy, first.seed, runs, reproduced)
