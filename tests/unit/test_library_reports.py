"""Races inside the standard library's own state are told apart from races on objects the project shares."""
from __future__ import annotations

from pathlib import Path

import pytest

from racegate.library_reports import BY_RULE, library_issue
from racegate.tsan_parse import parse_reports

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
COMPILERS = ("clang14", "clang19", "gcc12")


def reports(compiler: str, program: str):
    found = parse_reports((CORPUS / compiler / f"{program}.log").read_text(errors="replace"))
    assert found, f"{compiler}/{program} has no reports"
    return found


@pytest.mark.parametrize("compiler", COMPILERS)
def test_the_ctype_narrow_cache_race_is_gcc_77704(compiler):
    # Two threads compiling std::regex: both accesses in std::ctype<char>::narrow, on libstdc++'s facet.
    assert {library_issue(r) for r in reports(compiler, "regex_ctype_cache")} == {BY_RULE["gcc-77704"]}


@pytest.mark.parametrize("compiler", COMPILERS)
@pytest.mark.parametrize("program", ["race_shared_vector", "race_unordered_map", "race_global", "race_heap"])
def test_races_on_memory_the_project_owns_stay_the_projects(compiler, program):
    # race_shared_vector and race_unordered_map race inside library code, on containers the project shares.
    assert {library_issue(r) for r in reports(compiler, program)} == {None}


def test_the_memory_must_be_the_librarys_own():
    (report, *_) = reports("gcc12", "regex_ctype_cache")
    location = next(s for s in report.stacks if s.header.startswith("Location is"))
    # The same functions racing on a facet the project made and shares are the project's bug.
    location.header = "Location is heap block of size 576 at 0x7b4000000000 allocated by main thread:"
    assert library_issue(report) is None
    location.header = "Location is global 'g_facet' of size 576 at 0x55d0 (my_binary+0x4040)"
    assert library_issue(report) is None
