"""The Latent analyzer: its metadata, options and ``analyze``; see the package's README."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import ganlens
from ganlens.errors import OptionError

from . import keys
from .directions import analyze_directions
from .encoder import analyze_encoder
from .interpolation import analyze_paths
from .surrogate import analyze_surrogate
from .views import (
    feature_reduction,
    features_view,
    latent_view,
    real_fake_view,
    resolve_layer,
)


class Latent(ganlens.Analyzer):
    """How the latent space is organised: UMAP views with their trustworthiness, interpolation
    smoothness, GANSpace and SeFa directions, a linear surrogate and an encoder that inverts G."""

    name = "latent"
    title = "Latent space"
    description = ("How the latent space is organised: embeddings, interpolation smoothness, "
                   "interpretable directions, and how well G can be inverted.")

    @dataclass
    class Options:
        parts: list[str] = field(default_factory=lambda: list(keys.PARTS))
        """What to compute, any of: umap, interpolation, directions, surrogate, encoder."""
        points: int = 1000
        """Points per UMAP view (the first of the shared pass); real and fake views use half
        of each."""
        trust_points: int = 500
        """Subsample on which trustworthiness is measured (its cost grows as the square)."""
        neighbors: int = 15
        """UMAP's n_neighbors."""
        epochs: int = 200
        """UMAP layout epochs (umap-learn uses 500 below 10,000 points and 200 above)."""
        pca_dims: int = 50
        """Project data with more dimensions on this many principal components before the
        neighbour search (0: never)."""
        layer: str = "auto"
        """G's layer for the features view: a module name, auto (the middle linear or
        convolutional layer) or none."""
        layer_reduction: Literal["auto", "mean", "none"] = "auto"
        """mean: per-channel spatial means; none: the full outputs (float16, ``points``
        samples); auto: full outputs when they surely fit in 256 MB, else means."""
        features: str = "auto"
        """Feature space for the real-and-fake view and for path distances: auto (the run's
        shared space) or a registered one (pixels, discriminator, classifier, random-conv)."""
        paths: int = 64
        """Latent pairs for the smoothness statistics."""
        path_steps: int = 16
        """Equal steps of t along each path, for the jump test."""
        epsilon: float = 1e-4
        """The small step in t of the path-length statistic."""
        jump_factor: float = 4.0
        """A path jumps when its largest step exceeds this many times its mean step (must be
        below path_steps)."""
        interpolation: Literal["auto", "linear", "spherical"] = "auto"
        """Paths for the statistics; auto: spherical for a Gaussian prior, linear for uniform."""
        strips: int = 3
        """Interpolation pairs, and base latents per direction, shown in the strips."""
        directions: int = 5
        """Top directions per method (GANSpace, SeFa)."""
        direction_samples: int = 1000
        """Latents whose first-layer activations GANSpace decomposes."""
        encoder_steps: int = 600
        """Training steps of the encoder (its time budget)."""
        encoder_width: int = 256
        """Hidden units per layer of the encoder (its size)."""
        encoder_pairs: int = 4096
        """(z, G(z)) pairs the encoder is trained on."""
        encoder_batch: int = 128
        """Encoder minibatch size."""
        worst: int = 8
        """Worst-reconstructed real samples shown."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        check_options(self.options)

    def requests(self, gan: ganlens.GAN) -> list[ganlens.CaptureRequest]:
        opts = self.options
        if "umap" not in opts.parts:
            return []
        layer = resolve_layer(gan, opts.layer)
        if layer is None:
            return []
        reduction = feature_reduction(gan, layer, opts.layer_reduction, opts.points)
        full = reduction == "none"
        return [ganlens.CaptureRequest("generator", layer, reduction, float16=full,
                                       limit=opts.points if full else None)]

    def validate(self, host: ganlens.PluginHost) -> None:
        self.check_choice("features", ["auto", *sorted(host.feature_spaces)], "feature space")

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        section = self.new_section()
        opts = self.options
        parts = set(opts.parts)
        if "umap" in parts:
            latent_view(ctx, section, opts)
            features_view(ctx, section, opts)
            real_fake_view(ctx, section, opts)
        if "interpolation" in parts:
            analyze_paths(ctx, section, opts)
        if "directions" in parts:
            analyze_directions(ctx, section, opts)
        if "surrogate" in parts:
            analyze_surrogate(ctx, section, opts)
        if "encoder" in parts:
            analyze_encoder(ctx, section, opts, with_umap="umap" in parts)
        section.summary = summary(section)
        return section


def check_options(opts: Latent.Options) -> None:
    """Values in range, or an OptionError that names the option and what it expects."""
    unknown = [p for p in opts.parts if p not in keys.PARTS]
    if unknown or not opts.parts:
        raise OptionError(f"option latent.parts: expected a comma-separated subset of "
                          f"{', '.join(keys.PARTS)}, got {','.join(opts.parts) or 'nothing'}")
    minimum = {"points": 4, "trust_points": 4, "neighbors": 2, "epochs": 1, "pca_dims": 0,
               "paths": 2, "path_steps": 2, "strips": 0, "directions": 1,
               "direction_samples": 2, "encoder_steps": 1, "encoder_width": 1,
               "encoder_pairs": 16, "encoder_batch": 1, "worst": 0}
    for key, low in minimum.items():
        value = getattr(opts, key)
        if value < low:
            raise OptionError(f"option latent.{key}: expected an integer >= {low}, got {value}")
    if not 0 < opts.epsilon < 0.5:
        raise OptionError(f"option latent.epsilon: expected a number between 0 and 0.5 "
                          f"(a small step in t), got {opts.epsilon}")
    if not 1 < opts.jump_factor < opts.path_steps:
        raise OptionError(f"option latent.jump_factor: expected a number > 1 and below "
                          f"latent.path_steps ({opts.path_steps}), got {opts.jump_factor}")
    if not opts.layer:
        raise OptionError("option latent.layer: expected auto, none or a module name of G")


def summary(section: ganlens.Section) -> str:
    m = section.metrics
    parts = []
    trusts = [m[keys.trust_key(v)] for v in keys.VIEWS if m.get(keys.trust_key(v)) is not None]
    if trusts:
        parts.append(f"UMAP trustworthiness {min(trusts):.2f}-{max(trusts):.2f}"
                     if len(trusts) > 1 else f"UMAP trustworthiness {trusts[0]:.2f}")
    if m.get(keys.PPL) is not None:
        parts.append(f"PPL {m[keys.PPL]:.3g}, {m[keys.JUMP_FRACTION]:.0%} of paths jump")
    if m.get(keys.SURROGATE_R2) is not None:
        parts.append(f"linear surrogate R^2 {m[keys.SURROGATE_R2]:.2f}")
    if m.get(keys.RECON_RATIO) is not None:
        parts.append(f"reals reconstruct {m[keys.RECON_RATIO]:.1f}x worse than fakes")
    elif m.get(keys.LATENT_ERROR) is not None:
        parts.append(f"encoder latent error {m[keys.LATENT_ERROR]:.2f}")
    return "; ".join(parts)
