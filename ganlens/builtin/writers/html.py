"""The HTML writer: ``report.html``, one self-contained page (figures embedded as data URIs),
readable offline. Every string from a checkpoint or a plugin is escaped by Jinja2's autoescape."""

from __future__ import annotations

import base64
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from ...core.fileio import atomic_write_text
from ...core.section import LEVELS, level_rank
from ...markers import hookimpl

FORMAT = "html"


def format_value(value: Any) -> str:
    """A metric value as a short string (floats to 4 significant digits, long lists cut)."""
    if isinstance(value, bool) or value is None:
        return "n/a" if value is None else str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+inf" if value > 0 else "-inf"
        return f"{value:.4g}"
    if isinstance(value, list):
        shown = ", ".join(format_value(v) for v in value[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}]" + (
            f" ({len(value)} values)" if len(value) > 8 else ""
        )
    if isinstance(value, dict):
        text = json.dumps(value)
        return text if len(text) < 200 else text[:197] + "..."
    return str(value)


def render(report) -> str:
    from jinja2 import Environment, select_autoescape

    template_text = (resources.files("ganlens.builtin.writers") / "templates" / "report.html").read_text()
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["value"] = format_value
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    findings = report.findings("info")
    counts = {lvl: sum(1 for _s, f in findings if f.level == lvl) for lvl in LEVELS}
    meta = report.to_dict()["metadata"]
    return env.from_string(template_text).render(
        report=report,
        sections=report.sections,
        findings=findings,
        counts=counts,
        meta=meta,
        meta_json=json.dumps(meta, indent=2),
        level_rank=level_rank,
    )


@hookimpl
def ganlens_report_formats() -> list[str]:
    return [FORMAT]


@hookimpl
def ganlens_write_report(report, out_dir: Path, formats: list[str]) -> list[Path]:
    if FORMAT not in formats:
        return []
    return [atomic_write_text(Path(out_dir) / "report.html", render(report))]
