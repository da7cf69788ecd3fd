"""Built-in architectures: an MLP GAN for vectors and small images, a DCGAN for square images.

Architectures are registered by name through ``ganlens_register_architectures``, so that a
checkpoint names its own and a plugin can add more. An :class:`ArchitectureInfo` builds a
generator and (optionally) a discriminator from keyword arguments that are plain values, which
is what the checkpoint stores.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..core.errors import ArchitectureError
from ..core.extensions import ArchitectureInfo
from ..markers import hookimpl

DCGAN_MIN_SIDE = 8
DCGAN_MAX_SIDE = 64


def _out_activation(value_range: tuple[float, float] | None) -> nn.Module:
    if value_range is None:
        return nn.Identity()
    lo, hi = value_range
    if (lo, hi) == (-1.0, 1.0):
        return nn.Tanh()
    if (lo, hi) == (0.0, 1.0):
        return nn.Sigmoid()
    return nn.Identity()


# ---------------------------------------------------------------------------------------------
# MLP
# ---------------------------------------------------------------------------------------------


class MLPGenerator(nn.Module):
    """z (B, latent_dim) → flat output (B, prod(out_shape)); ganlens reshapes it to the data."""

    def __init__(
        self,
        latent_dim: int,
        out_shape: list[int] | tuple[int, ...],
        width: int = 128,
        depth: int = 2,
        norm: str = "none",
        value_range: list[float] | tuple[float, float] | None = None,
    ) -> None:
        super().__init__()
        if norm not in ("none", "batch"):
            raise ArchitectureError(f"MLP generator norm must be 'none' or 'batch', got {norm!r}")
        layers: list[nn.Module] = []
        d = latent_dim
        for _ in range(depth):
            layers.append(nn.Linear(d, width))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(width))
            layers.append(nn.ReLU())
            d = width
        layers.append(nn.Linear(d, math.prod(out_shape)))
        layers.append(_out_activation(tuple(value_range) if value_range else None))
        self.net = nn.Sequential(*layers)

    def forward(self, z):  # noqa: D102
        return self.net(z.flatten(1))


class MLPDiscriminator(nn.Module):
    """x (B, ...) → one logit per sample."""

    def __init__(
        self, in_shape: list[int] | tuple[int, ...], width: int = 128, depth: int = 2,
        norm: str = "none",
    ) -> None:
        super().__init__()
        if norm not in ("none", "spectral"):
            raise ArchitectureError(f"MLP discriminator norm must be 'none' or 'spectral', got {norm!r}")
        wrap = nn.utils.parametrizations.spectral_norm if norm == "spectral" else (lambda m: m)
        layers: list[nn.Module] = [nn.Flatten()]
        d = math.prod(in_shape)
        for _ in range(depth):
            layers += [wrap(nn.Linear(d, width)), nn.LeakyReLU(0.2)]
            d = width
        layers.append(wrap(nn.Linear(d, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x):  # noqa: D102
        return self.net(x)


# ---------------------------------------------------------------------------------------------
# DCGAN
# ---------------------------------------------------------------------------------------------


def dcgan_plan(side: int) -> tuple[int, int]:
    """(start side, number of ×2 stages) so that ``start * 2**stages == side``, start ≥ 4."""
    if not DCGAN_MIN_SIDE <= side <= DCGAN_MAX_SIDE:
        raise ArchitectureError(
            f"the DCGAN builds square images of side {DCGAN_MIN_SIDE} to {DCGAN_MAX_SIDE}, "
            f"got side {side}; use the mlp architecture or resize the images"
        )
    start, stages = side, 0
    while start % 2 == 0 and start // 2 >= 4:
        start //= 2
        stages += 1
    return start, stages


class DCGANGenerator(nn.Module):
    """Radford et al. (2016) style: project z to a small map, then ×2 transposed convolutions.

    Args:
        latent_dim: size of z.
        channels: image channels C.
        side: image side (8 to 64; 28 works: 7 → 14 → 28).
        width: channels of the last hidden stage; earlier stages double it.
        norm: ``"batch"`` (default) or ``"none"``.
        value_range: the data range; (-1, 1) ends in tanh, (0, 1) in a sigmoid.
    """

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        side: int,
        width: int = 64,
        norm: str = "batch",
        value_range: list[float] | tuple[float, float] | None = (-1.0, 1.0),
    ) -> None:
        super().__init__()
        if norm not in ("batch", "none"):
            raise ArchitectureError(f"DCGAN generator norm must be 'batch' or 'none', got {norm!r}")
        start, stages = dcgan_plan(side)
        self.start = start
        ch = width * 2 ** max(stages - 1, 0)
        self.ch0 = ch
        self.project = nn.Sequential(
            nn.Linear(latent_dim, ch * start * start),
            nn.BatchNorm1d(ch * start * start) if norm == "batch" else nn.Identity(),
            nn.ReLU(),
        )
        blocks: list[nn.Module] = []
        for _ in range(stages):
            out = max(ch // 2, width // 2)
            blocks.append(
                nn.Sequential(
                    nn.ConvTranspose2d(ch, out, 4, 2, 1, bias=norm != "batch"),
                    nn.BatchNorm2d(out) if norm == "batch" else nn.Identity(),
                    nn.ReLU(),
                )
            )
            ch = out
        self.blocks = nn.Sequential(*blocks)
        self.to_image = nn.Conv2d(ch, channels, 3, 1, 1)
        self.out = _out_activation(tuple(value_range) if value_range else None)

    def forward(self, z):  # noqa: D102
        h = self.project(z.flatten(1)).view(z.shape[0], self.ch0, self.start, self.start)
        return self.out(self.to_image(self.blocks(h)))


class DCGANDiscriminator(nn.Module):
    """Strided convolutions down to the start side, then one linear logit.

    Args:
        channels: image channels C.
        side: image side (8 to 64).
        width: channels of the first stage; later stages double it.
        norm: ``"none"`` (default), ``"batch"`` or ``"spectral"``.
    """

    def __init__(self, channels: int, side: int, width: int = 64, norm: str = "none") -> None:
        super().__init__()
        if norm not in ("none", "batch", "spectral"):
            raise ArchitectureError(
                f"DCGAN discriminator norm must be 'none', 'batch' or 'spectral', got {norm!r}"
            )
        start, stages = dcgan_plan(side)
        wrap = nn.utils.parametrizations.spectral_norm if norm == "spectral" else (lambda m: m)
        layers: list[nn.Module] = [wrap(nn.Conv2d(channels, width, 3, 1, 1)), nn.LeakyReLU(0.2)]
        ch = width
        for _ in range(stages):
            layers += [
                wrap(nn.Conv2d(ch, ch * 2, 4, 2, 1)),
                nn.BatchNorm2d(ch * 2) if norm == "batch" else nn.Identity(),
                nn.LeakyReLU(0.2),
            ]
            ch *= 2
        self.features = nn.Sequential(*layers)
        self.flatten = nn.Flatten()
        self.head = wrap(nn.Linear(ch * start * start, 1))

    def forward(self, x):  # noqa: D102
        return self.head(self.flatten(self.features(x)))


# ---------------------------------------------------------------------------------------------
# Conditional variants: G takes (z, y) with y embedded and concatenated to z; D takes (x, y) with
# a projection (Miyato & Koyama 2018, "cGANs with Projection Discriminator"): the logit of the
# unconditional head plus the inner product of an embedding of y with D's penultimate features.
# ---------------------------------------------------------------------------------------------


def _embed_dim(latent_dim: int, num_classes: int) -> int:
    return max(2, min(latent_dim, 2 * num_classes))


class ConditionalDCGANGenerator(DCGANGenerator):
    """The DCGAN generator with a class embedding concatenated to z: ``forward(z, y)``."""

    def __init__(self, latent_dim: int, channels: int, side: int, num_classes: int,
                 width: int = 64, norm: str = "batch",
                 value_range: list[float] | tuple[float, float] | None = (-1.0, 1.0)) -> None:
        e = _embed_dim(latent_dim, num_classes)
        super().__init__(latent_dim + e, channels, side, width, norm, value_range)
        self.embed = nn.Embedding(num_classes, e)

    def forward(self, z, y):  # noqa: D102
        return super().forward(torch.cat([z.flatten(1), self.embed(y)], 1))


class ConditionalDCGANDiscriminator(DCGANDiscriminator):
    """The DCGAN discriminator with a projection of the class: ``forward(x, y)``."""

    def __init__(self, channels: int, side: int, num_classes: int, width: int = 64,
                 norm: str = "none") -> None:
        super().__init__(channels, side, width, norm)
        self.embed = nn.Embedding(num_classes, self.head.in_features)
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, x, y):  # noqa: D102
        h = self.flatten(self.features(x))
        return self.head(h) + (self.embed(y) * h).sum(1, keepdim=True)


class ConditionalMLPGenerator(MLPGenerator):
    """The MLP generator with a class embedding concatenated to z: ``forward(z, y)``."""

    def __init__(self, latent_dim: int, out_shape: list[int] | tuple[int, ...], num_classes: int,
                 width: int = 128, depth: int = 2, norm: str = "none",
                 value_range: list[float] | tuple[float, float] | None = None) -> None:
        e = _embed_dim(latent_dim, num_classes)
        super().__init__(latent_dim + e, out_shape, width, depth, norm, value_range)
        self.embed = nn.Embedding(num_classes, e)

    def forward(self, z, y):  # noqa: D102
        return super().forward(torch.cat([z.flatten(1), self.embed(y)], 1))


class ConditionalMLPDiscriminator(MLPDiscriminator):
    """The MLP discriminator with a projection of the class: ``forward(x, y)``."""

    def __init__(self, in_shape: list[int] | tuple[int, ...], num_classes: int,
                 width: int = 128, depth: int = 2, norm: str = "none") -> None:
        super().__init__(in_shape, width, depth, norm)
        self.embed = nn.Embedding(num_classes, width)
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, x, y):  # noqa: D102
        h = self.net[:-1](x)
        return self.net[-1](h) + (self.embed(y) * h).sum(1, keepdim=True)


# ---------------------------------------------------------------------------------------------
# Registry entries
# ---------------------------------------------------------------------------------------------


def _dcgan_supports(data) -> str | None:
    if not data.is_image:
        return "the DCGAN needs image data"
    _c, h, w = data.shape
    if h != w:
        return f"the DCGAN needs square images, got {h}x{w}"
    if not DCGAN_MIN_SIDE <= h <= DCGAN_MAX_SIDE:
        return f"the DCGAN needs a side of {DCGAN_MIN_SIDE} to {DCGAN_MAX_SIDE}, got {h}"
    return None


def mlp_kwargs(data, latent_dim: int, width: int | None = None) -> tuple[dict, dict]:
    """Keyword arguments of the MLP generator and discriminator for these data."""
    w = width or (128 if data.kind == "vector" else 256)
    g = {"latent_dim": latent_dim, "out_shape": list(data.shape), "width": w,
         "value_range": list(data.value_range) if data.is_image else None}
    d = {"in_shape": list(data.shape), "width": w}
    return g, d


def dcgan_kwargs(data, latent_dim: int, width: int | None = None) -> tuple[dict, dict]:
    """Keyword arguments of the DCGAN generator and discriminator for these images."""
    c, side, _ = data.shape
    w = width or 32
    g = {"latent_dim": latent_dim, "channels": c, "side": side, "width": w,
         "value_range": list(data.value_range)}
    d = {"channels": c, "side": side, "width": w}
    return g, d


MLP = ArchitectureInfo(
    "mlp", MLPGenerator, MLPDiscriminator,
    "fully connected generator and discriminator, for vectors and small images",
    supports=lambda data: None,
    default_kwargs=mlp_kwargs,
    conditional_variant="cmlp",
)
DCGAN = ArchitectureInfo(
    "dcgan", DCGANGenerator, DCGANDiscriminator,
    "DCGAN (Radford et al. 2016) for square images of side 8 to 64",
    supports=_dcgan_supports,
    default_kwargs=dcgan_kwargs,
    conditional_variant="cdcgan",
)


CMLP = ArchitectureInfo(
    "cmlp", ConditionalMLPGenerator, ConditionalMLPDiscriminator,
    "conditional MLP: G(z, y) with a class embedding, a projection discriminator D(x, y)",
    supports=lambda data: None,
    default_kwargs=mlp_kwargs,
    conditional=True,
)
CDCGAN = ArchitectureInfo(
    "cdcgan", ConditionalDCGANGenerator, ConditionalDCGANDiscriminator,
    "conditional DCGAN: G(z, y) with a class embedding, a projection discriminator D(x, y)",
    supports=_dcgan_supports,
    default_kwargs=dcgan_kwargs,
    conditional=True,
)


@hookimpl
def ganlens_register_architectures() -> list[ArchitectureInfo]:
    return [MLP, DCGAN, CMLP, CDCGAN]
