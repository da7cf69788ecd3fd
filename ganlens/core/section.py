"""What an analyzer returns: a :class:`Section` of metrics, figures, tables and findings.

Metrics are flat and JSON-serialisable; each can say what it measures and what good looks like.
Figures are PNG bytes with a title and a caption that says how to read them. Findings carry a
level (info, warning, alert), a one-line message and the metric and threshold behind them.
"""

from __future__ import annotations

import base64
import html
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


def decode_float(value: Any) -> Any:
    """The inverse of :func:`to_jsonable`'s encoding, applied through lists and dicts: the
    strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` become floats again."""
    if isinstance(value, str):
        return {NAN: math.nan, POS_INF: math.inf, NEG_INF: -math.inf}.get(value, value)
    if isinstance(value, dict):
        return {k: decode_float(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_float(v) for v in value]
    return value


def short_value(value: Any, limit: int = 80) -> str:
    """A value as a short line of text for a summary (never raises)."""
    try:
        if value is None:
            text = "not computed"
        elif isinstance(value, bool):
            text = str(value)
        elif isinstance(value, float):
            text = f"{value:.4g}" if math.isfinite(value) else encode_float(value)
        elif isinstance(value, (list, tuple, dict)):
            text = repr(to_jsonable(value))
        else:
            text = str(value)
    except Exception:  # noqa: BLE001 - a summary must never fail
        text = "?"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


_STATUS_COLOURS = {"ok": "#2e7d32", "skipped": "#757575", "failed": "#c62828"}
_LEVEL_COLOURS = {"info": "#1565c0", "warning": "#ef6c00", "alert": "#c62828"}


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
    peak_memory_mb: float | None = None
    """The process's peak resident memory while the analyzer ran (MB; None: not measured)."""
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

    # -- notebooks ------------------------------------------------------------------------
    def __repr__(self) -> str:
        """A one-line summary, without figure bytes."""
        try:
            def n(count: int, word: str) -> str:
                return f"{count} {word}{'s' if count != 1 else ''}"

            counts = f"{n(len(self.metrics), 'metric')}, {n(len(self.figures), 'figure')}"
            if self.tables:
                counts += f", {n(len(self.tables), 'table')}"
            counts += f", {n(len(self.findings), 'finding')}"
            worst = self.worst_finding
            if worst is not None and worst.level != "info":
                counts += f" ({n(sum(f.level == worst.level for f in self.findings), worst.level)})"
            extra = ""
            if self.status != "ok" and (self.reason or self.error):
                extra = f" [{short_value(self.reason or self.error, 100)}]"
            return f"<Section {self.name}: {self.status}, {counts}{extra}>"
        except Exception:  # noqa: BLE001 - a repr must never fail
            return f"<Section {getattr(self, 'name', '?')}>"

    def _html_body(self) -> str:
        parts = []
        if self.description:
            parts.append(f"<p style='margin:.2em 0;color:#555'>{_esc(self.description)}</p>")
        if self.status != "ok":
            why = self.reason or self.error or self.status
            parts.append(f"<p><b>{_esc(self.status)}</b>: {_esc(why)}</p>")
        if self.findings:
            items = "".join(
                f"<li><span style='color:{_LEVEL_COLOURS.get(f.level, '#000')};"
                f"font-weight:bold'>{_esc(f.level)}</span> {_esc(f.message)}"
                + (f" <small>({_esc(f.metric)} = {_esc(short_value(f.value))}"
                   + (f", threshold {_esc(short_value(f.threshold))}"
                      if f.threshold is not None else "") + ")</small>"
                   if f.metric else "")
                + "</li>"
                for f in sorted(self.findings, key=lambda f: -level_rank(f.level)))
            parts.append(f"<ul style='margin:.3em 0'>{items}</ul>")
        if self.metrics:
            rows = []
            for key, value in self.metrics.items():
                info = self.metric_info.get(key) or MetricInfo()
                rows.append(
                    f"<tr><td><code>{_esc(key)}</code></td>"
                    f"<td style='text-align:right'>{_esc(short_value(value))}</td>"
                    f"<td>{_esc(info.description)}</td><td>{_esc(info.good)}</td></tr>")
            parts.append(
                "<table style='border-collapse:collapse;font-size:90%'>"
                "<thead><tr><th style='text-align:left'>metric</th><th>value</th>"
                "<th style='text-align:left'>what it measures</th>"
                "<th style='text-align:left'>what good looks like</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")
        for t in self.tables:
            head = "".join(f"<th>{_esc(c)}</th>" for c in t.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{_esc(short_value(v))}</td>" for v in
                                 (row if isinstance(row, (list, tuple)) else [row]))
                + "</tr>" for row in t.rows[:50])
            more = (f"<tr><td colspan='{max(len(t.columns), 1)}'>\u2026 {len(t.rows) - 50} more "
                    "rows</td></tr>" if len(t.rows) > 50 else "")
            parts.append(
                f"<p style='margin:.5em 0 .1em'><b>{_esc(t.title)}</b></p>"
                "<table style='border-collapse:collapse;font-size:90%'>"
                f"<thead><tr>{head}</tr></thead><tbody>{body}{more}</tbody></table>"
                + (f"<small>{_esc(t.caption)}</small>" if t.caption else ""))
        if self.figures:
            figs = []
            for fig in self.figures:
                png = fig.png if isinstance(fig.png, (bytes, bytearray)) else b""
                label = _esc(fig.title or fig.name)
                img = (f"<img src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'"
                       f" alt='{label}' title='{_esc(fig.caption)}'"
                       " style='max-width:260px;max-height:260px'>"
                       if png else "<i>(no image)</i>")
                figs.append(
                    "<figure style='display:inline-block;vertical-align:top;margin:4px;"
                    f"max-width:270px'>{img}<figcaption style='font-size:85%'><b>{label}</b>"
                    f"</figcaption></figure>")
            parts.append(f"<div>{''.join(figs)}</div>")
        return "".join(parts)

    def _html_summary(self) -> str:
        colour = _STATUS_COLOURS.get(self.status, "#000")
        worst = self.worst_finding
        flag = (f" <span style='color:{_LEVEL_COLOURS.get(worst.level, '#000')}'>"
                f"[{_esc(worst.level)}]</span>" if worst is not None else "")
        return (f"<b>{_esc(self.title or self.name)}</b> <code>{_esc(self.name)}</code> "
                f"<span style='color:{colour}'>{_esc(self.status)}</span>{flag} "
                f"\u2014 {_esc(short_value(self.headline, 200))}")

    def _repr_html_(self, *, open_: bool = True) -> str:
        """A compact, self-contained HTML view for notebooks (figures embedded as data URIs)."""
        try:
            return (f"<details{' open' if open_ else ''} style='margin:.3em 0'>"
                    f"<summary>{self._html_summary()}</summary>"
                    f"<div style='margin-left:1em'>{self._html_body()}</div></details>")
        except Exception:  # noqa: BLE001 - a notebook view must never fail
            return f"<pre>{_esc(repr(self))}</pre>"

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
            d["peak_memory_mb"] = (None if self.peak_memory_mb is None
                                   else round(self.peak_memory_mb, 1))
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], figure_png: Any = None) -> Section:
        """The section of a ``report.json`` document (see :meth:`to_dict`); NaN and infinities
        are decoded back to floats. ``figure_png(file)`` returns a figure's bytes (else
        empty)."""
        section = cls(
            name=d["name"], title=d["title"], description=d.get("description", ""),
            status=d.get("status", "ok"), reason=d.get("reason"), error=d.get("error"),
            summary=d.get("summary") or "",
            metrics=dict(decode_float(d.get("metrics") or {})),
            metric_info={k: MetricInfo(v.get("description", ""), v.get("good", ""))
                         for k, v in (d.get("metric_info") or {}).items()},
            duration_s=float(d.get("duration_s", 0.0) or 0.0),
            peak_memory_mb=d.get("peak_memory_mb"),
        )
        for f in d.get("findings") or []:
            section.findings.append(Finding(
                f["level"], f["message"], f.get("metric"), decode_float(f.get("value")),
                decode_float(f.get("threshold"))))
        for f in d.get("figures") or []:
            file = f.get("file")
            png = figure_png(file) if (figure_png is not None and file) else b""
            section.figures.append(Figure(f["name"], f["title"], f["caption"], png, file))
        for t in d.get("tables") or []:
            section.tables.append(Table(
                t["name"], t["title"], list(t["columns"]), decode_float(t["rows"]),
                t.get("caption", ""), bool(t.get("featured", False))))
        return section
