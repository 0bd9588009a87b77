"""TSAN_OPTIONS strings: splitting as the sanitizer runtime does, merging, removing a flag."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from racegate.tsan_options import merge_tsan_options, tsan_option_dict, without_tsan_option


def test_merge_keeps_separators_quotes_and_order():
    existing = "halt_on_error=0 suppressions='/a b/s.txt',history_size=3:log_path=/x/tsan"
    merged = merge_tsan_options(existing, {"history_size": "7", "report_signal_unsafe": "0"})
    assert merged == "halt_on_error=0:suppressions='/a b/s.txt':log_path=/x/tsan:history_size=7:report_signal_unsafe=0"


def test_merge_keep_protects_existing_flags_only():
    assert merge_tsan_options("log_path=/a", {"log_path": "/b"}, keep=("log_path",)) == "log_path=/a"
    assert merge_tsan_options("", {"log_path": "/b"}, keep=("log_path",)) == "log_path=/b"


def test_merge_quotes_values_with_separators():
    merged = merge_tsan_options("", {"suppressions": "/my dir/supp.txt"})
    assert tsan_option_dict(merged) == {"suppressions": "/my dir/supp.txt"}


def test_without_removes_every_setting_of_the_flag_and_keeps_the_rest_as_written():
    text = "log_path=/a halt_on_error=0,suppressions='/x y/s.txt':log_path=\"/b c\""
    assert without_tsan_option(text, "log_path") == "halt_on_error=0:suppressions='/x y/s.txt'"


_names = st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True)
_values = st.from_regex(r"[A-Za-z0-9_/.\-]{1,12}", fullmatch=True)


@given(st.dictionaries(_names, _values, max_size=6), st.dictionaries(_names, _values, max_size=4))
def test_merge_property(existing, additions):
    text = " ".join(f"{k}={v}" for k, v in existing.items())
    assert tsan_option_dict(merge_tsan_options(text, additions)) == {**existing, **additions}
