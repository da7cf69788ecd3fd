"""What an analyzer returns: a :class:`Section` of metrics, figures, tables and findings.

Metrics are flat and JSON-serialisable; each can say what it measures and what good looks like.
Figures are PNG bytes with a title and a caption that says how to read them. Findings carry a
level (info, warning, alert), a one-line message and the metric and threshold behind them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

LEVELS = ("info", "warning", "alert")
STATUSES = ("ok", "skipped", "failed")


def level_rank(level: str | None) -> int:
    """info 0, warning 1, alert 2; None -1."""
    return LEVELS.index(level) if level in LEVELS else -1


NAN, POS_INF, NEG_INF = "NaN", "Infinity", "-Infinity"
"""How report.json writes non-finite numbers: strings, never ``null`` (which means "not
computed"), so a reader can tell a NaN result from a missing one."""


def encode_float(value: float) -> float | str:
    """``value`` itself when finite, else ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return NAN
    return POS_INF if value > 0 else NEG_INF


def to_jsonable(value: Any, *, encode: bool = True) -> Any:
    """Numbers, strings, lists and dicts that ``json.dumps`` accepts; NaN and infinities become
    the strings of :func:`encode_float` (with ``encode=False`` they stay floats, as a section
    keeps them in memory), None stays null ("not computed")."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        items = value.tolist()
        return [to_jsonable(v, encode=encode) for v in items] if value.ndim \
            else to_jsonable(value.item(), encode=encode)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return encode_float(value) if encode else value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, encode=encode) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, encode=encode) for v in value]
    return str(value)


@dataclass
class Finding:
    """A conclusion a reader must see: ``level`` is info, warning or alert."""

    level: str
    message: str
    metric: str | None = None
    value: Any = None
    threshold: Any = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"finding level {self.level!r}; expected one of {', '.join(LEVELS)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "message": self.message,
            "metric": self.metric,
            "value": to_jsonable(self.value),
            "threshold": to_jsonable(self.threshold),
        }


@dataclass
class Figure:
    """A PNG figure with its title and a caption that says how to read it."""

    name: str
    title: str
    caption: str
    png: bytes
    file: str | None = None  # relative path, set when the report is saved

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "caption": self.caption, "file": self.file}


@dataclass
class Table:
    """A small table: column names and rows of plain values.

    A ``featured`` table is one a reader should see first (the numbers to report, say): the
    report writers show it at the top of the report, above the sections, as well as in its
    section."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""
    featured: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": list(self.columns),
            "rows": to_jsonable(self.rows),
            "caption": self.caption,
            "featured": self.featured,
        }


@dataclass
class MetricInfo:
    """What a metric measures and what good looks like (shown beside it in the report)."""

    description: str = ""
    good: str = ""


@dataclass
class Section:
    """One analyzer's result.

    Build it with :meth:`metric`, :meth:`figure`, :meth:`table` and :meth:`finding`; set
    ``summary`` to the headline a reader sees first.
    """

    name: str
    title: str
    description: str = ""
    status: str = "ok"
    reason: str | None = None
    error: str | None = None
    summary: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    metric_info: dict[str, MetricInfo] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    duration_s: float = 0.0
    headline_metric: str | None = None

    # -- building -------------------------------------------------------------------------
    def metric(self, key: str, value: Any, description: str = "", good: str = "") -> Any:
        """Record a metric (converted to plain Python values; NaN and infinities stay floats and
        are encoded when the report is written); returns the stored value."""
        stored = to_jsonable(value, encode=False)
        self.metrics[key] = stored
        if description or good:
            self.metric_info[key] = MetricInfo(description, good)
        if self.headline_metric is None:
            self.headline_metric = key
        return stored

    def figure(self, fig: Any, name: str, *, title: str, caption: str) -> Figure:
        """Add a matplotlib figure (rendered to PNG) or PNG bytes, with a title and caption."""
        if not caption:
            raise ValueError(f"figure {name!r} needs a caption that says how to read it")
        if isinstance(fig, (bytes, bytearray)):
            png = bytes(fig)
        else:
            from .plotting import figure_png

            png = figure_png(fig)
        item = Figure(name, title, caption, png)
        self.figures.append(item)
        return item

    def table(self, name: str, title: str, columns: list[str], rows: list[list[Any]],
              caption: str = "", *, featured: bool = False) -> Table:
        """Add a table; ``featured=True`` also shows it at the top of the report."""
        item = Table(name, title, list(columns), [list(r) for r in rows], caption, featured)
        self.tables.append(item)
        return item

    def finding(self, level: str, message: str, *, metric: str | None = None, value: Any = None,
                threshold: Any = None) -> Finding:
        item = Finding(level, message, metric, value, threshold)
        self.findings.append(item)
        return item

    # -- reading --------------------------------------------------------------------------
    @property
    def worst_finding(self) -> Finding | None:
        if not self.findings:
            return None
        return max(self.findings, key=lambda f: level_rank(f.level))

    @property
    def headline(self) -> str:
        """The summary, else the first metric as ``key = value``."""
        if self.summary:
            return self.summary
        if self.status != "ok":
            return self.reason or self.status
        key = self.headline_metric
        if key is not None and key in self.metrics:
            value = self.metrics[key]
            if isinstance(value, float):
                value = f"{value:.4g}"
            return f"{key} = {value}"
        return ""

    def to_dict(self, *, with_timing: bool = True) -> dict[str, Any]:
        d = {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "reason": self.reason,
            "error": self.error,
            "summary": self.headline,
            "metrics": to_jsonable(self.metrics),
            "metric_info": {
                k: {"description": v.description, "good": v.good}
                for k, v in self.metric_info.items()
            },
            "findings": [f.to_dict() for f in self.findings],
            "figures": [f.to_dict() for f in self.figures],
            "tables": [t.to_dict() for t in self.tables],
        }
        if with_timing:
            d["duration_s"] = round(self.duration_s, 4)
        return d
