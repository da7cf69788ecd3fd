"""The ``scores`` analyzer: the numbers researchers report, in every feature space.

- the Fréchet distance (float64, stable with fewer samples than dimensions), with bootstrap
  intervals and optionally FD∞ (Chong & Forsyth 2020);
- KID (Bińkowski et al. 2018), averaged over subsets as torch-fidelity does;
- the Vendi score (Friedman & Dieng 2023), of the generated and of the real samples;
- the data-copying test C_T (Meehan, Chaudhuri & Dasgupta 2020);

each beside held-out real data of the same size, in one "numbers to report" table that the
report shows at the top. A Fréchet distance here is never called FID: the features are
ganlens's own spaces, not Inception's.

The metric functions need no GAN (:mod:`ganlens_scores.metrics`, :mod:`ganlens_scores.copying`)::

    from ganlens_scores.metrics import frechet_distance, kid, vendi_score
    frechet_distance(fake_features, real_features)
"""

from __future__ import annotations

import ganlens

from . import copying, metrics
from .analyzer import Scores

__all__ = ["Scores", "copying", "metrics"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Scores]
