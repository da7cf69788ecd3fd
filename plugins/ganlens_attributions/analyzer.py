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
