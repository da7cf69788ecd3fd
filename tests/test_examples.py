"""The examples run as documented."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_python_api_example(tmp_path, capsys):
    module = runpy.run_path(str(ROOT / "examples" / "python_api.py"))
    report = module["main"](tmp_path)
    out = capsys.readouterr().out
    assert "samples" in out and "on its own:" in out
    assert (tmp_path / "report" / "report.html").exists()
    assert report["samples"].status == "ok" and report["training"].status == "ok"
