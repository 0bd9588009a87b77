"""The result of a session, racegate.json (schema 1), one job per module:

- `model`, `per_test`, `buckets`: the dataclasses of the whole session, of one test and of one bucket, and every
  value that follows from others (they import no pipeline stage);
- `assemble`: runs and buckets made into a whole `Result`, nothing changed after;
- `codec`: racegate.json written and read back (files of every release load).

The names below are the package's interface: `from racegate.result import Result, load, ...`.
"""
from racegate.result.assemble import (bucket_evidence, bucket_result, build_result, discovery_curve,
                                      discovery_curve_seconds, strategy_stats, unfinished_after, verification_spent,
                                      with_baseline)
from racegate.result.buckets import BucketResult, Evidence, Excerpt, FirstSeen, RacingMemory, RelatedGroup, Symptom
from racegate.model import VERIFICATION_PURPOSES
from racegate.result.codec import SCHEMA, load, save
from racegate.result.model import (ChangeFocus, Cost, GroupSpent, Result, RunConfig, StrategyStats, Summary,
                                   SuppressionResult)
from racegate.result.per_test import Spent, TestResult, added

__all__ = ["SCHEMA", "VERIFICATION_PURPOSES", "BucketResult", "ChangeFocus", "Cost", "GroupSpent", "Evidence",
           "Excerpt", "FirstSeen", "RacingMemory", "RelatedGroup", "Result",
           "RunConfig", "Spent", "StrategyStats", "Summary", "SuppressionResult", "Symptom", "TestResult", "added",
           "bucket_result", "build_result", "bucket_evidence", "discovery_curve", "discovery_curve_seconds", "load",
           "save", "strategy_stats", "unfinished_after", "verification_spent", "with_baseline"]
