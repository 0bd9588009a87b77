"""The frameworks registry: each framework's way of selecting one test reads back what it wrote, and a batch's
command tells its framework (run_env adds that framework's batch arguments)."""
from __future__ import annotations

import pytest

from racegate import batch, frameworks
from racegate.frameworks.doctest_xml import DOCTEST
from racegate.frameworks.gtest import GTEST
from racegate.model import TestCase


@pytest.mark.parametrize("framework, argv, name", [
    (GTEST, ["./suite", "--gtest_filter=Old.*", "--gtest_color=no"], "Inst/Suite.Case/2"),
    (DOCTEST, ["./suite", "--test-case=old", "--no-colors"], "a case, with a comma"),
])
def test_the_command_that_selects_one_test_selects_that_test(framework, argv, name):
    command = framework.select_one(argv, name)
    assert command[0] == "./suite" and command[-1] == argv[-1]  # the program's other options stay
    assert framework.selected(TestCase(name, command, is_gtest=framework is GTEST)) == name


def test_a_batch_command_names_its_framework(tmp_path):
    program = tmp_path / "suite_test"  # a stand-in for a doctest program: it holds doctest's option names
    program.write_bytes(b"\x7fELF\0\0--list-test-cases\0")
    gtests = [TestCase(f"S.T{i}", ("/b/g", f"--gtest_filter=S.T{i}"), is_gtest=True) for i in range(2)]
    cases = [TestCase(n, (str(program), f"--test-case={DOCTEST.quote(n)}")) for n in ("one", "two, three")]
    assert [frameworks.of_test(t) for t in gtests + cases] == [GTEST, GTEST, DOCTEST, DOCTEST]
    assert frameworks.of_batch(TestCase("g (batch)", batch.batch_command(gtests), is_gtest=True)) is GTEST
    assert frameworks.of_batch(TestCase("d (batch)", batch.batch_command(cases))) is DOCTEST


def test_a_command_that_passes_gtest_flags_is_a_gtest_program():
    assert frameworks.of_command(["./anything", "--gtest_repeat=2"]) is GTEST
    assert frameworks.of_test(TestCase("S.T", ("./anything", "--gtest_filter=S.T"), is_gtest=True)) is GTEST
