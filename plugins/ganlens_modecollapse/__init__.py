"""The ``mode_collapse`` analyzer: has the generator collapsed onto part of the data?

It runs the standard tests together and sets each beside what real data score at the same
sample size:

- known modes (ring8, grid25, any dataset that declares its mode centres and std): modes covered
  and high-quality samples, VEEGAN/PacGAN style;
- labelled data: classes covered and the class-histogram KL, through a classifier ganlens trains
  on the real labels (refused below 90% held-out accuracy);
- any data, in a feature space: precision and recall, density and coverage, NDB/K and its JS
  divergence, near-duplicates, memorisation, each with a real-vs-real baseline and bootstrap
  intervals; and the birthday-paradox test of the support (Arora & Zhang 2017).

The metric functions are public and need no GAN (:mod:`ganlens_modecollapse.metrics`)::

    from ganlens_modecollapse.metrics import compute_prdc
    compute_prdc(real_features, fake_features, nearest_k=5)
"""

from __future__ import annotations

import ganlens

from . import metrics
from .analyzer import ModeCollapse

__all__ = ["ModeCollapse", "metrics"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [ModeCollapse]
