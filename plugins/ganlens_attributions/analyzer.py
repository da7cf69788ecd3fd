"""The Attributions analyzer: its metadata, options and ``analyze``; see the package's README."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import ganlens
from ganlens.errors import OptionError

from .discriminator import METHODS
from .methods import DEFAULT_INTERNAL_BATCH_SIZE
from .targets import parse_region

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
        map_samples: int = ganlens.option(128, ge=1)
        """Real and generated samples (each) averaged in the 'where D looks' maps."""
        display: int = ganlens.option(3, ge=0)
        """Real and generated samples (each) shown with overlays."""
        n_steps: int = ganlens.option(32, ge=1)
        """Integration steps of Integrated Gradients and LayerConductance."""
        baseline: Baseline = "black"
        """IG baseline on data: black (low end of the range), blurred input, mean_real."""
        blur_sigma: float = ganlens.option(0.1, gt=0)
        """Blur of the 'blurred' baseline, as a fraction of the image's shorter side."""
        smoothgrad_samples: int = ganlens.option(8, ge=1)
        """Noisy copies per sample for SmoothGrad."""
        smoothgrad_noise: float = ganlens.option(0.1, ge=0)
        """SmoothGrad's noise standard deviation, as a fraction of the data range."""
        gradcam_layer: str = ""
        """D layer for Grad-CAM; empty: the last convolution with a spatial output."""
        latent_samples: int = ganlens.option(64, ge=1)
        """Latents for latent importance, pixel sensitivity and unit conductance."""
        targets: list[str] = field(default_factory=lambda: ["discriminator", "classifier"])
        """Scalar targets of G(z) to explain: discriminator, classifier[:K],
        region:TOP:BOTTOM:LEFT:RIGHT (fractions), or one a plugin registers."""
        generator_layer: str = ""
        """G layer for unit conductance; empty: the middle hidden layer."""
        inactive_fraction: float = ganlens.option(0.1, ge=0, le=1)
        """A latent dimension is inactive below this fraction of the average effect."""
        internal_batch_size: int = ganlens.option(DEFAULT_INTERNAL_BATCH_SIZE, ge=2)
        """At most this many network evaluations at once (bounds memory)."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        check_options(self.options)

    def validate(self, host: ganlens.PluginHost) -> None:
        known = host.attribution_targets
        for spec in self.options.targets:
            name = spec.strip().partition(":")[0]
            if name not in known:
                raise OptionError(f"option attributions.targets: unknown target {name!r}; "
                                  f"expected one of {', '.join(sorted(known))} "
                                  "(NAME or NAME:ARGUMENT)")

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        from .analysis import run

        return run(self.options, self.new_section(), ctx)


def check_options(o: Attributions.Options) -> None:
    """The target specs' syntax (the numeric bounds are declared on the fields)."""
    for spec in o.targets:
        name, _sep, arg = spec.strip().partition(":")
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
