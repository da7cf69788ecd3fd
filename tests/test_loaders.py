"""Loading weights ganlens did not write: state_dicts with --arch, .pt2 archives, pickles."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

import ganlens
from ganlens.errors import ArchitectureError, CheckpointError

THIRD_PARTY_ARCH = Path(__file__).resolve().parents[1] / "examples" / "third_party_dcgan.py"

ARCH = textwrap.dedent('''
    import torch
    from torch import nn

    class FlatG(nn.Module):
        """A generator with flat 36-value outputs (6x6 images)."""
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 36), nn.Tanh())
        def forward(self, z):
            return self.net(z)

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(36, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
        def forward(self, x):
            return self.net(x)

    def make_g():
        return FlatG()

    def not_a_module():
        return 42
''')


@pytest.fixture()
def arch_file(tmp_path, monkeypatch):
    path = tmp_path / "user_models.py"
    path.write_text(ARCH)
    monkeypatch.syspath_prepend(str(tmp_path))
    return path


@pytest.fixture()
def nets(arch_file):
    import importlib.util

    spec = importlib.util.spec_from_file_location("um_fixture", arch_file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    return mod.FlatG(), mod.D()


def test_state_dict_with_arch_path_and_flat_output_shape(tmp_path, arch_file, nets):
    g, _ = nets
    torch.save(g.state_dict(), tmp_path / "g.pt")
    gan = ganlens.load(tmp_path / "g.pt", arch=f"{arch_file}:FlatG", output_shape=(1, 6, 6))
    assert gan.latent.shape == (5,) and gan.data.shape == (1, 6, 6) and gan.data.is_image
    assert gan.data.value_range == (-1.0, 1.0)  # from the final Tanh
    z = torch.randn(3, 5)
    assert torch.allclose(gan.decode(z), g.eval()(z).reshape(3, 1, 6, 6))


def test_importable_module_name_prefix_and_wrapper_key(tmp_path, arch_file, nets):
    g, _ = nets
    wrapped = {"epoch": 7, "netG": {f"module.{k}": v for k, v in g.state_dict().items()}}
    torch.save(wrapped, tmp_path / "w.pt")
    gan = ganlens.load(tmp_path / "w.pt", arch="user_models:make_g")
    assert gan.data.kind == "vector" and gan.data.shape == (36,)  # flat, not told otherwise
    assert gan.metadata["state_dict_key"] == "netG"


def test_discriminator_from_its_own_file(tmp_path, arch_file, nets):
    g, d = nets
    torch.save(g.state_dict(), tmp_path / "g.pt")
    torch.save({"state_dict": d.state_dict()}, tmp_path / "d.pt")
    gan = ganlens.load(tmp_path / "g.pt", arch=f"{arch_file}:FlatG", output_shape=(1, 6, 6),
                       discriminator=tmp_path / "d.pt", discriminator_arch=f"{arch_file}:D")
    x = gan.sample(4)
    assert torch.allclose(gan.discriminate(x), d.eval()(x).reshape(-1), atol=1e-6)


def test_plain_state_dict_without_arch_says_what_to_do(tmp_path, nets):
    torch.save(nets[0].state_dict(), tmp_path / "g.pt")
    with pytest.raises(ArchitectureError, match="--arch MODULE:CALLABLE"):
        ganlens.load(tmp_path / "g.pt")


def test_state_dict_that_does_not_fit_lists_keys_and_shapes(tmp_path, arch_file):
    sd = {"net.0.weight": torch.zeros(32, 7), "net.0.bias": torch.zeros(32), "other": torch.zeros(1)}
    torch.save(sd, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError) as info:
        ganlens.load(tmp_path / "bad.pt", arch=f"{arch_file}:FlatG")
    msg = str(info.value)
    assert "missing keys: net.2.weight, net.2.bias" in msg
    assert "unexpected keys: other" in msg
    assert "net.0.weight: file (32, 7) vs model (32, 5)" in msg


@pytest.mark.parametrize(("spec", "match"), [
    ("no_colon_here", "expected MODULE:CALLABLE"),
    ("no_such_module_xyz:G", "cannot import 'no_such_module_xyz'"),
    ("user_models:Missing", "has no attribute 'Missing'"),
    ("user_models:not_a_module", "not an nn.Module"),
    ("/nonexistent/models.py:G", "does not exist"),
])
def test_bad_arch(tmp_path, arch_file, nets, spec, match):
    torch.save(nets[0].state_dict(), tmp_path / "g.pt")
    with pytest.raises(ArchitectureError, match=match):
        ganlens.load(tmp_path / "g.pt", arch=spec)


def test_pickled_module_is_refused_then_trusted(tmp_path):
    g = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    torch.save(g, tmp_path / "whole.pt")
    with pytest.raises(CheckpointError, match="arbitrary code.*--trust-pickle"):
        ganlens.load(tmp_path / "whole.pt")
    gan = ganlens.load(tmp_path / "whole.pt", trust_pickle=True)
    assert gan.latent.shape == (3,) and gan.data.shape == (2,)


def test_export_archive_is_unflattened_so_hooks_work(tmp_path):
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)).eval()
    program = torch.export.export(g, (torch.randn(2, 4),),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, tmp_path / "g.pt2")
    gan = ganlens.load(tmp_path / "g.pt2")
    assert gan.latent.shape == (4,) and gan.data.shape == (2,)
    z = torch.randn(5, 4)
    assert torch.allclose(gan.decode(z), g(z), atol=1e-6)
    seen = []
    modules = dict(gan.generator.named_modules())
    handle = modules["0"].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    gan.decode(z)
    handle.remove()
    assert seen == [torch.Size([5, 16])]


def test_export_with_fixed_batch_is_explained(tmp_path):
    g = nn.Sequential(nn.Linear(4, 2))
    torch.export.save(torch.export.export(g, (torch.randn(2, 4),)), tmp_path / "f.pt2")
    with pytest.raises(CheckpointError, match="fixed batch size of 2"):
        ganlens.load(tmp_path / "f.pt2")


def test_third_party_generator_loads_with_all_keys_and_makes_digits(third_party_gan, shared_data):
    gan = third_party_gan
    assert gan.latent.shape == (64, 1, 1) and gan.data.shape == (1, 28, 28)
    assert gan.data.value_range == (-1.0, 1.0) and gan.discriminator is None
    assert not any(m.training for m in gan.generator.modules())
    # "Produces digits": a classifier trained on real MNIST labels most samples with confidence,
    # as it does real digits, and no sample of the same architecture with random weights.
    import runpy

    from ganlens.builtin.classifier import train_classifier

    mnist = ganlens.load_dataset(shared_data / "mnist")
    clf = train_classifier(mnist)

    def confident(g):
        probs = torch.softmax(clf.logits(g.sample(500, seed=0)), 1)
        return float((probs.max(1).values > 0.5).float().mean()), probs.argmax(1)

    trained, labels = confident(gan)
    torch.manual_seed(0)
    untrained_g = runpy.run_path(str(THIRD_PARTY_ARCH))["Generator"]().eval()
    untrained, _ = confident(ganlens.GAN(untrained_g, gan.latent, gan.data))
    assert trained > 0.8 and untrained < 0.1, (trained, untrained)
    assert len(torch.unique(labels)) == 10


def test_a_safetensors_state_dict_loads_with_its_architecture(tmp_path, monkeypatch):
    import sys

    from torch import nn

    st = pytest.importorskip("safetensors.torch")  # an extra: ganlens[safetensors]
    arch = tmp_path / "arch.py"
    arch.write_text("from torch import nn\ndef G():\n    return nn.Sequential(nn.Linear(4, 6), "
                    "nn.Tanh())\n")
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(4, 6), nn.Tanh())
    path = tmp_path / "g.safetensors"
    st.save_file(g.state_dict(), str(path))
    gan = ganlens.load(path, arch=f"{arch}:G")
    for a, b in zip(gan.generator.state_dict().values(), g.state_dict().values()):
        assert torch.equal(a, b)
    bad = tmp_path / "bad.safetensors"
    raw = bytearray(path.read_bytes())
    raw[12:20] = b"\xff" * 8  # inside the JSON header
    bad.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="a safetensors file that cannot be read"):
        ganlens.load(bad, arch=f"{arch}:G")
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)  # as if not installed
    with pytest.raises(CheckpointError, match=r"pip install 'ganlens\[safetensors\]'"):
        ganlens.load(path, arch=f"{arch}:G")
