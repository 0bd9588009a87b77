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
from samples_helpers import FIXTURES
from racegate.result.codec import result_from_json

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
    result = result_from_json(json.loads(text.replace("/home/ci/project", str(FIXTURES / "project"))))
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


WRITE_LINE = "    slots_[tail_ % N] = v;  // racing <write>"
READ_LINE = "    return slots_[head_ % N];  // racing read & more"


def _racing_page(tmp_path: Path) -> Path:
    """The HTML of a race between two lines of a small queue, its lines read when the result was built and its
    tree gone when the page is rendered."""
    from racegate.advice import Advice
    from racegate.model import SourceFrame, StackTrace
    from racegate.result import BucketResult, FirstSeen, RunConfig, StrategyStats, TestResult, build_result

    root = tmp_path / "queue"
    (root / "src").mkdir(parents=True)
    lines = [f"// queue line {n}" for n in range(1, 41)]
    lines[11], lines[23] = WRITE_LINE, READ_LINE
    (root / "src" / "queue.hpp").write_text("\n".join(lines) + "\n")
    lib = (SourceFrame("std::__invoke_impl<void>", "/usr/include/c++/12/bits/invoke.h", 61),
           SourceFrame("std::thread::_State_impl::_M_run()", "/usr/include/c++/12/bits/std_thread.h", 244))
    frames = [SourceFrame("Queue::push(int)", f"{root}/src/queue.hpp", 12),
              SourceFrame("Queue::pop()", f"{root}/src/queue.hpp", 24)]
    stacks = [StackTrace("Write of size 4 at 0x7b04 by thread T1:", (frames[0], *lib)),
              StackTrace("Previous read of size 4 at 0x7b04 by thread T2:", (frames[1], *lib))]
    b = BucketResult(
        id="5a5a5a5a5a5a5a5a", kind="data race", title="data race on Queue::slots_ in Queue::push vs Queue::pop",
        signature=["data race"], frames=frames, stacks=stacks, tests=["QueueTest.Race"], occurrences=3,
        runs_with_bucket=3, first_seen=FirstSeen("QueueTest.Race", 0, 1, "noise", ["./queue_test"]),
        strategies={"noise": 3}, advice=Advice("Two threads touch the slot.", "Guard it."), raw_report="")
    test = TestResult("QueueTest.Race", 10, {"pass": 7, "race": 3, "fail": 0, "crash": 0, "timeout": 0}, 2, 0.1)
    config = RunConfig(seed=1, source_dir=str(tmp_path), source_root=str(root),
                       source_url="https://github.com/acme/queue/blob/0123abc")
    result = build_result(config, [test], [b], {"noise": StrategyStats(10, 3, 1)}, [[10, 1]], 1.0, False)
    shutil.rmtree(root)
    out = Path(os.environ.get("RACEGATE_ARTIFACTS") or tmp_path / "artifacts")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "racegate-racing-lines.html"
    path.write_text(html.render(result), encoding="utf-8")
    return path


def test_both_racing_lines_show_marked_with_the_library_frames_folded(tmp_path: Path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed")
    page = _racing_page(tmp_path)
    run = _chromium(tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert [line for line in run.stderr.splitlines() if ":CONSOLE" in line] == []
    dom = _Elements()
    dom.feed(run.stdout)
    text = "".join(dom.text)
    assert WRITE_LINE in text and READ_LINE in text  # as text: the markup in them did not become elements
    hits = [attrs for tag, attrs in dom.tags if tag == "span" and attrs.get("class") == "row hit"]
    assert len(hits) == 2
    links = [attrs["href"] for tag, attrs in dom.tags if tag == "a"]
    assert "https://github.com/acme/queue/blob/0123abc/src/queue.hpp#L12" in links
    assert "https://github.com/acme/queue/blob/0123abc/src/queue.hpp#L24" in links
    assert text.count("2 standard-library frames") == 2
    shot = page.with_name("racegate-racing-lines.png")
    run = _chromium(tmp_path / "profile", "--window-size=1280,1100", f"--screenshot={shot}", page.as_uri())
    assert run.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"\nscreenshot: {shot}")
