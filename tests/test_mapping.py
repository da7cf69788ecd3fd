"""Mapping networks: a StyleGAN-like generator's W space — found by name, mapped and synthesised
exactly as the generator computes it, truncated as asked, and trained by ``ganlens train``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganlens
from ganlens.builtin.architectures import StyleGenerator
from ganlens.errors import InputError, OptionError


def _style_gan(**kw) -> ganlens.GAN:
    torch.manual_seed(0)
    return ganlens.GAN(StyleGenerator(8, 1, 8, width=8), ganlens.LatentSpec((8,)),
                       ganlens.DataSpec("image", (1, 8, 8)), **kw)


class Named(nn.Module):
    """A mapping under another name: w = 3 z, an image linear in w."""

    def __init__(self) -> None:
        super().__init__()
        self.style_net = nn.Linear(4, 4, bias=False)
        self.gen = nn.Linear(4, 16)
        with torch.no_grad():
            self.style_net.weight.copy_(3 * torch.eye(4))

    def forward(self, z):
        return self.gen(self.style_net(z))


def test_a_mapping_and_synthesis_pair_is_found_and_recomposes_the_generator():
    gan = _style_gan()
    assert gan.has_mapping and gan.mapping == "mapping"
    z = gan.latents(6, seed=1)
    with torch.no_grad():
        w = gan.map(z)
        assert w.shape == (6, 8)
        assert torch.equal(gan.synthesize(w).cpu(), gan.decode(z))
    assert not ganlens.testing.tiny_image_gan().has_mapping


def test_map_stops_before_the_synthesis():
    gan = _style_gan()
    calls = []
    handle = gan.generator.synthesis.register_forward_hook(lambda *a: calls.append(1))
    try:
        gan.map(gan.latents(3))
    finally:
        handle.remove()
    assert calls == []


def test_truncation_moves_every_w_towards_the_mean():
    gan = Named()
    g = ganlens.GAN(gan, ganlens.LatentSpec((4,)), ganlens.DataSpec("vector", (16,)),
                    mapping="style_net")
    z = g.latents(5, seed=2)
    w_bar = g.w_mean()
    assert torch.allclose(w_bar, 3 * g.latents(10_000, seed=4_242).mean(0), atol=1e-5)
    g.truncation = 0.5
    with torch.no_grad():
        expected = gan.gen(w_bar + 0.5 * (3 * z - w_bar))
    assert torch.allclose(g.decode(z), expected, atol=1e-5)
    g.truncation = 1e-6
    assert g.decode(g.latents(50)).std(0).max() < 1e-4  # every sample is G(w̄)


def test_bad_mapping_and_truncation_requests_are_refused():
    with pytest.raises(InputError, match="no module 'nope' to use as its mapping network"):
        ganlens.GAN(Named(), ganlens.LatentSpec((4,)), ganlens.DataSpec("vector", (16,)),
                    mapping="nope")
    with pytest.raises(InputError, match="truncation needs a mapping network"):
        ganlens.GAN(Named(), ganlens.LatentSpec((4,)), ganlens.DataSpec("vector", (16,)),
                    truncation=0.5)
    with pytest.raises(InputError, match=r"truncation must be in \(0, 1\]"):
        _style_gan(truncation=1.5)
    plain = ganlens.testing.tiny_image_gan()
    with pytest.raises(InputError, match="--truncation needs a generator with a mapping"):
        ganlens.analyze(plain, analyzers=["samples"], samples=8, truncation=0.7, progress=False)
    with pytest.raises(OptionError, match="truncation"):
        ganlens.analyze(plain, analyzers=["samples"], samples=8, truncation=0.0, progress=False)


def test_the_style_architecture_trains_and_analyses_truncated(tmp_path):
    result = ganlens.train("digits", arch="style", epochs=1, batch_size=256, width=8,
                           out_dir=tmp_path / "run", progress=False)
    gan = ganlens.load(result.checkpoint)
    assert gan.has_mapping and gan.metadata["architecture"] == "style"
    report = ganlens.analyze(result.checkpoint, analyzers=["samples"], samples=32,
                             truncation=0.7, progress=False)
    assert report.metadata["gan"]["truncation"] == 0.7
    assert report.metadata["gan"]["mapping"] == "mapping"
