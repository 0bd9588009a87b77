"""How each test framework, C library and runtime prints a failure, as data: the one home of these rules.

`FAILURE_RULES` reads a failed check's message and location out of a test's output (failure.py keys and titles
its bucket on them); `TIMING_RULES` tell a check on elapsed time from any other by its expression and values.
Each rule has a unit test on real output (tests/failure_corpus: programs built with clang and gcc under TSan,
and the formats of frameworks Debian does not package, written from their documentation).
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FailureRule:
    """One way a failure is printed. `pattern` has a `message` group and may have `file`, `line`, `detail` (the
    values and context printed under the message), `type` (what failed: the exception's type, the macro) and
    `function` (the function it failed in, as the message names it)."""

    name: str  # the framework or source, e.g. "googletest"
    marker: str  # a plain substring of every match: the pattern runs only on output that holds it (logs are large)
    pattern: re.Pattern[str]
    # Read only when the run aborted (SIGABRT): a line that is a failure only because abort() came after it.
    abort_only: bool = False


def _rule(name: str, marker: str, pattern: str, abort_only: bool = False) -> FailureRule:
    return FailureRule(name, marker, re.compile(pattern, re.MULTILINE), abort_only)


# A file name as frameworks print it: no spaces around, no separators of the formats below inside.
_FILE = r"(?P<file>[^\s:()\[\]]+?)"

# The name of the function a message names, as a failure's key takes it: without its return type, parameters and
# template arguments. clang's assert() names a C function `void open_ctx(void)` where gcc's says `open_ctx`, and
# `void check(T) [with T = int]` is one assert in every instantiation. A name without parameters is taken whole.
FUNCTION_NAME = re.compile(r"(?P<name>[^\s(]+)\(")

# In the order they are tried at one place in the output; a match that starts inside an earlier one is skipped.
FAILURE_RULES: tuple[FailureRule, ...] = (
    # file:line: Failure, then the message lines until the next failure or the test's verdict line.
    _rule("googletest", ": Failure\n",
          r"^(?P<file>[^\n]*?):(?P<line>\d+): Failure\n"
          r"(?P<message>(?:(?!\[  FAILED  \]|\[       OK \]|[^\n]*:\d+: Failure\n)[^\n]*\n?){0,12})"),
    # file:line: ERROR: CHECK( a == b ) is NOT correct!   then `  values: CHECK( 3 == 5 )`. Read as the XML rule
    # below reads the same failure (type, expression, values), so a case keys alike run alone (console) and in a
    # batch (racegate runs batches with doctest's XML reporter).
    _rule("doctest", " is NOT correct!\n",
          r"^" + _FILE + r":(?P<line>\d+): (?:FATAL )?ERROR: (?P<type>[A-Z_]+)\( (?P<message>[^\n]*?) \) "
          r"is NOT correct!\n"
          r"[ \t]+values: [A-Z_]+\( (?P<detail>[^\n]*?) \)$"),
    _rule("doctest", "ERROR: test case THREW exception: ",
          r"^" + _FILE + r":(?P<line>\d+): ERROR: test case THREW exception: (?P<message>[^\n]*)"),
    # Any other doctest error line (CHECK_THROWS, FAIL, ...), then its indented `logged:` lines.
    _rule("doctest", "ERROR: ",
          r"^" + _FILE + r":(?P<line>\d+): (?:FATAL )?ERROR: (?P<message>[^\n]*)\n"
          r"(?P<detail>(?:[ \t]+[^\n]*\n?){0,12})"),
    # file:line: FAILED:   then the indented expression and `with expansion:` / `with message:` blocks (v2, v3).
    _rule("catch2", ": FAILED:\n",
          r"^" + _FILE + r":(?P<line>\d+): FAILED:\n"
          r"(?P<message>(?:(?:[ \t]+[^\n]*|(?:with|due to|explicitly)[^\n]*:)\n?){0,16})"),
    # Catch2's and doctest's XML reporters: a failed <Expression> with its <Original> and <Expanded> text.
    _rule("catch2/doctest xml", '<Expression success="false"',
          r'<Expression success="false" type="(?P<type>\w+)" filename="(?P<file>[^"]*)" line="(?P<line>\d+)"[^>]*>'
          r"\s*<Original>\s*(?P<message>.*?)\s*</Original>\s*(?:<Expanded>\s*(?P<detail>.*?)\s*</Expanded>)?"),
    # doctest's XML reporter: an exception that ended the case, located at the case as doctest's console says.
    _rule("catch2/doctest xml", '<Exception crash="false">',
          r'<TestCase [^>]*filename="(?P<file>[^"]*)" line="(?P<line>\d+)"[^>]*>\s*<Exception crash="false">'
          r"\s*(?P<message>.*?)\s*</Exception>"),
    # file(line): error: in "suite/case": check a == b has failed [3 != 5]   (also `fatal error:`).
    _rule("boost.test", ": in \"",
          r"^(?:unknown location\(\d+\)|" + _FILE + r"\((?P<line>\d+)\)): (?:fatal )?error:? in \"[^\"\n]*\": "
          r"(?P<message>[^\n]*)"),
    # file:line:F:tcase:test:iteration: message   (E: an error such as a signal in the test).
    _rule("check", ":F:", r"^" + _FILE + r":(?P<line>\d+):[FE]:[^:\n]*:[^:\n]*:\d+: (?P<message>[^\n]*)"),
    # [  ERROR   ] --- message   then   [   LINE   ] --- file:line: error: Failure!
    _rule("cmocka", "[   LINE   ] --- ",
          r"^\[  ERROR   \] --- (?P<message>[^\n]*)\n(?:[^\n]*\n){0,8}?"
          r"\[   LINE   \] --- " + _FILE + r":(?P<line>\d+): error: Failure!"),
    # file:line:test:FAIL: message   (Unity; its fixture prints `TEST(Group, Name)` as the test, hence no `:` in it).
    _rule("unity", ":FAIL",
          r"^(?:TEST\([^)\n]*\))?" + _FILE + r":(?P<line>\d+):(?P<test>[^:\n]+):FAIL(?::\s*(?P<message>[^\n]*))?"),
    # acutest:   file:line: Check expression... failed   then indented details.
    _rule("acutest", "... failed",
          r"^[ \t]+" + _FILE + r":(?P<line>\d+): (?:Check )?(?P<message>[^\n]*?)\.\.\. failed\n"
          r"(?P<detail>(?:[ \t]{4,}[^\n]*\n?){0,8})"),
    # TAP (libuv's runner, any TAP producer): `not ok N - name`, then its `#` diagnostics; libuv's assertion line
    # among them gives the message and location. A `# TODO` or `# SKIP` directive is no failure in TAP.
    _rule("tap", "not ok ",
          r"^not ok \d+ - (?P<type>[^\n#]*?)[ \t]*(?!#\s*(?:TODO|SKIP))(?:#[^\n]*)?\n(?:#[^\n]*\n){0,16}?"
          r"#\s*Assertion failed in " + _FILE + r" on line (?P<line>\d+): (?P<message>[^\n]*)"),
    _rule("tap", "not ok ", r"^not ok \d+ - (?P<message>[^\n#]*?)[ \t]*(?!#\s*(?:TODO|SKIP))(?:#[^\n]*)?$"),
    # libuv's ASSERT outside TAP:   Assertion failed in file on line N: expr (values)
    _rule("libuv assert", "Assertion failed in ",
          r"^Assertion failed in " + _FILE + r" on line (?P<line>\d+): (?P<message>[^\n]*)"),
    # tinytest: `  FAIL file:line: assert(a == b): 3 vs 5` (tt_assert, tt_int_op, tt_fail...), the test's verdict
    # `[FAILED group/name (0 retries)]` (older: `[name FAILED]`), and `[atexit failure!]`: a forked test's child
    # that reported success but then exited non-zero (TSan's exit status after a report is one such exit).
    _rule("tinytest", "FAIL ", r"^[ \t]*FAIL " + _FILE + r":(?P<line>\d+): (?P<message>[^\n]*)"),
    _rule("tinytest", "FAILED",
          r"^[ \t]*\[(?P<message>FAILED [^\s\]]+|[^\s\]]+ FAILED)(?: \(\d+ retries\))?\]"),
    _rule("tinytest", "[atexit failure!]", r"\[(?P<message>atexit failure)!\]"),
    # glibc's assert():   prog: file:line: function: Assertion `expr' failed.
    _rule("assert", ": Assertion `",
          r"^(?:[^\n:]*: )?" + _FILE + r":(?P<line>\d+): (?P<function>[^\n]*?): "
          r"(?P<message>Assertion `[^\n]*' failed)\."),
    # musl's assert():   Assertion failed: expr (file: function: line)
    _rule("assert (musl)", "Assertion failed: ",
          r"^(?P<message>Assertion failed: [^\n]*?) \(" + _FILE + r": (?P<function>[^\n:]*): (?P<line>\d+)\)"),
    # A library's own assert macro (libzmq's zmq_assert, several C libraries'):   Assertion failed: expr (file:line)
    _rule("assert (file:line)", "Assertion failed: ",
          r"^(?P<message>Assertion failed: [^\n]*?) \(" + _FILE + r":(?P<line>\d+)\)$"),
    # glog and absl: F<date> <time> <thread> file:line] Check failed: a == b (3 vs. 5) message
    _rule("glog/absl", "] ",
          r"^F\d{4}(?:\d{4})? [\d:. ]+\s+\d+ " + _FILE + r":(?P<line>\d+)\] (?P<message>[^\n]*)"),
    # An uncaught exception: libstdc++'s and libc++abi's terminate handlers name its type and what().
    _rule("uncaught exception", "terminate called after throwing",
          r"^terminate called after throwing an instance of '(?P<type>[^'\n]*)'\n\s*what\(\):\s*(?P<message>[^\n]*)"),
    _rule("uncaught exception (libc++)", "uncaught exception of type",
          r"^libc\+\+abi: terminating (?:due to|with) uncaught exception of type (?P<message>[^\n]*)"),
    # Other sanitizers' and UBSan's reports, and glibc's heap and stack checks: the program's bug, in its words.
    _rule("sanitizer", "Sanitizer: ",
          r"^(?:==\d+==)?ERROR: (?P<message>(?:Address|Leak|Memory|UndefinedBehavior)Sanitizer: [^\n]*)"),
    _rule("ubsan", ": runtime error: ",
          _FILE + r":(?P<line>\d+):\d+: runtime error: (?P<message>[^\n]*)"),
    _rule("glibc", " detected ***", r"^\*\*\* (?P<message>[^\n]* detected) \*\*\*"),
    _rule("glibc", "(): ",
          r"^(?P<message>(?:free|malloc|realloc|double free or corruption|corrupted)[^\n]*?\(\)?: [^\n]*)$",
          abort_only=True),
    # A program's own last word before abort(): a line that says it is fatal.
    _rule("message before abort", "",
          r"^(?P<message>(?:[\w./-]+: )?(?:fatal|FATAL|Fatal|panic|PANIC|Panic|error|ERROR|Error)\b[:!]?[^\n]*)",
          abort_only=True),
)


# A framework's own report that a signal ended the test (doctest's, Catch2's and Boost.Test's signal handlers,
# Check's forked runner): it says what killed the test, not why, so it is no message of the program's own.
SIGNAL_REPORT = re.compile(r"test case CRASHED|fatal error condition|\bsignal: SIG[A-Z]+|Received signal \d+")


@dataclass(frozen=True)
class TimingRule:
    """One sign that a failed check is about elapsed time: `pattern` searched in its expression or its values."""

    name: str
    pattern: re.Pattern[str]
    on: str = "expression"  # or "values": the values the framework printed for the failed check


# Words of the checked expression that name time, after splitting it into lower-case words at every non-letter
# and at camelCase humps (`elapsed_ms` and `elapsedMs` are both "elapsed", "ms"; `kDelay` is "k", "delay").
TIMING_WORDS = frozenset({
    "elapsed", "time", "timestamp", "duration", "durations", "latency", "deadline", "timeout", "timed", "took",
    "delay", "delayed", "interval", "jitter", "slack", "waited", "slept", "stopwatch", "walltime", "fps",
    "ms", "msec", "millis", "milliseconds", "us", "usec", "micros", "microseconds", "ns", "nsec", "nanos",
    "nanoseconds", "sec", "secs", "seconds", "chrono", "steady", "clock",
})

# A name that holds a point in time, on either side of a subtraction: `firedAt - begin`, `t1 - t0`, `end - start`.
_TIME_POINT = (r"(?:\w*(?:At|_at|Time|_time|Stamp|_stamp|_ts|Start|_start|Begin|_begin|End|_end|Deadline|_deadline)"
               r"|start|begin|end|stop|then|before|after|tic|toc|deadline|t\d)")

TIMING_RULES: tuple[TimingRule, ...] = (
    TimingRule("clock call", re.compile(
        r"\b(?:now|steady_clock|system_clock|high_resolution_clock|clock_gettime|gettimeofday|GetTickCount\w*"
        r"|QueryPerformanceCounter|mach_absolute_time|monotonic\w*|time)\s*\(")),
    TimingRule("chrono type", re.compile(
        r"\bchrono::|\b(?:milli|micro|nano)?seconds\s*[({<]|\b(?:duration_cast|time_point|duration)\b")),
    TimingRule("time point difference", re.compile(
        r"\b" + _TIME_POINT + r"\b(?!\s*\()\s*-\s*\w+|\w+\s*-\s*\b" + _TIME_POINT + r"\b(?!\s*\()")),
    TimingRule("duration literal", re.compile(r"\b\d+(?:\.\d+)?(?:ns|us|ms|s|min|h)\b")),
    TimingRule("values with time units", re.compile(
        r"^[^\n]*?\b\d+(?:\.\d+)?\s*(?:ns|us|µs|ms|s|sec|secs|seconds|milliseconds|microseconds)\b", re.MULTILINE),
        on="values"),
    # What the framework printed for a wait that gave up: gtest's `Actual: false (Timed out waiting for ...)`.
    TimingRule("timed out", re.compile(r"\btimed out\b", re.IGNORECASE), on="values"),
    # Fractional values of a comparison, one over the other by a factor TSan's slowdown gives (it runs code 5-15
    # times slower), in a check of a difference: seconds measured against a budget, `actual: 0.322 vs 0.042`.
    TimingRule("slowdown-sized excess", re.compile(
        r"(?P<a>\d*\.\d+)\s*(?:vs\.?|<=?|>=?)\s*(?P<b>\d*\.\d+)(?![\d.e])"), on="ratio"),
)

# The range of `slowdown-sized excess`: the larger value over the smaller.
SLOWDOWN_FACTORS = (2.0, 60.0)

# Timing by behaviour (failure.timing_by_behaviour): a call that waits a fixed time, in the source lines above a failed
# check (SLEEP_WINDOW of them, its own line included: a helper the check calls is most often defined just above it).
# A check after one assumes the other threads got somewhere by then, which TSan's slowdown breaks.
SLEEP_CALL = re.compile(r"\b(?:sleep_for|sleep_until|usleep|nanosleep|msleep|Sleep|SleepFor|sleep)\s*\(")
SLEEP_WINDOW = 30
# It is not on time when perturbed runs show it more often than plain ones beyond chance: a one-sided Fisher test
# below this (stats.more_often_chance). With few runs the test cannot say so, and the sleep decides.
PERTURBED_MORE_OFTEN = 0.05

# A CTest label that marks a test's failures timing-sensitive whatever its checks say: `LABELS racegate:timing`.
TIMING_LABEL = "racegate:timing"

# Where a check's printed values begin, after its expression: gtest's `, actual:` / `Which is:` / `Actual:`,
# doctest's `values:`, Catch2's `with expansion:`, Boost.Test's `has failed [`, Check's `' failed:`.
VALUES_START = re.compile(r",\s*actual:|\n\s*Actual:|\bvalues:|\nwith expansion:|has failed \[|' failed:")

# Lines that name one test of a framework's run (its start or its verdict), per framework. A process whose output
# names two or more tests ran several, and a failure of one of them is no evidence about a race another one
# reported (bucket.py's symptom rule); Catch2, doctest and Boost.Test name no passing test on their console.
TEST_NAME_LINES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("googletest/cmocka", re.compile(r"^\[ RUN      \] (?P<test>\S+)", re.MULTILINE)),
    ("tap", re.compile(r"^(?:not )?ok \d+ - (?P<test>[^\n#]*?)[ \t]*(?:#[^\n]*)?$", re.MULTILINE)),
    ("tinytest", re.compile(r"^(?P<test>[\w.-]+/[\w.-]+): (?:\[forking\] )?(?:OK|SKIPPED|$)", re.MULTILINE)),
    ("tinytest", re.compile(r"^[ \t]*\[FAILED (?P<test>[^\s\]]+)", re.MULTILINE)),
    ("tinytest", re.compile(r"^[ \t]*\[(?P<test>[^\s\]]+) FAILED\]", re.MULTILINE)),
    ("check", re.compile(r"^[^\s:()\[\]]+:\d+:[PFE]:[^:\n]*:(?P<test>[^:\n]*):\d+: ", re.MULTILINE)),
)
