"""The ``activations`` analyzer: what each layer and unit of G and D does, and which units cause
what.

Per analysed layer (chosen automatically, or with the ``layers`` option), over the N samples of
the shared capture pass: each unit's mean and std, the fraction of near-constant units, of dead
units (never above zero, so exactly zero, for true rectifiers such as ReLU) and the sparsity, and
for leaky activations (LeakyReLU, ELU, GELU, SiLU, ...) the fraction of negative-regime units
(never on the positive side, yet still following their input: not dead). Feature-map grids and unit
maps over the generated image; the generated samples that drive each unit hardest; class
selectivity when a classifier of the real data's labels is available; and interventions (GAN
Dissection, Bau et al., ICLR 2019, without the segmenter): ablate units of one generator layer,
batched, and rank them by how much the output and D's score change. For a conditional GAN, each
unit's selectivity for the class label the sample was generated with.

Only ganlens's public API is used, so this package is also a template for a third-party
analyzer with capture requests and extra passes.
"""

from __future__ import annotations

import ganlens

from .analyzer import Activations
from .causal import (
    INTERVENTION_D_CHANGE,
    INTERVENTION_EFFECT,
    INTERVENTION_LAYER,
    INTERVENTION_TOP_UNITS,
)
from .intervene import InterventionResult, ablate_units, ablate_units_naive
from .layers import LayerInfo
from .stats import LayerStats, UnitAccumulator

__all__ = ["INTERVENTION_D_CHANGE", "INTERVENTION_EFFECT", "INTERVENTION_LAYER", "INTERVENTION_TOP_UNITS", "Activations", "InterventionResult", "LayerInfo", "LayerStats", "UnitAccumulator", "ablate_units", "ablate_units_naive"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Activations]
