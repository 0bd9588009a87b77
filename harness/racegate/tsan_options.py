"""TSAN_OPTIONS strings: split them as the sanitizer runtime does, and add, replace or drop flags."""
from __future__ import annotations

# Sanitizer flag strings separate flags with any of these (sanitizer_flag_parser's is_space).
_SEPARATORS = " ,:\n\t\r"


def _split_tsan_options(text: str) -> list[tuple[str, str]]:
    """[(name, raw token)] in order; values may be quoted with ' or " and then hold separators."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in _SEPARATORS:
            i += 1
            continue
        start = i
        while i < n and text[i] not in _SEPARATORS and text[i] != "=":
            i += 1
        name = text[start:i]
        if i < n and text[i] == "=":
            i += 1
            if i < n and text[i] in "'\"":
                close = text.find(text[i], i + 1)
                i = n if close < 0 else close + 1
            else:
                while i < n and text[i] not in _SEPARATORS:
                    i += 1
        tokens.append((name, text[start:i]))
    return tokens


def merge_tsan_options(existing: str, additions: dict[str, str], keep: tuple[str, ...] = ()) -> str:
    """Add or replace flags in a TSAN_OPTIONS string, leaving every other flag as it was.

    Flags named in `keep` are never replaced when `existing` already sets them.
    """
    tokens = _split_tsan_options(existing)
    present = {name for name, _ in tokens}
    replaced = {k for k in additions if not (k in keep and k in present)}
    out = [raw for name, raw in tokens if name not in replaced]
    for key in additions:
        if key in replaced:
            value = additions[key]
            if any(c in _SEPARATORS for c in value):
                value = '"' + value + '"'
            out.append(f"{key}={value}")
    return ":".join(out)


def without_tsan_option(text: str, name: str) -> str:
    """The TSAN_OPTIONS string with every `name=` flag removed, the others kept as written."""
    return ":".join(raw for flag, raw in _split_tsan_options(text) if flag != name)


def tsan_option_dict(text: str) -> dict[str, str]:
    """{flag: value} with quotes taken off; a flag set twice keeps its last value, as in TSan."""
    result = {}
    for name, raw in _split_tsan_options(text):
        value = raw[len(name) + 1:]
        if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
            value = value[1:-1]
        result[name] = value
    return result
