"""Helpers for testing analyzers, for ganlens's own tests and for plugin authors.

Tiny GANs that build in milliseconds, a forward-call counter, and :func:`check_analyzer_contract`,
the contract every analyzer must keep: it returns a Section (or a clean skip) on image and vector
GANs, with and without a discriminator, with and without real data; it leaves no hooks behind;
the same seed gives the same numbers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from .api import analyze
from .builtin.architectures import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
)
from .core.analyzer import BaseAnalyzer as Analyzer
from .core.dataset import Dataset
from .core.gan import GAN, DataSpec, LatentSpec
from .engine.host import PluginHost


def tiny_image_gan(side: int = 8, channels: int = 1, latent_dim: int = 8, *,
                   discriminator: bool = True, width: int = 8, seed: int = 0) -> GAN:
    """An untrained DCGAN for ``channels``×``side``×``side`` images in [-1, 1]."""
    torch.manual_seed(seed)
    g = DCGANGenerator(latent_dim, channels, side, width=width)
    d = DCGANDiscriminator(channels, side, width=width) if discriminator else None
    return GAN(g, LatentSpec((latent_dim,)), DataSpec("image", (channels, side, side)), d,
               metadata={"note": "testing.tiny_image_gan"})


def tiny_conditional_gan(side: int = 8, channels: int = 1, latent_dim: int = 8,
                         num_classes: int = 10, *, discriminator: bool = True, width: int = 8,
                         seed: int = 0) -> GAN:
    """An untrained conditional DCGAN: ``G(z, y)`` with a class embedding and a projection
    ``D(x, y)``, labels as class indices."""
    torch.manual_seed(seed)
    g = ConditionalDCGANGenerator(latent_dim, channels, side, num_classes, width=width)
    d = ConditionalDCGANDiscriminator(channels, side, num_classes, width=width) \
        if discriminator else None
    return GAN(g, LatentSpec((latent_dim,)), DataSpec("image", (channels, side, side)), d,
               num_classes=num_classes, conditional=True, d_conditional=discriminator,
               metadata={"note": "testing.tiny_conditional_gan"})


def tiny_vector_gan(dim: int = 2, latent_dim: int = 4, *, discriminator: bool = True,
                    width: int = 16, seed: int = 0) -> GAN:
    """An untrained MLP GAN for ``dim``-dimensional vectors."""
    torch.manual_seed(seed)
    g = MLPGenerator(latent_dim, [dim], width=width)
    d = MLPDiscriminator([dim], width=width) if discriminator else None
    return GAN(g, LatentSpec((latent_dim,)), DataSpec("vector", (dim,), (-1.0, 1.0)), d,
               metadata={"note": "testing.tiny_vector_gan"})


def random_images(n: int = 200, side: int = 8, channels: int = 1, *, classes: int | None = None,
                  seed: int = 0) -> Dataset:
    """Uniform random images in [-1, 1] (labels 0..classes-1 when ``classes`` is given)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand((n, channels, side, side), generator=gen) * 2 - 1
    labels = torch.arange(n) % classes if classes else None
    return Dataset("random-images", x, DataSpec("image", (channels, side, side)), labels,
                   "testing.random_images")


def random_vectors(n: int = 200, dim: int = 2, *, seed: int = 0) -> Dataset:
    """Standard normal vectors."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((n, dim), generator=gen)
    return Dataset("random-vectors", x, DataSpec("vector", (dim,), (-1.0, 1.0)), None,
                   "testing.random_vectors")


@contextlib.contextmanager
def count_forward_calls(module: nn.Module) -> Iterator[list[int]]:
    """Count calls of ``module.forward``: ``with count_forward_calls(g) as n: ...; n[0]``."""
    counter = [0]

    def pre_hook(_m: nn.Module, _inputs: Any) -> None:
        counter[0] += 1

    handle = module.register_forward_pre_hook(pre_hook)
    try:
        yield counter
    finally:
        handle.remove()


def hook_count(gan: GAN) -> int:
    """All forward and pre-forward hooks on both networks."""
    nets = [gan.generator] + ([gan.discriminator] if gan.discriminator is not None else [])
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for n in nets for m in n.modules())


def check_analyzer_contract(analyzer: Analyzer | type[Analyzer], gan: GAN,
                            real: Dataset | str | None = None, *, samples: int = 64,
                            seed: int = 0, host: PluginHost | None = None) -> Any:
    """Run ``analyzer`` twice on ``gan`` and check the contract; returns the first Section.

    Raises AssertionError-like ``ValueError`` with what broke: a failed section, hooks left
    behind, or numbers that differ between two runs with the same seed.
    """
    inst = analyzer if isinstance(analyzer, Analyzer) else analyzer()
    before = hook_count(gan)
    reports = [analyze(gan, analyzers=[inst], real=real, samples=samples, seed=seed,
                       progress=False, host=host) for _ in range(2)]
    sections = [r.sections[0] for r in reports]
    first = sections[0]
    if first.status == "failed":
        raise ValueError(f"{inst.name} failed: {first.reason}\n{first.error}")
    if first.status not in ("ok", "skipped"):
        raise ValueError(f"{inst.name} returned status {first.status!r}")
    if first.status == "skipped" and not first.reason:
        raise ValueError(f"{inst.name} skipped without a reason")
    if hook_count(gan) != before:
        raise ValueError(f"{inst.name} left {hook_count(gan) - before} hook(s) on the networks")
    leaked = [f for f in first.findings if "hook(s)" in f.message]
    if leaked:
        raise ValueError(f"{inst.name}: {leaked[0].message}")
    a, b = (json.dumps(s.to_dict(with_timing=False)["metrics"], sort_keys=True) for s in sections)
    if a != b:
        raise ValueError(f"{inst.name}: two runs with seed {seed} gave different metrics")
    for fig in first.figures:
        if not fig.title or not fig.caption:
            raise ValueError(f"{inst.name}: figure {fig.name!r} lacks a title or caption")
    return first


__all__ = [
    "check_analyzer_contract",
    "count_forward_calls",
    "hook_count",
    "random_images",
    "random_vectors",
    "tiny_conditional_gan",
    "tiny_image_gan",
    "tiny_vector_gan",
]
