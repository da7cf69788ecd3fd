"""The ``training`` analyzer: was training stable? Read from the checkpoint's history.

Native checkpoints written by ``ganlens train`` carry the history: per step the losses, D(x),
D(G(z)) and the gradient norms of G and D; per epoch their means and the diversity of a fixed
latent batch's samples, with the real data's diversity beside it. This analyzer draws the curves
(smoothed, the raw values faint behind) and finds where trouble started: NaN or divergent
losses, the discriminator winning outright, oscillation, and the onset of collapse. It needs no
sampling; a GAN without a history is skipped with the reason.

The rules live in :mod:`ganlens_training.detect` as plain functions on arrays.
"""

from __future__ import annotations

import ganlens

from .analyzer import (
    FINAL_D_FAKE,
    FINAL_D_REAL,
    FINAL_DIVERSITY_RATIO,
    INSTABILITY_EPOCH,
    Training,
    check_history,
)
from .detect import (
    History,
    Onset,
    detect_discriminator_wins,
    detect_divergence,
    detect_diversity_drop,
    detect_nonfinite,
    detect_oscillation,
    first_sustained,
    read_history,
    window_variances,
)

__all__ = ["FINAL_D_FAKE", "FINAL_D_REAL", "FINAL_DIVERSITY_RATIO", "INSTABILITY_EPOCH", "History", "Onset", "Training", "check_history", "detect_discriminator_wins", "detect_divergence", "detect_diversity_drop", "detect_nonfinite", "detect_oscillation", "first_sustained", "read_history", "window_variances"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Training]
