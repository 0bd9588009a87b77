"""What racegate knows of each test framework: one `Framework` record per framework it can batch (gtest.py,
doctest_xml.py), listed in FRAMEWORKS, one `Lister` per framework whose cases it runs one per process
(boost_test.py, catch2.py), listed in UNBATCHED, and which one a command or a test runs. A new framework is one
module here and its line in one of the two."""
from __future__ import annotations

import functools
import mmap
import os
import shutil
from typing import Sequence

from racegate.frameworks.boost_test import BOOST_TEST
from racegate.frameworks.catch2 import CATCH2
from racegate.frameworks.doctest_xml import DOCTEST
from racegate.frameworks.framework import Framework, Lister
from racegate.frameworks.gtest import GTEST
from racegate.model import TestCase

# In the order a program is recognised by: a gtest program may hold doctest's option names too.
FRAMEWORKS: tuple[Framework, ...] = (GTEST, DOCTEST)
UNBATCHED: tuple[Lister, ...] = (BOOST_TEST, CATCH2)
LISTERS: tuple[Lister, ...] = FRAMEWORKS + UNBATCHED


def of_command(argv: Sequence[str]) -> Lister | None:
    """The framework whose test program the command runs, else None: its arguments say so (gtest's --gtest_
    flags), or its executable holds the framework's marks (gtest statically linked, as libgtest.a and every
    vendored gtest are, or linking libgtest; doctest and Catch2 v2 are header-only; Boost.Test either)."""
    for framework in LISTERS:
        if framework.named_by_command is not None and framework.named_by_command(argv):
            return framework
    program = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    try:
        with open(program or argv[0], "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if data[:4] != b"\x7fELF":
                return None
            return next((fw for fw in LISTERS if any(data.find(mark) >= 0 for mark in fw.program_marks)), None)
    except (OSError, ValueError):
        return None


@functools.lru_cache(maxsize=None)
def of_program(program: str) -> Lister | None:
    """The framework a program is built with, by its marks alone; looked up once per program: a suite's
    hundreds of tests share one executable."""
    return of_command([program])


def of_test(test: TestCase) -> Framework | None:
    """The framework one of whose tests the test's command selects by name, so that it may share a process with
    its executable's other tests; else None. gtest for a test discover marked `is_gtest` (its command passes
    --gtest_ flags): a gtest program's tests that `racegate run -- PROGRAM` listed are not marked and run alone.
    Another framework when the program is built with it and the command selects one of its tests."""
    if test.is_gtest:
        return GTEST
    framework = of_program(test.command[0]) if test.command else None
    if not isinstance(framework, Framework) or framework is GTEST or framework.selected(test) is None:
        return None
    return framework


def of_batch(test: TestCase) -> Framework:
    """The framework of a batch process's test (batch.batch_command): the one whose selector its command holds."""
    return next(fw for fw in FRAMEWORKS if any(fw.is_selector(arg) for arg in test.command[1:]))
