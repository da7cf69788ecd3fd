"""The report: JSON schema, escaping, figures on disk, atomic writes, formats."""

from __future__ import annotations

import json

import pytest

import ganlens
from ganlens.core.schema import validate
from ganlens.errors import OptionError
from ganlens.plotting import new_figure


class Hostile(ganlens.Analyzer):
    """Strings with markup, as a malicious checkpoint or plugin might produce."""

    name = "hostile"
    title = "<script>alert('title')</script>"

    def analyze(self, ctx):
        s = self.new_section()
        s.metric("<b>key</b>", 1.5, "<img src=x onerror=alert(1)>", "& < >")
        s.finding("warning", "<script>alert('finding')</script>", metric="<b>key</b>", value=1.5,
                  threshold=1.0)
        fig, ax = new_figure(2, 2)
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        s.figure(fig, "../../escape", title="<i>t</i>", caption="<script>c()</script>")
        s.table("t", "T", ["<a>"], [["<b>cell</b>"]])
        return s


@pytest.fixture()
def report(image_gan, tmp_path):
    return ganlens.analyze(image_gan, analyzers=[Hostile(), "samples"], samples=32,
                           out_dir=tmp_path, formats=["html", "json", "md"], progress=False)


def test_json_follows_the_schema(report, tmp_path):
    doc = json.loads((tmp_path / "report.json").read_text())
    assert validate(doc) == []
    assert doc["summary"]["findings"]["warning"] == 1
    sec = doc["sections"][0]
    assert sec["metrics"] == {"<b>key</b>": 1.5}
    assert sec["metric_info"]["<b>key</b>"]["good"] == "& < >"
    assert (tmp_path / sec["figures"][0]["file"]).exists()
    assert validate({"schema": "x"}) != []


def test_html_escapes_every_string_and_embeds_figures(report, tmp_path):
    html = (tmp_path / "report.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "<b>key</b>" not in html
    assert html.count("data:image/png;base64,") == sum(len(s.figures) for s in report.sections)
    assert 'src="figures/' not in html  # self-contained


def test_figure_names_cannot_escape_the_folder(report, tmp_path):
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert all(f.startswith("figures/") and ".." not in f for f in files)
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave nothing behind


def test_markdown_lists_findings_and_figures(report, tmp_path):
    md = (tmp_path / "report.md").read_text()
    assert "**warning**" in md and "](figures/hostile/" in md


def test_unknown_format(report, tmp_path):
    with pytest.raises(OptionError, match="unknown report format 'pdf'.*html, json, md"):
        report.save(tmp_path / "x", formats=["pdf"])


def test_exit_codes(report):
    assert report.exit_code(None) == 0
    assert report.exit_code("warning") == 1
    assert report.exit_code("alert") == 0
    with pytest.raises(OptionError):
        report.exit_code("panic")


def test_report_reads_like_a_notebook_object(report):
    assert report["hostile"].metrics["<b>key</b>"] == 1.5
    assert report.metrics["samples"]["samples"] == 32
    [(section, finding)] = report.findings("warning")
    assert section.name == "hostile" and finding.threshold == 1.0


class NonFinite(ganlens.Analyzer):
    """Metrics whose values are NaN, infinite, or not computed at all."""

    name = "nonfinite"
    title = "Non-finite"

    def analyze(self, ctx):
        s = self.new_section()
        s.metric("nan", float("nan"), "a NaN result")
        s.metric("pos", float("inf"), "an infinite result")
        s.metric("neg", float("-inf"), "a negative infinite result")
        s.metric("missing", None, "not computed")
        s.metric("mixed", [1.0, float("nan"), None], "a list with both")
        return s


def test_nan_and_infinity_are_not_null_in_json_and_shown_in_html(image_gan, tmp_path):
    ganlens.analyze(image_gan, analyzers=[NonFinite()], samples=4, out_dir=tmp_path,
                    formats=["html", "json"], progress=False)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert validate(doc) == [] and doc["schema_version"] == 2
    metrics = doc["sections"][0]["metrics"]
    assert metrics == {"nan": "NaN", "pos": "Infinity", "neg": "-Infinity", "missing": None,
                       "mixed": [1.0, "NaN", None]}
    html = (tmp_path / "report.html").read_text()
    row = {k: html.split(f"<code>{k}</code>")[1].split("</td>", 2)[1] for k in metrics}
    assert "NaN" in row["nan"] and "+inf" in row["pos"] and "-inf" in row["neg"]
    assert "n/a" in row["missing"] and "NaN" not in row["missing"]


HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>[link](javascript:alert(1))"


def test_hostile_names_are_escaped_in_html_and_inert_in_markdown(tmp_path):
    """A dataset name, a layer name and a plugin's description carrying markup: the HTML shows
    them as text; the Markdown holds no raw tag and no link or image it did not make."""
    from torch import nn

    from ganlens import testing

    class Sneaky(ganlens.Analyzer):
        name = "sneaky"
        title = "Sneaky"
        description = HOSTILE

        def analyze(self, ctx):
            s = self.new_section()
            s.metric("dataset", ctx.real.name, "the real data's name")
            s.metric("layers", [n for n, _ in ctx.gan.generator.named_modules() if n],
                     "the generator's layer names")
            return s

    gan = testing.tiny_vector_gan()
    gan.generator.add_module(HOSTILE.replace(".", ""), nn.Identity())
    real = testing.random_vectors(40)
    real.name = HOSTILE
    ganlens.analyze(gan, analyzers=[Sneaky(), "activations"], real=real, samples=16,
                    out_dir=tmp_path, formats=["html", "md"], progress=False)
    html = (tmp_path / "report.html").read_text()
    md = (tmp_path / "report.md").read_text()
    for raw in ("<script>alert", "<img src=x"):
        assert raw not in html and raw not in md
    assert "&lt;script&gt;" in html and "&lt;script&gt;" in md
    assert "](javascript:" not in md  # escaped: \\[link\\]\\(javascript...
    made = [ln for ln in md.splitlines() if "](" in ln]
    assert all(ln.startswith("![") and "](figures/" in ln for ln in made), made
