"""The words reports use for the result's vocabulary, one table per vocabulary, keyed by the strings the result
stores: a bucket's status (`Result.status`), why racegate cut a run (`TestResult.cuts`, execute.CUT_BUDGET and
CUT_SLOW), why a run was made (result.VERIFICATION_PURPOSES) and what ended a session (`Evidence.ended_by`).
A new value of any of them gets its words here and nowhere else."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StatusWords:
    """How reports name one bucket status."""

    tag: str  # the console's tag before the bucket: "[NEW]", "[known]"
    note_label: str  # the label of the line that says why the bucket does not gate
    known_as: str  # the verdict's count of known buckets: "2 known, 1 baselined, 1 standard library"


STATUS = {
    "new": StatusWords(tag="NEW", note_label="note", known_as="new"),
    "baselined": StatusWords(tag="known", note_label="baseline", known_as="baselined"),
    "library": StatusWords(tag="known", note_label="known", known_as="standard library"),
    "timing-sensitive": StatusWords(tag="timing-sensitive", note_label="not gated", known_as="timing-sensitive"),
    "interference": StatusWords(tag="interference", note_label="not gated", known_as="interference between copies"),
}


@dataclass(frozen=True)
class VerdictLook:
    """How each format marks the session's verdict (gate.verdict_state)."""

    color: str  # the console's
    icon: str  # Markdown's
    css: str  # the HTML banner's class


VERDICT = {
    "fail": VerdictLook(color="red", icon=":x:", css="fail"),
    "uncovered": VerdictLook(color="yellow", icon=":warning:", css="uncovered"),
    "pass": VerdictLook(color="green", icon=":white_check_mark:", css="pass"),
}

# Why racegate cut a run, in the order reports list the causes.
CUT_CAUSES = {"budget": "at the budget's deadline", "slow": "past a strategy's slowdown limit",
              "oom": "by the out-of-memory killer"}
OOM = "oom"  # execute.CUT_OOM: the environment's, said apart from racegate's own cuts (sentences.oom_note)

# The runs that weighed a finding rather than searched.
PURPOSES = {"recheck": "plain re-check", "replay": "seed replay", "alone": "re-check alone"}

# What ended the session before a finding's re-checks; ENDED_OTHERWISE for none recorded or a later release's.
ENDED_BY = {"budget": "the budget ran out", "interrupt": "the session was interrupted",
            "confident": "--until-confident ended the session"}
ENDED_OTHERWISE = "the session ended"
