"""The plugin host as an explicit object: made at the edge, passed down, refusing plugins whose
hooks pluggy would otherwise ignore, and serving every extension point (dataset file formats and
architectures for training included) to plugins that are not installed distributions."""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import ganlens
from ganlens.errors import DatasetError, InputError, OptionError

ROOT = Path(__file__).resolve().parents[1]


def _plugin(**hooks):
    """A plugin module whose functions are the given hooks (already marked or not)."""
    mod = types.ModuleType("made_up_plugin")
    for name, fn in hooks.items():
        setattr(mod, name, fn)
    return mod


# ---------------------------------------------------------------------------------------------
# Refused plugins name what is wrong
# ---------------------------------------------------------------------------------------------


def test_a_misspelled_hook_is_refused_with_its_name():
    @ganlens.hookimpl
    def ganlens_register_analyser():  # British spelling, and singular
        return []

    host = ganlens.make_host(plugins=[("typo", lambda: _plugin(
        ganlens_register_analyser=ganlens_register_analyser))])
    rec = host.record_for("typo")
    assert rec.status == "failed"
    assert "'ganlens_register_analyser', which is not a ganlens hook" in rec.error
    assert "did you mean 'ganlens_register_analyzers'?" in rec.error
    assert host.pm.get_plugin("typo") is None
    assert "samples" in host.analyzers  # the others still work


def test_a_hook_without_the_marker_is_refused():
    def ganlens_register_datasets():
        return []

    host = ganlens.make_host(plugins=[("unmarked", lambda: _plugin(
        ganlens_register_datasets=ganlens_register_datasets))])
    assert "without @ganlens.hookimpl" in host.record_for("unmarked").error


def test_a_hook_with_arguments_its_spec_lacks_is_refused():
    @ganlens.hookimpl
    def ganlens_register_datasets(config):
        return []

    host = ganlens.make_host(plugins=[("args", lambda: _plugin(
        ganlens_register_datasets=ganlens_register_datasets))])
    rec = host.record_for("args")
    assert rec.status == "failed" and "is refused" in rec.error and "config" in rec.error
    assert host.pm.get_plugin("args") is None


def test_registrations_are_collected_through_pluggy_per_plugin():
    """A plugin's items are recorded with that plugin, not with whoever registered first."""

    @ganlens.hookimpl
    def ganlens_register_datasets():
        return [ganlens.DatasetInfo("tiny-ring", lambda **kw: ganlens.load_dataset(
            "ring8", n=40), "40 points of ring8")]

    host = ganlens.make_host(plugins=[("mine", lambda: _plugin(
        ganlens_register_datasets=ganlens_register_datasets))])
    assert host.datasets["tiny-ring"].plugin == "mine"
    assert host.datasets["tiny-ring"].distribution == "(given)"
    assert host.datasets["digits"].plugin == "datasets"
    assert len(ganlens.load_dataset("tiny-ring", host=host)) == 40


# ---------------------------------------------------------------------------------------------
# One host per run, settings from the edge
# ---------------------------------------------------------------------------------------------


def test_hosts_are_independent_objects():
    a = ganlens.make_host(disable={"samples"})
    b = ganlens.make_host()
    assert "samples" not in a.analyzers and "samples" in b.analyzers
    assert a.pm is not b.pm


def test_settings_are_read_from_the_environment_given_at_the_edge(tmp_path):
    env = {"GANLENS_DISABLE_PLUGINS": "latent, markdown", "GANLENS_NO_PROGRESS": "1",
           "GANLENS_CACHE_DIR": str(tmp_path)}
    host = ganlens.make_host(environ=env)
    assert not host.progress and host.cache_dir == tmp_path
    assert "latent" not in host.analyzers and "md" not in host.formats
    host = ganlens.make_host(environ={}, progress=True, cache_dir=tmp_path / "c")
    assert host.progress and host.cache_dir == tmp_path / "c" and "latent" in host.analyzers


def test_no_module_below_the_faces_reads_the_environment():
    below = [ROOT / "ganlens" / d for d in ("core", "builtin", "engine")]
    below += [ROOT / "ganlens" / "_version.py", ROOT / "ganlens" / "markers.py",
              ROOT / "ganlens" / "hookspecs.py"]
    files = [p for b in below for p in ([b] if b.is_file() else sorted(b.rglob("*.py")))]
    assert len(files) > 30
    readers = [str(p.relative_to(ROOT)) for p in files
               if re.search(r"os\.environ|getenv|environ\.get", p.read_text())]
    assert readers == []


def test_analyze_can_disable_a_plugin(image_gan):
    report = ganlens.analyze(image_gan, analyzers=["samples"], samples=8, progress=False,
                             disable=["attributions"])
    blocked = {p["name"]: p["status"] for p in report.metadata["plugins"]}
    assert blocked["attributions"] == "blocked" and blocked["samples"] == "loaded"
    with pytest.raises(TypeError, match="either host or disable"):
        ganlens.analyze(image_gan, samples=8, host=ganlens.make_host(), disable=["latent"])


def test_a_report_saves_with_the_writers_of_its_host(image_gan, tmp_path):
    host = ganlens.make_host(disable={"markdown"})
    report = ganlens.analyze(image_gan, analyzers=["samples"], samples=8, progress=False,
                             host=host)
    with pytest.raises(OptionError, match="unknown report format 'md'; known: html, json"):
        report.save(tmp_path, ["md"])
    written = report.save(tmp_path, ["md"], host=ganlens.make_host())
    assert (tmp_path / "report.md") in written
    orphan = ganlens.Report(report.metadata, report.sections)
    with pytest.raises(OptionError, match="no plugin host"):
        orphan.save(tmp_path, ["json"])


# ---------------------------------------------------------------------------------------------
# Extension points that had no hook before
# ---------------------------------------------------------------------------------------------


def _csv_format():
    """A plugin format: comma-separated vectors, one per line, with a 'label' last column."""

    def claims(path: Path) -> bool:
        return path.is_file() and path.read_bytes()[:6] == b"#csv1\n"

    def read(path: Path):
        rows = np.loadtxt(path, delimiter=",", comments="#", dtype=np.float64)
        return rows[:, :-1].astype(np.float32), rows[:, -1].astype(np.int64), "csv-digest"

    @ganlens.hookimpl
    def ganlens_register_dataset_formats():
        return [ganlens.DatasetFormatInfo("csv", claims, read, "vectors as CSV, label last")]

    return _plugin(ganlens_register_dataset_formats=ganlens_register_dataset_formats)


def test_a_plugin_dataset_format_reads_a_path(tmp_path):
    path = tmp_path / "points.txt"
    path.write_text("#csv1\n0.5,1.5,0\n-1,2,1\n3,4,1\n")
    with pytest.raises(DatasetError, match="unknown dataset file; expected one of: folder"):
        ganlens.load_dataset(path)
    host = ganlens.make_host(plugins=[("csv", _csv_format)])
    assert list(host.dataset_formats) == ["folder", "idx", "npy", "npz", "csv"]
    ds = ganlens.load_dataset(path, host=host)
    assert ds.x.tolist() == [[0.5, 1.5], [-1.0, 2.0], [3.0, 4.0]]
    assert ds.labels.tolist() == [0, 1, 1] and ds.options["format"] == "csv"
    assert ds.sha256 == "csv-digest"


def test_the_builtin_formats_are_listed_by_the_plugins_command(capsys):
    from ganlens import cli

    assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "Dataset file formats:" in out and "Attribution targets:" in out
    assert re.search(r"^  idx\s+ganlens", out, re.M) and re.search(r"^  region\s+ganlens", out, re.M)


class _TinyG(nn.Module):
    def __init__(self, latent_dim: int, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, 16), nn.ReLU(), nn.Linear(16, dim))

    def forward(self, z):
        return self.net(z)


class _TinyD(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


def _arch_plugin(with_kwargs: bool):
    def kwargs(data, latent_dim, width):
        return {"latent_dim": latent_dim, "dim": data.shape[0]}, {"dim": data.shape[0]}

    info = ganlens.ArchitectureInfo("tiny-mlp", _TinyG, _TinyD, "a two-layer MLP GAN",
                                    default_kwargs=kwargs if with_kwargs else None)

    @ganlens.hookimpl
    def ganlens_register_architectures():
        return [info]

    return _plugin(ganlens_register_architectures=ganlens_register_architectures)


def test_a_plugin_architecture_trains_with_its_own_keyword_arguments(tmp_path):
    host = ganlens.make_host(plugins=[("tiny", lambda: _arch_plugin(True))], progress=False)
    data = ganlens.load_dataset("ring8", n=64)
    result = ganlens.train(data, arch="tiny-mlp", epochs=1, batch_size=32, out_dir=tmp_path,
                           host=host, progress=False)
    assert isinstance(result.gan.generator, _TinyG)
    assert result.gan.generator.net[0].in_features == 16  # ring8's default latent size
    # Its checkpoint loads through the same host (the native loader asks the host's registry).
    gan = ganlens.load(result.checkpoint, host=host)
    for a, b in zip(gan.generator.parameters(), result.gan.generator.parameters()):
        assert torch.equal(a.cpu(), b.cpu())
    with pytest.raises(ganlens.errors.ArchitectureError, match="unknown architecture 'tiny-mlp'"):
        ganlens.load(result.checkpoint)  # a host without the plugin


def test_a_plugin_architecture_without_default_kwargs_is_refused_for_training(tmp_path):
    host = ganlens.make_host(plugins=[("tiny", lambda: _arch_plugin(False))], progress=False)
    with pytest.raises(InputError, match="'tiny-mlp' declares no default_kwargs"):
        ganlens.train(ganlens.load_dataset("ring8", n=64), arch="tiny-mlp", epochs=1,
                      host=host, progress=False)


def test_python_dash_m_ganlens_runs_the_cli():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "ganlens", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"ganlens {ganlens.__version__}"


@pytest.mark.parametrize("name", ["mode_collapse", "latent"])
def test_an_unknown_feature_space_is_refused_before_any_work(name, image_gan):
    from ganlens import testing

    with testing.count_forward_calls(image_gan.generator) as calls, \
            pytest.raises(OptionError, match=f"option {name}.features: unknown feature space "
                                             "'inception'; known: auto, classifier"):
        ganlens.analyze(image_gan, analyzers=[name], samples=8, progress=False,
                        real=testing.random_images(20), options={name: {"features": "inception"}})
    assert calls[0] == 0


def test_an_unknown_report_format_is_refused_before_any_work(image_gan, tmp_path):
    from ganlens import testing

    with testing.count_forward_calls(image_gan.generator) as calls, \
            pytest.raises(OptionError, match="unknown report format 'xyz'; known: html, json, md"):
        ganlens.analyze(image_gan, samples=8, out_dir=tmp_path / "out", formats=["html", "xyz"],
                        progress=False)
    assert calls[0] == 0 and not (tmp_path / "out").exists()


def test_a_closed_pipe_ends_the_cli_quietly():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "ganlens", "plugins", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head -0`: the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_a_plugin_whose_registration_hook_raises_keeps_no_hook():
    @ganlens.hookimpl
    def ganlens_register_datasets():
        raise RuntimeError("boom")

    @ganlens.hookimpl
    def ganlens_load_checkpoint(source, options):
        raise AssertionError("a failed plugin must not be asked")

    host = ganlens.make_host(plugins=[("badplug", lambda: _plugin(
        ganlens_register_datasets=ganlens_register_datasets,
        ganlens_load_checkpoint=ganlens_load_checkpoint))])
    rec = host.record_for("badplug")
    assert rec.status == "failed" and "RuntimeError: boom" in rec.error
    assert host.pm.get_plugin("badplug") is None
    assert "badplug" not in [r.name for r in host.loaders()]
