from __future__ import annotations

import shlex

from racegate.reporters import RenderOptions, console
from racegate.result.codec import result_from_json


def _blocks(text: str) -> list[str]:
    return [b for b in text.split("\n\n") if b.startswith("[")]


def test_one_block_per_bucket_new_first(sample):
    blocks = _blocks(console.render(result_from_json(sample)))
    assert len(blocks) == len(sample["buckets"])
    assert [b.startswith("[NEW]") for b in blocks] == [True] * 7 + [False]
    registry = next(b for b in blocks if "3f9a1c0b7d2e4a55" in b)
    assert "Registry<std::string, Widget>::add(std::string const&, Widget)  (src/registry.hpp:15)" in registry
    assert "Registry<std::string, Widget>::find(std::string const&) const  (src/registry.hpp:20)" in registry
    assert "seen in 17 of 40 runs (42.5%)" in registry
    assert "found by: yield (run 2, seed 1002)" in registry
    assert "std::shared_mutex" in registry


def test_reproduce_line_round_trips_through_the_shell(sample):
    text = console.render(result_from_json(sample))
    for bucket in sample["buckets"]:
        block = next(b for b in _blocks(text) if bucket["id"] in b)
        line = next(x for x in block.splitlines() if x.strip().startswith("reproduce:"))
        assert shlex.split(line.split("reproduce:", 1)[1]) == bucket["first_seen"]["command"]


def test_tests_strategies_estimate_and_verdict(sample):
    text = console.render(result_from_json(sample))
    lines = text.splitlines()
    assert next(x for x in lines if x.startswith("RegistryTest.ConcurrentAdd")).endswith("FLAKY")
    assert next(x for x in lines if x.startswith("PipelineTest.Counts")).endswith("FAILED")
    assert next(x for x in lines if x.startswith("MathTest.Add")).endswith("0")
    assert next(x for x in lines if x.startswith("yield ")).split() == ["yield", "107", "34", "4"]
    assert "chance the next run finds a new bucket: 0.6%" in text
    assert lines[-1] == "FAIL: 7 new problems (1 known)"


def test_colour_only_when_asked_and_hostile_escapes_removed(sample):
    sample["buckets"][0]["title"] = "evil \x1b]0;pwned\x07 title"
    plain = console.render(result_from_json(sample))
    assert "\x1b" not in plain and "evil ]0;pwned title" in plain
    coloured = console.render(result_from_json(sample), RenderOptions(color=True))
    assert "\x1b[31mNEW\x1b[0m" in coloured


def test_pass_verdict_when_everything_is_known(sample):
    for b in sample["buckets"]:
        b["new"] = False
    sample["summary"]["new_buckets"] = 0
    assert console.render(result_from_json(sample)).splitlines()[-1] == "PASS: no new problems (8 known, baselined)"


def test_reproduce_carries_the_run_environment_and_replay_names_the_result(sample):
    result = dict(sample, config=dict(sample.get("config") or {}, out_dir="/ci/out dir"))
    bucket = dict(result["buckets"][0])
    bucket["first_seen"] = dict(bucket["first_seen"], env={"RACEGATE_SEED": "7", "RACEGATE_SCHEDULE": "noise"})
    result["buckets"] = [bucket]
    block = _blocks(console.render(result_from_json(result)))[0]
    reproduce = next(x for x in block.splitlines() if x.strip().startswith("reproduce:")).split("reproduce:", 1)[1]
    assert shlex.split(reproduce) == ["env", "RACEGATE_SCHEDULE=noise", "RACEGATE_SEED=7",
                                      *bucket["first_seen"]["command"]]
    replay = next(x for x in block.splitlines() if x.strip().startswith("replay:")).split("replay:", 1)[1]
    assert shlex.split(replay) == ["racegate", "replay", bucket["id"], "--from", "/ci/out dir/racegate.json"]


def test_tests_the_single_thread_rule_kept_to_one_run_are_named_with_the_reason(sample):
    reason = "not repeated: one thread in every process of its runs"
    for entry in sample["tests"][:2]:
        entry["not_repeated"] = reason
    text = console.render(result_from_json(sample))
    names = ", ".join(t["name"] for t in sample["tests"][:2])
    assert f"note: 2 of {len(sample['tests'])} tests {reason}: {names}" in text.splitlines()
