"""Related buckets (result/related.py): the memory read from a report's location block, each rule of the table
with its negatives, the groups in racegate.json and in every report format."""
from __future__ import annotations

import json
from dataclasses import replace

from racegate.model import SourceFrame
from racegate.reporters import RenderOptions, render
from racegate.result import RacingMemory, Result
from racegate.result.codec import result_from_json, result_json
from racegate.result.related import racing_memory, related_groups

from result_factory import bucket, entry_for_test, make_result

HEAP_REPORT = """==================
WARNING: ThreadSanitizer: data race (pid=7)
  Read of size 4 at 0x7b1000000018 by main thread:
    #0 WorkRing::pop(int*) /src/ring.cpp:68 (t+0x1231)

  Previous write of size 4 at 0x7b1000000018 by thread T1:
    #0 WorkRing::push(int) /src/ring.cpp:31 (t+0x1202)

  Location is heap block of size 128 at 0x7b1000000000 allocated by main thread:
    #0 operator new[](unsigned long) ../../../../src/libsanitizer/tsan/tsan_new_delete.cpp:70 (libtsan.so.2+0x8)
    #1 ring_alloc /src/ring.cpp:3 (t+0x1100)
    #2 WorkRing::WorkRing(unsigned long) /src/ring.cpp:6 (t+0x1260)
    #3 main /src/main.cpp:9 (t+0x1300)

SUMMARY: ThreadSanitizer: data race /src/ring.cpp:68 in WorkRing::pop(int*)
==================
"""
GLOBAL_REPORT = """==================
WARNING: ThreadSanitizer: data race (pid=7)
  Write of size 4 at 0x5600000006ac by thread T1:
    #0 bump /src/g.cpp:4 (t+0x1231)

  Previous read of size 4 at 0x5600000006ac by main thread:
    #0 main /src/g.cpp:9 (t+0x1202)

  Location is global '(anonymous namespace)::g_stats' of size 16 at 0x5600000006a8 (t+0x14fb6a8)

SUMMARY: ThreadSanitizer: data race /src/g.cpp:4 in bump
==================
"""
STACK_REPORT = HEAP_REPORT.replace(HEAP_REPORT[HEAP_REPORT.index("  Location is"):HEAP_REPORT.index("SUMMARY")],
                                   "  Location is stack of main thread.\n\n")


def test_heap_memory_is_the_innermost_project_frame_past_allocator_and_wrapper() -> None:
    memory = racing_memory(HEAP_REPORT)
    assert memory == RacingMemory(allocated_at=SourceFrame("WorkRing::WorkRing(unsigned long)", "/src/ring.cpp", 6),
                                  block_size=128, offset=0x18, access_size=4)
    assert memory.field == 0x18


def test_global_memory_has_its_name_module_and_offset() -> None:
    memory = racing_memory(GLOBAL_REPORT)
    assert memory == RacingMemory(global_name="anon::g_stats", module="t", block_size=16, offset=4, access_size=4)


def test_stack_memory_and_failures_name_no_memory() -> None:
    assert racing_memory(STACK_REPORT) is None
    assert racing_memory("[  FAILED  ] Suite.Test\n") is None


def _race(bid: str, frames: list[SourceFrame], memory: RacingMemory | None = None, kind: str = "data race"):
    return replace(bucket(bid, "T.t", 2, kind=kind), frames=frames, memory=memory)


def _heap(line: int, offset: int = 0) -> RacingMemory:
    return RacingMemory(allocated_at=SourceFrame("Ring::Ring()", "/src/ring.cpp", line), block_size=64,
                        offset=offset, access_size=4)


def _glob(name: str, offset: int = 0) -> RacingMemory:
    return RacingMemory(global_name=name, module="t", block_size=4, offset=offset, access_size=4)


def f(name: str, line: int, file: str = "/src/a.cpp") -> SourceFrame:
    return SourceFrame(name, file, line)


def test_same_heap_block_by_allocation_site_relates_three_pairs() -> None:
    buckets = [_race("a", [f("push", 10), f("pop", 20)], _heap(6, 0)),
               _race("b", [f("try_push", 30), f("pop2", 40)], _heap(6, 8)),
               _race("c", [f("push2", 50), f("steal", 60)], _heap(6, 16))]
    (group,) = related_groups(buckets)
    assert group.id == "G1" and group.buckets == ("a", "b", "c")
    assert group.reasons == ("same heap block allocated at Ring::Ring (ring.cpp:6)",)


def test_heap_blocks_of_two_allocation_sites_are_not_related() -> None:
    buckets = [_race("a", [f("push", 10), f("pop", 20)], _heap(6)),
               _race("b", [f("try_push", 30), f("pop2", 40)], _heap(7))]
    assert related_groups(buckets) == []


def test_same_global_relates_and_one_offset_names_the_field() -> None:
    buckets = [_race("a", [f("f", 10), f("g", 20)], _glob("g_x")), _race("b", [f("h", 30), f("k", 40)], _glob("g_x"))]
    assert related_groups(buckets)[0].reasons == ("same global g_x",)
    wide = [_race(b.id, b.frames, replace(_glob("g_s", 8), block_size=16)) for b in buckets]
    assert related_groups(wide)[0].reasons == ("same field (offset 8) of global g_s",)


def test_two_globals_written_in_one_function_are_not_related_by_memory() -> None:
    buckets = [_race("a", [f("update", 10), f("read_a", 20)], _glob("g_a")),
               _race("b", [f("update", 11), f("read_b", 30)], _glob("g_b"))]
    assert related_groups(buckets) == []


def test_globals_of_the_same_name_in_two_modules_are_not_related() -> None:
    buckets = [_race("a", [f("f", 10), f("g", 20)], _glob("g_x")),
               _race("b", [f("h", 30), f("k", 40)], replace(_glob("g_x"), module="libplugin.so"))]
    assert related_groups(buckets) == []


def test_a_shared_side_relates_buckets_and_links_through_them() -> None:
    buckets = [_race("a", [f("push", 10), f("pop", 20)]), _race("b", [f("push", 10), f("steal", 30)]),
               _race("c", [f("steal", 30), f("drain", 40)]), _race("d", [f("push", 11), f("other", 50)])]
    (group,) = related_groups(buckets)
    assert group.buckets == ("a", "b", "c")  # d's push is another line
    assert group.reasons == ("same side push (a.cpp:10)", "same side steal (a.cpp:30)")


def test_a_side_in_a_library_frame_relates_nothing() -> None:
    vector = SourceFrame("std::vector<int>::push_back(int&&)", "/usr/include/c++/12/bits/stl_vector.h", 1198)
    buckets = [_race("a", [vector, f("f", 10)]), _race("b", [vector, f("g", 20)])]
    assert related_groups(buckets) == []


def test_failures_are_not_grouped() -> None:
    buckets = [_race("a", [f("f", 10)], kind="test failure"), _race("b", [f("f", 10)], kind="test failure")]
    assert related_groups(buckets) == []


def _grouped_result() -> Result:
    buckets = [_race("a1", [f("push", 10), f("pop", 20)], _heap(6)), _race("b2", [f("try_push", 30)], _heap(6, 8)),
               _race("c3", [f("lonely", 70)])]
    return make_result([entry_for_test("T.t", 4, 2)], buckets)


def test_the_assembly_stores_the_groups_and_racegate_json_keeps_them() -> None:
    result = _grouped_result()
    assert [g.buckets for g in result.related] == [("a1", "b2")]
    data = result_json(result)
    assert data["related"] == [{"id": "G1", "reasons": ["same heap block allocated at Ring::Ring (ring.cpp:6)"],
                                "buckets": ["a1", "b2"]}]
    assert data["buckets"][0]["memory"]["allocated_at"]["line"] == 6
    again = result_from_json(json.loads(json.dumps(data)))
    assert again.related == result.related and again.buckets[0].memory == result.buckets[0].memory
    assert again.problem_groups == 2  # the group and the lonely bucket


def test_an_old_result_without_groups_loads_and_renders_as_before() -> None:
    data = result_json(_grouped_result())
    del data["related"]
    for b in data["buckets"]:
        b.pop("memory", None)
    old = result_from_json(data)
    assert old.related == [] and all(b.memory is None for b in old.buckets)
    for fmt in ("console", "markdown", "html", "github", "junit", "sarif"):
        assert "Related G" not in render(fmt, old, RenderOptions())
        assert "relatedGroup" not in render(fmt, old, RenderOptions())


def test_every_format_shows_the_group_and_keeps_each_bucket_and_its_gate() -> None:
    result = _grouped_result()
    reason = "same heap block allocated at Ring::Ring (ring.cpp:6)"
    console = render("console", result)
    assert f"Related G1: 2 buckets, {reason}" in console and "3 distinct problems in 2 groups" in console
    assert all(f"  {bid}\n" in console for bid in ("a1", "b2", "c3"))  # each bucket keeps its own block and id
    assert f"related: G1 ({reason}), with b2" in console
    markdown = render("markdown", result)
    assert "#### Related G1: 2 buckets, same heap block allocated at Ring::Ring (ring.cpp:6)" in markdown
    assert "| 3 in 2 groups |" in markdown
    html = render("html", result)
    assert 'id="g-G1"' in html and 'href="#b-b2"' in html and "Problems (3 in 2 groups)" in html
    sarif = json.loads(render("sarif", result))["runs"][0]["results"]
    grouped = [r for r in sarif if "relatedGroup" in r["properties"]]
    assert {r["properties"]["bucketId"] for r in grouped} == {"a1", "b2"}
    assert all(r["partialFingerprints"]["racegateRelatedGroup"] == "a1/b2" for r in grouped)
    assert all(r["partialFingerprints"]["primaryLocationLineHash"] == r["properties"]["bucketId"] for r in sarif)
    assert 'name="related_group" value="G1"' in render("junit", result)
    assert f"related: G1 ({reason}), with a1" in render("github", result).replace("%0A", "\n")
    # The gate counts buckets, not groups.
    assert result.summary.new_buckets == 3
