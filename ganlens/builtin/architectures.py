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
# StyleGAN-like: a mapping network z → w and a synthesis network that w modulates
# (Karras et al. 2019: learned constant input, per-channel styles from w at every stage).
# ---------------------------------------------------------------------------------------------


class MappingNetwork(nn.Module):
    """z → normalised (the pixel norm of StyleGAN) → ``depth`` Linear + LeakyReLU → w."""

    def __init__(self, latent_dim: int, w_dim: int, depth: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        d = latent_dim
        for _ in range(depth):
            layers += [nn.Linear(d, w_dim), nn.LeakyReLU(0.2)]
            d = w_dim
        self.net = nn.Sequential(*layers)
        # He initialisation keeps w's spread through the stack (PyTorch's default shrinks it about
        # threefold per layer, leaving w nearly constant, and training then collapsed).
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
                nn.init.zeros_(m.bias)

    def forward(self, z):  # noqa: D102
        z = z.flatten(1)
        z = z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8)
        return self.net(z)


class StyleBlock(nn.Module):
    """×2 upsampling, a 3×3 convolution, batch norm, then a per-channel scale and bias computed
    from w (the style). StyleGAN normalises each map per sample (instance norm), which at 4×4
    and 8×8 erases the content: training collapsed with it."""

    def __init__(self, cin: int, cout: int, w_dim: int, upsample: bool = True) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest") if upsample else nn.Identity()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)
        self.act = nn.LeakyReLU(0.2)
        self.norm = nn.BatchNorm2d(cout)
        self.style = nn.Linear(w_dim, 2 * cout)
        with torch.no_grad():
            self.style.bias[:cout].fill_(1.0)
            self.style.bias[cout:].zero_()

    def forward(self, x, w):  # noqa: D102
        scale, bias = self.style(w).chunk(2, dim=1)
        h = self.act(self.norm(self.conv(self.up(x))))
        return h * scale[:, :, None, None] + bias[:, :, None, None]


class StyleSynthesis(nn.Module):
    """w projected to a small map (StyleGAN starts from a learned constant and adds per-pixel
    noise; without the noise, a constant start collapsed on small images), styled blocks
    doubling the side up to ``side``, a 1×1 convolution to the image."""

    def __init__(self, w_dim: int, channels: int, side: int, width: int = 32,
                 value_range: list[float] | tuple[float, float] | None = (-1.0, 1.0)) -> None:
        super().__init__()
        start, stages = dcgan_plan(side)
        ch = width * 2 ** max(stages - 1, 0)
        self.start, self.ch0 = start, ch
        self.project = nn.Sequential(nn.Linear(w_dim, ch * start * start), nn.LeakyReLU(0.2))
        blocks = [StyleBlock(ch, ch, w_dim, upsample=False)]
        for _ in range(stages):
            out = max(ch // 2, width // 2)
            blocks.append(StyleBlock(ch, out, w_dim))
            ch = out
        self.blocks = nn.ModuleList(blocks)
        self.to_image = nn.Conv2d(ch, channels, 1)
        self.out = _out_activation(tuple(value_range) if value_range else None)

    def forward(self, w):  # noqa: D102
        x = self.project(w).view(w.shape[0], self.ch0, self.start, self.start)
        for block in self.blocks:
            x = block(x, w)
        return self.out(self.to_image(x))


class StyleGenerator(nn.Module):
    """``synthesis(mapping(z))``: ganlens finds the two by name and analyses W as well as z."""

    def __init__(self, latent_dim: int, channels: int, side: int, w_dim: int | None = None,
                 width: int = 32, mapping_depth: int = 4,
                 value_range: list[float] | tuple[float, float] | None = (-1.0, 1.0)) -> None:
        super().__init__()
        w_dim = w_dim or latent_dim
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_depth)
        self.synthesis = StyleSynthesis(w_dim, channels, side, width, value_range)

    def forward(self, z):  # noqa: D102
        return self.synthesis(self.mapping(z))


def style_kwargs(data, latent_dim: int, width: int | None = None) -> tuple[dict, dict]:
    """Keyword arguments of the StyleGAN-like generator and its (DCGAN) discriminator."""
    c, side, _ = data.shape
    w = width or 32
    g = {"latent_dim": latent_dim, "channels": c, "side": side, "w_dim": latent_dim, "width": w,
         "value_range": list(data.value_range)}
    return g, {"channels": c, "side": side, "width": w}


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


STYLE = ArchitectureInfo(
    "style", StyleGenerator, DCGANDiscriminator,
    "StyleGAN-like (after Karras et al. 2019): a mapping network z → w and a synthesis network styled "
    "by w (per-channel styles), with the DCGAN discriminator; square images of side 8 to 64",
    supports=_dcgan_supports,
    default_kwargs=style_kwargs,
)


@hookimpl
def ganlens_register_architectures() -> list[ArchitectureInfo]:
    return [MLP, DCGAN, CMLP, CDCGAN, STYLE]
