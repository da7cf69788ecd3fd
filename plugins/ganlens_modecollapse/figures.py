"""The figures: modes or classes (fake beside real), the 2-D scatter over mode centres, the metric
bars with their baselines and intervals, NDB's bins, and the closest duplicates and most
memorised samples. matplotlib is imported inside the ganlens.plotting helpers, never at import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganlens.images import display_images, make_grid
from ganlens.plotting import new_figure, show_image

from . import compare as C
from .verdict import plural

if TYPE_CHECKING:
    import ganlens

    from .modes import Counted

FAKE, REAL = "tab:blue", "tab:grey"
MAX_PAIRS = 8
LABELS = {C.NDB_K: "NDB/K", C.DUPLICATE_FRACTION: "duplicates", C.MEMORISED_FRACTION: "memorised"}


def add_figures(section: ganlens.Section, ctx: ganlens.AnalysisContext, modes: Counted | None,
                classes: Counted | None, comp: C.Comparison | None) -> None:
    for counted in (modes, classes):
        if counted is not None:
            _histogram(section, counted)
    if modes is not None and ctx.fakes[0].numel() == 2:
        _scatter(section, ctx, modes)
    if comp is not None:
        _metric_bars(section, comp)
        if comp.ndb_fake is not None:
            _ndb_bins(section, comp)
        if ctx.gan.data.is_image:
            _duplicate_pairs(section, ctx, comp)
            _memorised(section, ctx, comp)


def _histogram(section: ganlens.Section, c: Counted) -> None:
    k = len(c.names)
    fake = c.counts / max(1.0, float(c.counts.sum()))
    real = c.reference / max(1.0, float(c.reference.sum()))
    fig, ax = new_figure(max(5.0, 0.32 * k + 2.0), 3.6)
    x = np.arange(k)
    ax.bar(x - 0.2, real, 0.4, color=REAL, label="real")
    ax.bar(x + 0.2, fake, 0.4, color=FAKE, label="generated")
    for i in np.flatnonzero(~c.covered & (c.reference > 0)):
        ax.annotate("missing", (x[i] + 0.2, 0), xytext=(0, 3), textcoords="offset points",
                    rotation=90, ha="center", va="bottom", fontsize=7, color="tab:red")
    ax.set_xticks(x, c.names if k <= 30 else [n if i % 5 == 0 else "" for i, n in enumerate(c.names)],
                  fontsize=7 if k > 12 else 9)
    what = "high-quality samples" if c.kind == "mode" else "samples (classifier labels)"
    ax.set_xlabel(c.kind)
    ax.set_ylabel(f"share of {what}")
    title = f"{c.covered_count} of {c.total} {plural(c.kind)} covered"
    if c.high_quality is not None:
        title += f"; {c.high_quality[0]:.1%} of samples high quality"
    ax.set_title(title)
    ax.legend(fontsize=8)
    section.figure(
        fig, f"{c.kind}_histogram", title=f"Samples per {c.kind}, generated beside real",
        caption=(f"Share of generated {what} (blue) and of real samples (grey) in each {c.kind}; "
                 f"'missing' marks {plural(c.kind)} the generator does not cover ({c.rule}). Equal "
                 f"bars mean the generator reproduces the {c.kind} balance; missing or tiny blue "
                 "bars are dropped modes, tall ones over-produced modes."),
    )


def _scatter(section: ganlens.Section, ctx: ganlens.AnalysisContext, c: Counted) -> None:
    from matplotlib.patches import Circle

    fig, ax = new_figure(5.2, 5.2)
    real = ctx.real.x.reshape(len(ctx.real), -1)[: ctx.n_samples].numpy()
    fake = ctx.fakes.reshape(ctx.n_samples, -1).numpy()
    ax.scatter(real[:, 0], real[:, 1], s=4, c=REAL, alpha=0.35, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c=FAKE, alpha=0.5, label="generated")
    centres = ctx.real.modes.reshape(len(ctx.real.modes), -1).numpy()
    for i, (cx, cy) in enumerate(centres):
        colour = "tab:green" if c.covered[i] else "tab:red"
        ax.add_patch(Circle((cx, cy), c.radius, fill=False, ec=colour, lw=1.2))
    ax.scatter(centres[c.covered, 0], centres[c.covered, 1], marker="x", c="tab:green", s=40,
               label="covered mode")
    if (~c.covered).any():
        ax.scatter(centres[~c.covered, 0], centres[~c.covered, 1], marker="x", c="tab:red", s=40,
                   label="missed mode")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(f"Samples over the mode centres ({c.covered_count}/{c.total} covered)")
    ax.legend(fontsize=7, loc="upper right")
    section.figure(
        fig, "mode_scatter", title="Generated samples over the known modes",
        caption=(f"Blue: {ctx.n_samples} generated samples; grey: real samples; circles: the "
                 f"high-quality radius ({c.radius:.3g}) around each mode centre, green when the "
                 "mode is covered and red when it is missed. Blue points outside every circle are "
                 "low-quality samples; red circles are dropped modes."),
    )


def _metric_bars(section: ganlens.Section, comp: C.Comparison) -> None:
    keys = [k for k in (C.PRECISION, C.RECALL, C.DENSITY, C.COVERAGE, C.NDB_K,
                        C.DUPLICATE_FRACTION, C.MEMORISED_FRACTION) if k in comp.values]
    fig, ax = new_figure(8.0, 3.8)
    x = np.arange(len(keys))
    for offset, values, cis, colour, label in (
        (-0.2, comp.baselines, comp.baseline_cis, REAL, "real baseline"),
        (0.2, comp.values, comp.cis, FAKE, "generated"),
    ):
        heights = np.array([values[k] for k in keys])
        lo = np.array([cis.get(k, (np.nan, np.nan))[0] for k in keys])
        hi = np.array([cis.get(k, (np.nan, np.nan))[1] for k in keys])
        err = np.vstack([np.clip(heights - lo, 0, None), np.clip(hi - heights, 0, None)])
        err = np.nan_to_num(err)
        ax.bar(x + offset, heights, 0.4, color=colour, label=label, yerr=err, capsize=3,
               error_kw={"lw": 1})
    ax.set_xticks(x, [LABELS.get(k, k) for k in keys], fontsize=8)
    ax.set_ylabel("value")
    ax.set_title(f"Feature-space metrics ({comp.extra.get('space', '')}, n = {comp.n})")
    ax.legend(fontsize=8)
    intervals = "with bootstrap intervals" if comp.cis else "without intervals (bootstrap=0)"
    section.figure(
        fig, "metric_bars", title="Metrics beside the real baseline",
        caption=("Each metric for the generated samples (blue) and for held-out real samples of "
                 f"the same size scored the same way (grey: what a perfect generator gets), {intervals}. "
                 "Precision, recall, density and coverage should match the grey "
                 "bars (higher is better); NDB/K, duplicates and memorisation should too (higher is "
                 "worse). A blue bar far from its grey bar is the problem to look at."),
    )


def _ndb_bins(section: ganlens.Section, comp: C.Comparison) -> None:
    res = comp.ndb_fake
    order = np.argsort(-res.real_share)
    fig, ax = new_figure(max(6.0, 0.14 * res.bins + 2.5), 3.6)
    x = np.arange(res.bins)
    ax.bar(x, res.real_share[order], 0.8, color=REAL, label="real (reference)")
    ax.plot(x, res.fake_share[order], "o", ms=4, color=FAKE, label="generated")
    sig = res.significant[order]
    ax.plot(x[sig], res.fake_share[order][sig], "o", ms=8, mfc="none", mec="tab:red",
            label=f"significantly different (α={res.alpha:g})")
    ax.set_xlabel("K-means bin of the real data (sorted by real share)")
    ax.set_ylabel("share of samples")
    ax.set_title(f"NDB: {res.ndb} of {res.bins} bins differ (NDB/K = {res.ndb_k:.2f})")
    ax.legend(fontsize=8)
    section.figure(
        fig, "ndb_bins", title="NDB: share of samples per K-means bin",
        caption=(f"The real data are split into {res.bins} K-means bins in the "
                 f"{comp.extra.get('space', '')} feature space; grey bars show each bin's share of "
                 "real samples, blue dots the share of generated samples, red rings bins where a "
                 "two-proportion z-test finds a significant difference. Dots above a bar are "
                 "over-produced regions; dots near 0 are dropped regions. About α of the bins "
                 "differ by chance."),
    )


def _image_rows(section: ganlens.Section, ctx: ganlens.AnalysisContext, pairs: list[tuple[Any, Any, str]],
                name: str, title: str, caption: str, labels: tuple[str, str]) -> None:
    """Rows of image pairs drawn as one grid image (one axes: fast to render)."""
    vr = ctx.gan.data.value_range
    rows = len(pairs)
    images = display_images(torch.stack([img for pair in pairs for img in pair[:2]]), vr)
    pad = max(1, images.shape[-1] // 8)
    grid = make_grid(images, nrow=2, padding=pad)
    fig, ax = new_figure(3.4, 0.9 * rows + 0.9)
    show_image(ax, grid)
    step = images.shape[-2] + pad
    for r, (_, _, note) in enumerate(pairs):
        ax.text(-pad, pad + r * step + images.shape[-2] / 2, note, ha="right", va="center",
                fontsize=8)
    ax.set_xticks([pad + images.shape[-1] / 2, 2 * pad + 1.5 * images.shape[-1]], labels,
                  fontsize=8)
    ax.xaxis.tick_top()
    ax.set_title(title, fontsize=9)
    section.figure(fig, name, title=title, caption=caption)


def _duplicate_pairs(section: ganlens.Section, ctx: ganlens.AnalysisContext, comp: C.Comparison) -> None:
    dup = comp.duplicates
    d = dup.nearest_distance
    seen: set[tuple[int, int]] = set()
    pairs = []
    for i in torch.argsort(d, stable=True).tolist():
        j = int(dup.nearest_index[i])
        key = (min(i, j), max(i, j))
        if key in seen:
            continue
        seen.add(key)
        pairs.append((ctx.fakes[i], ctx.fakes[j], f"d={float(d[i]):.3g}"))
        if len(pairs) == MAX_PAIRS:
            break
    birthday = ""
    if comp.birthday is not None:
        birthday = (f" Pairs under {comp.birthday.threshold:.3g} (closer than any two real "
                    "samples) are the birthday test's duplicates: judge whether they are the same "
                    "image before trusting support_estimate.")
    _image_rows(
        section, ctx, pairs, "duplicate_pairs", "Closest pairs of generated samples",
        f"The {len(pairs)} closest pairs among the {comp.n} compared samples, with their distance in "
        f"the {comp.extra.get('space', '')} feature space (d); pairs under the near-duplicate "
        f"threshold {comp.extra['duplicate_threshold']:.3g} count as duplicates.{birthday} "
        "Identical-looking pairs mean the generator repeats itself (collapse); distinct images "
        "mean it does not.",
        ("sample", "closest other sample"),
    )


def _memorised(section: ganlens.Section, ctx: ganlens.AnalysisContext, comp: C.Comparison) -> None:
    mem = comp.memorisation
    order = torch.argsort(mem.fake_distance, stable=True)[:MAX_PAIRS].tolist()
    pairs = []
    for i in order:
        t = int(comp.train_index[int(mem.fake_index[i])])
        pairs.append((ctx.fakes[i], ctx.real.x[t], f"d={float(mem.fake_distance[i]):.3g}"))
    _image_rows(
        section, ctx, pairs, "memorised_samples", "Samples closest to a training image",
        f"The {len(pairs)} generated samples nearest to a training image, beside that image, with "
        f"their distance (d) in the {comp.extra.get('space', '')} feature space. Below "
        f"{mem.threshold:.3g} (closer than {1 - mem.quantile:.0%} of held-out real images are) a "
        "sample counts as memorised. Near-identical pairs are copies of the training data.",
        ("sample", "nearest training image"),
    )
