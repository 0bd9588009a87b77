"""Fixtures for every test; the paths and helpers they build on live in samples_helpers.py.

    samples_build_clang / samples_build_gcc   # samples/ built with one racegate preset (e2e)
    samples_build                             # parametrized over both compilers (e2e)
    beacon                                    # a Beacon at tmp_path/beacon, closed afterwards

Import helpers (REPO, LAUNCHER, CORPUS, racegate, Beacon, build_samples, run_gtest, ...) from
samples_helpers, never from conftest.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # samples_helpers, whatever the import mode

from samples_helpers import COMPILER_PRESETS, REPO, Beacon, build_samples, remove_temp_builds  # noqa: E402

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


@pytest.fixture
def beacon(tmp_path: Path) -> Iterator[Beacon]:
    signal = Beacon(tmp_path / "beacon")
    yield signal
    signal.close()


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that builds samples/ is end-to-end however it is marked: the build alone takes ~40 s.
    for item in items:
        if any(name.startswith("samples_build") for name in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    remove_temp_builds()
