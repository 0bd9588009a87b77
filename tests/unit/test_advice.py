from __future__ import annotations

import pytest

from racegate.advice import advice_for
from racegate.model import SourceFrame, StackTrace
from racegate.signature import finding_from_report
from racegate.tsan_parse import parse_reports
from samples_helpers import CORPUS, CORPUS_COMPILERS


def _stack(header: str, *functions: str) -> StackTrace:
    return StackTrace(header, tuple(SourceFrame(f, "/p/x.cpp", 1) for f in functions))


HASH_INSERT = ("std::_Hashtable<int, std::pair<int const, int>, std::allocator<std::pair<int const, int> > >"
               "::_M_insert_unique_node(unsigned long, unsigned long, std::__detail::_Hash_node<std::pair<int const, "
               "int>, false>*, unsigned long)")


def test_unordered_map_read_write_race():
    stacks = [_stack("Write of size 8 at 0x1 by thread T1:", HASH_INSERT, "Cache::put(int)"),
              _stack("Previous read of size 8 at 0x1 by thread T2:", "Cache::get(int) const")]
    advice = advice_for("data race", [], [], stacks)
    assert "std::unordered_map" in advice.what and "read concurrent with a write" in advice.what
    assert "std::mutex" in advice.fix and "std::shared_mutex" in advice.fix
    assert "shard" in advice.fix and "owner thread" in advice.fix


@pytest.mark.parametrize("function, container", [
    ("void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(int const&)", "std::vector"),
    ("std::__1::unordered_map<int, int>::operator[](int&&)", "std::unordered_map"),
    ("std::_Rb_tree<int, std::pair<int const, int>, std::_Select1st<std::pair<int const, int> > >::_M_insert_(int)",
     "std::map"),
    ("std::_Rb_tree<int, int, std::_Identity<int> >::_M_insert_unique(int const&)", "std::set"),
])
def test_containers_recognised_in_both_standard_libraries(function, container):
    stacks = [_stack("Write of size 8 at 0x1 by thread T1:", function, "f()"),
              _stack("Previous write of size 8 at 0x1 by thread T2:", function, "g()")]
    advice = advice_for("data race", [], [], stacks)
    assert f"shared {container}:" in advice.what
    assert advice.what.startswith("Concurrent writes")


def test_user_function_taking_a_container_is_not_a_container_race():
    frames = [SourceFrame("fill(std::vector<int>&)", "/p/a.cpp", 3)]
    advice = advice_for("data race", frames, [],
                        [_stack("Write of size 4 at 0x1 by thread T1:", "fill(std::vector<int>&)")])
    assert "std::vector" not in advice.what
    assert "std::atomic" in advice.fix


@pytest.mark.parametrize("lambda_frame", [
    "Pipeline::start()::$_0::operator()() const",
    "main::{lambda()#1}::operator()() const",
    "<lambda_1>::operator()",
])
def test_lambda_capture_by_reference(lambda_frame):
    stacks = [_stack("Write of size 4 at 0x1 by thread T1:", lambda_frame),
              _stack("Previous read of size 4 at 0x1 by main thread:", "main")]
    advice = advice_for("data race", [], [], stacks)
    assert "lambda captured by reference" in advice.what
    assert "Capture by value" in advice.fix


def test_lambda_only_in_std_thread_plumbing_does_not_count():
    stacks = [_stack("Write of size 4 at 0x1 by thread T1:", "Counter::add()",
                     "std::thread::_Invoker<std::tuple<main::{lambda()#1}> >::operator()()")]
    assert "lambda" not in advice_for("data race", [], [], stacks).what


@pytest.mark.parametrize("kind, needle", [
    ("heap-use-after-free", "Join"),
    ("data race on vptr (ctor/dtor vs virtual call)", "destructor"),
    ("lock-order-inversion (potential deadlock)", "std::scoped_lock"),
    ("thread leak", "detach"),
    ("unlock of an unlocked mutex (or by a wrong thread)", "std::lock_guard"),
    ("destroy of a locked mutex", "RAII"),
    ("signal-unsafe call inside of a signal", "sig_atomic_t"),
    ("signal handler spoils errno", "errno"),
    ("test failure", "racegate replay"),
    ("crash", "replay"),
    ("timeout", "predicate"),
    ("data race", "mutex"),
])
def test_each_kind_gets_its_own_concrete_fix(kind, needle):
    advice = advice_for(kind, [], [], [])
    assert advice.what
    assert needle in advice.fix


def test_advice_differs_between_kinds():
    kinds = ["data race", "heap-use-after-free", "lock-order-inversion (potential deadlock)", "thread leak",
             "destroy of a locked mutex", "signal-unsafe call inside of a signal", "test failure", "crash", "timeout"]
    assert len({advice_for(k, [], [], []).fix for k in kinds}) == len(kinds)


@pytest.mark.parametrize("compiler", CORPUS_COMPILERS)
@pytest.mark.parametrize("log, expected", [
    ("race_unordered_map", "shared std::unordered_map"),
    ("race_lambda_ref", "lambda captured by reference"),
    ("race_global", "no synchronization"),
    ("lock_order_inversion", "opposite orders"),
    ("thread_leak", "never joined"),
    ("use_after_free", "lifetime race"),
    ("use_after_free_one_thread", "one thread did both"),
    ("signal_unsafe", "signal handler"),
    ("mutex_double_lock", "Mutex misuse"),
])
def test_advice_on_real_tsan_reports(compiler, log, expected):
    path = CORPUS / compiler / f"{log}.log"
    if not path.is_file():
        pytest.skip(f"corpus log {path} is missing")
    finding = finding_from_report(parse_reports(path.read_text(errors="replace"))[0])
    advice = advice_for(finding.kind, finding.frames, finding.signature, finding.stacks)
    assert expected in advice.what


def test_a_use_after_free_in_one_thread_gets_lifetime_advice_not_the_threads_advice():
    # libcuckoo's test called a destructor by hand and its scope ended the object again: both stacks by main thread.
    one = [_stack("Read of size 4 at 0x1 by main thread:", "read_refs(int const*)", "main"),
           _stack("Previous write of size 8 at 0x1 by main thread:", "operator delete(void*)", "Session::~Session()")]
    advice = advice_for("heap-use-after-free", [], [], one)
    assert "one thread did both" in advice.what and "destructor called by hand" in advice.what
    assert "Join" not in advice.fix and "exactly one owner" in advice.fix
    worker = [_stack("Write of size 4 at 0x1 by thread T2 (mutexes: write M3):", "f()"),
              _stack("Previous write of size 8 at 0x1 by thread T2:", "operator delete(void*)", "g()")]
    assert advice_for("heap-use-after-free", [], [], worker) == advice
    # Two threads, or a header that names no thread: the lifetime race advice as before.
    two = [one[0], _stack("Previous write of size 8 at 0x1 by thread T1:", "operator delete(void*)", "g()")]
    assert "Join" in advice_for("heap-use-after-free", [], [], two).fix
    assert "Join" in advice_for("heap-use-after-free", [], [], one[:1]).fix
    assert "Join" in advice_for("heap-use-after-free", [], [], []).fix


def test_the_container_is_the_one_accessed_not_an_argument_type():
    # A std::map keyed by strings: the racing read is the key compare inside map::find, called by an accessor
    # taking a std::string. The map is what two threads share.
    stacks = [_stack("Read of size 8 at 0x1 by thread T1:",
                     "std::__cxx11::basic_string<char>::compare(std::__cxx11::basic_string<char> const&) const",
                     "std::_Rb_tree<std::__cxx11::basic_string<char>, std::pair<std::__cxx11::basic_string<char> "
                     "const, int> >::_M_lower_bound(...)",
                     "std::map<std::__cxx11::basic_string<char>, int>::find(std::__cxx11::basic_string<char> const&)",
                     "Prices::get(std::__cxx11::basic_string<char> const&)"),
              _stack("Previous write of size 8 at 0x1 by thread T2:",
                     "std::_Rb_tree<std::__cxx11::basic_string<char>, std::pair<std::__cxx11::basic_string<char> "
                     "const, int> >::_M_insert_unique(...)",
                     "Prices::set(std::__cxx11::basic_string<char> const&, int)")]
    advice = advice_for("data race", [], ["prices.cpp:get", "prices.cpp:set"], stacks)
    assert "shared std::map:" in advice.what and "std::string" not in advice.fix


@pytest.mark.parametrize("message, timing, needle", [
    ("Expected: (elapsed) <= (N), actual: N vs N", True, "sanitizer builds"),
    ("Value of: client.Get(\"/hi\")->status Actual: false Expected: true Connection refused", False, "readiness"),
    ("Expected: (account.balance()) >= (N), actual: -N vs N", False, "compare_exchange_weak"),
    ("Expected equality of these values: counter.load() Which is: N N", False, "fetch_add"),
    ("the widget was not rendered", False, "racegate replay"),
])
def test_a_failed_check_gets_advice_only_for_a_pattern_it_fits(message, timing, needle):
    advice = advice_for("test failure", [], ["Suite.Test", "x_test.cpp", message], [], timing_sensitive=timing)
    assert needle in advice.fix
    if needle == "racegate replay":
        assert "does not recognize" in advice.what
