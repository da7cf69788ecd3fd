"""Conditional GANs: how G(z, y) changes with z inside a class and with the class at a fixed z.

Two views, only for a conditional generator:

- **within a class**: y held fixed while z walks from z_a to z_b (the path kind of the
  interpolation statistics); how much the output changes per step of t;
- **between classes**: z held fixed while y switches from class a to class b. Class indices
  have no path between them (an embedding table has no meaning between its rows), so the view
  shows the same z under each class; for one-hot labels the one-hot vector is also
  interpolated, (1 - t) e_a + t e_b, which G accepts as it is a linear input.

Changes are measured on the data values themselves (root mean square difference per value), so
the numbers need no feature space and have a known answer: a G that ignores z gives exactly 0
within a class.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

import ganlens
from ganlens.maths import interpolate

from . import keys
from .interpolation import STRIP_STEPS, path_kind, step_ratios
from .plots import image_rows, panels, path_figure, projector
from .views import class_names

MAX_CLASSES = 10
"""At most this many classes in the figures (evenly spaced over the classes)."""
IGNORES = 20.0
"""``conditional.class_to_latent_ratio`` above this: G ignores z within a class; below its
inverse: G ignores the label. Either is reported as a warning."""
SOFT_TOLERANCE = 1e-4
"""The one-hot interpolation is kept only when its end points match G's own forward pass to
this fraction of the data range."""


def rms(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Root mean square difference per value, per sample (data units)."""
    return ((a.reshape(len(a), -1).double() - b.reshape(len(b), -1).double()) ** 2).mean(1).sqrt()


def path_step_changes(x: torch.Tensor) -> torch.Tensor:
    """For paths (P, S, ...): the RMS change of each of the S - 1 steps, (P, S - 1)."""
    p, s = x.shape[:2]
    flat = x.reshape(p, s, -1).double()
    return ((flat[:, 1:] - flat[:, :-1]) ** 2).mean(2).sqrt()


def shown_classes(k: int) -> list[int]:
    """Up to MAX_CLASSES class indices, evenly spaced from 0 to k - 1."""
    if k <= MAX_CLASSES:
        return list(range(k))
    return sorted({int(round(v)) for v in np.linspace(0, k - 1, MAX_CLASSES)})


def _name(names: list[str] | None, c: int) -> str:
    return names[c] if names is not None else str(c)


def analyze_conditional(ctx: ganlens.AnalysisContext, section: ganlens.Section,
                        opts: Any) -> None:
    """The within-class and between-class views, their metrics and findings."""
    gan = ctx.gan
    k = gan.require_classes()
    kind = path_kind(opts.interpolation, gan)
    p, steps = opts.paths, STRIP_STEPS
    d = gan.latent.dim
    ends = ctx.latents_for(2 * p, "latent/conditional").reshape(2 * p, -1).float()
    z0, z1 = ends[:p], ends[p:]
    ya = ctx.labels_for(p, "latent/conditional")
    yb = (ya + torch.randint(1, k, (p,), generator=ctx.rng("latent/conditional-other"))) % k
    t = torch.linspace(0, 1, steps)
    within_z = interpolate(z0, z1, t.expand(p, -1), kind)  # (P, S, D)
    classes = shown_classes(k)
    q = min(opts.strips, p)
    # Figures: the first pair's path under each shown class; the first q latents under each.
    fig_within_z = within_z[0].repeat(len(classes), 1)
    fig_within_y = torch.tensor(classes).repeat_interleave(steps)
    sweep_z = z0[:q].repeat_interleave(len(classes), 0)
    sweep_y = torch.tensor(classes).repeat(q)
    z = torch.cat([within_z.reshape(-1, d), z0, z0, fig_within_z, sweep_z])
    y = torch.cat([ya.repeat_interleave(steps), ya, yb, fig_within_y, sweep_y])
    x = ctx.generate(z.reshape(len(z), *gan.latent.shape), labels=y)  # one batched pass
    n1, n2 = p * steps, p * steps + p
    x_within = x[:n1].reshape(p, steps, *gan.data.shape)
    x_a, x_b = x[n1:n2], x[n2 : n2 + p]
    x_fig_within = x[n2 + p : n2 + p + len(fig_within_z)]
    x_sweep = x[n2 + p + len(fig_within_z) :]

    within_step = float(path_step_changes(x_within).mean())
    within = float(rms(x_within[:, 0], x_within[:, -1]).mean())
    between = float(rms(x_a, x_b).mean())
    ratio = between / within if within > 0 else (math.inf if between > 0 else math.nan)
    how = "root mean square difference per data value (data units)"
    section.metric(
        keys.COND_WITHIN_STEP, within_step,
        f"mean change per step of t along {p} {kind} paths z(t) from z_a to z_b in {steps - 1} "
        f"equal steps, each at one fixed class label y (G(z(t), y)); {how}",
        "0: G ignores z inside a class (every latent makes the same sample of the class)")
    section.metric(
        keys.COND_WITHIN, within,
        f"mean change from G(z_a, y) to G(z_b, y): two random latents, one class ({p} pairs; {how})",
        "how much of the output z controls at a fixed class")
    section.metric(
        keys.COND_BETWEEN, between,
        f"mean change from G(z, a) to G(z, b): one latent, two different random classes a and b "
        f"({p} latents; {how})", "how much of the output the class label controls at a fixed z")
    onehot = gan.label_format == "onehot"
    soft = _soft_paths(ctx, section, z0, ya, yb, x_a, x_b, steps) if onehot else None
    section.metric(
        keys.COND_BETWEEN_STEP,
        float(path_step_changes(soft).mean()) if soft is not None else between,
        (f"mean change per step of t as the one-hot label goes from e_a to e_b, "
         f"(1 - t) e_a + t e_b, at a fixed z, in {steps - 1} equal steps ({how})" if soft is not None
         else "mean change per class switch at a fixed z: class indices have no path between "
              "them, so this is one step from class a to class b and equals "
              f"{keys.COND_BETWEEN} ({how})"),
        f"compare with {keys.COND_WITHIN_STEP}")
    section.metric(
        keys.COND_RATIO, ratio,
        f"{keys.COND_BETWEEN} / {keys.COND_WITHIN}: how much more the class changes the output "
        "than the latent does",
        f"between 1/{IGNORES:g} and {IGNORES:g}: both inputs matter; above {IGNORES:g}: G ignores z "
        f"within a class (intra-class mode collapse); below 1/{IGNORES:g}: G ignores the label")
    if soft is not None:
        section.metric(keys.COND_LABEL_STEP_RATIO, float(np.median(step_ratios(soft))),
                       "median over the one-hot label paths of (largest step / mean step) of the "
                       "data values",
                       f"about 1 to 2: the class morphs gradually; {steps - 1}: it switches at "
                       "once")
    if ratio > IGNORES:
        section.finding("warning", f"the generator barely uses z within a class: changing the "
                                   f"class moves the output {ratio:.3g}x more than changing z "
                                   f"({keys.COND_RATIO} > {IGNORES:g}); every latent makes "
                                   "nearly the same sample of its class (intra-class mode "
                                   "collapse)", metric=keys.COND_RATIO, value=ratio,
                        threshold=IGNORES)
    elif ratio < 1 / IGNORES:
        how = ("changing the class does not change the output at all" if ratio == 0 else
               f"changing z moves the output {1 / ratio:.3g}x more than changing the class")
        section.finding("warning", f"the generator barely uses its class label: {how} "
                                   f"({keys.COND_RATIO} < {1 / IGNORES:g}); the conditioning is "
                                   "ignored", metric=keys.COND_RATIO, value=ratio,
                        threshold=1 / IGNORES)
    names = class_names(ctx)
    _within_figure(ctx, section, x_fig_within, classes, names, kind, k, steps)
    if q > 0:
        _between_figure(ctx, section, x_sweep, classes, names, q, k)
    if soft is not None and q > 0:
        _soft_figure(ctx, section, soft[:q], ya[:q], yb[:q], names, steps)


# ---------------------------------------------------------------------------------------------
# One-hot labels: interpolating the label itself
# ---------------------------------------------------------------------------------------------


def _soft_forward(ctx: ganlens.AnalysisContext, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """G on latents ``z`` with soft one-hot labels ``y`` (P, K), batched without gradients, the
    output read as :meth:`ganlens.GAN.forward` reads it; counted as an extra pass."""
    gan = ctx.gan
    bs = ctx.batch_size
    outs = []
    with torch.no_grad():
        for start in range(0, len(z), bs):
            zb = z[start : start + bs].to(gan.device).reshape(-1, *gan.latent.shape)
            raw = gan.generator(zb, y[start : start + bs].to(gan.device).float())
            if isinstance(raw, dict):
                raw = raw[gan.output_select] if gan.output_select is not None else \
                    next(v for v in raw.values() if isinstance(v, torch.Tensor))
            elif isinstance(raw, (tuple, list)):
                raw = raw[gan.output_select if isinstance(gan.output_select, int) else 0]
            if gan.output_channels_last and raw.ndim == 4:
                raw = raw.permute(0, 3, 1, 2)
            outs.append(raw.reshape(len(zb), *gan.data.shape).float().cpu())
    ctx.record_pass("generator", -(-len(z) // bs), len(z))
    return torch.cat(outs)


def _soft_paths(ctx: ganlens.AnalysisContext, section: ganlens.Section, z0: torch.Tensor,
                ya: torch.Tensor, yb: torch.Tensor, x_a: torch.Tensor, x_b: torch.Tensor,
                steps: int) -> torch.Tensor | None:
    """(P, S, *data) outputs along (1 - t) e_a + t e_b at z0, or None (with a finding) when
    G's end points do not match its own forward pass."""
    gan = ctx.gan
    k = gan.require_classes()
    p = len(z0)
    t = torch.linspace(0, 1, steps)
    ea = torch.nn.functional.one_hot(ya.long(), k).float()
    eb = torch.nn.functional.one_hot(yb.long(), k).float()
    y = ((1 - t)[None, :, None] * ea[:, None] + t[None, :, None] * eb[:, None]).reshape(-1, k)
    try:
        x = _soft_forward(ctx, z0.repeat_interleave(steps, 0), y).reshape(p, steps, *gan.data.shape)
    except Exception as exc:  # noqa: BLE001 - a generator that refuses soft labels
        section.finding("info", f"the one-hot label could not be interpolated ({exc}): the "
                                "between-class view shows the class switch only")
        return None
    lo, hi = gan.data.value_range
    gap = max(float((x[:, 0] - x_a).abs().max()), float((x[:, -1] - x_b).abs().max()))
    if gap > SOFT_TOLERANCE * (hi - lo):
        section.finding("info", f"the one-hot label could not be interpolated: G's outputs at "
                                f"the hard labels differ from its own forward pass by {gap:.3g}; "
                                "the between-class view shows the class switch only")
        return None
    return x


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def _within_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section, x: torch.Tensor,
                   classes: list[int], names: list[str] | None, kind: str, k: int,
                   steps: int) -> None:
    gan = ctx.gan
    rows = [f"y = {_name(names, c)}" for c in classes]
    which = f"all {k} classes" if len(classes) == k else f"{len(classes)} of the {k} classes"
    if gan.data.is_image:
        fig = image_rows(x, gan.data.value_range, rows,
                         [f"{v:.2g}" for v in np.linspace(0, 1, steps)],
                         title="Within a class: z(t) from z_a (t = 0) to z_b (t = 1), y fixed per row",
                         xlabel=f"interpolation t ({kind} path in z)")
        fig.axes[0].set_ylabel("conditioning class y (fixed along the row)")
        how = ("Each row walks the same latent path from z_a (left) to z_b (right) with the class "
               "label y held fixed; each column is one latent under every class.")
    else:
        fig = path_figure(ctx.fakes, x, len(classes), steps, rows, list(range(len(classes))),
                          title="Within a class: G(z(t), y) from z_a (x) to z_b, one line per "
                                "class")
        how = ("Each line is the same latent path from z_a (cross) to z_b in data space, with the "
               "class label y held fixed along it, over the grey samples.")
    section.figure(
        fig, "conditional_within_class", title="Interpolation within a class (y fixed, z moves)",
        caption=f"{how} Shown: {which}. What changes along a row is what z controls inside a "
                "class (style, thickness, slant): gradual change is healthy; rows that do not "
                "change mean G ignores z for that class (intra-class mode collapse, "
                f"{keys.COND_WITHIN_STEP} near 0); a sample that leaves its class mid-row means "
                "the label does not hold the class.",
    )


def _between_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section, x: torch.Tensor,
                    classes: list[int], names: list[str] | None, q: int, k: int) -> None:
    gan = ctx.gan
    cols = [_name(names, c) for c in classes]
    which = f"all {k} classes" if len(classes) == k else f"{len(classes)} of the {k} classes"
    if gan.data.is_image:
        fig = image_rows(x, gan.data.value_range, [f"z {i + 1}" for i in range(q)], cols,
                         title="Between classes: z fixed per row, class y switched across columns",
                         xlabel="conditioning class y")
        fig.axes[0].set_ylabel("latent z (fixed along the row)")
        how = ("Each row holds one latent z fixed and switches the class label y from column to "
               "column.")
    else:
        proj, axis = projector(ctx.fakes)
        fig, (ax,) = panels(1, 5.5, 4.8)
        bg = proj(ctx.fakes[:1000])
        ax.scatter(bg[:, 0], bg[:, 1], s=3, color="lightgrey")
        pts = proj(x).reshape(q, len(classes), 2)
        for i in range(q):
            ax.plot(pts[i, :, 0], pts[i, :, 1], ":", color="grey", linewidth=0.8)
            for j in range(len(classes)):
                ax.scatter(pts[i, j, 0], pts[i, j, 1], s=18, color=f"C{j % 10}",
                           label=f"y = {cols[j]}" if i == 0 else None)
        ax.set_xlabel(axis[0])
        ax.set_ylabel(axis[1])
        ax.set_title("Between classes: G(z, y) for each class, dotted line joins one z",
                     fontsize=9)
        ax.legend(fontsize=6, ncol=2)
        how = ("Each dotted line joins the outputs of one fixed latent z under every class "
               "(coloured by class), over the grey samples.")
    section.figure(
        fig, "conditional_between_classes",
        title="Between classes at a fixed latent (z fixed, y switched)",
        caption=f"{how} Shown: {which}. Class indices have no path between them, so the label "
                "is switched, not interpolated. In a well-conditioned GAN each column looks like "
                "its class while a row keeps what z controls (the same style in every class); "
                "a row that stays the same across the columns means G ignores the label, columns "
                f"that look alike in every row mean z does nothing ({keys.COND_RATIO}).",
    )


def _soft_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section, x: torch.Tensor,
                 ya: torch.Tensor, yb: torch.Tensor, names: list[str] | None, steps: int) -> None:
    gan = ctx.gan
    q = len(x)
    rows = [f"{_name(names, int(a))} -> {_name(names, int(b))}" for a, b in zip(ya, yb)]
    if gan.data.is_image:
        fig = image_rows(x.reshape(q * steps, *gan.data.shape), gan.data.value_range, rows,
                         [f"{v:.2g}" for v in np.linspace(0, 1, steps)],
                         title="One-hot label interpolation: y(t) = (1 - t) e_a + t e_b, z fixed",
                         xlabel="interpolation t of the one-hot label")
        fig.axes[0].set_ylabel("class a -> class b (one z per row)")
        how = "Each row holds one latent z fixed while the one-hot label goes from class a " \
              "(left) to class b (right)."
    else:
        proj, axis = projector(ctx.fakes)
        fig, (ax,) = panels(1, 5.5, 4.8)
        bg = proj(ctx.fakes[:1000])
        ax.scatter(bg[:, 0], bg[:, 1], s=3, color="lightgrey")
        pts = proj(x.reshape(q * steps, *gan.data.shape)).reshape(q, steps, 2)
        for i in range(q):
            ax.plot(pts[i, :, 0], pts[i, :, 1], "-", marker=".", color=f"C{i % 10}",
                    label=rows[i])
            ax.plot(pts[i, 0, 0], pts[i, 0, 1], "x", color=f"C{i % 10}")
        ax.set_xlabel(axis[0])
        ax.set_ylabel(axis[1])
        ax.set_title("One-hot label interpolation at a fixed z (x: class a)", fontsize=9)
        ax.legend(fontsize=6)
        how = "Each line is one fixed latent z while the one-hot label goes from class a " \
              "(cross) to class b."
    section.figure(
        fig, "conditional_label_interpolation",
        title="Interpolating the one-hot class label (z fixed)",
        caption=f"{how} The middle columns feed G a mixture of two labels it never saw in "
                "training: a gradual morph means G's classes share a smooth structure; an abrupt "
                f"switch ({keys.COND_LABEL_STEP_RATIO} near {steps - 1}) or implausible middle "
                "samples mean the classes are separate islands.",
    )
