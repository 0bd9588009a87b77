"""Session fixtures over samples_helpers: the samples built with the racegate presets.

    samples_build_clang / samples_build_gcc   # one compiler
    samples_build                             # parametrized over both compilers

Helpers (build_samples, run_gtest, REPO, ...) live in samples_helpers.py; import them from there.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # samples_helpers, whatever the import mode

from samples_helpers import COMPILER_PRESETS, REPO, build_samples, remove_temp_builds  # noqa: E402

if str(REPO / "harness") not in sys.path:
    sys.path.insert(0, str(REPO / "harness"))


@pytest.fixture(scope="session")
def samples_build_clang() -> Path:
    return build_samples("racegate-tsan-clang")


@pytest.fixture(scope="session")
def samples_build_gcc() -> Path:
    return build_samples("racegate-tsan-gcc")


@pytest.fixture(scope="session", params=COMPILER_PRESETS, ids=("clang", "gcc"))
def samples_build(request: pytest.FixtureRequest) -> Path:
    return build_samples(request.param)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    remove_temp_builds()
