"""The job summary stays short: a 100-test session with 12 buckets (each with two deep stacks of project and
standard-library frames, and source lines) renders under 30 KB (issue 21's target)."""
from __future__ import annotations

from dataclasses import replace

from racegate.model import Excerpt, SourceFrame, StackTrace
from racegate.reporters import render

from result_factory import bucket, entry_for_test, make_result

SIZE_LIMIT = 30 * 1024


def _stack(i: int, side: str) -> StackTrace:
    """Three project frames, each under a run of libstdc++ frames, as a std::thread's body shows them."""
    frames = []
    for depth in range(3):
        frames.append(SourceFrame(f"ns::Component{i}::{side}_{depth}(int, std::string const&)",
                                  f"/src/project/module{i}/component_{side}.cpp", 40 + depth))
        frames += [SourceFrame(f"std::__invoke_impl<void, F{depth}>(std::__invoke_other, F&&)",
                               "/usr/include/c++/12/bits/invoke.h", 61)] * 5
    return StackTrace(f"Write of size 8 at 0x7b04000000{i:02d} by thread T{i}:", tuple(frames))


def synthetic_result():
    tests = [entry_for_test(f"Suite{n // 10}.Test_number_{n}_with_a_descriptive_name", 40, 3 if n < 12 else 0)
             for n in range(100)]
    buckets = []
    for i in range(12):
        stacks = [_stack(i, "writer"), _stack(i, "reader")]
        frames = [s.frames[0] for s in stacks]
        lines = [f"    int line_{k} = compute({k});" for k in range(7)]
        excerpts = [Excerpt(f.file, f.line or 1, (f.line or 1) - 3, lines) for f in frames]
        b = bucket(f"{i:016x}", tests[i].name, 3)
        buckets.append(replace(b, frames=frames, stacks=stacks, excerpts=excerpts,
                               title=f"data race: {frames[0].function} vs {frames[1].function}"))
    return make_result(tests, buckets)


def test_the_summary_of_100_tests_and_12_buckets_is_under_30_kb() -> None:
    text = render("markdown", synthetic_result())
    size = len(text.encode("utf-8"))
    assert size < SIZE_LIMIT, size
    # Still whole: every bucket's report is in it.
    assert all(f"{i:016x}" in text for i in range(12))
