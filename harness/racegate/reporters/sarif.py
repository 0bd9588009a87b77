"""SARIF 2.1.0 for GitHub code scanning: one rule per kind, one result per bucket, both stacks as code flows."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import PurePosixPath
from urllib.parse import quote

from racegate.advice import advice_for
from racegate.reporters import common as c

FORMAT = "sarif"
FILENAME = "racegate.sarif"

SRCROOT = "%SRCROOT%"
# GitHub rejects uploads past these; stay under them.
MAX_RESULTS = 25_000
MAX_GZIP_BYTES = 10 * 1000 * 1000
MAX_FRAMES_PER_STACK = 64  # GitHub keeps 10,000 thread-flow locations per result; TSan stacks are far shorter
_LEVEL = ("error", "error", "error", "warning", "warning", "note")  # by severity rank, for rule defaults


def render(
    result: dict,
    options: c.RenderOptions | None = None,
    *,
    max_results: int = MAX_RESULTS,
    max_gzip_bytes: int = MAX_GZIP_BYTES,
) -> str:
    src = c.source_dir(result)
    buckets = c.by_importance(result.get("buckets") or [])
    kinds = sorted({b.get("kind", "") for b in buckets}, key=lambda k: (c.severity(k), k))
    rule_index = {k: i for i, k in enumerate(kinds)}
    results = [_result(b, result, src, rule_index) for b in buckets[:max_results]]
    while True:
        text = _document(result, src, kinds, results, len(buckets))
        if len(gzip.compress(text.encode("utf-8", "backslashreplace"))) <= max_gzip_bytes or not results:
            return text
        # Too big even compressed: keep the most important half and say so.
        results = results[: len(results) // 2]


def _document(result: dict, src: str | None, kinds: list[str], results: list[dict], total: int) -> str:
    run: dict = {
        "tool": {
            "driver": {
                "name": "racegate",
                "version": c.tool_version(result) or "0",
                "rules": [_rule(k) for k in kinds],
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "summary": result.get("summary") or {},
            "signatureVersion": result.get("signature_version"),
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
        {"executionSuccessful": not (result.get("summary") or {}).get("interrupted"),
         "toolExecutionNotifications": notifications}
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def _rule(kind: str) -> dict:
    generic = advice_for(kind, [], [], [])
    text = f"{generic['what']}\n\nFix: {generic['fix']}"
    return {
        "id": rule_id(kind),
        "name": "".join(w.capitalize() for w in re.findall(r"[a-z0-9]+", kind.lower())) or "Problem",
        "shortDescription": {"text": f"ThreadSanitizer / racegate: {kind}"},
        "fullDescription": {"text": generic["what"]},
        "help": {"text": text, "markdown": f"{_md(generic['what'])}\n\n**Fix:** {_md(generic['fix'])}"},
        "defaultConfiguration": {"level": _LEVEL[c.severity(kind)]},
        "properties": {"tags": ["concurrency", "thread-safety", "racegate"], "problem.severity": _LEVEL[c.severity(kind)]},
    }


def rule_id(kind: str) -> str:
    return "racegate/" + ("-".join(re.findall(r"[a-z0-9]+", kind.lower())) or "problem")


def _result(b: dict, result: dict, src: str | None, rule_index: dict) -> dict:
    kind = b.get("kind", "")
    new = b.get("new", True)
    frames = [f for f in b.get("frames") or [] if f.get("file")]
    advice = c.advice(b)
    message = [c.one_line(b.get("title", "")) + "."]
    for i, frame in enumerate(b.get("frames") or []):
        message.append(f"{c.access_label(b, i).capitalize()}: {c.frame_function(frame)} at {c.frame_location(frame, src)}.")
    message.append(f"Seen in {c.frequency_text(b, result)}, tests: {', '.join(b.get('tests') or [])}; "
                   f"found by strategy {c.strategy(b)}.")
    message.append(f"Fix: {advice.get('fix', '')}")
    if c.reproduce_command(b):
        message.append(f"Reproduce: {c.reproduce_command(b)}")
    if not new:
        message.append(f"Known (baselined): {b.get('baseline_note') or 'in the baseline'}.")
    out: dict = {
        "ruleId": rule_id(kind),
        "ruleIndex": rule_index[kind],
        "level": "error" if new else "note",
        "message": {"text": "\n".join(message)},
        "locations": [_location(frames[0], src, b.get("title", "")) if frames else _fallback_location(b)],
        "partialFingerprints": {"primaryLocationLineHash": str(b.get("id", ""))},
        "baselineState": "new" if new else "unchanged",
        "properties": {
            "bucketId": b.get("id"),
            "occurrences": b.get("occurrences"),
            "runsWithBucket": b.get("runs_with_bucket"),
            "runFraction": c.fraction(b, result),
            "tests": b.get("tests") or [],
            "strategy": c.strategy(b),
            "reproduce": c.reproduce_command(b),
        },
    }
    related = [
        dict(_location(f, src, f"{c.access_label(b, i)}: {c.frame_function(f)}"), id=i + 1)
        for i, f in enumerate(frames)
    ]
    if related:
        out["relatedLocations"] = related
    flows = [_thread_flow(s, src) for s in b.get("stacks") or []]
    flows = [f for f in flows if f["locations"]]
    if flows:
        out["codeFlows"] = [{"message": {"text": c.one_line(b.get("title", ""))}, "threadFlows": flows}]
    return out


def _thread_flow(stack: dict, src: str | None) -> dict:
    # SARIF orders thread-flow locations by execution: outermost caller first, the access last.
    frames = [f for f in (stack.get("frames") or [])[:MAX_FRAMES_PER_STACK] if f.get("file")]
    return {
        "message": {"text": c.one_line(stack.get("header", "")) or "stack"},
        "locations": [
            {"location": _location(f, src, c.frame_function(f)), "nestingLevel": depth}
            for depth, f in enumerate(reversed(frames))
        ],
    }


def _location(frame: dict, src: str | None, text: str) -> dict:
    artifact, in_project = _artifact(frame.get("file") or "", src)
    physical: dict = {"artifactLocation": artifact}
    if frame.get("line"):
        physical["region"] = {"startLine": int(frame["line"])}
    loc: dict = {"physicalLocation": physical, "message": {"text": c.one_line(text) or "here"}}
    if not in_project:
        loc["properties"] = {"outsideProject": True}
    return loc


def _fallback_location(b: dict) -> dict:
    # Crashes and timeouts may have no frame; GitHub needs a location, so point at the project root's build file.
    return {
        "physicalLocation": {"artifactLocation": {"uri": "CMakeLists.txt", "uriBaseId": SRCROOT},
                             "region": {"startLine": 1}},
        "message": {"text": f"no source location known for this {b.get('kind', 'problem')}; tests: "
                            f"{', '.join(b.get('tests') or [])}"},
    }


def _artifact(file: str, src: str | None) -> tuple[dict, bool]:
    rel = c.repo_path(file, src)
    if rel is not None:
        return {"uri": quote(rel), "uriBaseId": SRCROOT}, True
    if PurePosixPath(file).is_absolute():
        return {"uri": "file://" + quote(PurePosixPath(file).as_posix())}, False
    return {"uri": quote(file)}, False  # a relative reference outside the project: no scheme


def _dir_uri(path: str) -> str:
    return "file://" + quote(path.rstrip("/") + "/")


def _md(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]()#+!|<>])", r"\\\1", text)
