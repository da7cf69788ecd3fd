"""Built-in architectures: DCGAN at every side from 8 to 64, MLP for vectors and flat images."""

from __future__ import annotations

import pytest
import torch

import ganlens
from ganlens.builtin.architectures import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    dcgan_plan,
)
from ganlens.core.extensions import lookup_architecture
from ganlens.errors import ArchitectureError


@pytest.mark.parametrize("side", [8, 12, 16, 28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes(side, channels):
    g = DCGANGenerator(16, channels, side, width=8).eval()
    d = DCGANDiscriminator(channels, side, width=8).eval()
    x = g(torch.randn(3, 16))
    assert x.shape == (3, channels, side, side)
    assert x.min() >= -1 and x.max() <= 1  # tanh for [-1, 1]
    assert d(x).shape == (3, 1)


def test_dcgan_plan():
    assert dcgan_plan(28) == (7, 2)
    assert dcgan_plan(64) == (4, 4)
    assert dcgan_plan(8) == (4, 1)


@pytest.mark.parametrize("side", [4, 65, 100])
def test_dcgan_refuses_sizes_out_of_range(side):
    with pytest.raises(ArchitectureError, match="side 8 to 64"):
        DCGANGenerator(8, 1, side)


def test_dcgan_options():
    g = DCGANGenerator(8, 1, 16, norm="none", value_range=(0.0, 1.0)).eval()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules())
    x = g(torch.randn(2, 8))
    assert x.min() >= 0 and x.max() <= 1  # sigmoid for [0, 1]
    d = DCGANDiscriminator(1, 16, norm="spectral")
    assert d(x).shape == (2, 1)
    with pytest.raises(ArchitectureError, match="norm"):
        DCGANGenerator(8, 1, 16, norm="layer")


def test_mlp_flat_output_and_discriminator():
    g = MLPGenerator(4, [1, 6, 6], width=16)
    assert g(torch.randn(5, 4)).shape == (5, 36)
    d = MLPDiscriminator([1, 6, 6], width=16)
    assert d(torch.randn(5, 1, 6, 6)).shape == (5, 1)


def test_unknown_architecture_lists_known():
    with pytest.raises(ArchitectureError, match="unknown architecture 'resnet'.*dcgan, mlp"):
        lookup_architecture("resnet", ganlens.make_host().architectures)
