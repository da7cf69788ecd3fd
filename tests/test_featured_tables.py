"""Featured tables: a table a section marks ``featured`` is shown at the top of the HTML and
Markdown reports (and stays in its section and in report.json)."""

from __future__ import annotations

import json

import ganlens
from ganlens.core.schema import validate


def report(tmp_path, *, featured: bool = True):
    first = ganlens.Section("first", "First analyzer")
    first.metric("m", 1.0)
    first.table("plain", "A plain table", ["a"], [[1]])
    scores = ganlens.Section("scores", "Numbers to report")
    scores.table("top", "Key <numbers>", ["metric", "value"], [["FD", 12.345678], ["KID", None]],
                 caption="how to read it", featured=featured)
    skipped = ganlens.Section("gone", "Skipped one", status="skipped", reason="no data")
    skipped.table("hidden", "Not shown on top", ["x"], [[0]], featured=True)
    rep = ganlens.Report({"seed": 0, "samples": 10, "device": "cpu"}, [first, scores, skipped],
                         host=ganlens.make_host())
    rep.save(tmp_path, formats=["html", "json", "md"])
    return rep


def test_a_featured_table_is_listed_once_from_ok_sections_only(tmp_path):
    rep = report(tmp_path)
    assert [(s.name, t.name) for s, t in rep.featured_tables] == [("scores", "top")]
    assert rep["first"].tables[0].to_dict()["featured"] is False
    assert rep["scores"].tables[0].to_dict()["featured"] is True


def test_html_shows_it_above_the_summary_and_still_in_its_section(tmp_path):
    report(tmp_path)
    html = (tmp_path / "report.html").read_text()
    top, summary = html.index('id="featured"'), html.index('id="summary"')
    assert top < summary
    block = html[top:summary]
    assert "Key &lt;numbers&gt;" in block and "12.35" in block and "n/a" in block
    assert 'href="#sec-scores"' in block and "how to read it" in block
    assert "Not shown on top" not in block and "A plain table" not in block
    section = html[html.index('id="sec-scores"'):]
    assert "Key &lt;numbers&gt;" in section
    assert '<a href="#featured">Key &lt;numbers&gt;</a>' in html


def test_markdown_shows_it_before_the_findings(tmp_path):
    report(tmp_path)
    md = (tmp_path / "report.md").read_text()
    top = md.index("## Key &lt;numbers&gt;")
    assert top < md.index("## Findings") < md.index("## Numbers to report")
    assert "| FD | 12.35 |" in md[top:]


def test_json_keeps_the_flag_and_the_schema(tmp_path):
    report(tmp_path)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert validate(doc) == []
    flags = {t["name"]: t["featured"] for s in doc["sections"] for t in s["tables"]}
    assert flags == {"plain": False, "top": True, "hidden": True}


def test_without_a_featured_table_the_report_has_no_featured_block(tmp_path):
    report(tmp_path, featured=False)
    assert 'id="featured"' not in (tmp_path / "report.html").read_text()
    md = (tmp_path / "report.md").read_text()
    assert md.index("## Findings") < md.index("Key &lt;numbers&gt;")
