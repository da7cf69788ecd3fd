"""Notebook views of a report: short reprs, an HTML view, loading a saved report, metrics rows."""

from __future__ import annotations

import copy
import json
import math
import sys

import pytest

import ganlens
import ganlens.testing
from ganlens.core.report import Report
from ganlens.core.section import Section
from ganlens.errors import GanlensError, InputError

HOSTILE = "<script>alert('x')</script>"


def _copy(report: Report) -> Report:
    """A copy to change (the host itself is shared: it cannot be deep-copied)."""
    return Report(copy.deepcopy(report.metadata), copy.deepcopy(report.sections), report.host)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return ganlens.analyze(ganlens.testing.tiny_image_gan(), real=ganlens.testing.random_images(64),
                           analyzers=["samples", "image_stats"], samples=32, progress=False,
                           out_dir=out)


def test_repr_is_short_and_has_no_png_bytes(report):
    text = repr(report)
    assert len(text) < 2000
    assert "PNG" not in text and "\\x89" not in text
    for s in report.sections:
        assert s.name in text
        line = repr(s)
        assert line.startswith(f"<Section {s.name}: {s.status}, {len(s.metrics)} metric")
        assert f"{len(s.figures)} figure" in line
        assert "PNG" not in line and len(line) < 300
    assert "findings:" in text


def test_section_repr_counts_alerts():
    s = Section("mode_collapse", "Mode collapse")
    s.metric("a", 1.0)
    s.finding("info", "fine")
    s.finding("alert", "bad")
    assert repr(s) == "<Section mode_collapse: ok, 1 metric, 0 figures, 2 findings (1 alert)>"


def test_repr_html_has_titles_and_data_uris(report):
    page = report._repr_html_()
    for s in report.sections:
        assert s.title in page or s.title.replace("'", "&#x27;") in page
    n_figures = sum(len(s.figures) for s in report.sections)
    assert n_figures and page.count("src='data:image/png;base64,") == n_figures
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "<table" in page and "what good looks like" in page
    assert report.sections[0]._repr_html_().startswith("<details open")


def test_repr_html_escapes_and_survives_odd_data(report):
    r = _copy(report)
    s = r.sections[0]
    s.summary = HOSTILE
    s.title = HOSTILE
    s.metric("hostile", float("nan"), description=HOSTILE, good=HOSTILE)
    s.metric("inf", float("inf"))
    s.metric("none", None)
    s.metric("a_list", [1, 2.5, float("nan"), None, "x"])
    s.metric("a_dict", {"k": [1, 2], "<b>": "v"})
    s.finding("warning", HOSTILE, metric="hostile", value=float("nan"), threshold=None)
    s.table("odd", HOSTILE, ["a", "b"], [[None, float("nan")], ["<i>", [1, 2]]])
    s.figure(b"", "empty", title=HOSTILE, caption=HOSTILE)
    for page in (r._repr_html_(), s._repr_html_()):
        assert "<script>" not in page
        assert "&lt;script&gt;" in page
        assert "NaN" in page
    assert len(repr(r)) < 2000


def test_load_round_trips_including_nan(report, tmp_path):
    r = _copy(report)
    r.sections[0].metric("broken", float("nan"), description="a metric that failed", good="low")
    r.sections[0].metric("huge", float("-inf"))
    r.sections[-1].finding("info", "nan threshold", metric="broken", value=float("nan"),
                           threshold=float("inf"))
    r.save(tmp_path, formats=["json"])
    loaded = Report.load(tmp_path)
    assert loaded.to_dict() == r.to_dict()
    assert Report.load(tmp_path / "report.json").to_dict() == r.to_dict()
    broken = loaded.section(r.sections[0].name).metrics["broken"]
    assert isinstance(broken, float) and math.isnan(broken)
    assert loaded.section(r.sections[0].name).metrics["huge"] == float("-inf")
    for a, b in zip(loaded.sections, r.sections, strict=True):
        assert [f.png for f in a.figures] == [f.png for f in b.figures]
        assert all(f.png.startswith(b"\x89PNG") for f in a.figures)
    # a missing figure file gives empty bytes, not an error
    missing = tmp_path / r.sections[0].figures[0].file
    missing.unlink()
    again = Report.load(tmp_path)
    assert again.sections[0].figures[0].png == b""
    assert again.to_dict() == r.to_dict()
    assert "data:image/png" in again._repr_html_()


@pytest.mark.parametrize("content", [None, "", "{not json", "[1, 2]", '{"schema": "other"}'])
def test_load_bad_paths_are_one_line_input_errors(tmp_path, content):
    target = tmp_path / "report.json"
    if content is not None:
        target.write_text(content)
    with pytest.raises(InputError) as info:
        Report.load(tmp_path if content is None else target)
    message = str(info.value)
    assert "\n" not in message
    assert str(target) in message


def test_load_malformed_section_is_an_input_error(report, tmp_path):
    doc = report.to_dict()
    doc["sections"][0]["figures"] = [{"title": "t", "caption": "c"}]  # no name
    (tmp_path / "report.json").write_text(json.dumps(doc))
    with pytest.raises(InputError) as info:
        Report.load(tmp_path)
    assert "\n" not in str(info.value)


def test_metrics_table_matches_report(report):
    rows = report.metrics_table()
    assert len(rows) == sum(len(s.metrics) for s in report.sections)
    for row in rows:
        assert set(row) == {"section", "metric", "value", "description", "good"}
        s = report.section(row["section"])
        assert row["value"] == s.metrics[row["metric"]] or (
            isinstance(row["value"], float) and math.isnan(row["value"]))
        info = s.metric_info.get(row["metric"])
        assert row["description"] == (info.description if info else "")
        assert row["good"] == (info.good if info else "")


def test_metrics_frame(report, monkeypatch):
    import pandas  # the test extra installs it

    frame = report.metrics_frame()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == ["section", "metric", "value", "description", "good"]
    assert frame.to_dict("records") == report.metrics_table()
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(GanlensError, match="pip install pandas") as info:
        report.metrics_frame()
    assert "\n" not in str(info.value)
