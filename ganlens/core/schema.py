"""The schema of ``report.json`` (``ganlens-report``, version 1), and a checker for it.

Top level::

    schema          "ganlens-report"
    schema_version  2
    metadata        run metadata: ganlens_version, checkpoint {path, sha256}, gan {latent, data,
                    ...}, real_data (record or null), seed, samples, device, analyzers,
                    plugins [{name, distribution, version}], timings {capture_s, total_s, ...}
    summary         {sections, ok, skipped, failed, findings {info, warning, alert}}
    sections        a list of sections, in the order the analyzers ran

A section::

    name, title, description   strings
    status                     "ok" | "skipped" | "failed"
    reason, error              why it was skipped or failed (null when ok)
    summary                    the headline line
    metrics                    {key: number | string | bool | null | list | dict}
    metric_info                {key: {description, good}}: what it measures, what good looks like
    findings                   [{level: info|warning|alert, message, metric, value, threshold}]
    figures                    [{name, title, caption, file}]: file is relative to report.json
    tables                     [{name, title, columns, rows, caption, featured}]: a featured
                               table is also shown at the top of the report
    duration_s                 seconds (absent when timings are excluded)
    peak_memory_mb             the process's peak resident memory while the analyzer ran, in MB
                               (Linux; null where it cannot be measured; absent with duration_s)

Numbers that are not finite are written as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``; ``null`` means "not computed". (Version 1 wrote both as null; that is why the
version is 2.) Additions that keep these keys keep the version; removing or renaming a key, or
changing what a value means, raises it.
"""

from __future__ import annotations

from typing import Any

from .section import LEVELS, STATUSES

SCHEMA_VERSION = 2

SECTION_KEYS = {
    "name": str, "title": str, "description": str, "status": str, "summary": str,
    "metrics": dict, "metric_info": dict, "findings": list, "figures": list, "tables": list,
}


def validate(doc: dict[str, Any]) -> list[str]:
    """Problems with a ``report.json`` document (an empty list when it follows the schema)."""
    problems = []
    if doc.get("schema") != "ganlens-report":
        problems.append("schema is not 'ganlens-report'")
    if doc.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"schema_version is not {SCHEMA_VERSION}")
    for key in ("metadata", "summary"):
        if not isinstance(doc.get(key), dict):
            problems.append(f"{key} is missing or not an object")
    sections = doc.get("sections")
    if not isinstance(sections, list):
        return [*problems, "sections is missing or not a list"]
    for i, s in enumerate(sections):
        where = f"sections[{i}]"
        for key, tp in SECTION_KEYS.items():
            if not isinstance(s.get(key), tp):
                problems.append(f"{where}.{key} is missing or not {tp.__name__}")
        if s.get("status") not in STATUSES:
            problems.append(f"{where}.status {s.get('status')!r} is not one of {STATUSES}")
        for j, f in enumerate(s.get("findings") or []):
            if f.get("level") not in LEVELS or not isinstance(f.get("message"), str):
                problems.append(f"{where}.findings[{j}] needs a level in {LEVELS} and a message")
        for j, f in enumerate(s.get("figures") or []):
            for key in ("name", "title", "caption"):
                if not isinstance(f.get(key), str) or not f.get(key):
                    problems.append(f"{where}.figures[{j}].{key} is missing or empty")
    return problems
