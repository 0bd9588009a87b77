"""Data passed between the pipeline stages: discover -> plan -> run -> analyse -> bucket -> report -> gate."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from racegate.signature_rules import bucket_id


class Word(str, enum.Enum):
    """A value of one of the result's vocabularies: equal to, hashed, printed and written to JSON as the string
    racegate.json stores, on every Python racegate supports (`(str, Enum)` alone prints `Outcome.PASS` on 3.11)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Outcome(Word):
    """How one run ended, in the order of severity used when a run shows several."""

    PASS = "pass"
    RACE = "race"
    FAIL = "fail"
    CRASH = "crash"
    TIMEOUT = "timeout"
    # A run racegate stopped itself (the budget's deadline, or a perturbed run far slower than the test runs
    # plain): neither a pass nor a failure of the test. TSan reports it printed before it was stopped still count.
    CUT = "cut"

    @property
    def is_failure(self) -> bool:
        """The test failed in this run (a race, failure, crash or timeout); a pass and a cut run are not."""
        return self not in (Outcome.PASS, Outcome.CUT)


OUTCOMES = tuple(Outcome)


class CutCause(Word):
    """Why racegate ended a run itself (RunRecord.cut), in the order reports list the causes."""

    BUDGET = "budget"  # the session's time budget ran out while it ran
    SLOW = "slow"  # a perturbed run went past its slowdown limit (a multiple of the test's plain duration)
    # The kernel's OOM killer ended it: the environment's doing, not the test's, so no verdict either.
    OOM = "oom"


class Purpose(Word):
    """Why a run was planned (PlannedRun.purpose): the search, or to weigh a finding."""

    SEARCH = ""
    RECHECK = "recheck"  # a plain run of a failure seen only under perturbation
    REPLAY = "replay"  # its seed again
    ALONE = "alone"  # no other copy of the test runs meanwhile: a failure first seen beside another copy
    SLOWDOWN = "slowdown"  # a plain run after a strategy slowed the test past its limit: does it hang by itself?

    @property
    def verifies(self) -> bool:
        """A run that weighs a finding rather than searches."""
        return self is not Purpose.SEARCH


# The purposes of runs planned to weigh a finding rather than to search, in the order results list them.
VERIFICATION_PURPOSES = (Purpose.RECHECK, Purpose.REPLAY, Purpose.ALONE, Purpose.SLOWDOWN)


class EndedBy(Word):
    """What ended a session before a finding's re-checks ran (Evidence.ended_by)."""

    BUDGET = "budget"
    INTERRUPT = "interrupt"
    CONFIDENT = "confident"  # --until-confident's estimate fell below its threshold


class BucketStatus(Word):
    """Why a bucket fails the gate or does not (result/policy.status decides which)."""

    NEW = "new"  # it fails the gate
    BASELINED = "baselined"
    LIBRARY = "library"
    INTERFERENCE = "interference"
    TIMING_SENSITIVE = "timing-sensitive"

    @property
    def gates(self) -> bool:
        return self is BucketStatus.NEW


# How the reason a selected test never ran starts when its program was not built (discover.missing_executable): such
# a test is set apart before the session, as a partial build means it to be, not counted as a test it left uncovered.
NOT_BUILT = "not built"


@dataclass(frozen=True)
class TestCase:
    """One CTest test as `ctest --show-only=json-v1` describes it (or one `-- CMD` command)."""

    __test__ = False  # not a pytest test class

    name: str
    command: tuple[str, ...]
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    timeout: float | None = None
    labels: tuple[str, ...] = ()
    is_gtest: bool = False
    will_fail: bool = False  # CTest WILL_FAIL: a non-zero exit is the expected outcome
    skip_return_code: int | None = None  # CTest SKIP_RETURN_CODE: this exit status means "skipped"
    run_serial: bool = False  # CTest RUN_SERIAL: no other test may run at the same time
    resource_locks: tuple[str, ...] = ()  # CTest RESOURCE_LOCK, sorted: tests sharing one never run together
    processors: int = 1  # CTest PROCESSORS: the job slots (of --jobs) one run of it takes


@dataclass(frozen=True)
class PlannedRun:
    """One run the scheduler decided on."""

    test: TestCase
    run: int  # global index, in start order
    seed: int
    strategy: str  # the perturbation strategy (`--schedule`)
    # Preload the shim. Under schedules it does not carry out it only counts threads, and once a
    # test's count is known that costs more than a short test's whole share of racegate's time.
    preload_shim: bool = True
    # Seconds after which a perturbed run is stopped as racegate's own slowdown, not the test's hang.
    slowdown_limit: float | None = None
    purpose: Purpose = Purpose.SEARCH  # why the run was planned beyond the search (schedule.py)
    # > 0: a batched first pass of this many tests in one process (batch.py): TSan reports into the output
    # stream, between the tests' markers, gtest writes a JSON file, and the timeouts are per test.
    batch: int = 0


@dataclass(frozen=True)
class PlannedBatch:
    """The first runs of tests of one executable, to run in one process (several when one crashes)."""

    runs: tuple[PlannedRun, ...]


@dataclass(frozen=True)
class Frame:
    """One `#N function file:line:col (module+0xoff)` line of a TSan stack."""

    function: str  # as printed (demangled); "" for <null>
    file: str = ""  # "" when unknown
    line: int | None = None
    column: int | None = None
    module: str = ""  # e.g. "libstdc++.so.6"; "" when not printed
    offset: int | None = None


# Stack roles: the accesses that conflict, and context stacks that only describe them.
ACCESS = "access"  # "Write of size 4 at ... by thread T1:" / "Read of size ..." / "Atomic write ..."
PREVIOUS = "previous"  # "Previous write of size 4 at ... by main thread:"
MUTEX = "mutex"  # "Mutex M1 acquired here while holding mutex M0 in thread T1:" / "Mutex M1 created at:"
LOCATION = "location"  # "Location is heap block of size 8 at ... allocated by main thread:"
THREAD = "thread"  # "Thread T1 (tid=..., running) created by main thread at:"
OTHER = "other"  # anything else with frames (e.g. "Call to malloc in signal handler")


@dataclass
class Stack:
    header: str  # the line introducing the stack, stripped
    role: str  # one of ACCESS, PREVIOUS, MUTEX, LOCATION, THREAD, OTHER
    frames: list[Frame] = field(default_factory=list)
    # TSan printed `[failed to restore the stack]` instead of frames: the access is known, not where it was made.
    lost: bool = False


@dataclass
class TsanReport:
    kind: str  # TSan's own report type string, e.g. "data race", "lock-order-inversion (potential deadlock)"
    pid: int | None
    stacks: list[Stack]
    summary: str  # text after "SUMMARY: ThreadSanitizer: ", "" when missing
    text: str  # the raw report block
    truncated: bool = False


@dataclass(frozen=True)
class SourceFrame:
    """A frame as results and reports show it: `{"function", "file", "line"}` in racegate.json."""

    function: str = ""
    file: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Excerpt:
    """The source lines around one racing line, read from the project's tree when the result was built."""

    file: str  # as the frame names it
    line: int  # the racing line
    first: int  # the number of lines[0]
    lines: list[str]

    @property
    def numbered(self) -> list[tuple[int, str]]:
        return [(self.first + i, text) for i, text in enumerate(self.lines)]


@dataclass(frozen=True)
class StackTrace:
    """One stack of a bucket as results show it: TSan's header line and its frames, innermost first."""

    header: str = ""
    frames: tuple[SourceFrame, ...] = ()


@dataclass(frozen=True)
class Sides:
    """What a TSan report names of its bug, to fold a report TSan could not print whole into the bucket of the full
    report of the same bug (docs/bucketing.md, "Partial reports")."""

    names: tuple[str, ...] = ()  # the keys of the sides it names (signature rules)
    memory: str = ""  # the racing memory (`global:g_x`, `heap:file.c:main`), "" when the report names none
    missing: str = ""  # why the report is partial (signature.LOST_STACK, signature.TRUNCATED); "" when it is whole


@dataclass
class Finding:
    """One bucketable event seen in one run: a TSan report or a non-TSan failure."""

    kind: str
    title: str
    signature: list[str]
    frames: list[SourceFrame]  # the top in-project frame of each side
    raw: str  # the full raw text to keep for the bucket
    stacks: list[StackTrace] = field(default_factory=list)  # the stacks that define a TSan report
    library_rule: str | None = None  # a known report of the standard library's own state (library_reports.py)
    # Its bucket ids under the earlier signature versions (signature.LEGACY), which baselines of earlier releases hold.
    legacy_ids: list[str] = field(default_factory=list)
    timing_sensitive: bool = False  # a failed assertion on elapsed time or a deadline (failure.py)
    further_messages: list[str] = field(default_factory=list)  # a failing run's failures after its first
    # Of a failure in a run with a TSan report: the run shows it comes from that report (analyse.py: a child's exit
    # after its report, or one framework test that failed and reported); only such runs make it a race's symptom.
    from_race: bool = False
    sides: Sides | None = None  # of a TSan report: what folds a partial report into its full one (signature.py)
    # Its bucket's id: bucket_id(kind, signature) unless bucketing folded it into another bucket (a partial report).
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = bucket_id(self.kind, self.signature)

    @property
    def partial(self) -> bool:
        """A TSan report printed without a side (stack not restored) or cut short (truncated)."""
        return self.sides is not None and bool(self.sides.missing)


@dataclass
class RunRecord:
    """One execution of one test under one strategy and seed."""

    test: str
    run: int  # global run index, 0-based, in start order
    seed: int
    strategy: str
    command: list[str]
    outcome: Outcome
    returncode: int | None
    duration: float
    log_dir: str
    threads: int | None = None  # most threads the test had alive at once, when the shim could tell
    findings: list[Finding] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # what a person sets to reproduce the run by hand
    strategy_note: str | None = None  # the shim's word when it could not apply the strategy as asked
    cut: CutCause | None = None  # why racegate ended the run itself; outcome CUT
    cwd: str | None = None  # the working directory the test ran in
    suppressed: dict[str, int] = field(default_factory=dict)  # reports TSan suppressed, per "type:pattern" entry
    # When the run's test process started, in seconds since the session started (None outside a session, e.g. in
    # `racegate replay`). A run of several tests in one process gives each test's record its own start.
    started: float | None = None
    purpose: Purpose = Purpose.SEARCH  # PlannedRun.purpose
    # Bytes: the peak resident memory of the test's own process (execute.Execution.peak_memory); None for a test
    # run in a batch process with others, or when it could not be measured.
    peak_memory: int | None = None
    overlapped: bool = False  # another copy of the same test ran at some moment of this run (execute.Execution)
    threads_unobserved: str | None = None  # why the shim could not count the threads of every process (shim.py)

    def __post_init__(self) -> None:
        # Records are built from the words the stages (and tests) give; the model holds its own vocabulary.
        self.outcome = Outcome(self.outcome)
        self.purpose = Purpose(self.purpose)
        if self.cut is not None:
            self.cut = CutCause(self.cut)

    @property
    def ended(self) -> float | None:
        """When the run ended, in seconds since the session started: when what it found became known."""
        return None if self.started is None else self.started + self.duration
