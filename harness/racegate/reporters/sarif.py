"""SARIF 2.1.0 for GitHub code scanning: one rule per kind, one result per bucket at its first racing line (with
the source lines around it), every project frame of both stacks as a related location, both stacks as code flows.
URIs are relative to the source root (`%SRCROOT%`)."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import PurePosixPath
from urllib.parse import quote

from racegate.advice import advice_for
from racegate.kinds import severity
from racegate.model import SourceFrame, StackTrace
from racegate.reporters.interface import RenderOptions
from racegate.reporters.text import frame_function, one_line, repo_path
from racegate.reporters.view import access_label, BucketView, by_importance, detail_lines, is_project_frame
from racegate.result import Excerpt, Result
from racegate.result.codec import result_json

FORMAT = "sarif"
FILENAME = "racegate.sarif"

SRCROOT = "%SRCROOT%"
# GitHub rejects uploads past these; stay under them.
MAX_RESULTS = 25_000
MAX_GZIP_BYTES = 10 * 1000 * 1000
MAX_FRAMES_PER_STACK = 64  # GitHub keeps 10,000 thread-flow locations per result; TSan stacks are far shorter
_LEVEL = ("error", "error", "error", "warning", "warning", "note")  # by severity rank, for rule defaults


def render(
    result: Result,
    options: RenderOptions | None = None,
    *,
    max_results: int = MAX_RESULTS,
    max_gzip_bytes: int = MAX_GZIP_BYTES,
) -> str:
    src = result.config.root
    views = by_importance(result)
    kinds = sorted({v.kind for v in views}, key=lambda k: (severity(k), k))
    rule_index = {k: i for i, k in enumerate(kinds)}
    results = [_result(v, src, rule_index) for v in views[:max_results]]
    while True:
        text = _document(result, src, kinds, results, len(views))
        if len(gzip.compress(text.encode("utf-8", "backslashreplace"))) <= max_gzip_bytes or not results:
            return text
        # Too big even compressed: keep the most important half and say so.
        results = results[: len(results) // 2]


def _document(result: Result, src: str | None, kinds: list[str], results: list[dict], total: int) -> str:
    run: dict = {
        "tool": {
            "driver": {
                "name": "racegate",
                "version": result.tool_version or "0",
                "rules": [_rule(k) for k in kinds],
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "summary": result_json(result)["summary"],
            "signatureVersion": result.signature_version,
        },
    }
    if src:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": _dir_uri(src)}}
    notifications = []
    if len(results) < total:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"racegate: {total - len(results)} of {total} problems left out to stay within GitHub's "
                    "SARIF limits (the most important are kept); see racegate.json for all of them."
                },
            }
        )
    run["invocations"] = [
        {"executionSuccessful": not result.interrupted, "toolExecutionNotifications": notifications}
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def _rule(kind: str) -> dict:
    generic = advice_for(kind)
    text = f"{generic.what}\n\nFix: {generic.fix}"
    level = _LEVEL[severity(kind)]
    return {
        "id": rule_id(kind),
        "name": "".join(w.capitalize() for w in re.findall(r"[a-z0-9]+", kind.lower())) or "Problem",
        "shortDescription": {"text": f"ThreadSanitizer / racegate: {kind}"},
        "fullDescription": {"text": generic.what},
        "help": {"text": text, "markdown": f"{_md(generic.what)}\n\n**Fix:** {_md(generic.fix)}"},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["concurrency", "thread-safety", "racegate"], "problem.severity": level},
    }


def rule_id(kind: str) -> str:
    return "racegate/" + ("-".join(re.findall(r"[a-z0-9]+", kind.lower())) or "problem")


def _result(v: BucketView, src: str | None, rule_index: dict) -> dict:
    message = [one_line(v.title), *detail_lines(v)]
    located = [side for side in v.sides if side.frame.file]
    out: dict = {
        "ruleId": rule_id(v.kind),
        "ruleIndex": rule_index[v.kind],
        "level": "error" if v.new else "note",
        "message": {"text": "\n".join(message)},
        "locations": [_location(located[0].frame, src, v.title, located[0].excerpt) if located
                      else _fallback_location(v)],
        "partialFingerprints": {"primaryLocationLineHash": v.id},
        "baselineState": "new" if v.new else "unchanged",
        "properties": {
            "bucketId": v.id,
            "occurrences": v.bucket.occurrences,
            "runsWithBucket": v.bucket.runs_with_bucket,
            "runFraction": v.fraction,
            "tests": v.tests,
            "strategy": v.strategy,
            "reproduce": v.reproduce,
            **({"inChange": True} if v.bucket.in_change else {}),
        },
    }
    if v.group is not None:
        # A property naming the group, and a fingerprint of it, so code scanning and scripts can gather its alerts.
        out["properties"]["relatedGroup"] = {"id": v.group.id, "reasons": list(v.group.reasons),
                                             "buckets": list(v.group.buckets)}
        out["partialFingerprints"]["racegateRelatedGroup"] = "/".join(v.group.buckets)
    related = [dict(location, id=i + 1) for i, location in enumerate(_related(v, src))]
    if related:
        out["relatedLocations"] = related
    flows = [_thread_flow(s, src) for s in v.stacks]
    flows = [f for f in flows if f["locations"]]
    if flows:
        out["codeFlows"] = [{"message": {"text": one_line(v.title)}, "threadFlows": flows}]
    return out


def _related(v: BucketView, src: str | None) -> list[dict]:
    """Every project frame of both stacks, once each (the sides' frames, with their source lines, when the bucket
    has no stacks)."""
    if not v.stacks:
        return [_location(side.frame, src, f"{side.label}: {side.function}", side.excerpt)
                for side in v.sides if side.frame.file]
    excerpts = {(s.frame.file, s.frame.line): s.excerpt for s in v.sides}
    seen: set[tuple[str, int | None]] = set()
    out = []
    for i, stack in enumerate(v.stacks):
        for frame in stack.frames:
            key = (frame.file, frame.line)
            if key in seen or not is_project_frame(frame, src):
                continue
            seen.add(key)
            label = f"{access_label(v.bucket, i)}: {frame_function(frame)}"
            out.append(_location(frame, src, label, excerpts.get(key)))
    return out


def _thread_flow(stack: StackTrace, src: str | None) -> dict:
    # SARIF orders thread-flow locations by execution: outermost caller first, the access last.
    frames = [f for f in stack.frames[:MAX_FRAMES_PER_STACK] if f.file]
    return {
        "message": {"text": one_line(stack.header) or "stack"},
        "locations": [
            {"location": _location(f, src, frame_function(f)), "nestingLevel": depth}
            for depth, f in enumerate(reversed(frames))
        ],
    }


def _location(frame: SourceFrame, src: str | None, text: str, excerpt: Excerpt | None = None) -> dict:
    artifact, in_project = _artifact(frame.file, src)
    physical: dict = {"artifactLocation": artifact}
    if frame.line:
        physical["region"] = {"startLine": frame.line}
        if excerpt is not None and excerpt.line == frame.line:
            physical["region"]["snippet"] = {"text": excerpt.lines[excerpt.line - excerpt.first]}
            physical["contextRegion"] = {"startLine": excerpt.first, "endLine": excerpt.first + len(excerpt.lines) - 1,
                                         "snippet": {"text": "\n".join(excerpt.lines) + "\n"}}
    loc: dict = {"physicalLocation": physical, "message": {"text": one_line(text) or "here"}}
    if not in_project:
        loc["properties"] = {"outsideProject": True}
    return loc


def _fallback_location(v: BucketView) -> dict:
    # Crashes and timeouts may have no frame; GitHub needs a location, so point at the project root's build file.
    return {
        "physicalLocation": {"artifactLocation": {"uri": "CMakeLists.txt", "uriBaseId": SRCROOT},
                             "region": {"startLine": 1}},
        "message": {"text": f"no source location known for this {v.kind or 'problem'}; tests: "
                            f"{', '.join(v.tests)}"},
    }


def _artifact(file: str, src: str | None) -> tuple[dict, bool]:
    rel = repo_path(file, src)
    if rel is not None:
        return {"uri": quote(rel), "uriBaseId": SRCROOT}, True
    if PurePosixPath(file).is_absolute():
        return {"uri": "file://" + quote(PurePosixPath(file).as_posix())}, False
    return {"uri": quote(file)}, False  # a relative reference outside the project: no scheme


def _dir_uri(path: str) -> str:
    return "file://" + quote(path.rstrip("/") + "/")


def _md(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]()#+!|<>])", r"\\\1", text)
