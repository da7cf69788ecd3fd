"""The ``training`` analyzer: was training stable? Read from the checkpoint's history.

Native checkpoints written by ``ganlens train`` carry the history: per step the losses, D(x),
D(G(z)) and the gradient norms of G and D; per epoch their means and the diversity of a fixed
latent batch's samples, with the real data's diversity beside it. This analyzer draws the curves
(smoothed, the raw values faint behind) and finds where trouble started: NaN or divergent
losses, the discriminator winning outright, oscillation or swings of the losses, and the onset of
collapse. Each check is passed, flagged (with its epoch) or not run (with the reason: the history
lacks what it reads or is too short for it); only a history on which every check ran and passed
is called stable. It needs no sampling; a GAN without a history is skipped with the reason.

The rules live in :mod:`ganlens_training.detect` as plain functions on arrays.
"""

from __future__ import annotations

import ganlens

from .analyzer import (
    CHECKS_NOT_RUN,
    FINAL_D_FAKE,
    FINAL_D_REAL,
    FINAL_DIVERSITY_RATIO,
    INSTABILITY_EPOCH,
    Training,
    check_history,
    headline,
    outcome,
)
from .detect import (
    History,
    NotRun,
    Onset,
    detect_discriminator_wins,
    detect_divergence,
    detect_diversity_drop,
    detect_nonfinite,
    detect_oscillation,
    detect_swings,
    epoch_variances,
    first_sustained,
    read_history,
    window_variances,
)

__all__ = ["CHECKS_NOT_RUN", "FINAL_D_FAKE", "FINAL_D_REAL", "FINAL_DIVERSITY_RATIO", "INSTABILITY_EPOCH", "History", "NotRun", "Onset", "Training", "check_history", "detect_discriminator_wins", "detect_divergence", "detect_diversity_drop", "detect_nonfinite", "detect_oscillation", "detect_swings", "epoch_variances", "first_sustained", "headline", "outcome", "read_history", "window_variances"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Training]
