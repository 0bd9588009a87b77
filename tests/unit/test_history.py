"""--history: the typed model and its one loader (old, bad and newer files), merging, and what the scheduler
takes from it (the order of first runs, the learned strategy weights)."""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from racegate import history as histories
from racegate.model import PlannedBatch
from racegate.history import History, HistoryError, StrategyHistory, TestHistory
from racegate.model import Finding, RunRecord, TestCase
from racegate.schedule import Scheduler
from racegate.session import Session, SessionConfig
from racegate.signature_rules import LEGACY, SIGNATURE_VERSION, bucket_id

from samples_helpers import racegate


def record(test, run, strategy, outcome="pass", duration=0.5, threads=2):
    return RunRecord(test=test, run=run, seed=run, strategy=strategy, command=[], outcome=outcome, returncode=0,
                     duration=duration, log_dir="", threads=threads)


def test_a_session_becomes_a_history_and_survives_saving_and_loading(tmp_path):
    records = [record("t", 0, "none", duration=0.25), record("t", 1, "noise", "race"), record("t", 2, "pct"),
               record("t", 3, "noise", "race"), record("one", 4, "none", threads=1)]
    learned = histories.from_session(records, {1: ["b1"], 3: ["b1", "b2"]})
    t = learned.tests["t"]
    assert (t.duration, t.threads, t.sessions, t.buckets) == (0.25, 2, 1, ["b1", "b2"])
    assert t.strategies["noise"] == StrategyHistory(runs=2, seconds=1.0, hits=2, buckets=["b1", "b2"])
    assert t.strategies["pct"].hits == 0 and t.strategies["none"].runs == 1
    assert learned.tests["one"].threads == 1 and not learned.tests["one"].failed
    path = tmp_path / "h.json"
    histories.save(learned, path)
    assert histories.load(path) == learned
    assert json.loads(path.read_text())["racegate_history"] == 1


def test_a_bucket_on_every_run_is_no_hit():
    # Every run shows b1: no strategy is better than another at showing it.
    records = [record("t", 0, "none", "race"), record("t", 1, "noise", "race"), record("t", 2, "pct", "race")]
    learned = histories.from_session(records, {0: ["b1"], 1: ["b1"], 2: ["b1"]})
    assert all(s.hits == 0 for s in learned.tests["t"].strategies.values())


def test_rechecks_replays_and_cut_runs_are_not_counted_as_a_strategys_search():
    # As the scheduler counts its arms: a plain re-check and a seed replay weigh noise's finding; a cut run
    # is neither a pass nor a failure.
    records = [record("t", 0, "none"), record("t", 1, "noise", "fail"), record("t", 2, "none", "fail"),
               record("t", 3, "noise", "fail"), record("t", 4, "noise", "cut", duration=12.0)]
    records[2].purpose, records[3].purpose = "recheck", "replay"
    learned = histories.from_session(records, {1: ["f1"], 2: ["f1"], 3: ["f1"]})
    t = learned.tests["t"]
    assert t.strategies["noise"] == StrategyHistory(runs=1, seconds=0.5, hits=1, buckets=["f1"])
    assert t.strategies["none"] == StrategyHistory(runs=1, seconds=0.5, hits=0, buckets=[])
    assert t.buckets == ["f1"]


def test_a_missing_file_is_an_empty_history(tmp_path):
    assert histories.load(tmp_path / "none.json") == History()


def test_an_old_sparse_file_gets_every_default(tmp_path):
    path = tmp_path / "h.json"
    path.write_text('{"racegate_history": 1, "tests": {"t": {"duration": 2}, "u": {"strategies": {"pct": {}}}}}')
    loaded = histories.load(path)
    assert loaded.tests["t"] == TestHistory(duration=2.0)
    assert loaded.tests["u"].strategies == {"pct": StrategyHistory()}


@pytest.mark.parametrize("text,message", [
    ("{", "not JSON"),
    ('{"schema": 1}', "not a racegate history"),
    ('[1]', "not a racegate history"),
    ('{"racegate_history": 2}', "history version 2 is newer than this racegate reads (1)"),
    ('{"racegate_history": "1"}', "racegate_history should be a positive integer"),
    ('{"racegate_history": 1, "tests": []}', "tests should be an object"),
    (f'{{"racegate_history": 1, "signature_version": {SIGNATURE_VERSION + 1}}}',
     f"signature version {SIGNATURE_VERSION + 1} is newer than this racegate's ({SIGNATURE_VERSION})"),
    ('{"racegate_history": 1, "signature_version": 0}', "signature_version should be a positive integer"),
    ('{"racegate_history": 1, "signature_version": "3"}', "signature_version should be an integer"),
    ('{"racegate_history": 1, "tests": {"t": {"threads": "4"}}}', "tests['t'].threads should be an integer"),
    ('{"racegate_history": 1, "tests": {"t": {"duration": -1}}}', "tests['t'].duration should be a number"),
    ('{"racegate_history": 1, "tests": {"t": {"strategies": {"pct": {"runs": 1.5}}}}}',
     "tests['t'].strategies['pct'].runs should be an integer"),
    ('{"racegate_history": 1, "tests": {"t": {"buckets": [1]}}}', "tests['t'].buckets should be a list of strings"),
    ('{"racegate_history": 1, "tests": {"t": {"duration": NaN}}}', "tests['t'].duration should be a number"),
    ('{"racegate_history": 1, "tests": {"t": {"strategies": {"pct": {"seconds": Infinity}}}}}',
     "tests['t'].strategies['pct'].seconds should be a number"),
    ("[" * 100_000 + "]" * 100_000, "not JSON racegate can read (nested too deeply)"),
])
def test_a_bad_file_is_a_one_line_error_for_load_and_a_warning_for_a_session(tmp_path, capsys, text, message):
    path = tmp_path / "h.json"
    path.write_text(text)
    with pytest.raises(HistoryError, match="^" + message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)").replace(".", r"\.")):
        histories.load(path)
    assert histories.load_or_empty(path) == History()
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"racegate: warning: ignoring history {path}: {message}")


def test_merging_adds_counts_unions_buckets_and_keeps_the_later_measurement():
    one = History({"t": TestHistory(1.0, 2, 1, ["a"], {"noise": StrategyHistory(4, 2.0, 1, ["a"])}),
                   "only1": TestHistory(0.1, 1, 1)})
    two = History({"t": TestHistory(3.0, 4, 2, ["b"], {"noise": StrategyHistory(2, 1.0, 0, []),
                                                       "pct": StrategyHistory(5, 5.0, 2, ["b"])})})
    merged = one.merged(two)
    t = merged.tests["t"]
    assert (t.duration, t.threads, t.sessions, t.buckets) == (3.0, 4, 3, ["a", "b"])
    assert t.strategies == {"noise": StrategyHistory(6, 3.0, 1, ["a"]), "pct": StrategyHistory(5, 5.0, 2, ["b"])}
    assert merged.tests["only1"] == one.tests["only1"]


def test_merge_command_combines_history_files(tmp_path):
    a, b, out = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "all" / "h.json"
    histories.save(History({"t": TestHistory(1.0, 2, 1, ["x"])}), a)
    histories.save(History({"u": TestHistory(2.0, 1, 1)}), b)
    proc = racegate("merge", "--history", str(a), str(b), "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(histories.load(out).tests) == ["t", "u"]
    missing = racegate("merge", "--history", str(a), str(tmp_path / "gone.json"), "-o", str(out), cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.strip().endswith("gone.json: no such history file")
    b.write_text("{}")
    bad = racegate("merge", "--history", str(a), str(b), "-o", str(out), cwd=tmp_path)
    assert bad.returncode == 2 and "not a racegate history" in bad.stderr


def cases(*names):
    return [TestCase(n, (f"./{n}",)) for n in names]


def test_history_puts_failing_then_multi_threaded_tests_first_and_every_test_still_runs():
    past = History({"late_fail": TestHistory(0.1, 2, 1, ["b"]), "multi": TestHistory(0.1, 4, 1),
                    "single": TestHistory(0.1, 1, 1), "single2": TestHistory(0.1, 1, 1)})
    s = Scheduler(cases("single", "single2", "new", "multi", "late_fail"), lambda t: ["noise", "pct"], 3,
                  runs=1, deadline=None, history=past)
    order = []
    while (plan := s.next()) is not None:
        order.append(plan.test.name)
        s.record(record(plan.test.name, plan.run, plan.strategy))
    assert order == ["late_fail", "multi", "new", "single", "single2"]


def first_pass(scheduler):
    """The first pass as handed out: a batch as the list of its tests, a single first run as its test's name."""
    order = []
    while (plan := scheduler.next()) is not None and len(order) < 6:
        if isinstance(plan, PlannedBatch):
            order.append([p.test.name for p in plan.runs])
            for p in plan.runs:
                scheduler.record(record(p.test.name, p.run, p.strategy))
        else:
            order.append(plan.test.name)
            scheduler.record(record(plan.test.name, plan.run, plan.strategy))
    return order


def test_with_batches_the_first_pass_still_puts_what_history_saw_fail_first():
    # Two batches of two gtest executables and three tests outside every batch. History saw "fails_alone" and
    # the batched "B.Fails" fail, and "multi" run four threads; the rest it does not know.
    past = History({"fails_alone": TestHistory(0.1, 2, 1, ["b"]), "B.Fails": TestHistory(0.1, 2, 1, ["c"]),
                    "multi": TestHistory(0.1, 4, 1)})
    tests = cases("new", "A.One", "A.Two", "multi", "B.Ok", "B.Fails", "fails_alone")
    s = Scheduler(tests, lambda t: ["noise"], 3, runs=1, deadline=None, history=past)
    s.add_batches([[tests[1], tests[2]], [tests[4], tests[5]]])
    # The failing test alone, then the batch holding a failing test, then the multi-threaded one, which ranks
    # above batch A's unknown tests; the unknown test alone goes after the batch of its rank.
    assert first_pass(s) == ["fails_alone", ["B.Ok", "B.Fails"], "multi", ["A.One", "A.Two"], "new"]


def test_with_batches_and_no_history_the_batches_go_first_in_their_order():
    tests = cases("alone", "A.One", "A.Two", "B.One", "B.Two")
    s = Scheduler(tests, lambda t: ["noise"], 3, runs=1, deadline=None)
    s.add_batches([[tests[1], tests[2]], [tests[3], tests[4]]])
    assert first_pass(s) == [["A.One", "A.Two"], ["B.One", "B.Two"], "alone"]


def test_without_history_first_runs_keep_ctest_order():
    s = Scheduler(cases("b", "a", "c"), lambda t: ["noise"], 3, runs=1, deadline=None)
    assert [s.next().test.name for _ in range(3)] == ["b", "a", "c"]


def test_the_learned_strategy_weights_are_where_the_search_starts():
    # An earlier session saw pct expose this test's race on half of its runs and noise on none.
    past = History({"t": TestHistory(0.1, 2, 1, ["b"], {"none": StrategyHistory(10, 1.0, 0),
                                                        "noise": StrategyHistory(10, 1.0, 0),
                                                        "pct": StrategyHistory(10, 1.0, 5)})})
    s = Scheduler(cases("t"), lambda t: ["noise", "pct"], 3, runs=None, deadline=time.monotonic() + 3600,
                  history=past)
    plans = []
    for _ in range(30):
        plan = s.next()
        plans.append(plan)
        s.record(record("t", plan.run, plan.strategy, duration=0.1))
    s.stop()
    assert plans[1].strategy == "pct"  # no arm is untried: history already tried them all
    counts = Counter(p.strategy for p in plans[1:])
    assert counts["pct"] > counts["noise"] + counts["none"]


def test_a_file_without_a_signature_version_is_read_as_version_2_and_a_new_one_records_the_current(tmp_path):
    # History files came with signature version 2 and had no such field until now.
    path = tmp_path / "h.json"
    path.write_text('{"racegate_history": 1, "tests": {"t": {"buckets": ["a"]}}}')
    assert histories.load(path).signature_version == 2
    histories.save(History({"t": TestHistory(buckets=["a"])}), path)
    assert json.loads(path.read_text())["signature_version"] == SIGNATURE_VERSION
    assert histories.load(path).signature_version == SIGNATURE_VERSION


def legacy_finding(name, current_id=None):
    """A finding whose ids under signature v1 to v5 are `v1-NAME` to `v5-NAME` (legacy_ids follow LEGACY)."""
    assert [rules.version for rules in LEGACY] == [1, 2, 3, 4, 5]
    return Finding("data race", name, [name], [], "",
                   legacy_ids=[f"v1-{name}", f"v2-{name}", f"v3-{name}", f"v4-{name}", f"v5-{name}"])


def current(kind, signature):
    return "v6-" + signature[0]


def test_an_older_historys_ids_become_current_where_a_finding_names_them_and_merging_keeps_the_oldest_version():
    old = History({"t": TestHistory(0.1, 2, 1, ["v2-a", "v2-b"], {"noise": StrategyHistory(2, 0.2, 1, ["v2-a"])}),
                   "u": TestHistory(0.1, 2, 1, ["v3-c"])}, signature_version=2)
    # Only a's bug showed: b's id may be a v2 one still, so the file keeps saying 2.
    half = old.translated(histories.aliases([legacy_finding("a")], current, since=2))
    assert half.tests["t"].buckets == ["v6-a", "v2-b"] and half.tests["t"].strategies["noise"].buckets == ["v6-a"]
    assert half.signature_version == 2
    assert half.merged(History()).signature_version == 2
    # Every id known (v3-c was written under v3 already, as racegate did before the field): stamped current.
    found = [legacy_finding(n) for n in "abc"]
    whole = old.translated(histories.aliases(found, current, since=2))
    assert whole.tests["t"].buckets == ["v6-a", "v6-b"] and whole.tests["u"].buckets == ["v6-c"]
    assert whole.signature_version == SIGNATURE_VERSION
    # A v1 id is no id of a version-2 history.
    assert "v1-a" not in histories.aliases(found, current, since=2)
    assert History().translated({}) == History()


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_a_session_rewrites_an_older_historys_ids_as_current_ones(tmp_path, version):
    race = Finding("data race", "r", ["counter.cpp:add", "counter.cpp:add"], [], "")
    race.legacy_ids = [bucket_id(race.kind, race.signature, rules) for rules in LEGACY]
    old_id, now_id = race.legacy_ids[version - 1], bucket_id(race.kind, race.signature)
    past = History({"t": TestHistory(0.1, 2, 1, [old_id], {"none": StrategyHistory(1, 0.1, 0, [old_id])})},
                   signature_version=version)
    session = Session(cases("t"), lambda t: ["noise"], SessionConfig(
        out_dir=tmp_path / "out", jobs=1, master_seed=1, runs=1, time_budget=None, timeout=None,
        until_confident=None, shim_path=None, history=past))
    session.records = [RunRecord(test="t", run=0, seed=0, strategy="none", command=[], outcome="race", returncode=66,
                                 duration=0.1, log_dir="", threads=2, findings=[race])]
    learned = session.learned()
    assert learned.signature_version == SIGNATURE_VERSION
    assert learned.tests["t"].buckets == [now_id] and learned.tests["t"].strategies["none"].buckets == [now_id]


def steady_runs(history, race, key):
    """How many of 40 runs go to a test that shows `race` on every run, beside a clean one."""
    s = Scheduler(cases("steady", "clean"), lambda t: ["noise", "pct"], 3, runs=None,
                  deadline=time.monotonic() + 3600, bucket_id=key, history=history)
    counts = Counter()
    for _ in range(40):
        plan = s.next()
        counts[plan.test.name] += 1
        found = plan.test.name == "steady"
        s.record(RunRecord(test=plan.test.name, run=plan.run, seed=plan.seed, strategy=plan.strategy,
                           command=[], outcome="race" if found else "pass", returncode=0, duration=0.1,
                           log_dir="", threads=4, findings=[race] if found else []))
    s.stop()
    return counts["steady"]


def steady_history(bucket, signature_version=SIGNATURE_VERSION):
    return History({"steady": TestHistory(0.1, 4, 1, [bucket], {"none": StrategyHistory(2, 0.2, 0),
                                                                "noise": StrategyHistory(2, 0.2, 0)})},
                   signature_version)


def test_a_test_the_history_saw_show_the_same_buckets_every_time_is_saturated_when_they_show_again():
    race = Finding("data race", "r", ["x", "y"], [], "")

    def key(kind, signature):
        return kind + "|" + "|".join(signature)

    assert steady_runs(steady_history("data race|x|y"), race, key) == 1 < steady_runs(None, race, key)


def test_a_history_of_an_older_signature_version_still_saturates_the_test_whose_bug_shows_again():
    # A history from before the signature_version field (read as 2) remembers the race by its v2 id.
    race = legacy_finding("x")
    assert steady_runs(steady_history("v2-x", signature_version=2), race, current) == 1
    # The same id in a history stamped with the current version is taken for a current id: another bug.
    assert steady_runs(steady_history("v2-x"), race, current) == steady_runs(None, race, current) > 1


def test_a_bucket_earns_hits_only_while_rare_and_a_first_pass_after_failures_is_one():
    # An intermittent race on every other noise run: its first HIT_CREDIT sightings are hits, later ones not.
    records = [record("t", 0, "none")] + [record("t", k, "noise", "race" if k % 2 else "pass") for k in range(1, 21)]
    learned = histories.from_session(records, {k: ["b1"] for k in range(1, 21, 2)})
    assert learned.tests["t"].strategies["noise"].hits == histories.HIT_CREDIT
    # A test failing on every run until a pass: that pass is news (the failure is flaky), later passes are not.
    records = [record("f", 0, "none", "fail"), record("f", 1, "pct", "fail"), record("f", 2, "pct"),
               record("f", 3, "pct")]
    learned = histories.from_session(records, {0: ["b9"], 1: ["b9"]})
    assert learned.tests["f"].strategies["pct"].hits == 1


def test_a_history_that_cannot_be_written_is_a_warning(tmp_path, capsys):
    where = tmp_path / "a-dir"
    where.mkdir()  # os.replace onto a directory fails
    histories.save_or_warn(History({"t": TestHistory(1.0, 2, 1)}), where)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"racegate: warning: cannot write history {where}: ")


def test_one_copy_at_a_time_is_kept_across_sessions_and_old_files_default_to_parallel_copies():
    old = History.from_json({"racegate_history": 1, "tests": {"t": {"duration": 1.0, "threads": 2, "sessions": 1}}})
    assert not old.tests["t"].one_at_a_time  # written before the field: copies run side by side as before
    learned = histories.from_session([], {}, ["t"])
    assert learned.tests == {}  # nothing ran: nothing to say of it
    solo = History({"t": TestHistory(threads=2, sessions=1, one_at_a_time=True)})
    assert History.from_json(solo.to_json()).tests["t"].one_at_a_time
    assert "one_at_a_time" not in old.to_json()["tests"]["t"]  # only written where it holds
    assert old.merged(solo).tests["t"].one_at_a_time and solo.merged(old).tests["t"].one_at_a_time
    with pytest.raises(HistoryError, match=r"one_at_a_time should be true or false"):
        History.from_json({"racegate_history": 1, "tests": {"t": {"one_at_a_time": "yes"}}})
