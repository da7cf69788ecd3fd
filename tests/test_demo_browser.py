"""`ganlens demo` end to end, and its report.html in headless Chromium: it renders, every figure
loads, nothing is logged to the console; a screenshot is kept for people to look at."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ganlens import cli
from ganlens.core.schema import validate

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    code = cli.main(["demo", "--epochs", "3", "--samples", "200", "--out", str(out), "--no-progress"])
    return code, out


def test_demo_trains_and_reports_with_every_analyzer(demo):
    code, out = demo
    assert code == 0
    doc = json.loads((out / "report" / "report.json").read_text())
    assert validate(doc) == []
    statuses = {s["name"]: s["status"] for s in doc["sections"]}
    assert {"samples", "mode_collapse", "training"} <= set(statuses)
    assert "failed" not in statuses.values(), statuses
    assert (out / "run" / "checkpoint.pt").exists()


def _chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [shutil.which("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120,
        )


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_renders_in_chromium(demo):
    _code, out = demo
    page = (out / "report" / "report.html").resolve().as_uri()
    run = _chromium("--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                    "--dump-dom", page)
    loaded = re.search(r'data-figures-loaded="(\d+)/(\d+)"', run.stdout)
    assert loaded, "the page did not finish loading"
    ok, total = map(int, loaded.groups())
    assert total > 5 and ok == total
    console = [ln for ln in run.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == []
    shot = out / "report" / "screenshot.png"
    _chromium("--hide-scrollbars", "--window-size=1280,3000", f"--screenshot={shot}", page)
    assert shot.exists() and shot.stat().st_size > 10_000
    keep = Path(tempfile.gettempdir()) / "ganlens-demo-screenshot.png"
    shutil.copy(shot, keep)  # for a person to look at after the run
