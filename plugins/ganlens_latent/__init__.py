"""The ``latent`` analyzer: how the latent space is organised.

- UMAP views (umap-learn) of the latent codes, of G's intermediate features and of real and fake
  samples together in a feature space, each with its trustworthiness;
- interpolation smoothness: a perceptual-path-length-style statistic and the fraction of paths
  with a jump;
- interpretable directions: GANSpace and SeFa, with ±3 sd strips and their cosine similarity;
- a linear surrogate of G (its R²);
- an encoder E that inverts G: latent and reconstruction errors on fakes and on real data, the
  worst reconstructed real samples, and E(real) embedded among the latent codes;
- for a conditional GAN G(z, y): interpolations within a class (y fixed, z moves) and between
  classes at a fixed z (y switched, or interpolated for one-hot labels), with how much each
  changes the output; every extra pass carries the labels of its latents.
- for a StyleGAN-like generator (a mapping network z → w): path length and strips along lines
  in W with their ratio to z's, GANSpace in W, the truncation in use, w's statistics and a
  truncation sweep (diversity and fidelity by ψ).

Like every built-in analyzer it uses only ganlens's public API, and umap is imported only when
an embedding is computed.
"""

from __future__ import annotations

import ganlens

from . import keys
from .analyzer import (
    Latent,
)

__all__ = ["Latent", "keys"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Latent]
