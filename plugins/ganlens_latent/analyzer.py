"""The Latent analyzer: its metadata, options and ``analyze``; see the package's README."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import ganlens
from ganlens.errors import OptionError

from . import keys, wspace
from .conditional import analyze_conditional
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
        """What to compute, any of: umap, interpolation, directions, surrogate, encoder,
        truncation (the last, and the W-space halves of interpolation and directions, only for a
        generator with a mapping network)."""
        points: int = ganlens.option(1000, ge=4)
        """Points per UMAP view (the first of the shared pass); real and fake views use half
        of each."""
        trust_points: int = ganlens.option(500, ge=4)
        """Subsample on which trustworthiness is measured (its cost grows as the square)."""
        neighbors: int = ganlens.option(15, ge=2)
        """UMAP's n_neighbors."""
        epochs: int = ganlens.option(200, ge=1)
        """UMAP layout epochs (umap-learn uses 500 below 10,000 points and 200 above)."""
        pca_dims: int = ganlens.option(50, ge=0)
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
        paths: int = ganlens.option(64, ge=2)
        """Latent pairs for the smoothness statistics (and, for a conditional GAN, for the
        within-class and between-class changes)."""
        path_steps: int = ganlens.option(16, ge=2)
        """Equal steps of t along each path, for the jump test."""
        epsilon: float = ganlens.option(1e-4, gt=0, lt=0.5)
        """The small step in t of the path-length statistic."""
        jump_factor: float = ganlens.option(4.0, gt=1)
        """A path jumps when its largest step exceeds this many times its mean step (must be
        below path_steps)."""
        interpolation: Literal["auto", "linear", "spherical"] = "auto"
        """Paths for the statistics; auto: spherical for a Gaussian prior, linear for uniform."""
        strips: int = ganlens.option(3, ge=0)
        """Interpolation pairs, and base latents per direction, shown in the strips."""
        directions: int = ganlens.option(5, ge=1)
        """Top directions per method (GANSpace, SeFa)."""
        direction_samples: int = ganlens.option(1000, ge=2)
        """Latents whose first-layer activations GANSpace decomposes."""
        encoder_steps: int = ganlens.option(600, ge=1)
        """Training steps of the encoder (its time budget)."""
        encoder_width: int = ganlens.option(256, ge=1)
        """Hidden units per layer of the encoder (its size)."""
        encoder_pairs: int = ganlens.option(4096, ge=16)
        """(z, G(z)) pairs the encoder is trained on."""
        encoder_batch: int = ganlens.option(128, ge=1)
        """Encoder minibatch size."""
        worst: int = ganlens.option(8, ge=0)
        """Worst-reconstructed real samples shown."""
        truncation_psis: list[float] = field(default_factory=lambda: [1.0, 0.7, 0.5])
        """Generators with a mapping network: the truncation psi of the sweep (each in [0, 1];
        the GAN's own psi is always added)."""
        truncation_samples: int = ganlens.option(256, ge=2)
        """Latents of the truncation sweep (each synthesised at every psi)."""

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
        in_w = ctx.gan.has_mapping  # a StyleGAN-like generator: the W space too
        if "umap" in parts:
            latent_view(ctx, section, opts)
            features_view(ctx, section, opts)
            real_fake_view(ctx, section, opts)
        if "interpolation" in parts:
            paths = analyze_paths(ctx, section, opts)
            if in_w and paths is not None:
                with wspace.guarded(section, "interpolation smoothness"):
                    wspace.analyze_w_paths(ctx, section, opts, paths)
            if ctx.conditional:
                analyze_conditional(ctx, section, opts)
        if "directions" in parts:
            analyze_directions(ctx, section, opts)
            if in_w:
                with wspace.guarded(section, "GANSpace directions"):
                    wspace.analyze_w_directions(ctx, section, opts)
        if "surrogate" in parts:
            analyze_surrogate(ctx, section, opts)
        if "encoder" in parts:
            analyze_encoder(ctx, section, opts, with_umap="umap" in parts)
        if "truncation" in parts:
            if in_w:
                with wspace.guarded(section, "the truncation sweep"):
                    wspace.analyze_truncation(ctx, section, opts)
            elif set(opts.parts) != set(keys.PARTS):  # asked for by name
                wspace.skip_note(section)
        if in_w:
            with wspace.guarded(section, "the statistics of w"):
                wspace.analyze_w_statistics(ctx, section)
        section.summary = summary(section)
        return section


def check_options(opts: Latent.Options) -> None:
    """The parts named, and the options whose range depends on another option."""
    unknown = [p for p in opts.parts if p not in keys.PARTS]
    if unknown or not opts.parts:
        raise OptionError(f"option latent.parts: expected a comma-separated subset of "
                          f"{', '.join(keys.PARTS)}, got {','.join(opts.parts) or 'nothing'}")
    # Each option's own range is declared on its field; this checks how two options relate.
    if not 1 < opts.jump_factor < opts.path_steps:
        raise OptionError(f"option latent.jump_factor: expected a number > 1 and below "
                          f"latent.path_steps ({opts.path_steps}), got {opts.jump_factor}")
    if not opts.layer:
        raise OptionError("option latent.layer: expected auto, none or a module name of G")
    psis = list(opts.truncation_psis)
    if not psis or any(not isinstance(v, (int, float)) or not 0 <= v <= 1 for v in psis):
        raise OptionError(f"option latent.truncation_psis: expected a comma-separated list of "
                          f"numbers from 0 to 1, got {','.join(map(str, psis)) or 'nothing'}")


def summary(section: ganlens.Section) -> str:
    m = section.metrics
    parts = []
    trusts = [m[keys.trust_key(v)] for v in keys.VIEWS if m.get(keys.trust_key(v)) is not None]
    if trusts:
        parts.append(f"UMAP trustworthiness {min(trusts):.2f}-{max(trusts):.2f}"
                     if len(trusts) > 1 else f"UMAP trustworthiness {trusts[0]:.2f}")
    if m.get(keys.PPL) is not None:
        parts.append(f"PPL {m[keys.PPL]:.3g}, {m[keys.JUMP_FRACTION]:.0%} of paths jump")
    if m.get(keys.W_PPL_RATIO) is not None:
        parts.append(f"path length in W {m[keys.W_PPL_RATIO]:.2g}x that in z")
    if m.get(keys.COND_RATIO) is not None:
        parts.append(f"the class changes samples {m[keys.COND_RATIO]:.2g}x more than z")
    if m.get(keys.SURROGATE_R2) is not None:
        parts.append(f"linear surrogate R^2 {m[keys.SURROGATE_R2]:.2f}")
    if m.get(keys.RECON_RATIO) is not None:
        parts.append(f"reals reconstruct {m[keys.RECON_RATIO]:.1f}x worse than fakes")
    elif m.get(keys.LATENT_ERROR) is not None:
        parts.append(f"encoder latent error {m[keys.LATENT_ERROR]:.2f}")
    return "; ".join(parts)
