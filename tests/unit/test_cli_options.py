"""The CLI's options are the contract's: every command line below parses to the namespace the parser made of
it before its options were defined once and combined per subcommand (tests/fixtures/cli/namespaces.json was
written by the old parser; an option added since is added to it with the commit that adds the option)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from racegate import cli

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cli" / "namespaces.json"
COMMAND_LINES = [
    ["run"],
    ["run", "--preset", "tsan", "--target", "a", "--target", "b", "-S", "src", "--runs", "3", "--time-budget", "9.5",
     "-j", "123", "-R", "Foo.*", "--seed", "7", "--shard", "1/2", "--baseline", "b.json", "--suppressions", "s.supp",
     "--out", "o", "--history", "h.json", "--schedule", "none,pct", "--timeout", "2", "--until-confident", "0.1",
     "--no-batch", "--format", "json,sarif", "--no-gate", "--strict", "--gate-library-reports",
     "--changed-since", "origin/main"],
    ["run", "--build-dir", "build", "--source", "s", "--tests", "x", "--jobs", "5", "--time-budget", "1"],
    ["report", "r.json"],
    ["report", "r.json", "--out", "o", "--baseline", "b.json", "--gate", "--format", "html"],
    ["merge", "a.json", "b.json", "-o", "m.json"],
    ["merge", "a.json", "--output", "m.json", "--history", "--baseline", "b.json", "--no-gate", "--format", "junit"],
    ["replay", "abc"],
    ["replay", "abc", "--from", "r.json", "--runs", "4", "--schedule", "none", "--timeout", "3", "--out", "o"],
    ["baseline"],
    ["baseline", "--from", "r.json", "-o", "b.json", "--note", "known", "--suppressions-out", "s.supp"],
    ["init"],
    ["init", "proj", "--racegate-dir", "vendor/racegate"],
    ["doctor"],
    ["doctor", "--preset", "tsan", "-S", "src", "--build-log", "b.log"],
    ["doctor", "--build-dir", "build", "--source", "s"],
]


def parsed(argv: list[str]) -> dict[str, str]:
    """The namespace as text: values by repr, the handler by name, the default job count by what it stands for
    (it is the CPU count of the machine that parses)."""
    namespace = vars(cli._parser().parse_args(argv))
    text = {key: value.__name__ if key == "handler" else repr(value) for key, value in namespace.items()}
    if "jobs" in namespace and "-j" not in argv and "--jobs" not in argv:
        assert namespace["jobs"] == len(os.sched_getaffinity(0))
        text["jobs"] = "<the CPUs this process may use>"
    return text


@pytest.mark.parametrize("entry", json.loads(FIXTURE.read_text()), ids=lambda e: " ".join(e["argv"]))
def test_command_line_parses_as_before(entry):
    assert parsed(entry["argv"]) == entry["namespace"]


def test_every_command_line_of_the_fixture_is_tested():
    assert [e["argv"] for e in json.loads(FIXTURE.read_text())] == COMMAND_LINES


@pytest.mark.parametrize("argv", [
    ["run", "--preset", "p", "--build-dir", "b"], ["doctor", "--preset", "p", "--build-dir", "b"], ["merge", "a.json"],
    ["run", "--runs", "0"], ["run", "--until-confident", "1"], ["run", "--timeout", "0"], ["replay"],
])
def test_bad_command_line_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli._parser().parse_args(argv)
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("racegate: ")
