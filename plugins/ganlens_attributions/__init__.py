"""The ``attributions`` analyzer: what the discriminator looks at, and what drives the generator.

Built on captum (imported only when the analyzer runs). Discriminator side: Saliency,
Integrated Gradients (with its convergence delta), SmoothGrad and Grad-CAM on D's logit, on real
and generated samples, as per-sample overlays and as mean maps over many samples ("where D
looks"). Generator side: the effect of each latent dimension on the output and its Integrated
Gradients attribution to scalar targets of G(z) (D's score, a pixel region, a classifier logit,
or a target a plugin registers), the pixel sensitivity map, and the conductance of a generator
layer's units.

Public helpers (usable without the analyzer): :mod:`.methods` (batched captum wrappers),
:mod:`.targets` (scalar targets and :func:`register_target`), :mod:`.generator`,
:mod:`.keys` (the metric keys of report.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import ganlens
from ganlens.errors import OptionError

from . import keys  # metric keys and finding thresholds, e.g. keys.LATENT_IMPORTANCE
from .discriminator import METHODS
from .methods import DEFAULT_INTERNAL_BATCH_SIZE, integrated_gradients
from .targets import Target, TargetFactory, parse_region, parse_spec, register_target

Baseline = Literal["black", "blurred", "mean_real"]
Method = Literal["saliency", "integrated_gradients", "smoothgrad", "gradcam"]


class Attributions(ganlens.Analyzer):
    """What the discriminator looks at (Saliency, Integrated Gradients, SmoothGrad, Grad-CAM on
    real and generated samples) and what drives the generator (latent importance, pixel
    sensitivity, unit conductance), with captum."""

    name = "attributions"
    title = "Attributions"
    description = ("What the discriminator looks at, and which latent dimensions and generator "
                   "units drive the output (captum attributions).")

    @dataclass
    class Options:
        methods: list[Method] = field(default_factory=lambda: list(METHODS))
        """Discriminator attribution methods shown per sample (overlays)."""
        map_method: Method = "integrated_gradients"
        """The method averaged over many samples for the 'where D looks' maps."""
        map_samples: int = 128
        """Real and generated samples (each) averaged in the 'where D looks' maps."""
        display: int = 3
        """Real and generated samples (each) shown with overlays."""
        n_steps: int = 32
        """Integration steps of Integrated Gradients and LayerConductance."""
        baseline: Baseline = "black"
        """IG baseline on data: black (low end of the range), blurred input, mean_real."""
        blur_sigma: float = 0.1
        """Blur of the 'blurred' baseline, as a fraction of the image's shorter side."""
        smoothgrad_samples: int = 8
        """Noisy copies per sample for SmoothGrad."""
        smoothgrad_noise: float = 0.1
        """SmoothGrad's noise standard deviation, as a fraction of the data range."""
        gradcam_layer: str = ""
        """D layer for Grad-CAM; empty: the last convolution with a spatial output."""
        latent_samples: int = 64
        """Latents for latent importance, pixel sensitivity and unit conductance."""
        targets: list[str] = field(default_factory=lambda: ["discriminator", "classifier"])
        """Scalar targets of G(z) to explain: discriminator, classifier[:K],
        region:TOP:BOTTOM:LEFT:RIGHT (fractions), or one a plugin registers."""
        generator_layer: str = ""
        """G layer for unit conductance; empty: the middle hidden layer."""
        inactive_fraction: float = 0.1
        """A latent dimension is inactive below this fraction of the average effect."""
        internal_batch_size: int = DEFAULT_INTERNAL_BATCH_SIZE
        """At most this many network evaluations at once (bounds memory)."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        check_options(self.options)

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        from .analysis import run

        return run(self, ctx)


def check_options(o: Attributions.Options) -> None:
    """Raise :class:`OptionError` naming the option and what was expected."""
    def need(ok: bool, key: str, expected: str, value: object) -> None:
        if not ok:
            raise OptionError(f"option attributions.{key}: expected {expected}, got {value!r}")

    for key in ("n_steps", "map_samples", "latent_samples", "smoothgrad_samples"):
        need(getattr(o, key) >= 1, key, "an integer >= 1", getattr(o, key))
    need(o.display >= 0, "display", "an integer >= 0", o.display)
    need(o.internal_batch_size >= 2, "internal_batch_size", "an integer >= 2", o.internal_batch_size)
    need(o.smoothgrad_noise >= 0, "smoothgrad_noise", "a number >= 0", o.smoothgrad_noise)
    need(o.blur_sigma > 0, "blur_sigma", "a number > 0", o.blur_sigma)
    need(0 <= o.inactive_fraction <= 1, "inactive_fraction", "a number in [0, 1]",
         o.inactive_fraction)
    for spec in o.targets:
        name, arg = parse_spec(spec)
        if name == "region":
            # The data's shape is not known yet: accept the image form or the vector form.
            try:
                parse_region(arg, 3)
            except OptionError:
                try:
                    parse_region(arg, 1)
                except OptionError:
                    raise OptionError(
                        f"option attributions.targets: {spec!r}: expected "
                        "region:TOP:BOTTOM:LEFT:RIGHT (images) or region:START:STOP (vectors), "
                        "fractions 0 <= start < stop <= 1, e.g. region:0:0.5:0:0.5"
                    ) from None


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Attributions]


__all__ = [
    "Attributions",
    "Target",
    "TargetFactory",
    "integrated_gradients",
    "keys",
    "register_target",
]
