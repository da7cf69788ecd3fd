"""The ``conditioning`` analyzer: does a conditional generator make the class it is asked for,
and all of it?

For a conditional GAN, G(z, y):

- conditioning accuracy: the share of the samples generated for class y that a classifier
  trained on the real labels assigns to y, overall and per class, beside what the same
  classifier scores on real data (the ceiling), with the confusion matrix; a class whose samples
  are mostly another class is named;
- per-class collapse: within each class, the diversity (mean pairwise distance), the
  near-duplicates and the coverage (Naeem et al. 2020) of the samples in a feature space, each
  beside held-out real samples of the class; a collapsed class is named.

Unconditional GANs are skipped with the reason. The numbers are plain functions of tensors
(:mod:`ganlens_conditioning.metrics`)::

    from ganlens_conditioning.metrics import diversity, diversity_ratio
    diversity_ratio(diversity(fake_features), diversity(real_features)).value
"""

from __future__ import annotations

import ganlens

from . import metrics
from .analyzer import Conditioning

__all__ = ["Conditioning", "metrics"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Conditioning]
