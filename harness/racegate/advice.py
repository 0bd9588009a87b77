"""Concrete fix advice for a bucket, chosen from its kind and the code its stacks show."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from racegate import kinds
from racegate.library_reports import BY_RULE
from racegate.model import SourceFrame, StackTrace
from racegate.frame_kinds import is_library_frame

# Standard containers by the qualified name of a function inside them (templates and arguments removed), in
# libstdc++ (public name or internal base) and libc++ (std::__1::) spelling.
_CONTAINERS = (
    (re.compile(r"std::(__\d+::)?unordered_(multi)?map::|std::__detail::_Map_base::"), "std::unordered_map"),
    (re.compile(r"std::(__\d+::)?unordered_(multi)?set::"), "std::unordered_set"),
    (re.compile(r"std::_Hashtable::|std::__\d+::__hash_table::"), "std::unordered_"),
    (re.compile(r"std::(__\d+::)?(multi)?map::"), "std::map"),
    (re.compile(r"std::(__\d+::)?(multi)?set::"), "std::set"),
    (re.compile(r"std::_Rb_tree::|std::__\d+::__tree::"), "std::"),
    (re.compile(r"std::(__\d+::)?vector::|std::_Vector_base::"), "std::vector"),
    (re.compile(r"std::(__\d+::)?deque::|std::_Deque_base::"), "std::deque"),
    (re.compile(r"std::(__\d+::|__cxx11::)?(forward_)?list::|std::_List_base::|std::__detail::_List_node_base::"),
     "std::list"),
    (re.compile(r"std::(__\d+::|__cxx11::)?basic_string::"), "std::string"),
)
# The shared hash table / tree behind map and set holds key-value pairs only for the maps.
_PAIR = re.compile(r"std::pair<|__hash_value_type<|__value_type<")
_NESTED = re.compile(r"<[^<>]*>|\([^()]*\)")
# clang prints `$_0::operator()`, gcc `{lambda(int)#1}::operator()`, MSVC-style demanglers `<lambda_1>`.
# gcc's inlined frames print the bare `operator()`.
_LAMBDA = re.compile(r"\$_\d|\{lambda|<lambda|(^|::)operator\(\)")
# The thread an access stack header names: `Read of size 4 at 0x.. by main thread:`, `... by thread T3 (mutexes: ...):`.
_ACCESS_THREAD = re.compile(r" by (main thread|thread T\d+)\b")


@dataclass(frozen=True)
class Advice:
    what: str  # the pattern, in one sentence
    fix: str  # what to change


def advice_for(kind: str, frames: Sequence[SourceFrame] = (), signature: Sequence[str] = (),
               stacks: Sequence[StackTrace] = (), library_rule: str | None = None,
               timing_sensitive: bool = False) -> Advice:
    """The advice for one bucket: a known standard-library report's own, else by its kind's category; for races
    by the code its stacks show, for failed checks by the pattern of the check, said plainly when none fits."""
    issue = BY_RULE.get(library_rule or "")
    if issue is not None:
        return Advice(f"A known race inside the standard library ({issue.reference}): {issue.what}.", issue.workaround)
    found = kinds.category(kind)
    one_thread = _ONE_THREAD_ADVICE.get(found or "")
    if one_thread is not None and _one_thread(stacks):
        return one_thread
    if found is None or found == kinds.RACE:
        return _data_race_advice(kind, frames, signature, stacks)
    if found == kinds.ASSERTION:
        return _failed_check_advice(signature[-1] if signature else "", timing_sensitive)
    if found == kinds.MUTEX_MISUSE:
        return Advice(f"Mutex misuse: {kind}.", _CATEGORY_ADVICE[found].fix)
    return _CATEGORY_ADVICE[found]


def interference_advice(kind: str) -> Advice:
    """For a failure that showed only while another copy of its test ran (copies.py): what the copies share."""
    return Advice(
        f"This {kind} showed only while another copy of the same test was running, never with the test alone: "
        "racegate runs copies of a test side by side, CTest never does, so the copies clash over something they "
        "share, most likely a fixed file name (in the working directory or /tmp) or a fixed port.",
        "Give each run its own: files under $TMPDIR (racegate sets it to each run's own dir, also named by "
        "$RACEGATE_RUN_DIR), port 0 so the system picks a free one. Or declare what the test needs, which racegate "
        "and `ctest -j` both honour: set_tests_properties(<test> PROPERTIES RESOURCE_LOCK <name>), or RUN_SERIAL "
        "TRUE for a test that must run alone.")


_CATEGORY_ADVICE = {
    kinds.LOCK_ORDER: Advice(
        "Two threads take the same mutexes in opposite orders; under the wrong timing each waits for the other.",
        "Pick one global lock order and always acquire in it, or take both at once with std::scoped_lock(a, b) "
        "(deadlock-avoiding); better still, shrink the critical sections so one lock is never held while "
        "taking another.",
    ),
    kinds.THREAD_LEAK: Advice(
        "A thread was still running (or never joined) when the program exited.",
        "Join every std::thread before it is destroyed (std::jthread joins automatically), or detach it "
        "deliberately and make sure it never touches objects that die before it does.",
    ),
    kinds.LIFETIME: Advice(
        "An object was destroyed while another thread was still using it (a lifetime race).",
        "Join or stop the threads that use the object before destroying it; for a virtual call racing with the "
        "destructor, stop the worker in the derived class's destructor (or before it), not in the base class. "
        "If ownership is truly shared, hold it with std::shared_ptr in every thread.",
    ),
    kinds.SIGNAL: Advice(
        "A signal handler calls a function that is not async-signal-safe (or clobbers errno).",
        "Do only async-signal-safe work in the handler: set a volatile std::sig_atomic_t or lock-free "
        "std::atomic flag (or write to a self-pipe) and handle it in normal code; save and restore errno.",
    ),
    kinds.MUTEX_MISUSE: Advice(
        "Mutex misuse.",
        "Use RAII locks (std::lock_guard, std::unique_lock, std::scoped_lock) so every lock is released by the "
        "thread that took it, exactly once; never destroy a mutex another thread may still hold.",
    ),
    kinds.CRASH: Advice(
        "The test crashed in some runs only: a timing-dependent crash, usually memory corruption from a race "
        "or an object used after another thread destroyed it.",
        "Replay the failing run (racegate replay) under a debugger; look for objects shared between threads "
        "without synchronization and for threads outliving what they use; an AddressSanitizer build may "
        "pinpoint it.",
    ),
    kinds.HANG: Advice(
        "The test hung in some runs: a deadlock, a lost wake-up or a livelock that only some schedules hit.",
        "Wait on condition variables with a predicate (cv.wait(lock, [&]{ return ready; })) and change the "
        "predicate under the mutex before notifying; check lock order; replay and dump the threads' stacks.",
    ),
}


# Categories whose advice differs when the report's accesses were all made by one thread: then no other thread took
# part, and the threads advice of the category above would send the reader looking for one.
_ONE_THREAD_ADVICE = {
    kinds.LIFETIME: Advice(
        "Memory was used after it was freed, and one thread did both: a lifetime bug, not a race between threads; "
        "typically a destructor called by hand and then again at scope exit, a double delete, or a pointer, "
        "reference or iterator kept past the end of what it points to.",
        "Let exactly one owner end the object: no explicit destructor call on an object its scope will destroy "
        "again, std::unique_ptr (or a plain member or local) rather than a raw owning pointer, and no pointer, "
        "reference or iterator kept past the object's end. The second stack is where it was freed; an "
        "AddressSanitizer build shows where it was allocated too.",
    ),
}


def _one_thread(stacks: Sequence[StackTrace]) -> bool:
    """Whether the report's access stacks (at least two: the use and the free) all name the same thread."""
    threads = [m.group(1) for m in (_ACCESS_THREAD.search(s.header) for s in stacks) if m]
    return len(threads) >= 2 and len(set(threads)) == 1


def steady_crash_advice(signal: str) -> Advice:
    """For a test that crashed on every run, plain ones too, by `signal` and without a TSan report
    (steady_crash.py): not a timing-dependent crash, and, when several tests do it, likely the environment's."""
    return Advice(
        f"The test was killed by {signal} on every run, plain ones too, and TSan reported nothing: a steady crash, "
        "not a timing-dependent one. When several tests crash like this, one cause outside them (the build, the "
        "TSan runtime, the machine) is likelier than a bug in each.",
        "Run `racegate doctor --build-dir <build dir>`: it checks the build and the TSan runtime, and names the test "
        "executables that call glibc's getaddrinfo_a, whose resolver thread glibc starts out of TSan's sight and "
        "which crashes in TSan's runtime (turn that lookup off in the TSan build). Otherwise run the reproduce line "
        "by hand under gdb (gdb -ex run --args ...) and look at the crashing thread: a crash in a thread the C "
        "library started itself is the environment's; one in the test's own code is a plain bug to debug without "
        "racegate.",
    )


# Failed checks, by what the check says (the normalized failure message); the first pattern that fits wins.
_TIMING_CHECK = Advice(
    "A check on elapsed time or a deadline failed: ThreadSanitizer alone slows a test 5-15 times, and perturbed "
    "schedules more, so this says more about the build than about the code.",
    "Check what happened rather than how long it took; where the deadline is the point of the test, scale it for "
    "sanitizer builds (e.g. a factor from the environment) or run that test outside the TSan job.",
)
_FAILED_CHECKS = (
    (re.compile(r"connect|refused|reset by peer|broken pipe|socket|\bbind\b|address already in use|"
                r"eaddrinuse|econnrefused|econnreset|timed out|status code|http", re.I),
     Advice("A connection or request failed in some runs only: typically a server not listening yet, a port "
            "still in use, or a client timeout shorter than a sanitizer build needs.",
            "Wait for readiness instead of sleeping (signal once listen() has returned), bind port 0 and read the "
            "chosen port back, and give request timeouts headroom under TSan.")),
    (re.compile(r"Expected: \(.*\) (?:<|<=|>|>=) \(.*\), actual"),
     Advice("A bound the test checks was broken in some runs only, without a TSan report: typically check-then-act "
            "on atomics (each access atomic, the sequence not), so two threads both act on one check.",
            "Make the read-modify-write one atomic step: a compare_exchange_weak loop, or fetch_sub/fetch_add and "
            "act on the value it returns (e.g. `if (refs.fetch_sub(1) == 1) destroy();`); or hold one mutex "
            "across the check and the act.")),
    (re.compile(r"Expected equality of these values|Value of: ", re.I),
     Advice("A value came out wrong in some runs only, without a TSan report: typically an update lost between "
            "threads (read, compute, write back on an atomic or under two separate locks).",
            "Do each update as one atomic step (fetch_add, a compare_exchange_weak loop) or under one lock held "
            "from the read to the write.")),
)
_UNKNOWN_CHECK = Advice(
    "The test failed in some runs and passed in others, and racegate does not recognize the pattern of the failure.",
    "Replay the failing run (`racegate replay <id>` runs the same seed and schedule) and compare its output with "
    "a passing run's; the reproduce line runs it by hand, under a debugger if need be.",
)


def _failed_check_advice(message: str, timing_sensitive: bool) -> Advice:
    if timing_sensitive:
        return _TIMING_CHECK
    for pattern, advice in _FAILED_CHECKS:
        if pattern.search(message):
            return advice
    return _UNKNOWN_CHECK


def _data_race_advice(kind: str, frames: Sequence[SourceFrame], signature: Sequence[str],
                      stacks: Sequence[StackTrace]) -> Advice:
    # The shared object is what the accessed library frames work on: the frames above the project's in each
    # access stack, from the one the project called inwards (a map's find before the key compare inside it).
    # Argument types name nothing that was accessed: `get(const std::string&)` of a map does not race on a string.
    accessed: list[str] = []
    # The access happens in a lambda when the first frame outside the standard library is one.
    accessors = [f.function for f in frames]
    for stack in stacks:
        inside = []
        for f in stack.frames:
            if not is_library_frame(f):
                if f.function:
                    accessors.append(f.function)
                break
            inside.append(f.function)
        accessed += reversed(inside)
    headers = " ".join(s.header for s in stacks).lower()
    both_write = headers.count("write") >= 2
    access = "concurrent writes" if both_write else "a read concurrent with a write"
    container = _container(accessed)
    lam = any(_LAMBDA.search(n) for n in accessors)
    if container:
        what = f"{access.capitalize()} on a shared {container}: standard containers are not thread-safe."
        fix = (
            f"Guard every access to the {container} with one std::mutex; if it is read-mostly use "
            f"std::shared_mutex (shared_lock to read, unique_lock to write); if contention matters shard it "
            f"(N containers, each with its own mutex, picked by key hash), or give it one owner thread fed by a queue."
        )
    elif lam:
        what = f"{access.capitalize()} on a variable a lambda captured by reference and runs on another thread."
        fix = (
            "Capture by value ([=] or [x]) what the thread only reads; for shared state that must change, make it "
            "std::atomic or protect it with a mutex, and make sure it outlives the thread."
        )
    else:
        what = f"{access.capitalize()} on the same memory from two threads with no synchronization ({kind})."
        fix = (
            "Protect the shared data with a mutex held on both sides, make a lone counter or flag std::atomic, or "
            "confine the data to one thread and hand results over through a queue or future."
        )
    return Advice(what, fix)


def _qualified(function: str) -> str:
    """`void std::vector<int>::push_back(int const&) const` -> `std::vector::push_back`."""
    previous = None
    while previous != function:
        previous, function = function, _NESTED.sub("", function)
    words = [w for w in function.split() if w not in ("const", "volatile", "&", "&&", "noexcept")]
    return words[-1] if words else ""


def _container(names: list[str]) -> str | None:
    """The first container that one of the functions (in order) belongs to."""
    for raw in names:
        q = _qualified(raw)
        for pattern, name in _CONTAINERS:
            if pattern.match(q):
                if name.endswith(("::", "_")):  # internal table or tree: tell map from set by its value type
                    name += "map" if _PAIR.search(raw) else "set"
                return name
    return None
