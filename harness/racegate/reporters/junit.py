"""JUnit XML: one testcase per CTest test (runs, failures, flakiness) and one per bucket (new ones fail)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from racegate.reporters.interface import RenderOptions
from racegate.reporters.view import BucketView, by_importance, detail_lines
from racegate.result import Result

FORMAT = "junit"
FILENAME = "racegate-junit.xml"

# Characters XML 1.0 cannot carry at all, even escaped (test output may hold NUL or terminal escapes).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: object) -> str:
    return _NOT_XML.sub("", str(text))


def render(result: Result, options: RenderOptions | None = None) -> str:
    root = ET.Element("testsuites", name="racegate")
    for suite in (_tests_suite(result), _buckets_suite(result)):
        root.append(suite)
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, str(sum(int(s.get(attr, "0")) for s in root)))
    root.set("time", f"{result.summary.wall_seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(name: str) -> ET.Element:
    return ET.Element("testsuite", name=name, tests="0", failures="0", errors="0", skipped="0")


def _finish(suite: ET.Element) -> ET.Element:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for tc in cases if tc.find("failure") is not None)))
    suite.set("skipped", str(sum(1 for tc in cases if tc.find("skipped") is not None)))
    suite.set("time", f"{sum(float(tc.get('time', '0')) for tc in cases):.3f}")
    return suite


def _tests_suite(result: Result) -> ET.Element:
    """A test fails when it failed in some run and a new bucket names it; failures only from known buckets
    leave it passing, yet still marked flaky."""
    suite = _suite("racegate.tests")
    new_tests = {t for b in result.buckets if b.new for t in b.tests}
    known_tests = {t for b in result.buckets if not b.new for t in b.tests}
    for t in result.tests:
        runs, failed = t.runs, t.failed_runs
        case = ET.SubElement(suite, "testcase", classname="racegate.tests", name=_x(t.name),
                             time=f"{t.seconds:.3f}")  # its runs summed; from the mean in older results
        props = ET.SubElement(case, "properties")
        values: dict[str, object] = {"runs": runs, "failed_runs": failed, "flaky": str(t.flaky).lower(), **t.outcomes}
        if t.threads is not None:
            values["threads"] = t.threads
        for key, value in values.items():
            ET.SubElement(props, "property", name=_x(key), value=_x(value))
        flaky = "FLAKY: " if t.flaky else ""
        counts = ", ".join(f"{k} {v}" for k, v in t.outcomes.items() if v)
        summary = f"{flaky}{failed} of {runs} runs failed ({counts})"
        if failed and (t.name in new_tests or t.name not in known_tests):
            ET.SubElement(case, "failure", message=_x(summary), type="flaky" if t.flaky else "failed").text = (
                _x(summary)
            )
        elif failed and t.flaky:
            # Surefire's marker for "passed, but failed in some runs"; other readers ignore it.
            ET.SubElement(case, "flakyFailure", message=_x(summary + " (known, baselined)"), type="flaky")
        elif not t.covered:
            # No completed run speaks for it: not a pass. JUnit's word for a test nothing decided is "skipped".
            why = t.not_run or f"not covered: none of its {runs} runs completed"
            ET.SubElement(case, "skipped", message=_x(why))
        ET.SubElement(case, "system-out").text = _x(summary)
    return _finish(suite)


def _buckets_suite(result: Result) -> ET.Element:
    suite = _suite("racegate.problems")
    for v in by_importance(result):
        case = ET.SubElement(suite, "testcase", classname=_x(f"racegate.problems.{v.kind}"),
                             name=_x(f"{v.title} [{v.id}]"), time="0")
        props = ET.SubElement(case, "properties")
        for key, value in (
            ("id", v.id), ("kind", v.kind), ("new", str(v.new).lower()),
            ("runs_with_bucket", v.bucket.runs_with_bucket), ("occurrences", v.bucket.occurrences),
            ("strategy", v.strategy), ("tests", ", ".join(v.tests)),
            *((("related_group", v.group.id), ("related_reasons", "; ".join(v.group.reasons)))
              if v.group is not None else ()),
        ):
            ET.SubElement(props, "property", name=key, value=_x(value))
        details = _details(v)  # a known bucket's last line says why it is known
        if v.new:
            ET.SubElement(case, "failure", message=_x(v.title), type=_x(v.kind)).text = _x(details)
        ET.SubElement(case, "system-out").text = _x(details)
    return _finish(suite)


def _details(v: BucketView) -> str:
    return "\n".join([v.title, *detail_lines(v)])
