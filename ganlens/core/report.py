"""The report: run metadata plus the sections, written by every writer asked for.

Writers are plugins (``ganlens_write_report``): ``html`` (one self-contained page), ``json``
(the versioned schema in :mod:`ganlens.core.schema`) and ``md``. Figures are saved as PNG files
under ``figures/<section>/`` first, so every writer can refer to them. Everything is written
atomically.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GanlensError, InputError, OptionError
from .fileio import atomic_write_bytes
from .schema import SCHEMA_VERSION, validate
from .section import (
    LEVELS,
    Finding,
    MetricInfo,
    Section,
    Table,
    decode_float,
    level_rank,
    short_value,
    to_jsonable,
)

SCHEMA = "ganlens-report"
DEFAULT_FORMATS = ("html", "json")
FAIL_ON = ("warning", "alert")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_ANALYZER_FAILED = 3


def check_formats(formats: Sequence[str], host: Any) -> list[str]:
    """The formats, normalised; an unknown one is an :class:`OptionError` listing the known."""
    formats = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in formats if f not in host.formats]
    if unknown:
        raise OptionError(
            f"unknown report format {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(sorted(host.formats))}"
        )
    return formats


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+|\.{2,}", "-", text)
    return slug.strip("-.") or "item"


@dataclass
class Report:
    """A finished analysis: ``metadata`` (checkpoint, versions, seed, device, N, timings) and
    ``sections`` (one per analyzer, in the order they ran)."""

    metadata: dict[str, Any]
    sections: list[Section] = field(default_factory=list)
    host: Any = field(default=None, repr=False, compare=False)
    """The plugin host the report was made with; its writers save it."""

    def section(self, name: str) -> Section:
        """The section of analyzer ``name``."""
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(f"no section {name!r}; sections: {', '.join(s.name for s in self.sections)}")

    __getitem__ = section

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        """Every metric, by section name."""
        return {s.name: s.metrics for s in self.sections}

    def findings(self, min_level: str = "info") -> list[tuple[Section, Finding]]:
        """Findings at or above ``min_level``, most severe first."""
        items = [(s, f) for s in self.sections for f in s.findings
                 if level_rank(f.level) >= level_rank(min_level)]
        return sorted(items, key=lambda sf: -level_rank(sf[1].level))

    @property
    def featured_tables(self) -> list[tuple[Section, Table]]:
        """The tables that analyzers marked ``featured`` (shown at the top of the report), with
        their sections, in the order the sections ran."""
        return [(s, t) for s in self.sections if s.status == "ok" for t in s.tables if t.featured]

    @property
    def failed(self) -> list[Section]:
        return [s for s in self.sections if s.status == "failed"]

    def exit_code(self, fail_on: str | None = None) -> int:
        """3 when an analyzer failed; 1 when a finding is at or above ``fail_on``; else 0."""
        if fail_on is not None and fail_on not in FAIL_ON:
            raise OptionError(f"--fail-on {fail_on!r}: expected one of {', '.join(FAIL_ON)}")
        if self.failed:
            return EXIT_ANALYZER_FAILED
        if fail_on and self.findings(fail_on):
            return EXIT_FINDINGS
        return EXIT_OK

    def to_dict(self, *, with_timing: bool = True) -> dict[str, Any]:
        """The JSON document (schema ``ganlens-report`` version 1)."""
        meta = dict(self.metadata)
        if not with_timing:
            meta.pop("timings", None)
        counts = {lvl: sum(1 for s in self.sections for f in s.findings if f.level == lvl)
                  for lvl in LEVELS}
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "metadata": to_jsonable(meta),
            "summary": {
                "sections": len(self.sections),
                "ok": sum(s.status == "ok" for s in self.sections),
                "skipped": sum(s.status == "skipped" for s in self.sections),
                "failed": sum(s.status == "failed" for s in self.sections),
                "findings": counts,
            },
            "sections": [s.to_dict(with_timing=with_timing) for s in self.sections],
        }

    def save(self, out_dir: str | Path, formats: tuple[str, ...] | list[str] = DEFAULT_FORMATS,
             *, host: Any = None) -> list[Path]:
        """Write the figures and the report in ``formats`` to ``out_dir``; returns the paths.

        The writers are those of ``host``, else of the host the report was made with."""
        host = host or self.host
        if host is None:
            raise OptionError("this report has no plugin host to find writers in; pass host= "
                              "(ganlens.make_host()) to save it")
        formats = check_formats(formats, host)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = self.save_figures(out)
        for written in host.hook.ganlens_write_report(report=self, out_dir=out, formats=formats):
            paths.extend(written or [])
        return paths

    # -- notebooks ------------------------------------------------------------------------
    def _counts_line(self) -> str:
        statuses = {st: sum(s.status == st for s in self.sections)
                    for st in ("ok", "skipped", "failed")}
        shown = ", ".join(f"{n} {st}" for st, n in statuses.items() if n)
        counts = {lvl: sum(f.level == lvl for s in self.sections for f in s.findings)
                  for lvl in LEVELS}
        found = ", ".join(f"{counts[lvl]} {lvl}" for lvl in reversed(LEVELS))
        return (f"{len(self.sections)} section{'s' if len(self.sections) != 1 else ''}"
                f"{f' ({shown})' if shown else ''}; findings: {found}")

    def _checkpoint_name(self) -> str:
        meta = self.metadata if isinstance(self.metadata, dict) else {}
        ckpt = meta.get("checkpoint")
        if isinstance(ckpt, dict):
            ckpt = ckpt.get("path") or ckpt.get("name")
        return short_value(ckpt, 80) if ckpt else ""

    def __repr__(self) -> str:
        """A few lines: each section with its status and headline, and the finding counts
        (never figure bytes)."""
        try:
            ckpt = self._checkpoint_name()
            lines = [f"<Report{' of ' + ckpt if ckpt else ''}: {self._counts_line()}"]
            width = max((len(s.name) for s in self.sections), default=0)
            width = min(width, 24)
            limit = 20
            for s in self.sections[:limit]:
                worst = s.worst_finding
                flag = f" [{worst.level}]" if worst is not None and worst.level != "info" else ""
                lines.append(f"  {s.name[:24]:<{width}}  {s.status:<7}{flag} "
                             f"{short_value(s.headline, 70)}")
            if len(self.sections) > limit:
                lines.append(f"  \u2026 {len(self.sections) - limit} more sections")
            return "\n".join(lines) + ">"
        except Exception:  # noqa: BLE001 - a repr must never fail
            return f"<Report: {len(getattr(self, 'sections', []) or [])} sections>"

    def _repr_html_(self) -> str:
        """A compact, self-contained HTML view for notebooks: the counts, the findings, then
        each section (collapsed) with its metrics, tables and figures (embedded as data URIs)."""
        try:
            esc = html.escape
            ckpt = self._checkpoint_name()
            parts = [
                "<div style='font-family:sans-serif;font-size:14px'>",
                f"<p><b>ganlens report</b>{' of <code>' + esc(ckpt) + '</code>' if ckpt else ''}"
                f" \u2014 {esc(self._counts_line())}</p>",
            ]
            serious = self.findings("warning")
            if serious:
                items = "".join(f"<li><b>{esc(f.level)}</b> <code>{esc(s.name)}</code>: "
                                f"{esc(f.message)}</li>" for s, f in serious[:20])
                parts.append(f"<ul>{items}</ul>")
            parts.extend(s._repr_html_(open_=False) for s in self.sections)
            parts.append("</div>")
            return "".join(parts)
        except Exception:  # noqa: BLE001 - a notebook view must never fail
            return f"<pre>{html.escape(repr(self))}</pre>"

    def metrics_table(self) -> list[dict[str, Any]]:
        """Every metric as a row ``{section, metric, value, description, good}``, in the order
        the sections ran (NaN and infinities as floats)."""
        rows = []
        for s in self.sections:
            for key, value in s.metrics.items():
                info = s.metric_info.get(key) or MetricInfo()
                rows.append({"section": s.name, "metric": key, "value": value,
                             "description": info.description, "good": info.good})
        return rows

    def metrics_frame(self) -> Any:
        """:meth:`metrics_table` as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise GanlensError("Report.metrics_frame() needs pandas: pip install pandas, or "
                               "'ganlens[notebook]' (Report.metrics_table() gives the same rows "
                               "as dicts)") from None
        return pd.DataFrame(self.metrics_table(),
                            columns=["section", "metric", "value", "description", "good"])

    @classmethod
    def load(cls, path: str | Path) -> Report:
        """A saved report read back: ``path`` is its folder or its ``report.json``. Figures get
        their PNG bytes from the saved ``figures/...png`` files (empty bytes when missing).
        The result has no plugin host: pass ``host=`` to :meth:`save` it again."""
        path = Path(path)
        file = path / "report.json" if path.is_dir() else path
        if not file.is_file():
            raise InputError(f"{file}: no such file; expected a report folder with report.json "
                             "or the path of a report.json")
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            why = " ".join(str(exc).split())
            raise InputError(f"{file}: not a readable JSON report ({why})") from None
        if not isinstance(doc, dict):
            raise InputError(f"{file}: expected a JSON object of schema {SCHEMA!r}")
        problems = validate(doc)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise InputError(f"{file}: not a {SCHEMA!r} report version {SCHEMA_VERSION}: "
                             f"{problems[0]}{more}")
        root = file.parent.resolve()

        def figure_png(rel: str) -> bytes:
            target = (root / rel).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                return b""
            try:
                return target.read_bytes()
            except OSError:
                return b""

        try:
            sections = [Section.from_dict(d, figure_png) for d in doc["sections"]]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            why = " ".join(str(exc).split())
            raise InputError(f"{file}: a section does not follow the {SCHEMA!r} schema "
                             f"({type(exc).__name__}: {why})") from None
        return cls(metadata=decode_float(doc["metadata"]), sections=sections)

    def save_figures(self, out: Path) -> list[Path]:
        paths = []
        for s in self.sections:
            used: set[str] = set()
            for fig in s.figures:
                stem = _slug(fig.name)
                while stem in used:
                    stem += "_"
                used.add(stem)
                rel = Path("figures") / _slug(s.name) / f"{stem}.png"
                paths.append(atomic_write_bytes(out / rel, fig.png))
                fig.file = rel.as_posix()
        return paths


__all__ = ["Report", "SCHEMA", "SCHEMA_VERSION"]
