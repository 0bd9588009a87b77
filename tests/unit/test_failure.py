import pytest

from racegate.failure import (TSAN_EXITCODE, classify, comes_from_race, is_timing_assertion, normalize_message,
                              named_tests, timing_by_behaviour, timing_rules_matched)
from racegate.failure_rules import SLEEP_WINDOW
from racegate.model import Finding, SourceFrame, TestCase
from racegate.signature_rules import V1, V2, V3, V4, V5, bucket_id
from samples_helpers import CORPUS, CORPUS_CRASHES

TEST = TestCase("Account.Withdraw", ("./t",), is_gtest=True)

GTEST_FAILURE = """[ RUN      ] Account.Withdraw
/src/account_test.cpp:42: Failure
Expected: (account.balance()) >= (0), actual: -30 vs 0
balance went negative
[  FAILED  ] Account.Withdraw (3 ms)
"""


def test_gtest_assertion_is_a_test_failure_keyed_on_its_message_not_values():
    outcome, findings = classify(TEST, 1, False, 10, GTEST_FAILURE, "", False)
    assert outcome == "fail"
    (finding,) = findings
    assert finding.kind == "test failure"
    assert "account_test.cpp:42" in finding.title
    other_values = GTEST_FAILURE.replace("-30", "-70").replace(":42:", ":45:")
    _, (again,) = classify(TEST, 1, False, 10, other_values, "", False)
    assert again.signature == finding.signature
    assert finding.frames == [SourceFrame("Account.Withdraw", "/src/account_test.cpp", 42)]


def test_tsan_exit_status_with_reports_is_a_race_not_a_failure():
    assert classify(TEST, TSAN_EXITCODE, False, 10, "[       OK ] Account.Withdraw\n", "", True) == ("race", [])


def test_race_and_assertion_failure_in_one_run():
    outcome, findings = classify(TEST, TSAN_EXITCODE, False, 10, GTEST_FAILURE, "", True)
    # The outcome table counts the run as a race; its failure is still read (a symptom, or its own problem).
    assert outcome == "race" and findings[0].kind == "test failure"


def test_signal_is_a_crash_timeout_is_a_timeout():
    outcome, (crash,) = classify(TEST, -11, False, 10, "", "", False)
    assert outcome == "crash" and crash.signature == [TEST.name, "SIGSEGV"]
    outcome, (hang,) = classify(TEST, -9, True, 2.5, "", "", False)
    assert outcome == "timeout" and "2.5 s" in hang.title


def test_tsan_fatal_error_is_a_crash():
    log = "==12==ERROR: ThreadSanitizer: SEGV on unknown address 0x000000000000 (pc 0x55 bp 0x1 T12)\n"
    outcome, (crash,) = classify(TEST, 66, False, 10, "", log, False)
    assert outcome == "crash" and crash.signature == [TEST.name, "SEGV"]


def test_plain_nonzero_exit_without_gtest_output():
    outcome, (finding,) = classify(TestCase("tool", ("./tool",)), 3, False, 10, "boom\n", "", False)
    assert outcome == "fail" and finding.signature == ["tool", "exit 3"] and "boom" in finding.raw


def test_clean_run_passes():
    assert classify(TEST, 0, False, 10, "[  PASSED  ] 1 test.\n", "", False) == ("pass", [])


def test_normalize_message_masks_numbers_and_addresses():
    assert normalize_message("got 0x7ffe12 and  -3.5\n") == "got N and -N"


def test_will_fail_inverts_the_exit_status_but_not_races_or_crashes():
    expected = TestCase("t", ("./t",), will_fail=True)
    assert classify(expected, 1, False, 10, "boom", "", False) == ("pass", [])
    outcome, (finding,) = classify(expected, 0, False, 10, "ok", "", False)
    assert outcome == "fail" and finding.signature == ["t", "unexpected pass"]
    assert classify(expected, TSAN_EXITCODE, False, 10, "", "", True) == ("race", [])
    assert classify(expected, -11, False, 10, "", "", False)[0] == "crash"


def test_skip_return_code_means_skipped():
    skipping = TestCase("t", ("./t",), skip_return_code=77)
    assert classify(skipping, 77, False, 10, "skipped", "", False) == ("pass", [])
    assert classify(skipping, 3, False, 10, "", "", False)[0] == "fail"


@pytest.mark.parametrize("message, timing", [
    ("Expected: (elapsed) <= (200), actual: 493 vs 200", True),
    ("Expected: (elapsed_ms) < (kBudget), actual: 646 vs 200", True),
    ("Expected: (std::chrono::steady_clock::now()) < (deadline), actual: ...", True),
    ("Value of: server.wait_for_start(timeout)\n  Actual: false\nExpected: true", True),
    ("Expected: (account.balance()) >= (0), actual: -20 vs 0", False),
    ("Expected equality of these values:\n  counter\n    Which is: 1999\n  2000", False),
    # The numbers in "actual" are not read: a count of 10 ms-long items is no timing check.
    ("Expected equality of these values:\n  items.size()\n    Which is: 3\n  kMsPerTick", False),
])
def test_timing_assertions_are_recognised_by_the_words_of_their_expression(message, timing):
    assert is_timing_assertion(message) is timing


def test_a_failed_timing_assertion_is_marked_timing_sensitive():
    output = ("[ RUN      ] Server.Answers\n/src/server_test.cpp:31: Failure\n"
              "Expected: (elapsed) <= (200), actual: 493 vs 200\n[  FAILED  ] Server.Answers (500 ms)\n")
    outcome, (finding,) = classify(TEST, 1, False, 60, output, "", False)
    assert outcome == "fail" and finding.timing_sensitive
    outcome, (finding,) = classify(TEST, 1, False, 60, GTEST_FAILURE, "", False)
    assert not finding.timing_sensitive


@pytest.mark.parametrize("program", CORPUS_CRASHES)
def test_a_tsan_crash_is_keyed_on_its_stack_alike_with_every_compiler(program):
    ids = set()
    for compiler in ("clang14", "clang19", "gcc12"):
        log = (CORPUS / compiler / f"{program}.log").read_text()
        outcome, (finding,) = classify(TEST, 66, False, 60, "", log, False)
        assert outcome == "crash" and finding.kind == "crash"
        assert finding.signature == ["crash_null_deref.cpp:finish_job"]
        assert finding.title == "crash: SEGV in finish_job (crash_null_deref.cpp:8)"
        assert finding.stacks[0].frames[0].function.startswith("finish_job")
        assert finding.raw.rstrip().endswith("==ABORTING")
        # The ids release 0.1.0 (test and signal) and the v2 to v5 releases (the frame) gave it, which their
        # baselines hold.
        assert finding.legacy_ids == [bucket_id("crash", [TEST.name, "SEGV"], V1),
                                      bucket_id("crash", ["crash_null_deref.cpp:finish_job"], V2),
                                      bucket_id("crash", ["crash_null_deref.cpp:finish_job"], V3),
                                      bucket_id("crash", ["crash_null_deref.cpp:finish_job"], V4),
                                      bucket_id("crash", ["crash_null_deref.cpp:finish_job"], V5)]
        ids.add(bucket_id(finding.kind, finding.signature))
    assert len(ids) == 1


def test_a_crash_without_a_stack_is_keyed_on_the_test_and_what_happened():
    outcome, (finding,) = classify(TEST, 66, False, 60, "==7==ERROR: ThreadSanitizer: SEGV on unknown address\n",
                                   "", False)
    assert outcome == "crash" and finding.signature == [TEST.name, "SEGV"]


# One message per rule of failure_rules.TIMING_RULES (and TIMING_WORDS), each matched by that rule alone.
@pytest.mark.parametrize("rule, message", [
    ("timing word", "Expected: (kDelay) > (budget), actual: 7 vs 5"),
    ("clock call", "Expected: (std::chrono::steady_clock::now()) < (deadline_), actual: ..."),
    ("chrono type", "Value of: done.wait_for(std::chrono::milliseconds(50))\n  Actual: false\nExpected: true"),
    ("time point difference", "Expected: (firedAt - begin) < (limit), actual: 9 vs 4"),
    ("duration literal", "Value of: queue.pop_for(50ms)\n  Actual: false\nExpected: true"),
    ("values with time units", "Expected: (d) <= (limit), actual: 322ms vs 40ms"),
    ("timed out", "Value of: server.ready()\n  Actual: false (timed out waiting for listeners)\nExpected: true"),
    ("slowdown-sized excess", "Expected: (fired - origin) < (bound), actual: 0.322 vs 0.042"),
])
def test_each_timing_rule_recognises_its_sign(rule, message):
    matched = timing_rules_matched(message)
    assert rule in matched and is_timing_assertion(message)


@pytest.mark.parametrize("message", [
    # A difference of counts, fractional values over a slowdown's factor, but an absolute error: accuracy.
    "Expected: (std::abs(result - expected)) < (0.001), actual: 0.0032 vs 0.001",
    # Fractional values in a comparison of no difference.
    "Expected: (ratio) < (limit), actual: 0.322 vs 0.042",
    # `end - begin` of iterators is a call, not a time point.
    "Expected equality of these values:\n  v.end() - v.begin()\n    Which is: 2\n  3",
    # A time word among the values only (gtest prints what was compared, not what it means).
    "Expected equality of these values:\n  items\n    Which is: { \"timeout\" }\n  expected",
])
def test_timing_rules_leave_other_checks_alone(message):
    assert timing_rules_matched(message) == []


def test_a_test_labelled_timing_has_timing_sensitive_failures_whatever_they_say():
    labelled = TestCase("Account.Withdraw", ("./t",), labels=("racegate:timing", "slow"), is_gtest=True)
    _, (finding,) = classify(labelled, 1, False, 10, GTEST_FAILURE, "", False)
    assert finding.timing_sensitive
    _, (bare,) = classify(labelled, 3, False, 10, "boom\n", "", False)
    assert bare.timing_sensitive
    _, (unlabelled,) = classify(TEST, 1, False, 10, GTEST_FAILURE, "", False)
    assert not unlabelled.timing_sensitive


TWO_FAILURES = GTEST_FAILURE.replace("[  FAILED  ]", "/src/account_test.cpp:45: Failure\n"
                                     "Expected: (account.fees()) == (0), actual: 5 vs 0\n[  FAILED  ]")


def test_the_failures_of_one_run_are_one_finding_keyed_on_the_first():
    outcome, (finding,) = classify(TEST, 1, False, 10, TWO_FAILURES, "", False)
    _, (alone,) = classify(TEST, 1, False, 10, GTEST_FAILURE, "", False)
    assert outcome == "fail" and finding.signature == alone.signature
    assert finding.further_messages == ["Expected: (account.fees()) == (0), actual: 5 vs 0 (account_test.cpp:45)"]
    assert "account_test.cpp:45: Failure" in finding.raw and "account_test.cpp:42: Failure" in finding.raw


def test_a_failed_assert_is_a_test_failure_with_its_message_not_a_crash():
    output = "t: /src/ledger.c:10: check: Assertion `balance >= 0' failed.\n"
    outcome, (finding,) = classify(TEST, -6, False, 10, output, "", False)
    assert outcome == "fail" and finding.kind == "test failure"
    assert finding.title == f"test failure: {TEST.name}: Assertion `balance >= 0' failed (ledger.c:10)"
    # The id `killed by SIGABRT` had before, which baselines hold.
    assert bucket_id("crash", [TEST.name, "SIGABRT"]) in finding.legacy_ids
    outcome, (crash,) = classify(TEST, -6, False, 10, "[ RUN      ] Account.Withdraw\n", "", False)
    assert outcome == "crash" and crash.signature == [TEST.name, "SIGABRT"]


def test_a_framework_message_replaces_the_exit_status_and_keeps_its_id():
    output = "doctest_checks.cpp:8: ERROR: CHECK( credits == debits ) is NOT correct!\n  values: CHECK( 3 == 5 )\n"
    _, (finding,) = classify(TestCase("ledger", ("./t",)), 1, False, 10, output, "", False)
    assert finding.title == "test failure: ledger: CHECK: credits == debits (doctest_checks.cpp:8)"
    assert finding.signature == ["ledger", "doctest_checks.cpp", "CHECK: credits == debits values: N == N"]
    assert bucket_id("test failure", ["ledger", "exit 1"]) in finding.legacy_ids


def test_a_process_names_the_framework_tests_it_ran():
    assert named_tests("1..3\nok 1 - balances\nnot ok 2 - drains\n# x\nok 3 - closes # SKIP net\n") == {
        "balances", "drains", "closes"}
    assert named_tests("[ RUN      ] S.A\n[       OK ] S.A (0 ms)\n[ RUN      ] S.B\n") == {"S.A", "S.B"}
    assert named_tests("ledger/balances: OK\nledger/child: [forking] \n  [FAILED ledger/child (0 retries)]\n") == {
        "ledger/balances", "ledger/child"}
    assert named_tests("t.c:9:F:core:balances:0: x\nt.c:15:P:core:drains:0: Passed\n") == {"balances", "drains"}
    assert named_tests("ledger.cpp:12: FAILED:\n  REQUIRE( a == b )\n") == set()


def _failed(*key: str) -> Finding:
    return Finding(kind="test failure", title="t", signature=["T", *key], frames=[], raw="")


def test_a_failure_comes_from_the_race_in_one_framework_test_or_through_a_childs_exit():
    message = _failed("suite.c", "closes: ledger_left == N")
    assert comes_from_race(message, one_test=True, child_reported=False)
    assert not comes_from_race(message, one_test=False, child_reported=True)
    # Only an exit status, or a tinytest child's failed exit, when a child printed the report: TSan's exit 66.
    assert comes_from_race(_failed("exit 1"), one_test=False, child_reported=True)
    assert comes_from_race(_failed("tinytest", "atexit failure"), one_test=False, child_reported=True)
    assert not comes_from_race(_failed("exit 7"), one_test=False, child_reported=False)


HELPER = """int seen_workers(Pool& pool) {
  pool.start_tasks();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return pool.started();
}
TEST_CASE("both workers take a task") {
  Pool pool(2);
  REQUIRE(seen_workers(pool) == 2);
}""".splitlines()


def test_a_check_after_a_fixed_sleep_that_fails_plain_as_often_as_perturbed_is_on_time():
    # The field case (#27): plain 1 of 4, perturbed 1 of 6; the check 5 lines below the helper's sleep.
    assert timing_by_behaviour((4, 1), (6, 1), HELPER, 8)


def test_timing_by_behaviour_needs_each_of_its_signs():
    assert not timing_by_behaviour((4, 0), (6, 3), HELPER, 8)  # never failed plain
    assert not timing_by_behaviour((10, 1), (10, 8), HELPER, 8)  # more often under perturbation, beyond chance
    # Few runs cannot tell a higher perturbed rate from chance: the sleep decides.
    assert timing_by_behaviour((4, 1), (6, 4), HELPER, 8)
    no_sleep = [line for line in HELPER if "sleep_for" not in line]
    assert not timing_by_behaviour((4, 1), (6, 1), no_sleep, 7)
    assert not timing_by_behaviour((4, 1), (6, 1), None, 8)  # the source is not at hand
    # A sleep further than SLEEP_WINDOW lines above the check says nothing of it.
    far = HELPER[:4] + [""] * SLEEP_WINDOW + HELPER[4:]
    assert not timing_by_behaviour((4, 1), (6, 1), far, 8 + SLEEP_WINDOW)
