"""The ``samples`` analyzer: what the GAN generates, for people to look at.

A grid of samples from fixed latents; real and fake side by side; interpolation strips between
random latent pairs (linear and spherical); the histogram of D's scores on real and fake; a few
samples beside their nearest training images (a visual memorisation check). For vector data, a
scatter of fakes over reals replaces the image views. For a conditional GAN, a grid with one row
per class and one fixed latent per column, with per-class diversity and the label's effect.

This module is also the template for a third-party analyzer: it uses only ganlens's public API.
"""

from __future__ import annotations

import ganlens

from .analyzer import (
    Samples,
)

__all__ = ["Samples"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Samples]
