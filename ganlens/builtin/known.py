"""Well-known architectures recognised from their state_dict alone, so their weights load with
no architecture file: an implementation of ``ganlens_recognize_architecture``.

Built in: the DCGAN of the PyTorch examples repository (``examples/dcgan``; its checkpoints are
``netG_epoch_N.pth`` and ``netD_epoch_N.pth`` with keys ``main.0.weight`` ...), 64×64 images, in
the layout Radford et al. (2016) describe. nz, ngf/ndf and nc are read from the weight shapes,
and a file is taken only when every key and shape matches that layout.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..core.checkpoint import strip_prefix
from ..markers import hookimpl


class ExamplesDCGANGenerator(nn.Module):
    """z (B, nz, 1, 1) → (B, nc, 64, 64) in [-1, 1]."""

    def __init__(self, nz: int, ngf: int, nc: int) -> None:
        super().__init__()

        def up(cin: int, cout: int, stride: int, pad: int) -> list[nn.Module]:
            return [nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False), nn.BatchNorm2d(cout),
                    nn.ReLU(True)]

        self.main = nn.Sequential(
            *up(nz, ngf * 8, 1, 0), *up(ngf * 8, ngf * 4, 2, 1), *up(ngf * 4, ngf * 2, 2, 1),
            *up(ngf * 2, ngf, 2, 1), nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class ExamplesDCGANDiscriminator(nn.Module):
    """(B, nc, 64, 64) → (B, 1, 1, 1) probabilities (a final Sigmoid)."""

    def __init__(self, nc: int, ndf: int) -> None:
        super().__init__()

        def down(cin: int, cout: int, norm: bool) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)]
            if norm:
                layers.append(nn.BatchNorm2d(cout))
            return [*layers, nn.LeakyReLU(0.2, inplace=True)]

        self.main = nn.Sequential(
            *down(nc, ndf, False), *down(ndf, ndf * 2, True), *down(ndf * 2, ndf * 4, True),
            *down(ndf * 4, ndf * 8, True), nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


def _shapes(state: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def _matches(module: nn.Module, shapes: dict[str, tuple[int, ...]]) -> bool:
    return _shapes(module.state_dict()) == shapes


def _examples_dcgan(state: dict[str, Any], role: str) -> nn.Module | None:
    shapes = _shapes(strip_prefix(dict(state)))
    first = shapes.get("main.0.weight")
    if first is None or len(first) != 4 or first[2:] != (4, 4):
        return None
    if role == "generator" and "main.12.weight" in shapes:
        nz, ngf8 = first[0], first[1]
        nc = shapes["main.12.weight"][1]
        if ngf8 % 8:
            return None
        module = ExamplesDCGANGenerator(nz, ngf8 // 8, nc)
    elif role == "discriminator" and "main.11.weight" in shapes:
        ndf, nc = first[0], first[1]
        module = ExamplesDCGANDiscriminator(nc, ndf)
    else:
        return None
    return module if _matches(module, shapes) else None


FAMILIES = {"PyTorch examples DCGAN (64x64)": _examples_dcgan}


@hookimpl
def ganlens_recognize_architecture(state: dict[str, Any], role: str) -> tuple[nn.Module, str] | None:
    for name, recognise in FAMILIES.items():
        module = recognise(state, role)
        if module is not None:
            return module, name
    return None
