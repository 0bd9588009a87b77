"""ensure_shim refuses, in one line, to build for an architecture whose glibc symbol versions it lacks."""
from __future__ import annotations

import pytest

from racegate.shim import ShimBuildError, ensure_shim


def fake_compiler(tmp_path, triple: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cc = bin_dir / "cc"
    # Answers -dumpmachine and --version like gcc; any build attempt fails loudly.
    cc.write_text(f'#!/bin/sh\ncase "$1" in\n  -dumpmachine) echo {triple} ;;\n  --version) echo "cc (fake) 1.0" ;;\n'
                  '  *) echo "fake cc: no builds" >&2; exit 1 ;;\nesac\n')
    cc.chmod(0o755)
    return bin_dir


def test_other_architecture_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_compiler(tmp_path, "aarch64-linux-gnu")))
    with pytest.raises(ShimBuildError) as err:
        ensure_shim(tmp_path / "cache")
    message = str(err.value)
    assert "\n" not in message
    assert "architecture aarch64 is not supported" in message and "x86_64" in message
    assert not (tmp_path / "cache").exists()


def test_x86_64_goes_on_to_build(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_compiler(tmp_path, "x86_64-linux-gnu")))
    with pytest.raises(ShimBuildError, match="fake cc: no builds"):
        ensure_shim(tmp_path / "cache")
