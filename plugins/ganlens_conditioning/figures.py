"""The figures: the confusion matrix of the conditioning, the per-class collapse tests beside the
real baseline, and a grid of samples per class (images). matplotlib is imported inside the
ganlens.plotting helpers, never at import."""

from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganlens.images import display_images, make_grid
from ganlens.plotting import new_figure, show_image, wrapped_title

if TYPE_CHECKING:
    import ganlens

    from .verdict import CollapseResult, ConditioningResult

FAKE, REAL, BAD, OFF = "tab:blue", "tab:grey", "tab:red", "tab:orange"
GRID_COLUMNS = 10
MAX_GRID_ROWS = 20
MAX_ANNOTATED = 15


def add_figures(section: ganlens.Section, ctx: ganlens.AnalysisContext, x: torch.Tensor,
                y: torch.Tensor, k: int, names: list[str], cond: ConditioningResult | None,
                res: CollapseResult | None) -> None:
    if cond is not None:
        _confusion(section, cond)
    if res is not None:
        _collapse_bars(section, res)
    if ctx.gan.data.is_image:
        _sample_grid(section, ctx, x, y, k, names, cond, res)


def _ticks(names: list[str]) -> list[str]:
    return names if len(names) <= 30 else [n if i % 5 == 0 else "" for i, n in enumerate(names)]


def _confusion(section: ganlens.Section, cond: ConditioningResult) -> None:
    k = cond.k
    shares = cond.shares
    side = max(4.5, 0.42 * k + 2.5)
    fig, ax = new_figure(side + 1.0, side)
    im = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    if k <= MAX_ANNOTATED:
        for i in range(k):
            for j in range(k):
                v = shares[i, j]
                if v >= 0.005:
                    ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7,
                            color="white" if v > 0.6 else "black")
    ticks = np.arange(k)
    ax.set_xticks(ticks, _ticks(cond.names), fontsize=8 if k <= 20 else 6)
    ax.set_yticks(ticks, _ticks(cond.names), fontsize=8 if k <= 20 else 6)
    for y in cond.failures:
        ax.get_yticklabels()[y].set_color(BAD)
    ax.set_xlabel("predicted class (classifier)")
    ax.set_ylabel("conditioning class y")
    ax.set_title(f"Conditioning accuracy {cond.accuracy:.1%} (real ceiling "
                 f"{cond.real_accuracy:.1%})", fontsize=10)
    fig.colorbar(im, ax=ax, label="share of the row's samples", shrink=0.8)
    n = int(cond.counts[0].sum())
    section.figure(
        fig, "confusion_matrix", title="Conditioning: what each class's samples look like",
        caption=(f"Row y: the {n} samples generated for class y, column: the class the "
                 "classifier (trained on the real labels, cross-fitted) assigns them; each row sums "
                 "to 1. A perfect generator puts each row's mass on the diagonal, as far as the "
                 f"classifier's accuracy on real data allows ({cond.real_accuracy:.1%} overall). "
                 "A dark off-diagonal cell (y, c) means the samples asked for y look like c; a row "
                 "with its mass spread out means they look like no class in particular. Classes "
                 "named in red are conditioning failures."),
    )


def _collapse_bars(section: ganlens.Section, res: CollapseResult) -> None:
    cls = res.classes
    m = len(cls)
    fig, axes = new_figure(max(6.0, 0.45 * m + 2.5), 9.0, nrows=4, sharex=True)
    x = np.arange(m)
    w = 0.4

    z = NormalDist().inv_cdf(0.5 + cls[0].ratio.level / 2.0)

    def err(divs: list) -> np.ndarray:
        # ± the normal half-width at the intervals' level, from the jackknife standard errors
        return np.array([z * d.se for d in divs])

    div_f = np.array([c.diversity.mean for c in cls])
    div_r = np.array([c.diversity_baseline.mean for c in cls])
    ax = axes[0]
    ax.bar(x - w / 2, div_r, w, color=REAL, label="real holdout (baseline)",
           yerr=err([c.diversity_baseline for c in cls]), capsize=2, error_kw={"lw": 1})
    ax.bar(x + w / 2, div_f, w, color=FAKE, label="generated",
           yerr=err([c.diversity for c in cls]), capsize=2, error_kw={"lw": 1})
    ax.set_ylabel("mean pairwise\ndistance")
    top = float(np.nanmax(np.concatenate([div_f, div_r]))) if m else 1.0
    ax.set_ylim(0, 1.35 * top if top > 0 else 1.0)
    ax.legend(fontsize=7, loc="upper left", ncols=2)

    def pct_err(values: np.ndarray, n: np.ndarray) -> np.ndarray:
        return z * np.sqrt(np.clip(values * (1 - values), 0, None) / n)

    n = np.array([c.n for c in cls], dtype=float)
    for ax, key, label in ((axes[1], "duplicate_fraction", "share with a\nnear-duplicate"),
                           (axes[2], "coverage", "coverage of the\nreal class"),
                           (axes[3], "precision", "share on the\nreal class")):
        real = np.array([getattr(c, key + "_baseline") for c in cls])
        fake = np.array([getattr(c, key) for c in cls])
        ax.bar(x - w / 2, real, w, color=REAL, yerr=pct_err(real, n), capsize=2,
               error_kw={"lw": 1})
        ax.bar(x + w / 2, fake, w, color=FAKE, yerr=pct_err(fake, n), capsize=2,
               error_kw={"lw": 1})
        ax.set_ylabel(label)
        ax.set_ylim(0, 1.05)
    axes[3].set_xticks(x, _ticks([c.name for c in cls]), fontsize=8 if m <= 20 else 6)
    for i, c in enumerate(cls):
        if c.off_class:
            axes[3].get_xticklabels()[i].set_color(OFF)
        if c.fired:
            axes[3].get_xticklabels()[i].set_color(BAD)
            axes[0].annotate("collapsed", (x[i] + w / 2, div_f[i]), xytext=(0, 3),
                             textcoords="offset points", rotation=90, ha="center",
                             va="bottom", fontsize=7, color=BAD)
    axes[3].set_xlabel("conditioning class")
    wrapped_title(axes[0], f"Per class, generated beside real ({res.space} features): "
                           f"{len(res.collapsed)} of {m} classes collapsed", fontsize=10)
    section.figure(
        fig, "per_class_collapse", title="Per-class collapse: generated beside the real class",
        caption=(f"For each class, in the {res.space} feature space: the mean distance between "
                 "two of its generated samples (top), the share of them with a near-duplicate "
                 "(second), the share of the class's real reference they cover (third, Naeem et "
                 "al.'s coverage) and the share of them inside a real sample's k-NN ball (bottom, "
                 "precision), blue, beside n held-out real samples of the class scored the same "
                 "way, grey (what a perfect generator scores). Error bars: the jackknife (top) "
                 "and binomial (others) intervals. A collapsed class (red label) has a short "
                 "blue bar at the top, a tall one in the second row, or a short one in the third "
                 "with a normal one at the bottom. Short third and bottom bars (orange label) "
                 "mean samples off the real class: quality, not collapse. A class whose samples "
                 "are of another class also covers little of its own real class; the "
                 "conditioning figure tells them apart."),
    )


def _sample_grid(section: ganlens.Section, ctx: ganlens.AnalysisContext, x: torch.Tensor,
                 y: torch.Tensor, k: int, names: list[str], cond: ConditioningResult | None,
                 res: CollapseResult | None) -> None:
    rows = list(range(min(k, MAX_GRID_ROWS)))
    cols = min(GRID_COLUMNS, int((y == 0).sum()))
    images = torch.cat([x[y == c][:cols] for c in rows])
    images = display_images(images, ctx.gan.data.value_range)
    pad = max(1, images.shape[-1] // 8)
    grid = make_grid(images, nrow=cols, padding=pad)
    fig, ax = new_figure(0.6 * cols + 2.2, 0.6 * len(rows) + 0.9)
    show_image(ax, grid)
    step = images.shape[-2] + pad
    collapsed = {c.index for c in res.collapsed} if res is not None else set()
    for r, c in enumerate(rows):
        note = f"y={names[c]}"
        if cond is not None:
            note += f" ({cond.accuracy_per_class[c]:.0%})"
        bad = c in collapsed or (cond is not None and c in cond.failures)
        ax.text(-pad, pad + r * step + images.shape[-2] / 2, note, ha="right", va="center",
                fontsize=8, color=BAD if bad else "black")
    ax.set_title(f"Samples per conditioning class (first {cols} of each)", fontsize=9)
    shown = "" if k <= MAX_GRID_ROWS else f" The first {MAX_GRID_ROWS} of {k} classes are shown."
    acc = (" In brackets: the share of the class's samples the classifier labels as the class."
           if cond is not None else "")
    section.figure(
        fig, "samples_per_class", title="Samples per conditioning class",
        caption=(f"Row y: generated samples for class y.{acc} A row that shows another class is "
                 "mis-conditioned; a row of near-identical images is collapsed; labels in red are "
                 f"the classes the findings name.{shown}"),
    )
