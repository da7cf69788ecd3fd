"""The ``attributions`` analyzer: what the discriminator looks at, and what drives the generator.

Built on captum (imported only when the analyzer runs). Discriminator side: Saliency,
Integrated Gradients (with its convergence delta), SmoothGrad and Grad-CAM on D's logit, on real
and generated samples, as per-sample overlays and as mean maps over many samples ("where D
looks"). Generator side: the effect of each latent dimension on the output and its Integrated
Gradients attribution to scalar targets of G(z) (D's score, a pixel region, a classifier logit,
or a target a plugin registers), the pixel sensitivity map, and the conductance of a generator
layer's units. For a conditional GAN every pass carries the labels of the samples it explains,
and "where D looks" is also shown per conditioning class.

Public helpers (usable without the analyzer): :mod:`.methods` (batched captum wrappers),
:mod:`.targets` (scalar targets, registered through ``ganlens_register_attribution_targets``), :mod:`.generator`,
:mod:`.keys` (the metric keys of report.json).
"""

from __future__ import annotations

import ganlens

from . import keys
from .analyzer import Attributions
from .methods import integrated_gradients
from .targets import BUILTIN_TARGETS, LabelledTarget, Target, TargetFactory

__all__ = ["Attributions", "LabelledTarget", "Target", "TargetFactory", "integrated_gradients",
           "keys"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Attributions]


@ganlens.hookimpl
def ganlens_register_attribution_targets() -> list[ganlens.AttributionTargetInfo]:
    return list(BUILTIN_TARGETS)
