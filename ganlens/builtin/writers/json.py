"""The JSON writer: ``report.json`` in schema ``ganlens-report`` (see ``schema.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from ...core.fileio import atomic_write_text
from ...markers import hookimpl

FORMAT = "json"


@hookimpl
def ganlens_report_formats() -> list[str]:
    return [FORMAT]


@hookimpl
def ganlens_write_report(report, out_dir: Path, formats: list[str]) -> list[Path]:
    if FORMAT not in formats:
        return []
    text = json.dumps(report.to_dict(), indent=2, allow_nan=False)
    return [atomic_write_text(Path(out_dir) / "report.json", text + "\n")]
