"""The W space of a StyleGAN-like generator (z → mapping network → w → synthesis network).

Only for a GAN whose ``has_mapping`` is true; nothing here runs for other generators.

- **Statistics of w**: its dimension, the truncation ψ in use, the mean norm of w − w̄ and the
  norm of w̄ (w̄: ``gan.w_mean()``, the mean of 10,000 mapped latents).
- **Paths in W**: the pairs of the z-space statistics (same end points, labels, t and ε), their
  end points mapped to W and joined by straight lines, as Karras et al. (2019, section 4.2)
  define the perceptual path length in W (in z they use the great circle); the path length,
  jump fraction and strips in W, and the ratio of path length in W to that in z.
- **GANSpace in W** (Härkönen et al. 2020, who defined it there): PCA of w = mapping(z) for
  ``direction_samples`` latents; the principal directions are directions in W, edited with the
  synthesis network, each with its explained-variance ratio.
- **Truncation sweep**: for each ψ, w̄ + ψ (w − w̄) synthesised for the same latents; the
  diversity (mean pairwise distance in the feature space), and where measurable D's mean score
  and the distance to the nearest real sample: the fidelity/diversity trade-off.

The GAN's own ψ (``gan.truncation``) already applies to the shared pass; the W-space paths and
edits apply it too (w̄ + ψ (w − w̄) is affine, so it commutes with linear interpolation), so they
describe the samples the report shows. The sweep applies each ψ to the untruncated w.

Every pass through the mapping or the synthesis is counted as a generator pass.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

import ganlens
from ganlens.errors import FeatureUnavailable, InputError, OptionError
from ganlens.maths import interpolate, nearest, pca

from . import keys
from .directions import ALPHAS, describe
from .embedding import single_threaded
from .interpolation import (
    STRIP_STEPS,
    PathResult,
    Space,
    jump_histogram,
    ppl_from_features,
    resolve_space,
    step_ratios,
)
from .plots import image_rows, panels, path_figure, projector

SWEEP_SHOWN = 8
"""Samples per row of the truncation sweep's image grid."""


# -- counted passes through the mapping and the synthesis --------------------------------------

@contextlib.contextmanager
def counted(ctx: ganlens.AnalysisContext) -> Iterator[None]:
    """Count every call of the generator's forward inside the block (``gan.map``,
    ``gan.synthesize`` and ``gan.w_mean`` each run it) as one extra generator pass."""
    calls, samples = [0], [0]

    def pre(_m: nn.Module, inputs: tuple[Any, ...]) -> None:
        calls[0] += 1
        if inputs and isinstance(inputs[0], torch.Tensor) and inputs[0].ndim:
            samples[0] += int(inputs[0].shape[0])

    handle = ctx.gan.generator.register_forward_pre_hook(pre)
    try:
        yield
    finally:
        handle.remove()
        if calls[0]:
            ctx.record_pass("generator", calls[0], samples[0])


def map_latents(ctx: ganlens.AnalysisContext, z: torch.Tensor,
                labels: torch.Tensor | None = None) -> torch.Tensor:
    """w = mapping(z) (untruncated) for latents ``z`` (and their labels), in batches, without
    gradients; float32 on the CPU."""
    gan = ctx.gan
    z = z.reshape(len(z), *gan.latent.shape)
    outs = []
    with counted(ctx), torch.no_grad():
        for zb, yb in gan.paired_batches(z, labels, ctx.batch_size):
            outs.append(gan.map(zb, yb).float().cpu())
    return torch.cat(outs)


def synthesize(ctx: ganlens.AnalysisContext, w: torch.Tensor,
               labels: torch.Tensor | None = None) -> torch.Tensor:
    """The synthesis network's outputs for ``w`` (and labels), in batches, without gradients;
    float32 on the CPU, shaped like the data."""
    gan = ctx.gan
    outs = []
    with counted(ctx), torch.no_grad():
        for wb, yb in gan.paired_batches(w, labels, ctx.batch_size):
            outs.append(gan.synthesize(wb, yb).float().cpu())
    return torch.cat(outs) if outs else torch.empty((0, *gan.data.shape))


def w_bar(ctx: ganlens.AnalysisContext) -> torch.Tensor:
    """w̄ (``gan.w_mean()``, computed once per GAN), float32 on the CPU."""
    with counted(ctx):
        return ctx.gan.w_mean().detach().float().cpu()


def truncate(w: torch.Tensor, mean: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick: w̄ + ψ (w − w̄)."""
    return mean + psi * (w - mean)


def guarded(section: ganlens.Section, what: str):  # noqa: ANN201 - a context manager
    """Run a W-space part; a mapping network G never calls becomes an info note."""
    @contextlib.contextmanager
    def block() -> Iterator[None]:
        try:
            yield
        except InputError as exc:
            if isinstance(exc, OptionError):
                raise
            section.finding("info", f"W-space analysis ({what}) skipped: {exc}")
    return block()


# -- statistics of w -----------------------------------------------------------------------

def analyze_w_statistics(ctx: ganlens.AnalysisContext, section: ganlens.Section) -> None:
    """w's dimension, the ψ in use, and how far the shared pass's w lie from w̄."""
    gan = ctx.gan
    w = map_latents(ctx, ctx.latents, ctx.labels)
    mean = w_bar(ctx)
    flat = w.reshape(len(w), -1).double()
    offsets = (flat - mean.reshape(1, -1).double()).norm(dim=1)
    section.metric(keys.W_DIM, int(flat.shape[1]),
                   f"values per sample of w, the output of the mapping network '{gan.mapping}' "
                   f"(shape {tuple(w.shape[1:])})")
    section.metric(keys.W_TRUNCATION, float(gan.truncation),
                   "the truncation psi applied to every sample of this report: w -> w_bar + "
                   "psi (w - w_bar) (1: none)",
                   "1 shows G's full diversity; lower trades diversity for typical samples")
    section.metric(keys.W_OFFSET_NORM, float(offsets.mean()),
                   f"mean over the {len(w)} latents of the shared pass of |w - w_bar|, w = "
                   "mapping(z) before truncation, w_bar the mean of 10,000 mapped latents "
                   f"(after truncation: psi = {gan.truncation:g} times this)",
                   "the scale of W; compare with w.mean_norm")
    section.metric(keys.W_MEAN_NORM, float(mean.double().norm()), "|w_bar|, the norm of the mean w")


# -- paths in W ----------------------------------------------------------------------------

def analyze_w_paths(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any,
                    paths: PathResult) -> None:
    """Path length, jumps and strips along straight lines in W between the mapped end points
    of the z-space pairs; and the W / z path-length ratio."""
    gan = ctx.gan
    p, s, eps = len(paths.z0), opts.path_steps, opts.epsilon
    y_pairs = paths.labels
    y_ends = None if y_pairs is None else torch.cat([y_pairs, y_pairs])
    w_raw = map_latents(ctx, torch.cat([paths.z0, paths.z1]), y_ends)
    w_shape = tuple(w_raw.shape[1:])
    ends = truncate(w_raw, w_bar(ctx), gan.truncation).reshape(2 * p, -1)
    w0, w1 = ends[:p], ends[p:]
    t = paths.t
    ppl_w = interpolate(w0, w1, torch.stack([t, t + eps], 1), "linear")
    path_w = interpolate(w0, w1, torch.linspace(0, 1, s + 1).expand(p, -1), "linear")
    q = min(opts.strips, p)
    strip_w = interpolate(w0[:q], w1[:q], torch.linspace(0, 1, STRIP_STEPS).expand(q, -1),
                          "linear")
    d = ends.shape[1]
    w = torch.cat([ppl_w.reshape(-1, d), path_w.reshape(-1, d), strip_w.reshape(-1, d)])
    y = None if y_pairs is None else torch.cat([
        y_pairs.repeat_interleave(2), y_pairs.repeat_interleave(s + 1),
        y_pairs[:q].repeat_interleave(STRIP_STEPS)])
    x = synthesize(ctx, w.reshape(len(w), *w_shape), y)  # one batched pass
    n_ppl, n_path = 2 * p, p * (s + 1)
    space = paths.space
    feats = space.embed(x[: n_ppl + n_path]).float()
    pf = feats[:n_ppl].reshape(p, 2, -1)
    ppl, values = ppl_from_features(pf[:, 0], pf[:, 1], eps)
    ratios = step_ratios(feats[n_ppl:].reshape(p, s + 1, -1))
    jumps = ratios > opts.jump_factor

    within = "" if y_pairs is None else ", each pair at its class label y"
    section.metric(
        keys.W_PPL, ppl,
        f"perceptual path length in W: squared distance in the '{space.name}' feature space "
        f"between synthesis(w(t)) and synthesis(w(t + eps)), over eps^2, eps = {eps:g}, along "
        f"straight lines in W between w = mapping(z) of the {p} latent pairs of "
        f"interpolation.ppl (same pairs and t{within}; psi = {gan.truncation:g} applied); mean "
        "between the 1st and 99th percentiles (Karras et al. 2019 define PPL in W with lerp)",
        "lower is smoother; compare with interpolation.ppl (w.ppl_ratio) and between "
        "checkpoints in the same feature space",
    )
    section.metric(keys.W_PPL_EPSILON, eps, "the step eps of w.ppl (in t)")
    section.metric(
        keys.W_JUMP_FRACTION, float(jumps.mean()),
        f"fraction of the {p} straight paths in W (each in {s} equal steps of t) whose largest "
        f"step in the '{space.name}' feature space exceeds {opts.jump_factor:g} times the "
        "path's mean step",
        "near 0: samples morph gradually along lines in W",
    )
    section.metric(keys.W_STEP_RATIO_MEDIAN, float(np.median(ratios)),
                   "median over the paths in W of (largest step / mean step) in the feature space",
                   f"about 1 to 2 for smooth paths; {s} when all the change is in one step")
    ratio = ppl / paths.ppl if paths.ppl > 0 else None
    how = (f"w.ppl {ppl:.4g} (straight lines in W) against interpolation.ppl {paths.ppl:.4g} "
           f"({paths.kind} paths in z), the same {p} pairs, t and eps = {eps:g}, in the "
           f"'{space.name}' feature space")
    if ratio is not None:
        section.metric(
            keys.W_PPL_RATIO, ratio,
            "w.ppl / interpolation.ppl: the path length in W over that in z, measured on the "
            "same pairs, t, eps and feature space",
            "below 1: W is the smoother space, as expected of a disentangled intermediate "
            "latent space (Karras et al. 2019); above 1: z is smoother here",
        )
        verdict = ("shorter in W: W is the smoother space here, as expected of the mapping "
                   "network's intermediate latent space (Karras et al. 2019)" if ratio < 1 else
                   "not shorter in W: W is not the smoother space here")
        section.finding("info", f"path length in W is {ratio:.3g}x that in z ({how}): "
                                f"{verdict}", metric=keys.W_PPL_RATIO, value=ratio)
    else:
        section.finding("info", f"path length in W vs z not compared: the z path length is 0 "
                                f"({how})")
    _w_strip_figure(ctx, section, x[n_ppl + n_path:], q, None if y_pairs is None else y_pairs[:q])
    _w_smoothness_figure(section, paths, values, ppl, ratios, opts.jump_factor, eps)


def _w_strip_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section, x: torch.Tensor,
                    q: int, classes: torch.Tensor | None) -> None:
    gan = ctx.gan
    labels = [f"W lin {i + 1}" for i in range(q)]
    if classes is not None:
        labels = [f"{lab} y={int(classes[i])}" for i, lab in enumerate(labels)]
    title = "Interpolations in W: w(t) = (1 - t) w0 + t w1, w = mapping(z)"
    if gan.data.is_image:
        cols = [f"{v:.2g}" for v in np.linspace(0, 1, STRIP_STEPS)]
        fig = image_rows(x, gan.data.value_range, labels, cols, title=title,
                         xlabel="interpolation t in W")
    else:
        fig = path_figure(ctx.fakes, x, q, STRIP_STEPS, labels, list(range(q)),
                          title="Interpolation paths in W, shown in data space")
    section.figure(
        fig, "w_interpolation_strips", title="Interpolations in W (straight lines)",
        caption=f"The first {q} latent pairs of the z-space strips, mapped to W by the mapping "
                f"network '{gan.mapping}' and joined by a straight line in W, in {STRIP_STEPS} "
                "steps of t, each step synthesised from its w. For images each row is a path; "
                "for vectors each line is a path in data space over the grey samples. Compare "
                "with the z-space strips ('interpolation_strips'): smoother, more plausible "
                "middle samples in W mean W is the better organised space."
                + (f" The truncation psi = {gan.truncation:g} is applied."
                   if gan.truncation != 1 else "")
                + ("" if classes is None else " Each path keeps its class label y."),
    )


def _w_smoothness_figure(section: ganlens.Section, paths: PathResult, values: np.ndarray,
                         ppl: float, ratios: np.ndarray, factor: float, eps: float) -> None:
    fig, (ax1, ax2, ax3) = panels(3, 4.4, 3.6)
    zlog = np.log10(np.clip(paths.values, 1e-30, None))
    wlog = np.log10(np.clip(values, 1e-30, None))
    bins = np.histogram_bin_edges(np.concatenate([zlog, wlog]), bins=30)
    ax1.hist(zlog, bins=bins, color="tab:blue", alpha=0.55, label=f"z ({paths.kind})")
    ax1.hist(wlog, bins=bins, color="tab:orange", alpha=0.55, label="W (linear)")
    for value, colour in ((paths.ppl, "tab:blue"), (ppl, "tab:orange")):
        if value > 0:
            ax1.axvline(np.log10(value), color=colour, linestyle="--")
    ax1.set_xlabel(f"log10(squared {paths.space.name} distance / eps^2)")
    ax1.set_ylabel("latent pairs")
    ax1.set_title(f"Path length per small step, z vs W (eps = {eps:g})", fontsize=9)
    ax1.legend(fontsize=7)
    ax2.scatter(zlog, wlog, s=8, color="tab:purple", alpha=0.7)
    lo, hi = float(min(zlog.min(), wlog.min())), float(max(zlog.max(), wlog.max()))
    ax2.plot([lo, hi], [lo, hi], color="black", linestyle=":", label="equal")
    ax2.set_xlabel(f"log10 path length in z ({paths.kind})")
    ax2.set_ylabel("log10 path length in W (linear)")
    ax2.set_title("Each pair: W against z", fontsize=9)
    ax2.legend(fontsize=7)
    jump_histogram(ax3, ratios, factor, " in W")
    section.figure(
        fig, "w_interpolation_smoothness", title="Interpolation smoothness in W and in z",
        caption=f"Left: for each latent pair, the squared distance in the '{paths.space.name}' "
                f"feature space between samples eps = {eps:g} apart along the path, over eps^2 "
                f"(the perceptual path length of Karras et al. 2019): blue along the {paths.kind} "
                "path in z, orange along the straight line in W between the same pairs' mapped "
                "end points; dashed lines mark each space's PPL. Middle: each pair's W value "
                "against its z value; points below the dotted line are shorter in W. Right: each "
                "path in W's largest step over its mean step; paths right of the red line jump.",
    )


# -- GANSpace in W ---------------------------------------------------------------------------

def w_ganspace(w: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """GANSpace in W: the top ``k`` principal directions (k, d) of the rows of ``w`` (n, ...),
    their explained-variance ratios (k,) and the standard deviation of w along each (k,)."""
    with single_threaded():
        fit = pca(w.reshape(len(w), -1), k)
    sds = (fit.variances / max(len(w) - 1, 1)).sqrt()
    return fit.components.float(), fit.explained_ratio.float(), sds.float()


def analyze_w_directions(ctx: ganlens.AnalysisContext, section: ganlens.Section,
                         opts: Any) -> None:
    """PCA of w = mapping(z), with strips that edit w along each direction."""
    n = max(opts.direction_samples, 2)
    z = ctx.latents_for(n, "latent/w-directions")
    y = ctx.labels_for(n, "latent/w-directions")
    w = map_latents(ctx, z, y)
    w_shape = tuple(w.shape[1:])
    d = int(np.prod(w_shape))
    k = min(opts.directions, d, n)
    vectors, shares, sds = w_ganspace(w, k)
    section.metric(
        keys.W_GANSPACE_VARIANCE, float(shares.sum()),
        f"share of the variance of w = mapping(z) ({d} values, {n} latents"
        + ("" if y is None else " with uniform class labels")
        + f") along its top {k} principal components (GANSpace in W, Härkönen et al. 2020)",
        "high: a few directions of W explain most of its variation; about k/d: W varies alike "
        "in every direction",
    )
    section.metric(keys.W_GANSPACE_TOP, float(shares[0]),
                   "explained-variance ratio of W's first principal component")
    section.table(
        "w_directions", "GANSpace directions in W",
        ["rank", "explained variance ratio", "sd of w along it", "largest w coordinates"],
        [[j + 1, round(float(shares[j]), 4), round(float(sds[j]), 4), describe(vectors[j], space="w")]
         for j in range(k)],
        caption=f"The top {k} principal directions of w = mapping(z) for {n} latents (the "
                "directions in W that GANSpace edits along), each with its share of w's "
                "variance, w's standard deviation along it, and the coordinates of W it moves "
                "most.",
    )
    _w_direction_strips(ctx, section, opts, w, y, vectors, sds, shares)


def _w_direction_strips(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any,
                        w: torch.Tensor, y: torch.Tensor | None, vectors: torch.Tensor,
                        sds: torch.Tensor, shares: torch.Tensor) -> None:
    gan = ctx.gan
    w_shape = tuple(w.shape[1:])
    bases = w[: max(1, opts.strips)].reshape(-1, vectors.shape[1])
    base_y = None if y is None else y[: len(bases)]
    alphas = torch.tensor(ALPHAS)
    batches, names, classes = [], [], []
    for j, v in enumerate(vectors):
        for b, base in enumerate(bases):
            batches.append(base + alphas[:, None] * float(sds[j]) * v)
            names.append(f"W PC {j + 1} / base {b + 1}")
            if base_y is not None:
                classes.append(base_y[b].expand(len(alphas)))
    edits = truncate(torch.cat(batches), w_bar(ctx).reshape(1, -1), gan.truncation)
    yy = torch.cat(classes) if classes else None
    x = synthesize(ctx, edits.reshape(len(edits), *w_shape), yy)  # one batched pass
    per = len(ALPHAS)
    title = "GANSpace directions in W: each row moves one base w from -3 to +3 sd"
    if gan.data.is_image:
        if base_y is not None:
            names = [f"{name} (y={int(base_y[i % len(bases)])})" for i, name in enumerate(names)]
        fig = image_rows(x, gan.data.value_range, names, [f"{a:+g} sd" for a in ALPHAS],
                         title=title, xlabel="step along the direction in W (in sd of w along it)")
    else:
        fig = path_figure(ctx.fakes, x, len(names), per,
                          [name if i % len(bases) == 0 else None for i, name in enumerate(names)],
                          [i // len(bases) for i in range(len(names))],
                          title="GANSpace directions in W: paths from -3 sd (x) to +3 sd")
    section.figure(
        fig, "w_directions_ganspace", title="GANSpace directions in W (+-3 sd)",
        caption="Rows 'W PC j / base b': base w = mapping(z) number b moved along W's principal "
                "direction j (its explained-variance ratio: "
                + ", ".join(f"PC {j + 1} {float(s):.2f}" for j, s in enumerate(shares))
                + ") in steps of one standard deviation of w along it, from -3 (left) to +3 "
                "(right), each step synthesised by the synthesis network; the middle column is "
                "the base sample. A direction that changes one property consistently across "
                "bases is an interpretable edit in W."
                + (f" Each edited w is then truncated with psi = {gan.truncation:g}, as every "
                   "sample of this report." if gan.truncation != 1 else ""),
    )


# -- the truncation sweep --------------------------------------------------------------------

def sweep_psis(opts: Any, in_use: float) -> list[float]:
    """The ψ of the sweep, with the GAN's own, largest first."""
    return sorted({float(v) for v in opts.truncation_psis} | {float(in_use)}, reverse=True)


def mean_pairwise_distance(f: torch.Tensor) -> float:
    """Mean Euclidean distance over all pairs of rows (0 for fewer than 2)."""
    if len(f) < 2:
        return 0.0
    return float(torch.pdist(f.reshape(len(f), -1).double()).mean())


def _sweep_space(ctx: ganlens.AnalysisContext, section: ganlens.Section, name: str) -> Space:
    try:
        return resolve_space(ctx, name)
    except FeatureUnavailable as exc:
        section.finding("info", f"truncation sweep: feature space {name!r} is unavailable "
                                f"({exc}); diversity is measured on the data values")
        return Space("pixels", "the data values, flattened",
                     lambda x: x.reshape(len(x), -1).float())


def _real_features(ctx: ganlens.AnalysisContext, space: Space) -> torch.Tensor | None:
    if ctx.real is None:
        return None
    registry = ctx.host.feature_spaces if ctx.host is not None else {}
    if space.name in registry:
        try:
            return ctx.features(space.name).real
        except FeatureUnavailable:
            return None
    return space.embed(ctx.real.x)


def analyze_truncation(ctx: ganlens.AnalysisContext, section: ganlens.Section,
                       opts: Any) -> None:
    """Diversity (and, where measurable, fidelity) of the same latents at several ψ."""
    gan = ctx.gan
    psis = sweep_psis(opts, gan.truncation)
    n = opts.truncation_samples
    z = ctx.latents_for(n, "latent/truncation")
    y = ctx.labels_for(n, "latent/truncation")
    w = map_latents(ctx, z, y)
    mean = w_bar(ctx)
    ws = torch.cat([truncate(w, mean, psi) for psi in psis])
    ys = None if y is None else y.repeat(len(psis))
    x = synthesize(ctx, ws, ys)  # one batched pass
    space = _sweep_space(ctx, section, opts.features)
    feats = space.embed(x).float().reshape(len(psis), n, -1)
    diversity = [mean_pairwise_distance(f) for f in feats]
    d_scores = None
    if gan.has_discriminator:
        scores = ctx.discriminate(x, labels=ys if gan.d_conditional else None)
        d_scores = [float(v) for v in scores.reshape(len(psis), n).double().mean(1)]
    reals = _real_features(ctx, space)
    near = None
    if reals is not None and len(reals):
        reals = reals.reshape(len(reals), -1).float()
        near = [float(nearest(f, reals)[0][:, 0].double().mean()) for f in feats]
    top = diversity[0]
    for i, psi in enumerate(psis):
        section.metric(
            keys.diversity_key(psi), diversity[i],
            f"mean pairwise distance in the '{space.name}' feature space between {n} samples "
            f"synthesised from w_bar + {psi:g} (w - w_bar), w = mapping(z)",
            "falls as psi falls: truncation trades diversity for typical samples",
        )
        if d_scores is not None:
            section.metric(keys.d_score_key(psi), d_scores[i],
                           f"D's mean logit on the {n} samples at psi = {psi:g}",
                           "higher: D finds them more real (a proxy for fidelity)")
        if near is not None:
            section.metric(keys.nearest_real_key(psi), near[i],
                           f"mean distance in the '{space.name}' feature space from the {n} "
                           f"samples at psi = {psi:g} to their nearest real sample",
                           "lower: samples lie closer to real data (a proxy for fidelity)")
    ratio = diversity[-1] / top if top > 0 else float("nan")
    section.metric(
        keys.TRUNCATION_DIVERSITY_RATIO, ratio,
        f"diversity at psi = {psis[-1]:g} over diversity at psi = {psis[0]:g} (same latents)",
        "1: truncation does not reduce diversity; near 0: the truncated samples are nearly one",
    )
    rows = []
    for i, psi in enumerate(psis):
        row: list[Any] = [f"{psi:g}" + (" (in use)" if psi == gan.truncation else ""),
                          round(diversity[i], 4),
                          round(diversity[i] / top, 3) if top > 0 else None]
        if d_scores is not None:
            row.append(round(d_scores[i], 4))
        if near is not None:
            row.append(round(near[i], 4))
        rows.append(row)
    columns = ["psi", f"diversity ({space.name})", f"relative to psi = {psis[0]:g}"]
    if d_scores is not None:
        columns.append("D mean logit")
    if near is not None:
        columns.append(f"distance to nearest real ({space.name})")
    section.table(
        "truncation_sweep", "Truncation sweep: diversity and fidelity by psi", columns, rows,
        caption=f"The same {n} latents, each w = mapping(z) truncated to w_bar + psi (w - w_bar) "
                "and synthesised. Diversity is the mean pairwise distance between the samples; "
                "D's mean logit and the distance to the nearest real sample, where shown, "
                "measure fidelity. '(in use)' marks the psi of this report's samples.",
    )
    _truncation_figure(ctx, section, psis, diversity, d_scores, near, space.name, n)
    _truncation_samples_figure(ctx, section, x, psis, n)


def _truncation_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section,
                       psis: list[float], diversity: list[float], d_scores: list[float] | None,
                       near: list[float] | None, space: str, n: int) -> None:
    fidelity = [(vals, label) for vals, label in
                ((d_scores, "D mean logit (higher: more real to D)"),
                 (near, f"distance to nearest real ({space}; lower: closer)"))
                if vals is not None]
    fig, axes = panels(1 + len(fidelity), 4.4, 3.6)
    ax = axes[0]
    ax.plot(psis, diversity, "o-", color="tab:blue")
    in_use = ctx.gan.truncation
    for a in axes:
        a.axvline(in_use, color="grey", linestyle=":", label=f"psi in use = {in_use:g}")
        a.set_xlabel("truncation psi (w_bar + psi (w - w_bar))")
        a.invert_xaxis()
    ax.set_ylabel(f"mean pairwise distance ({space})")
    ax.set_title("Diversity by truncation psi", fontsize=9)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    for a, (vals, label) in zip(axes[1:], fidelity):
        a.plot(psis, vals, "s-", color="tab:red")
        a.set_ylabel(label, fontsize=8)
        a.set_title("Fidelity by truncation psi", fontsize=9)
    section.figure(
        fig, "truncation_tradeoff", title="Truncation in W: the fidelity/diversity trade-off",
        caption=f"The same {n} latents synthesised from w truncated towards the mean w_bar "
                "(Karras et al. 2019's truncation trick), psi decreasing to the right. Left: "
                f"diversity, the mean pairwise distance between the samples in the '{space}' "
                "feature space (0: every sample is G(w_bar)). "
                + ("Other panels: fidelity measured as D's mean logit and/or the distance to the "
                   "nearest real sample. " if fidelity else
                   "Fidelity is not shown: it needs a discriminator or real data. ")
                + "Lower psi usually buys typical, cleaner samples at the cost of diversity; the "
                  "dotted line is the psi of this report's samples.",
    )


def _truncation_samples_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section,
                               x: torch.Tensor, psis: list[float], n: int) -> None:
    gan = ctx.gan
    m = min(SWEEP_SHOWN, n)
    if gan.data.is_image:
        shown = torch.cat([x[i * n: i * n + m] for i in range(len(psis))])
        fig = image_rows(shown, gan.data.value_range, [f"psi = {p:g}" for p in psis],
                         [str(j + 1) for j in range(m)],
                         title="The same latents at each truncation psi", xlabel="latent")
        how = f"the first {m} latents of the sweep (columns) at each psi (rows)"
    else:
        proj, axis = projector(ctx.fakes)
        fig, (ax,) = panels(1, 5.5, 4.8)
        for i, psi in enumerate(psis):
            pts = proj(x[i * n: (i + 1) * n])
            ax.scatter(pts[:, 0], pts[:, 1], s=5, color=f"C{i}", alpha=0.6, label=f"psi = {psi:g}")
        ax.set_xlabel(axis[0])
        ax.set_ylabel(axis[1])
        ax.set_title("Samples at each truncation psi", fontsize=9)
        ax.legend(fontsize=7)
        how = f"all {n} samples of the sweep at each psi (one colour each)"
    section.figure(
        fig, "truncation_samples", title="Samples at each truncation psi",
        caption=f"{how[0].upper()}{how[1:]}, synthesised from w_bar + psi (w - w_bar). As psi "
                "falls the samples converge on G(w_bar), the average sample: less diverse, often "
                "cleaner.",
    )


def skip_note(section: ganlens.Section) -> None:
    """For a generator without a mapping network, when the truncation sweep was asked for."""
    section.finding("info", "truncation sweep skipped: the generator has no mapping network "
                            "(give --mapping MODULE for a StyleGAN-like generator)")

