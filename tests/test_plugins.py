"""The plugin host: entry points loaded one by one, failures named, duplicates refused, blocking."""

from __future__ import annotations

import importlib
import json
import textwrap

import pytest

import ganlens
from ganlens import cli, hookspecs
from ganlens.engine.host import entry_points

PLUGIN = textwrap.dedent('''
    import ganlens

    class Fake(ganlens.Analyzer):
        name = "samples"          # clashes with the built-in analyzer
        title = "Fake"
        def analyze(self, ctx):
            return self.new_section()

    @ganlens.hookimpl
    def ganlens_register_analyzers():
        return [Fake]
''')


def _dist(root, dist, version, entries, modules=None):
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[ganlens]\n{lines}\n")
    for name, text in (modules or {}).items():
        (root / f"{name}.py").write_text(text)


@pytest.fixture()
def third_party(tmp_path, monkeypatch):
    _dist(tmp_path, "broken-plugin", "1.2.3", {"broken": "no_such_module_for_ganlens_tests"})
    _dist(tmp_path, "dup-plugin", "0.0.1", {"dup": "dup_samples_plugin"},
          {"dup_samples_plugin": PLUGIN})
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield


def test_a_broken_plugin_is_named_and_the_rest_work(third_party):
    host = ganlens.make_host()
    broken = host.record_for("broken")
    assert broken.status == "failed" and broken.distribution == "broken-plugin"
    assert broken.version == "1.2.3" and "no_such_module_for_ganlens_tests" in broken.error
    assert "samples" in host.analyzers and "digits" in host.datasets


def test_a_duplicate_analyzer_name_names_both_plugins(third_party):
    host = ganlens.make_host()
    dup = host.record_for("dup")
    assert dup.status == "failed"
    assert "'samples' is registered twice" in dup.error
    assert "plugin 'samples' (ganlens)" in dup.error and "plugin 'dup' (dup-plugin)" in dup.error
    assert host.analyzers["samples"].distribution == "ganlens"  # the first one stays


def test_blocking_by_argument_and_environment(monkeypatch):
    host = ganlens.make_host(disable={"samples"})
    assert "samples" not in host.analyzers and host.record_for("samples").status == "blocked"
    monkeypatch.setenv("GANLENS_DISABLE_PLUGINS", "markdown, samples")
    host = ganlens.make_host()
    assert "md" not in host.formats and "samples" not in host.analyzers


def test_core_imports_no_analyzer_by_name():
    import pathlib
    import re

    core = pathlib.Path(ganlens.__file__).parent
    for path in core.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) ganlens_", text, re.M), path


def test_every_hook_is_documented_and_implemented_somewhere():
    host = ganlens.make_host()
    for name in hookspecs.HOOK_NAMES:
        spec = getattr(hookspecs, name)
        assert spec.__doc__ and len(spec.__doc__) > 40, name
        assert name in {h for h in dir(host.hook) if h.startswith("ganlens_")}
    implemented = {name for name in hookspecs.HOOK_NAMES if getattr(host.hook, name).get_hookimpls()}
    notifications = {"ganlens_analysis_started", "ganlens_analysis_finished"}
    assert set(hookspecs.HOOK_NAMES) - notifications <= implemented


def test_plugins_command_json(capsys):
    assert cli.main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = {a["name"] for a in data["analyzers"]}
    assert {"samples", "mode_collapse", "activations", "attributions", "latent", "training",
            "image_stats"} <= names
    for key in ("loaders", "architectures", "datasets", "feature_spaces", "writers"):
        assert data[key] and all(r["distribution"] and r["version"] for r in data[key])
    builtin = [ep for ep in entry_points() if ep.dist is not None and ep.dist.metadata["Name"] == "ganlens"]
    assert len([p for p in data["plugins"] if p["builtin"]]) == len(builtin) >= 16


def test_plugins_command_text_and_disable(capsys):
    assert cli.main(["plugins", "--disable", "latent"]) == 0
    out = capsys.readouterr().out
    assert "Analyzers:" in out and "Plugins not loaded:" in out and "latent" in out


def test_example_third_party_analyzer_is_discovered(tmp_path, digits_gan):
    """examples/custom_analyzer is installed as its own distribution (.ci/run and the README's
    test command install it): ganlens finds it, runs it, and the report shows it."""
    host = ganlens.make_host()
    if "brightness" not in host.analyzers:
        pytest.skip("examples/custom_analyzer is not installed (pip install -e examples/custom_analyzer)")
    entry = host.analyzers["brightness"]
    assert entry.distribution == "ganlens-brightness" and entry.version == "0.1.0"
    report = ganlens.analyze(digits_gan, analyzers=["brightness"], samples=100, out_dir=tmp_path,
                             progress=False)
    section = report["brightness"]
    assert section.status == "ok"
    fake_mean = float(digits_gan.sample(100, seed=0).mean())
    assert abs(section.metrics["fake_mean"] - fake_mean) < 1e-5
    assert "Brightness" in (tmp_path / "report.html").read_text()
