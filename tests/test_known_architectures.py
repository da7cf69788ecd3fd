"""The PyTorch examples DCGAN (netG_epoch_N.pth / netD_epoch_N.pth) loads from its state_dicts
alone: nz, ngf, ndf and nc read from the shapes; a file of no known family still asks for --arch;
a plugin can teach ganlens another family through the hook."""

from __future__ import annotations

import types

import pytest
import torch
from torch import nn

import ganlens
from ganlens.builtin.known import ExamplesDCGANDiscriminator, ExamplesDCGANGenerator
from ganlens.errors import ArchitectureError


@pytest.mark.parametrize(("nz", "ngf", "ndf", "nc"), [(100, 64, 64, 3), (20, 8, 4, 1)])
def test_examples_dcgan_loads_without_an_architecture_file(tmp_path, nz, ngf, ndf, nc):
    torch.manual_seed(0)
    g, d = ExamplesDCGANGenerator(nz, ngf, nc), ExamplesDCGANDiscriminator(nc, ndf)
    for m in g.modules():  # non-trivial batch-norm statistics, as after training
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    torch.save(g.state_dict(), tmp_path / "netG_epoch_24.pth")
    # saved from DataParallel, as the examples' script does with several GPUs
    torch.save({f"module.{k}": v for k, v in d.state_dict().items()}, tmp_path / "netD_epoch_24.pth")
    gan = ganlens.load(tmp_path / "netG_epoch_24.pth", discriminator=tmp_path / "netD_epoch_24.pth")
    assert gan.latent.shape == (nz, 1, 1) and gan.data.shape == (nc, 64, 64)
    assert gan.data.value_range == (-1.0, 1.0)
    assert gan.metadata["architecture"] == "recognised: PyTorch examples DCGAN (64x64)"
    assert gan.d_output == "probability" and "Sigmoid" in gan.d_note
    z = gan.latents(3, seed=1)
    g.eval()
    d.eval()
    with torch.no_grad():
        x = g(z)
        assert torch.allclose(gan.decode(z), x, atol=1e-6)
        assert torch.allclose(gan.discriminate(x), torch.logit(d(x).reshape(-1).clamp(1e-6, 1 - 1e-6)),
                              atol=1e-4)


def test_an_unknown_state_dict_still_asks_for_arch(tmp_path):
    torch.save(nn.Sequential(nn.Linear(4, 8)).state_dict(), tmp_path / "g.pth")
    with pytest.raises(ArchitectureError, match="match no known architecture; give its architecture with --arch"):
        ganlens.load(tmp_path / "g.pth")
    # The right keys with other shapes (a 3x3 first kernel) are not taken for the family either.
    g = ExamplesDCGANGenerator(10, 8, 1)
    state = dict(g.state_dict())
    state["main.0.weight"] = torch.zeros(10, 64, 3, 3)
    torch.save(state, tmp_path / "odd.pth")
    with pytest.raises(ArchitectureError, match="no known architecture"):
        ganlens.load(tmp_path / "odd.pth")


def test_a_plugin_teaches_another_family(tmp_path):
    torch.manual_seed(0)
    torch.save(nn.Sequential(nn.Linear(6, 2)).state_dict(), tmp_path / "g.pth")

    @ganlens.hookimpl
    def ganlens_recognize_architecture(state, role):
        if role == "generator" and set(state) == {"0.weight", "0.bias"}:
            return nn.Sequential(nn.Linear(*reversed(state["0.weight"].shape))), "tiny linear"
        return None

    plugin = types.ModuleType("tiny_family")
    plugin.ganlens_recognize_architecture = ganlens_recognize_architecture
    host = ganlens.make_host(plugins=[("tiny", lambda: plugin)])
    gan = ganlens.load(tmp_path / "g.pth", host=host)
    assert gan.metadata["architecture"] == "recognised: tiny linear"
    assert gan.latent.shape == (6,) and gan.data.shape == (2,)
