"""Open the HTML report in headless Chromium: no console errors (CSP included), hostile names stay text."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from racegate.reporters import RenderOptions, html
from racegate.result import Result
from samples_helpers import FIXTURES

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--hide-scrollbars", *args],
        capture_output=True, text=True, timeout=180, check=False,
    )


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed")
    text = (FIXTURES / "result_samples.json").read_text(encoding="utf-8")
    result = Result.from_json(json.loads(text.replace("/home/ci/project", str(FIXTURES / "project"))))
    out = Path(os.environ.get("RACEGATE_ARTIFACTS") or tmp_path / "artifacts")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "racegate.html"
    path.write_text(html.render(result, RenderOptions(base_dir=FIXTURES)), encoding="utf-8")
    return path


def test_page_loads_without_console_errors_and_hostile_name_is_text(page: Path, tmp_path: Path):
    run = _chromium(tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # includes CSP violations, which Chromium reports on the console
    dom = _Elements()
    dom.feed(run.stdout)
    body = next(attrs for tag, attrs in dom.tags if tag == "body")
    assert body.get("data-ready") == "true"  # the inline script ran: its CSP hash matches
    assert not [t for t, _ in dom.tags if t == "img"]
    assert HOSTILE in "".join(dom.text)


def test_screenshot(page: Path, tmp_path: Path):
    shot = page.with_name("racegate.png")
    run = _chromium(tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"\nscreenshot: {shot}")
