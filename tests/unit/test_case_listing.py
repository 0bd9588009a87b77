"""Boost.Test and Catch2 programs split into their cases: the listings they print (fixtures are the real output of
tests/case_programs/ built with TSan: Boost 1.74, Catch2 2.13), the command that selects one case, when a command
already selects cases, and how such a program is recognised (and not batched)."""
from __future__ import annotations

import pytest

from racegate import frameworks
from racegate.frameworks import boost_test, catch2
from racegate.frameworks.boost_test import BOOST_TEST
from racegate.frameworks.catch2 import CATCH2
from racegate.model import TestCase
from samples_helpers import FIXTURES

LISTINGS = FIXTURES / "listings"


def test_boost_listing_gives_the_enabled_cases_paths_in_order():
    text = (LISTINGS / "boost_test_1.74_list_content.txt").read_text()
    # `shared/disabled_case` and the disabled suite `off` are left out; `shared/inner` is a suite, not a case.
    assert boost_test.parse_listing(text) == ["slow/sleeps", "shared/counter_race", "shared/inner/adds"]


def test_boost_listing_skips_other_output_and_is_empty_when_a_case_cannot_be_selected_exactly():
    text = (LISTINGS / "boost_test_1.74_list_content.txt").read_text()
    noisy = "==12==WARNING: ThreadSanitizer: unexpected memory mapping\n" + text
    assert boost_test.parse_listing(noisy) == boost_test.parse_listing(text)
    # A templated case's name may hold a comma: --run_test= would read it as a list, so the program runs whole.
    assert boost_test.parse_listing(text.replace("adds*", "adds<std::pair<int, int>>*")) == []


def test_catch2_listing_gives_every_listed_name_without_the_hidden_case():
    text = (LISTINGS / "catch2_2.13_list_test_names_only.txt").read_text()
    assert catch2.parse_listing(text) == ["slow, sleeping [20 s]", "counter race"]
    assert catch2.parse_listing('"#file tagged"\n') == ["#file tagged"]


@pytest.mark.parametrize("name, spec", [
    ("slow, sleeping [20 s]", r"slow\, sleeping \[20 s\]"),  # as the Catch2 2.13 program selects it (checked)
    ("counter race", "counter race"),
    ("~not negated", r"\~not negated"),
    ('a "quoted" *star* \\', r'a \"quoted\" \*star\* \\'),
])
def test_catch2_selects_a_case_by_its_escaped_name(name, spec):
    assert CATCH2.select_one(["./suite", "--durations", "yes"], name) == ("./suite", spec, "--durations", "yes")


def test_boost_selects_a_case_by_its_path():
    command = BOOST_TEST.select_one(["./suite", "--log_level=all"], "a/b")
    assert command == ("./suite", "--run_test=a/b", "--log_level=all")


@pytest.mark.parametrize("framework, command, env, selects", [
    (BOOST_TEST, ("./suite", "--log_level=all"), (), False),
    (BOOST_TEST, ("./suite", "--run_test=shared"), (), True),
    (BOOST_TEST, ("./suite", "-t", "shared"), (), True),
    (BOOST_TEST, ("./suite",), (("BOOST_TEST_RUN_FILTERS", "shared"),), True),
    (CATCH2, ("./suite", "--durations=yes"), (), False),
    (CATCH2, ("./suite", "counter race", "--reporter", "xml"), (), True),  # as catch_discover_tests registers it
])
def test_a_test_that_selects_cases_already_is_not_split(framework, command, env, selects):
    assert framework.selects_cases(TestCase("t", command, env=env)) is selects


@pytest.mark.parametrize("marks, framework", [
    (b"--list_content\0", BOOST_TEST), (b"libboost_unit_test_framework.so.1.74.0\0", BOOST_TEST),
    (b"--list-test-names-only\0", CATCH2),
])
def test_a_program_is_recognised_by_its_marks_and_its_cases_are_not_batched(tmp_path, marks, framework):
    program = tmp_path / "suite"
    program.write_bytes(b"\x7fELF\0\0" + marks)
    assert frameworks.of_command([str(program)]) is framework
    one = framework.select_one([str(program)], "a")
    assert frameworks.of_test(TestCase("suite/a", one)) is None  # one process per case
