"""The Markdown writer: ``report.md``, with figures linked from ``figures/``."""

from __future__ import annotations

import re
from pathlib import Path

from ...core.fileio import atomic_write_text
from ...markers import hookimpl
from .html import format_value

FORMAT = "md"


_MARKDOWN_PUNCTUATION = "\\`*_[]()#!|~"


def _cell(text: object) -> str:
    """Text made inert: HTML's ``& < >`` as entities (a renderer shows them, never runs them),
    Markdown's punctuation backslash-escaped (no injected links, images or emphasis), one line."""
    out = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in _MARKDOWN_PUNCTUATION:
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.splitlines())


def _code(text: object) -> str:
    """A code span (shown verbatim, HTML not interpreted) that no backtick inside can close."""
    body = " ".join(str(text).splitlines()).replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall("`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def render(report) -> str:
    meta = report.metadata
    lines = ["# ganlens report", ""]
    ckpt = (meta.get("checkpoint") or {}).get("path") or "(in memory)"
    lines += [f"Checkpoint: {_code(ckpt)} · seed {meta.get('seed')} · {meta.get('samples')} samples "
              f"· device {meta.get('device')}", ""]
    for s, t in report.featured_tables:
        lines += [f"## {_cell(t.title)}", "", f"From {_cell(s.title)} ({_code(s.name)}).", ""]
        lines += _table(t)
    findings = report.findings("info")
    lines += ["## Findings", ""]
    if findings:
        lines += [f"- **{f.level}** \\[{_cell(s.title)}\\] {_cell(f.message)}" for s, f in findings]
    else:
        lines.append("No findings.")
    lines.append("")
    for s in report.sections:
        lines += [f"## {_cell(s.title)} ({_code(s.name)}): {s.status}", ""]
        if s.description:
            lines += [_cell(s.description), ""]
        if s.status != "ok":
            lines += [f"_{_cell(s.reason or s.error or '')}_", ""]
        if s.headline and s.status == "ok":
            lines += [f"**{_cell(s.headline)}**", ""]
        if s.metrics:
            lines += ["| metric | value | what good looks like |", "|---|---|---|"]
            for k, v in s.metrics.items():
                info = s.metric_info.get(k)
                lines.append(f"| {_code(k)} | {_cell(format_value(v))} | "
                             f"{_cell(info.good if info else '')} |")
            lines.append("")
        for f in s.findings:
            lines.append(f"- **{f.level}**: {_cell(f.message)}")
        if s.findings:
            lines.append("")
        for fig in s.figures:
            lines += [f"### {_cell(fig.title)}", "", f"![{_cell(fig.title)}]({fig.file})", "",
                      _cell(fig.caption), ""]
        for t in s.tables:
            lines += [f"### {_cell(t.title)}", ""]
            lines += _table(t)
    return "\n".join(lines) + "\n"


def _table(t) -> list[str]:
    """A table's Markdown lines: header, rule, rows, caption, blank line."""
    lines = ["| " + " | ".join(map(_cell, t.columns)) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(_cell(format_value(c)) for c in row) + " |" for row in t.rows]
    return [*lines, "", _cell(t.caption), ""]


@hookimpl
def ganlens_report_formats() -> list[str]:
    return [FORMAT]


@hookimpl
def ganlens_write_report(report, out_dir: Path, formats: list[str]) -> list[Path]:
    if FORMAT not in formats:
        return []
    return [atomic_write_text(Path(out_dir) / "report.md", render(report))]
