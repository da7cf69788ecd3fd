"""The report: run metadata plus the sections, written by every writer asked for.

Writers are plugins (``ganlens_write_report``): ``html`` (one self-contained page), ``json``
(the versioned schema in :mod:`ganlens.core.schema`) and ``md``. Figures are saved as PNG files
under ``figures/<section>/`` first, so every writer can refer to them. Everything is written
atomically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import OptionError
from .fileio import atomic_write_bytes
from .schema import SCHEMA_VERSION
from .section import LEVELS, Finding, Section, Table, level_rank, to_jsonable

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
