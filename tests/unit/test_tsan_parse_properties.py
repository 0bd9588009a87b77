"""Property tests: whatever the log looks like, parsing never raises and never invents reports."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from racegate.signature import finding_from_report, signature
from racegate.signature_rules import bucket_id
from racegate.tsan_parse import parse_reports
from samples_helpers import CORPUS

LOGS = sorted(CORPUS.glob("*/*.log"))
_TEXT = {p: p.read_text() for p in LOGS}

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
logs = st.sampled_from(LOGS).map(_TEXT.__getitem__)
# Logs whose every report is whole (one corpus log is cut short by its process's end: a log after it would continue it).
WHOLE_LOGS = [p for p in LOGS if not any(r.truncated for r in parse_reports(_TEXT[p]))]
whole_logs = st.sampled_from(WHOLE_LOGS).map(_TEXT.__getitem__)
# Program output: anything but TSan's own report markers at a line start.
output_lines = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=60).filter(
    lambda s: not s.lstrip().startswith(("WARNING: ThreadSanitizer", "SUMMARY", "#", "=="))
)


def _exercise(text: str) -> list:
    """Parse and bucket everything, as the runner does; the caller checks it did not raise."""
    reports = parse_reports(text)
    for r in reports:
        bucket_id(r.kind, signature(r))
        finding = finding_from_report(r)
        # Never an empty key, nor an empty element of one, whatever the log held (signature v4).
        assert finding.signature and all(finding.signature)
    return reports


def _starts(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.startswith("WARNING: ThreadSanitizer: "))


@SETTINGS
@given(logs, st.floats(0, 1))
def test_truncation_at_any_offset(text, where):
    cut = int(len(text) * where)
    full = parse_reports(text)
    part = _exercise(text[:cut])
    assert len(part) <= len(full)
    # Reports before the cut are untouched; the one the cut runs through is a prefix of itself.
    for p, f in zip(part[:-1], full):
        assert p.text == f.text and not p.truncated
    if part:
        last = full[len(part) - 1]
        assert last.text.startswith(part[-1].text)
        assert part[-1].truncated or part[-1].summary == last.summary


@SETTINGS
@given(logs, st.randoms(use_true_random=False))
def test_shuffled_lines(text, rnd):
    lines = text.split("\n")
    rnd.shuffle(lines)
    shuffled = "\n".join(lines)
    assert len(_exercise(shuffled)) == _starts(shuffled)


@SETTINGS
@given(st.lists(whole_logs, min_size=1, max_size=5))
def test_concatenated_logs(texts):
    combined = _exercise("".join(texts))
    assert [r.text for r in combined] == [r.text for t in texts for r in parse_reports(t)]


@SETTINGS
@given(logs, st.lists(output_lines, min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_program_output_between_lines(text, noise, rnd):
    clean = parse_reports(text)
    lines = text.split("\n")
    for extra in noise:
        lines.insert(rnd.randrange(len(lines) + 1), extra)
    noisy = _exercise("\n".join(lines))
    # Output never creates or removes a report; outside a report it changes nothing at all.
    assert [(r.kind, r.pid) for r in noisy] == [(r.kind, r.pid) for r in clean]


@SETTINGS
@given(st.lists(st.sampled_from(WHOLE_LOGS), min_size=1, max_size=3), st.lists(output_lines, max_size=5))
def test_output_around_reports_keeps_signatures(paths, noise):
    texts = [_TEXT[p] for p in paths]
    glue = "\n".join(noise) + "\n" if noise else ""
    noisy = _exercise(glue + glue.join(texts) + glue)
    assert [signature(r) for r in noisy] == [signature(r) for t in texts for r in parse_reports(t)]


@SETTINGS
@given(st.binary(max_size=4000))
def test_random_bytes(data):
    text = data.decode("utf-8", errors="replace")
    assert len(_exercise(text)) <= _starts(text)


@SETTINGS
@given(logs, st.binary(max_size=200), st.floats(0, 1))
def test_garbage_spliced_into_a_real_log(text, junk, where):
    at = int(len(text) * where)
    spliced = text[:at] + junk.decode("latin-1") + text[at:]
    assert len(_exercise(spliced)) <= _starts(spliced)
