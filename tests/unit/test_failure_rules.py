"""Each rule of failure_rules.FAILURE_RULES on the output it was written for: real outputs of small failing
programs built with clang and gcc under TSan (tests/failure_corpus), and the documented formats of frameworks
Debian does not package (tests/failure_corpus/documented)."""
from pathlib import Path

import pytest

from racegate.failure import classify, function_name, normalize_message, read_failures
from racegate.failure_rules import FAILURE_RULES
from racegate.model import TestCase
from racegate.signature_rules import LEGACY, bucket_id

FAILURES = Path(__file__).resolve().parent.parent / "failure_corpus"
COMPILERS = ("clang14", "gcc12")

# program: (rule, where, line, headline) of each failure it prints, in order.
REAL = {
    "gtest_checks": [("googletest", "gtest_checks.cpp", 14, "Expected equality of these values:"),
                     ("googletest", "gtest_checks.cpp", 15, "Expected: (credits - debits) >= (0), actual: -2 vs 0"),
                     ("googletest", "gtest_checks.cpp", 22,
                      "Expected: (firedAt - 0.0) < (kDelay + kSlack), actual: N vs 0.012")],
    "doctest_checks": [("doctest", "doctest_checks.cpp", 10, "CHECK: credits == debits"),
                       ("doctest", "doctest_checks.cpp", 11, "CHECK: credits - debits >= 0"),
                       ("doctest", "doctest_checks.cpp", 16, "REQUIRE: left == 0"),
                       ("doctest", "doctest_checks.cpp", 19, "queue closed")],
    "doctest_checks-xml": [("catch2/doctest xml", "doctest_checks.cpp", 10, "CHECK: credits == debits"),
                           ("catch2/doctest xml", "doctest_checks.cpp", 11, "CHECK: credits - debits >= 0"),
                           ("catch2/doctest xml", "doctest_checks.cpp", 16, "REQUIRE: left == 0"),
                           ("catch2/doctest xml", "doctest_checks.cpp", 19, "queue closed")],
    "catch2_checks": [("catch2", "catch2_checks.cpp", 8, "CHECK( credits == debits )"),
                      ("catch2", "catch2_checks.cpp", 10, "CHECK( credits - debits >= 0 )"),
                      ("catch2", "catch2_checks.cpp", 15, "REQUIRE( left == 0 )")],
    "catch2_checks-xml": [("catch2/doctest xml", "catch2_checks.cpp", 8, "CHECK: credits == debits"),
                          ("catch2/doctest xml", "catch2_checks.cpp", 10, "CHECK: credits - debits >= 0"),
                          ("catch2/doctest xml", "catch2_checks.cpp", 15, "REQUIRE: left == 0")],
    "boost_checks": [("boost.test", "boost_checks.cpp", 7, "check credits == debits has failed [3 != 5]"),
                     ("boost.test", "boost_checks.cpp", 8, "check credits - debits >= 0 has failed [3 - 5 < 0]"),
                     ("boost.test", "boost_checks.cpp", 13, "items left behind"),
                     ("boost.test", "boost.test", None, "std::runtime_error: queue closed")],
    "check_checks": [("check", "check_checks.c", 9,
                      "Assertion 'credits == debits' failed: credits == 3, debits == 5"),
                     ("check", "check_checks.c", 15, "items left behind: 2")],
    "cmocka_checks": [("cmocka", "cmocka_checks.c", 12, "0x3 != 0x5"), ("cmocka", "cmocka_checks.c", 18, "left == 0")],
    "assert_fails": [("assert", "assert_fails.c", 10, "Assertion `balance >= 0 && \"balance went negative\"' failed")],
    # A library's own assert macro (libzmq's zmq_assert), then abort(): titled by its expression and file:line.
    "lib_assert": [("assert (file:line)", "lib_assert.cpp", 19, "Assertion failed: get_load() == 0")],
    # Two `assert(rc == 0)` of one file in two functions, and the file after an edit above them moved both.
    "two_asserts": [("assert", "two_asserts.c", 13, "Assertion `rc == 0' failed")],
    "two_asserts-destroy": [("assert", "two_asserts.c", 18, "Assertion `rc == 0' failed")],
    "two_asserts_shifted": [("assert", "two_asserts.c", 17, "Assertion `rc == 0' failed")],
    "two_asserts_shifted-destroy": [("assert", "two_asserts.c", 22, "Assertion `rc == 0' failed")],
    "glog_checks": [("glog/absl", "glog_checks.cpp", 8,
                     "Check failed: credits == debits (3 vs. 5) credits and debits differ")],
    "uncaught_exception": [("uncaught exception", "uncaught exception", None,
                            "std::runtime_error: queue closed while a push was waiting")],
    "abort_message": [("message before abort", "message before abort", None,
                       "fatal: pool exhausted after 64 of 64 slots")],
    "tap_checks": [("tap", "tap_checks.c", 20, "drains: ledger_left == 0"), ("tap", "tap", None, "closes")],
    "tiny_checks": [("tinytest", "tiny_checks.c", 13, "assert(credits == debits): 3 vs 5"),
                    ("tinytest", "tinytest", None, "FAILED ledger/balances"),
                    ("tinytest", "tinytest", None, "atexit failure"),
                    ("tinytest", "tinytest", None, "FAILED ledger/child_exit")],
    # The child's TSan report and its parent's own line: no failure message of a framework.
    "fork_child_race": [],
    # A framework's signal handler names the signal, not why: no message of the program's own.
    "doctest_abort": [], "catch2_abort": [], "boost_abort": [],
}

DOCUMENTED = {
    "catch2_v3_console": [("catch2", "ledger_tests.cpp", 7, "CHECK( credits == debits )"),
                          ("catch2", "ledger_tests.cpp", 12, "{Unknown expression after the reported line}")],
    "libuv_assert": [("libuv assert", "test-tcp-connect-timeout.c", 42, "status == UV_ECANCELED")],
    "tinytest_old_verdict": [("tinytest", "tinytest", None, "debug_mode_too_late_race FAILED")],
    "unity": [("unity", "ledger_test.c", 14, "Expected 5 Was 3")],
    "unity_fixture": [("unity", "ledger_test.c", 31, "Expected 5 Was 3")],
    "acutest": [("acutest", "ledger_test.c", 12, "credits == debits")],
    "assert_musl": [("assert (musl)", "ledger.c", 10, "Assertion failed: balance >= 0")],
    "libcxx_uncaught": [("uncaught exception (libc++)", "uncaught exception (libc++)", None,
                         "std::runtime_error: queue closed while a push was waiting")],
    "ubsan": [("ubsan", "ledger.cpp", 17,
               "signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'")],
    "asan": [("sanitizer", "sanitizer", None, "AddressSanitizer: heap-use-after-free on address 0x602000000010 "
                                              "at pc 0x55d1 bp 0x7ffc sp 0x7ffc")],
    "glibc_stack_smashing": [("glibc", "glibc", None, "stack smashing detected")],
    "glibc_double_free": [("glibc", "glibc", None, "free(): double free detected in tcache 2")],
}


def _read(path: Path) -> list[tuple]:
    output, status = path.read_text().rsplit("# exit ", 1)
    found = read_failures(output, aborted=int(status) == -6)
    return [(m.rule, m.where, m.line, m.headline) for m in found]


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("program", sorted(REAL))
def test_real_output_of_each_framework_is_read_with_either_compiler(program, compiler):
    found = _read(FAILURES / compiler / f"{program}.out")
    if program == "gtest_checks":  # the timer's measured value differs run to run
        assert found[-1][3].startswith("Expected: (firedAt - 0.0) < (kDelay + kSlack), actual: 0.0")
        found[-1] = found[-1][:3] + ("Expected: (firedAt - 0.0) < (kDelay + kSlack), actual: N vs 0.012",)
    assert found == REAL[program]


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_formats_are_read(name):
    assert _read(FAILURES / "documented" / f"{name}.out") == DOCUMENTED[name]


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("program", ["doctest_abort", "catch2_abort"])
def test_an_abort_a_framework_only_reports_stays_a_crash(program, compiler):
    output, status = (FAILURES / compiler / f"{program}.out").read_text().rsplit("# exit ", 1)
    outcome, (crash,) = classify(TestCase("aborts", ("./t",)), int(status), False, 10, output, "", False)
    assert outcome == "crash" and crash.signature == ["aborts", "SIGABRT"]


@pytest.mark.parametrize("compiler", COMPILERS)
def test_a_doctest_case_keys_alike_on_the_console_and_in_xml(compiler):
    # racegate batches doctest cases with the XML reporter and runs them alone with the console one: a failure
    # must be one bucket either way.
    def keys(name: str) -> list[tuple[str, str]]:
        output = (FAILURES / compiler / f"{name}.out").read_text().rsplit("# exit ", 1)[0]
        return [(m.where, normalize_message(m.text)) for m in read_failures(output)]
    assert keys("doctest_checks") == keys("doctest_checks-xml")


def test_every_rule_has_an_output_it_reads():
    covered = {entry[0] for entries in (*REAL.values(), *DOCUMENTED.values()) for entry in entries}
    assert {rule.name for rule in FAILURE_RULES} <= covered


def test_every_real_program_has_an_output_from_each_compiler():
    programs = {p.stem for p in (FAILURES / "programs").iterdir()}
    variants = {name.split("-")[0] for name in REAL}
    assert programs == variants
    for compiler in COMPILERS:
        assert {p.stem for p in (FAILURES / compiler).glob("*.out")} == set(REAL)


@pytest.mark.parametrize("compiler", COMPILERS)
def test_a_library_assert_macro_then_abort_is_a_test_failure_titled_by_its_expression(compiler):
    output, status = (FAILURES / compiler / "lib_assert.out").read_text().rsplit("# exit ", 1)
    outcome, (failure,) = classify(TestCase("ctx_destroy", ("./t",)), int(status), False, 10, output, "", False)
    assert outcome == "fail" and failure.kind == "test failure"
    assert failure.title == "test failure: ctx_destroy: Assertion failed: get_load() == 0 (lib_assert.cpp:19)"
    # What earlier releases called it, `killed by SIGABRT`, is among its ids, so their baselines still know it.
    crash = classify(TestCase("ctx_destroy", ("./t",)), -6, False, 10, "", "", False)[1][0]
    assert crash.id in failure.legacy_ids


def _failure_of(compiler: str, output_name: str):
    output, status = (FAILURES / compiler / f"{output_name}.out").read_text().rsplit("# exit ", 1)
    outcome, (failure,) = classify(TestCase("test_ctx", ("./t",)), int(status), False, 10, output, "", False)
    assert outcome == "fail"
    return failure


def test_two_asserts_of_one_file_in_two_functions_are_two_buckets_that_an_edit_above_them_keeps():
    # Field tests #42: the key named the file and the expression only, so every `assert (rc == 0)` of a test file was
    # one bucket. Signature v6 keys it on the function glibc's message names, as both compilers name it.
    ids = {(c, name): _failure_of(c, name) for c in COMPILERS for name in
           ("two_asserts", "two_asserts-destroy", "two_asserts_shifted", "two_asserts_shifted-destroy")}
    for name, function, line in (("two_asserts", "open_ctx", 13), ("two_asserts-destroy", "destroy_ctx", 18)):
        clang, gcc = ids["clang14", name], ids["gcc12", name]
        assert clang.signature == gcc.signature == ["test_ctx", "two_asserts.c", f"in {function}",
                                                    "Assertion `rc == N' failed"]
        assert clang.title == f"test failure: test_ctx: Assertion `rc == 0' failed (two_asserts.c:{line})"
        # Moved down by an edit above it: the same bucket.
        assert ids["gcc12", name.replace("two_asserts", "two_asserts_shifted")].id == gcc.id
    opened, destroyed = ids["gcc12", "two_asserts"], ids["gcc12", "two_asserts-destroy"]
    assert opened.id != destroyed.id
    # Under signature v5 both were one id, which baselines of earlier releases hold: each bucket still carries it.
    assert opened.legacy_ids[4] == destroyed.legacy_ids[4]
    v5_key = ["test_ctx", "two_asserts.c", "Assertion `rc == N' failed"]
    assert opened.legacy_ids[:5] == [bucket_id("test failure", v5_key, rules) for rules in LEGACY]


@pytest.mark.parametrize("named,name", [("void open_ctx(void)", "open_ctx"), ("open_ctx", "open_ctx"),
                                        ("void Ring<T>::push(T) [with T = int]", "Ring<T>::push"),
                                        ("std::pair<int, int> split(int)", "split")])
def test_a_function_is_keyed_by_its_name_alone(named, name):
    assert function_name(named) == name
