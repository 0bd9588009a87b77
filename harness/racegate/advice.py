"""Concrete fix advice for a bucket, chosen from its kind and the code its stacks show."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from racegate import kinds
from racegate.library_reports import BY_RULE
from racegate.model import SourceFrame, StackTrace

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
# Standard library headers: frames there are plumbing (std::thread, std::invoke), not where the access is.
_LIBRARY_FILE = re.compile(r"/c\+\+/|/bits/|/include/c\+\+")


@dataclass(frozen=True)
class Advice:
    what: str  # the pattern, in one sentence
    fix: str  # what to change


def advice_for(kind: str, frames: Sequence[SourceFrame] = (), signature: Sequence[str] = (),
               stacks: Sequence[StackTrace] = (), library_rule: str | None = None) -> Advice:
    """The advice for one bucket: a known standard-library report's own, else by its kind's category, and for
    races by the code its stacks show."""
    issue = BY_RULE.get(library_rule or "")
    if issue is not None:
        return Advice(f"A known race inside the standard library ({issue.reference}): {issue.what}.", issue.workaround)
    found = kinds.category(kind)
    if found is None or found == kinds.RACE:
        return _data_race_advice(kind, frames, signature, stacks)
    if found == kinds.MUTEX_MISUSE:
        return Advice(f"Mutex misuse: {kind}.", _CATEGORY_ADVICE[found].fix)
    return _CATEGORY_ADVICE[found]


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
    kinds.ASSERTION: Advice(
        "The test's own check failed in some runs and passed in others, without a TSan report: the result "
        "depends on the interleaving, typically check-then-act on atomics (each access atomic, the sequence not).",
        "Make the read-modify-write one atomic step: a compare_exchange_weak loop, or fetch_sub/fetch_add and "
        "act on the value it returns (e.g. `if (refs.fetch_sub(1) == 1) destroy();`); or hold one mutex across "
        "the check and the act.",
    ),
    kinds.CRASH_BUG: Advice(
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


def _data_race_advice(kind: str, frames: Sequence[SourceFrame], signature: Sequence[str],
                      stacks: Sequence[StackTrace]) -> Advice:
    names = [f.function for f in frames] + list(signature)
    # The access happens in a lambda when the first frame outside the standard library is one.
    accessors = [f.function for f in frames]
    for stack in stacks:
        names += [f.function for f in stack.frames]
        accessors += [
            f.function
            for f in stack.frames
            if f.function
            and not _qualified(f.function).startswith(("std::", "__"))
            and not _LIBRARY_FILE.search(f.file)
        ][:1]
    headers = " ".join(s.header for s in stacks).lower()
    both_write = headers.count("write") >= 2
    access = "concurrent writes" if both_write else "a read concurrent with a write"
    container = _container(names)
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
    qualified = [(n, _qualified(n)) for n in names]
    for pattern, name in _CONTAINERS:
        for raw, q in qualified:
            if pattern.match(q):
                if name.endswith(("::", "_")):  # internal table or tree: tell map from set by its value type
                    name += "map" if _PAIR.search(raw) else "set"
                return name
    return None
