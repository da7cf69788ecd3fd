"""Interpolation smoothness: strips between latent pairs, a perceptual-path-length-style
statistic (Karras et al. 2019, StyleGAN, section 3) in a stated feature space, and the fraction
of paths with a jump.

For a conditional GAN each pair of latents gets one class label, held for its whole path (and
its PPL step): the statistics measure how G(z, y) changes with z within a class. How it
changes with the class is in :mod:`.conditional`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import ganlens
from ganlens.errors import FeatureUnavailable, OptionError
from ganlens.maths import interpolate

from . import keys
from .plots import image_rows, panels, projector

STRIP_STEPS = 9
TINY = 1e-12


def path_kind(option: str, gan: ganlens.GAN) -> str:
    """``auto``: spherical for a Gaussian prior (as StyleGAN's PPL in z), linear for uniform."""
    if option != "auto":
        return option
    return "spherical" if gan.latent.distribution == "normal" else "linear"


def ppl_from_features(f0: torch.Tensor, f1: torch.Tensor, epsilon: float) -> tuple[float, np.ndarray]:
    """Squared feature distance per step divided by epsilon squared, for each pair; and their
    mean between the 1st and 99th percentiles (StyleGAN's outlier rule)."""
    values = ((f1 - f0).double() ** 2).sum(1).numpy() / epsilon**2
    lo = np.percentile(values, 1, method="lower")
    hi = np.percentile(values, 99, method="higher")
    kept = values[(values >= lo) & (values <= hi)]
    return float(kept.mean()), values


def step_ratios(features: torch.Tensor) -> np.ndarray:
    """For paths of feature vectors (P, S + 1, d): each path's largest step divided by its mean
    step, from 1 (change spread evenly) to S (all the change in one step)."""
    steps = (features[:, 1:] - features[:, :-1]).double().norm(dim=2)
    largest = steps.max(1).values
    mean = steps.mean(1)
    scale = features.double().norm(dim=2).amax(1).clamp_min(1.0)
    flat = largest <= TINY * scale  # a path that does not move has no jump
    ratio = largest / mean.clamp_min(TINY * scale)
    return torch.where(flat, torch.ones_like(ratio), ratio).numpy()


@dataclass
class PathResult:
    """What the z-space statistics measured, for the same statistics in W to reuse: the
    feature space, the path kind, the pairs' end points and labels, the PPL's t and values."""

    space: Space
    kind: str
    z0: torch.Tensor
    z1: torch.Tensor
    t: torch.Tensor
    labels: torch.Tensor | None
    values: np.ndarray
    ppl: float


@dataclass
class Space:
    """A feature space to measure distances in: its name, description and embedding."""

    name: str
    description: str
    embed: Callable[[torch.Tensor], torch.Tensor]


def resolve_space(ctx: ganlens.AnalysisContext, name: str) -> Space:
    """The feature space ``name`` (``auto``: the run's shared space) as an embedding of new
    samples. Raises OptionError for unknown names, FeatureUnavailable when it does not apply."""
    registry = ctx.host.feature_spaces if ctx.host is not None else {}
    if name == "auto":
        name = ctx.default_feature_space() if registry else "pixels"
    if name == "pixels" and name not in registry:
        return Space("pixels", "the data values, flattened", lambda x: x.reshape(len(x), -1).float())
    if name not in registry:
        raise OptionError(f"option latent.features: unknown feature space {name!r}; expected auto "
                          f"or one of {', '.join(sorted(registry))}")
    info = registry[name].obj
    fn = ctx.feature_fn(name)
    return Space(name, info.description, lambda x: ctx.embed(fn, x).reshape(len(x), -1))


def analyze_paths(ctx: ganlens.AnalysisContext, section: ganlens.Section,
                  opts: Any) -> PathResult | None:
    """The z-space smoothness statistics and figures; what they measured (None: skipped)."""
    gan = ctx.gan
    try:
        space = resolve_space(ctx, opts.features)
    except FeatureUnavailable as exc:
        section.finding("info", f"interpolation smoothness skipped: feature space "
                                f"{opts.features!r} is unavailable ({exc})")
        return None
    kind = path_kind(opts.interpolation, gan)
    p, s, eps = opts.paths, opts.path_steps, opts.epsilon
    ends = ctx.latents_for(2 * p, "latent/interpolation").reshape(2 * p, -1).float()
    z0, z1 = ends[:p], ends[p:]
    t = torch.rand(p, generator=ctx.rng("latent/ppl-t"))
    ppl_z = interpolate(z0, z1, torch.stack([t, t + eps], 1), kind)  # (P, 2, D)
    path_z = interpolate(z0, z1, torch.linspace(0, 1, s + 1).expand(p, -1), kind)
    q = min(opts.strips, p)
    strip_t = torch.linspace(0, 1, STRIP_STEPS).expand(q, -1)
    strip_z = torch.cat([interpolate(z0[:q], z1[:q], strip_t, k) for k in ("linear", "spherical")])
    d = ends.shape[1]
    z = torch.cat([ppl_z.reshape(-1, d), path_z.reshape(-1, d), strip_z.reshape(-1, d)])
    # One label per pair (None for an unconditional GAN), the same all along its path.
    pair_y = ctx.labels_for(p, "latent/interpolation")
    y = None if pair_y is None else torch.cat([
        pair_y.repeat_interleave(2), pair_y.repeat_interleave(s + 1),
        pair_y[:q].repeat_interleave(STRIP_STEPS).repeat(2)])
    x = ctx.generate(z.reshape(len(z), *gan.latent.shape), labels=y)  # one batched pass
    n_ppl, n_path = 2 * p, p * (s + 1)
    feats = space.embed(x[: n_ppl + n_path]).float()
    ppl_feats = feats[:n_ppl].reshape(p, 2, -1)
    ppl, ppl_values = ppl_from_features(ppl_feats[:, 0], ppl_feats[:, 1], eps)
    ratios = step_ratios(feats[n_ppl:].reshape(p, s + 1, -1))
    jumps = ratios > opts.jump_factor

    within = ("" if pair_y is None else
              ", each pair at one class label y held along its path (G(z(t), y))")
    section.metric(
        keys.PPL, ppl,
        f"perceptual-path-length-style smoothness: squared distance in the '{space.name}' feature "
        f"space between G(z(t)) and G(z(t + eps)), divided by eps^2, with eps = {eps:g}, t uniform "
        f"in [0, 1], along {kind} paths between {p} random latent pairs{within}; mean between the "
        "1st and 99th percentiles (Karras et al. 2019)",
        "lower is smoother; compare between checkpoints of the same data and feature space only "
        "(the scale depends on the space)",
    )
    section.metric(keys.PPL_EPSILON, eps, "the latent step eps of interpolation.ppl (in t)")
    section.metric(
        keys.JUMP_FRACTION, float(jumps.mean()),
        f"fraction of the {p} {kind} paths (each in {s} equal steps of t) whose largest step in the "
        f"'{space.name}' feature space exceeds {opts.jump_factor:g} times the path's mean step "
        f"(carries more than {opts.jump_factor / s:.0%} of the path's length)",
        "near 0: samples morph gradually; high: the generator switches abruptly between outputs "
        "(mode switching, holes in the latent space)",
    )
    section.metric(keys.STEP_RATIO_MEDIAN, float(np.median(ratios)),
                   "median over paths of (largest step / mean step) in the feature space",
                   f"about 1 to 2 for smooth paths; {s} when all the change is in one step")
    if jumps.mean() > 0.25:
        section.finding("warning", f"{jumps.mean():.0%} of latent paths jump "
                                   f"({keys.JUMP_FRACTION} > 0.25 at jump factor "
                                   f"{opts.jump_factor:g}): the generator changes abruptly between "
                                   "nearby latents", metric=keys.JUMP_FRACTION,
                        value=float(jumps.mean()), threshold=0.25)
    _strip_figure(ctx, section, x[n_ppl + n_path :], q,
                  None if pair_y is None else pair_y[:q])
    _smoothness_figure(section, ppl_values, ppl, ratios, opts.jump_factor, space.name, eps, kind,
                       w_note=gan.has_mapping)
    return PathResult(space, kind, z0, z1, t, pair_y, ppl_values, ppl)


def _strip_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section, x: torch.Tensor,
                  q: int, classes: torch.Tensor | None = None) -> None:
    gan = ctx.gan
    labels = [f"lin {i + 1}" for i in range(q)] + [f"sph {i + 1}" for i in range(q)]
    if classes is not None:
        labels = [f"{lab} y={int(classes[i % q])}" for i, lab in enumerate(labels)]
    if gan.data.is_image:
        cols = [f"{v:.2g}" for v in np.linspace(0, 1, STRIP_STEPS)]
        fig = image_rows(x, gan.data.value_range, labels, cols, xlabel="interpolation t",
                         title="Interpolations: z(t) from z0 (t = 0) to z1 (t = 1)")
    else:
        proj, axis = projector(ctx.fakes)
        fig, (ax,) = panels(1, 5.5, 4.8)
        bg = proj(ctx.fakes[:1000])
        ax.scatter(bg[:, 0], bg[:, 1], s=3, color="lightgrey", label="samples")
        pts = proj(x).reshape(2 * q, STRIP_STEPS, 2)
        for i in range(2 * q):
            style = "-" if i < q else "--"
            ax.plot(pts[i, :, 0], pts[i, :, 1], style, marker=".", color=f"C{i % q}",
                    label=labels[i])
        ax.set_xlabel(axis[0])
        ax.set_ylabel(axis[1])
        ax.set_title("Interpolation paths in data space", fontsize=10)
        ax.legend(fontsize=6, ncol=2)
    section.figure(
        fig, "interpolation_strips", title="Interpolations between latent pairs",
        caption=f"{q} random latent pairs, each walked linearly ('lin') and along the great circle "
                f"('sph') in {STRIP_STEPS} steps of t. For images, each row is a path; for vectors, "
                "each line (solid linear, dashed spherical) is a path in data space over the grey "
                "samples. Gradual change is healthy; a sudden switch between two columns (or a long "
                "segment) is a jump; implausible middle images are holes in the latent space."
                + ("" if classes is None else " The GAN is conditional: each path keeps its "
                   "class label y (in its row name) from end to end."),
    )


def _smoothness_figure(section: ganlens.Section, values: np.ndarray, ppl: float,
                       ratios: np.ndarray, factor: float, space: str, eps: float, kind: str,
                       w_note: bool = False) -> None:
    fig, (ax1, ax2) = panels(2, 4.8, 3.6)
    logv = np.log10(np.clip(values, 1e-30, None))
    ax1.hist(logv, bins=30, color="tab:blue", alpha=0.8)
    if ppl > 0:
        ax1.axvline(np.log10(ppl), color="black", linestyle="--", label=f"PPL = {ppl:.3g}")
        ax1.legend(fontsize=7)
    ax1.set_xlabel(f"log10(squared {space} distance / eps^2)")
    ax1.set_ylabel("latent pairs")
    ax1.set_title(f"Path length per small step (eps = {eps:g})", fontsize=9)
    jump_histogram(ax2, ratios, factor)
    section.figure(
        fig, "interpolation_smoothness", title="Interpolation smoothness",
        caption=f"Left: for each random latent pair, the squared distance in the '{space}' feature "
                f"space between samples eps = {eps:g} apart along the {kind} path, over eps^2 (the "
                "perceptual path length of Karras et al. 2019); a long right tail means some places "
                "in the latent space change the output abruptly. Right: each path's largest step "
                "over its mean step (1: even change; the number of steps: all change in one "
                "step); paths right of the red line have a jump."
                + (" These paths are in z, the generator's input; the same statistics in W, the "
                   "mapping network's output, are in the figure 'w_interpolation_smoothness'."
                   if w_note else ""),
    )


def jump_histogram(ax: Any, ratios: np.ndarray, factor: float, where: str = "") -> None:
    """Each path's largest step over its mean step (log10), with the jump threshold:
    ``where`` names the space (" in W") when it is not z."""
    ax.hist(np.log10(np.clip(ratios, 1.0, None)), bins=30, color="tab:green", alpha=0.8)
    ax.axvline(np.log10(factor), color="red", linestyle="--", label=f"jump: > {factor:g}x mean step")
    ax.set_xlabel(f"log10(largest step / mean step) per path{where}")
    ax.set_ylabel("paths")
    ax.set_title(f"Largest step along each path{where}", fontsize=9)
    ax.legend(fontsize=7)
