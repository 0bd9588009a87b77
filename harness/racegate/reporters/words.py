"""The words reports use for the result's vocabulary, one table per vocabulary, keyed by the model's string enums
(racegate/model.py): a bucket's status (`BucketStatus`), why racegate cut a run (`CutCause`), why a run was made
(`Purpose`, model.VERIFICATION_PURPOSES) and what ended a session (`EndedBy`).
A new value of any of them gets its words here and nowhere else."""
from __future__ import annotations

from dataclasses import dataclass

from racegate.model import BucketStatus, CutCause, EndedBy, Purpose


@dataclass(frozen=True)
class StatusWords:
    """How reports name one bucket status."""

    tag: str  # the console's tag before the bucket: "[NEW]", "[known]"
    note_label: str  # the label of the line that says why the bucket does not gate
    known_as: str  # the verdict's count of known buckets: "2 known, 1 baselined, 1 standard library"


STATUS: dict[str, StatusWords] = {
    BucketStatus.NEW: StatusWords(tag="NEW", note_label="note", known_as="new"),
    BucketStatus.BASELINED: StatusWords(tag="known", note_label="baseline", known_as="baselined"),
    BucketStatus.LIBRARY: StatusWords(tag="known", note_label="known", known_as="standard library"),
    BucketStatus.TIMING_SENSITIVE: StatusWords(tag="timing-sensitive", note_label="not gated",
                                               known_as="timing-sensitive"),
    BucketStatus.INTERFERENCE: StatusWords(tag="interference", note_label="not gated",
                                           known_as="interference between copies"),
}


@dataclass(frozen=True)
class VerdictLook:
    """How each format marks the session's verdict (Result.verdict_state)."""

    color: str  # the console's
    icon: str  # Markdown's
    css: str  # the HTML banner's class


VERDICT = {
    "fail": VerdictLook(color="red", icon=":x:", css="fail"),
    "uncovered": VerdictLook(color="yellow", icon=":warning:", css="uncovered"),
    "pass": VerdictLook(color="green", icon=":white_check_mark:", css="pass"),
}

# Why racegate cut a run, in the order reports list the causes.
CUT_CAUSES: dict[str, str] = {CutCause.BUDGET: "at the budget's deadline",
                              CutCause.SLOW: "past a strategy's slowdown limit",
                              CutCause.OOM: "by the out-of-memory killer"}

# The runs that weighed a finding rather than searched.
PURPOSES: dict[str, str] = {Purpose.RECHECK: "plain re-check", Purpose.REPLAY: "seed replay",
                            Purpose.ALONE: "re-check alone",
                            Purpose.SLOWDOWN: "slowdown check"}

# What ended the session before a finding's re-checks; ENDED_OTHERWISE for none recorded or a later release's.
ENDED_BY: dict[str, str] = {EndedBy.BUDGET: "the budget ran out", EndedBy.INTERRUPT: "the session was interrupted",
                            EndedBy.CONFIDENT: "--until-confident ended the session"}
ENDED_OTHERWISE = "the session ended"


# What a replay of a bucket's seed that brought it back in none of its runs says (`racegate replay`, and the evidence
# line of a bucket whose session replays showed it 0 times): the seed fixes racegate's schedule, not the program's
# own random draws or its timing (field tests #56: a program that seeded itself from the clock replayed 0 of 6).
SEED_DID_NOT_REPRODUCE = ("the seed does not fix the schedule: the test may draw its own randomness "
                          "(clock, random_device) or depend on timing")
