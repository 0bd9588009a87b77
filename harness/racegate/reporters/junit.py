"""JUnit XML: one testcase per CTest test (runs, failures, flakiness) and one per bucket (new ones fail)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from racegate.reporters import common as c

FORMAT = "junit"
FILENAME = "racegate-junit.xml"

# Characters XML 1.0 cannot carry at all, even escaped (test output may hold NUL or terminal escapes).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: object) -> str:
    return _NOT_XML.sub("", str(text))


def render(result: dict, options: c.RenderOptions | None = None) -> str:
    root = ET.Element("testsuites", name="racegate")
    tests_suite = _tests_suite(result)
    buckets_suite = _buckets_suite(result)
    for suite in (tests_suite, buckets_suite):
        root.append(suite)
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, str(sum(int(s.get(attr, "0")) for s in root)))
    root.set("time", f"{float((result.get('summary') or {}).get('wall_seconds') or 0):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(name: str) -> ET.Element:
    return ET.Element("testsuite", name=name, tests="0", failures="0", errors="0", skipped="0")


def _finish(suite: ET.Element) -> ET.Element:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for tc in cases if tc.find("failure") is not None)))
    suite.set("time", f"{sum(float(tc.get('time', '0')) for tc in cases):.3f}")
    return suite


def _tests_suite(result: dict) -> ET.Element:
    """A test fails when it failed in some run and a new bucket names it; failures only from known buckets
    leave it passing, yet still marked flaky."""
    suite = _suite("racegate.tests")
    new_tests = {t for b in result.get("buckets") or [] if b.get("new", True) for t in b.get("tests") or []}
    known_tests = {t for b in result.get("buckets") or [] if not b.get("new", True) for t in b.get("tests") or []}
    for t in result.get("tests") or []:
        name = t.get("name", "")
        runs, failed = int(t.get("runs") or 0), int(t.get("failed_runs") or 0)
        case = ET.SubElement(
            suite, "testcase", classname="racegate.tests", name=_x(name),
            time=f"{float(t.get('mean_seconds') or 0) * runs:.3f}",
        )
        props = ET.SubElement(case, "properties")
        outcomes = t.get("outcomes") or {}
        values = {"runs": runs, "failed_runs": failed, "flaky": str(bool(t.get("flaky"))).lower(), **outcomes}
        if t.get("threads") is not None:
            values["threads"] = t["threads"]
        for key, value in values.items():
            ET.SubElement(props, "property", name=_x(key), value=_x(value))
        flaky = "FLAKY: " if t.get("flaky") else ""
        counts = ", ".join(f"{k} {v}" for k, v in outcomes.items() if v)
        summary = f"{flaky}{failed} of {runs} runs failed ({counts})"
        if failed and (name in new_tests or name not in known_tests):
            ET.SubElement(case, "failure", message=_x(summary), type="flaky" if t.get("flaky") else "failed").text = (
                _x(summary)
            )
        elif failed and t.get("flaky"):
            # Surefire's marker for "passed, but failed in some runs"; other readers ignore it.
            ET.SubElement(case, "flakyFailure", message=_x(summary + " (known, baselined)"), type="flaky")
        ET.SubElement(case, "system-out").text = _x(summary)
    return _finish(suite)


def _buckets_suite(result: dict) -> ET.Element:
    suite = _suite("racegate.problems")
    src = c.source_dir(result)
    for b in c.by_importance(result.get("buckets") or []):
        kind = b.get("kind", "")
        case = ET.SubElement(
            suite, "testcase", classname=_x(f"racegate.problems.{kind}"), name=_x(f"{b.get('title', '')} [{b.get('id', '')}]"),
            time="0",
        )
        props = ET.SubElement(case, "properties")
        for key, value in (
            ("id", b.get("id", "")), ("kind", kind), ("new", str(bool(b.get("new", True))).lower()),
            ("runs_with_bucket", b.get("runs_with_bucket", 0)), ("occurrences", b.get("occurrences", 0)),
            ("strategy", c.strategy(b)), ("tests", ", ".join(b.get("tests") or [])),
        ):
            ET.SubElement(props, "property", name=key, value=_x(value))
        details = _details(b, result, src)
        if b.get("new", True):
            ET.SubElement(case, "failure", message=_x(b.get("title", "")), type=_x(kind)).text = _x(details)
        else:
            note = b.get("baseline_note") or "in the baseline"
            details = f"known (baselined): {note}\n{details}"
        ET.SubElement(case, "system-out").text = _x(details)
    return _finish(suite)


def _details(b: dict, result: dict, src: str | None) -> str:
    lines = [f"{b.get('kind', '')}: {b.get('title', '')}"]
    for i, frame in enumerate(b.get("frames") or []):
        lines.append(f"  {c.access_label(b, i)}: {c.frame_function(frame)} at {c.frame_location(frame, src)}")
    lines.append(f"seen in {c.frequency_text(b, result)}; tests: {', '.join(b.get('tests') or [])}")
    lines.append(f"found by strategy {c.strategy(b)}")
    lines.append(f"fix: {c.advice(b).get('fix', '')}")
    if c.reproduce_command(b):
        lines.append(f"reproduce: {c.reproduce_command(b)}")
    lines.append(f"replay: {c.replay_command(b, result)}")
    return "\n".join(lines)
