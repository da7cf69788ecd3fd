"""The conditioning part of the activations section, for a conditional GAN (G takes (z, y)).

The shared pass gives each latent a class label (``ctx.labels``); D, when conditional, was given
the same label with each fake. Every extra pass of this analyzer reuses the labels of the
latents it runs (the probe draws its own). Here each unit's *label selectivity* is measured: eta
squared of its spatial mean against the class each sample was generated with (as the class
selectivity does against the classifier's labels, which needs no classifier here), with the
metrics, a table, a finding that says which labels were used, and a heat map.
"""

from __future__ import annotations

from typing import Any

import torch

from . import figures
from .layers import DISCRIMINATOR, GENERATOR, LayerInfo
from .stats import LayerStats

CONDITIONING_CLASSES = "conditioning.classes"
CONDITIONING_LABEL_COUNTS = "conditioning.label_counts"
LABEL_SELECTIVITY = "label_selectivity"
LABEL_UNITS_SHOWN = 16
LABEL_FIGURE_MAX_CLASSES = 40


def class_names(ctx: Any, num_classes: int) -> list[str]:
    """The real data's class names when they name the generator's classes, else the indices."""
    names = ctx.real.class_names if ctx.real is not None else None
    if names and len(names) == num_classes:
        return [str(n) for n in names]
    return [str(c) for c in range(num_classes)]


def _most_selective(st: LayerStats) -> int | None:
    eta = st.label_selectivity
    ok = [u for u in range(st.units) if not torch.isnan(eta[u])]
    return min(ok, key=lambda u: (-float(eta[u]), u)) if ok else None


def report(section: Any, ctx: Any, stats: dict[str, tuple[LayerInfo, LayerStats]]) -> None:
    """Metrics, table and finding of the conditioning labels and the units' selectivity."""
    k = ctx.gan.require_classes()
    names = class_names(ctx, k)
    counts = torch.bincount(ctx.labels.long(), minlength=k)
    n = int(ctx.labels.shape[0])
    section.metric(CONDITIONING_CLASSES, k, "the generator is conditional: its number of classes")
    section.metric(CONDITIONING_LABEL_COUNTS, counts.tolist(),
                   f"how many of the {n} latents of the shared pass were generated with each "
                   "class (the labels every statistic here uses)")
    rows = []
    best: tuple[float, LayerInfo] | None = None
    for net in (GENERATOR, DISCRIMINATOR):
        items = sorted(((layer, st) for layer, st in stats.values() if layer.network == net),
                       key=lambda item: item[0].order)
        etas = [st.label_selectivity[~torch.isnan(st.label_selectivity)] for _, st in items
                if st.label_selectivity is not None]
        pooled = torch.cat(etas) if etas else torch.empty(0)
        if pooled.numel():
            section.metric(f"{net}.{LABEL_SELECTIVITY}", float(pooled.mean()),
                           f"mean over the {net}'s analysed units of eta squared for the "
                           "conditioning label: the share of a unit's variance across samples "
                           "explained by the class the sample was generated with",
                           "no single good value; in G, units that carry the class have high "
                           "values")
        for layer, st in items:
            value = st.mean_label_selectivity
            if value is None:
                continue
            section.metric(f"{layer.key}.{LABEL_SELECTIVITY}", value,
                           f"mean over the units of {layer.label} of eta squared for the "
                           "conditioning label (the class each sample was generated with)",
                           "no single good value; high values mean units that encode the class")
            u = _most_selective(st)
            rows.append([layer.label, st.units, round(value, 4), u,
                         None if u is None else round(float(st.label_selectivity[u]), 4),
                         None if u is None else names[int(st.label_preferred[u])]])
            if best is None or value > best[0]:
                best = (value, layer)
    if rows:
        section.table(
            "label_selectivity", "Selectivity for the conditioning label",
            ["layer", "units", "mean eta squared", "most selective unit", "its eta squared",
             "its preferred class"], rows,
            caption="Per analysed layer: eta squared of each unit's spatial mean against the "
                    "class the sample was generated with (0: the label tells nothing about the "
                    "unit; 1: the unit is a pure code of the label), averaged over units, and the "
                    "most selective unit with the class it fires most for. D layers are measured "
                    "on the generated samples, with the label D was given.",
        )
    who = ("D, conditional, was given the same label with each fake; "
           if ctx.gan.d_conditional else "")
    where = (f" Selectivity for the label is highest in {best[1].label} (mean eta squared "
             f"{best[0]:.2f})." if best is not None else "")
    section.finding(
        "info",
        f"The GAN is conditional ({k} classes): the shared pass generated each of its {n} "
        f"latents with a class label ({int(counts.min())} to {int(counts.max())} latents per "
        f"class), and the label selectivity uses those labels; {who}the ablations reuse the "
        f"labels of the latents they perturb, and the layer probe draws its own.{where}",
        metric=CONDITIONING_CLASSES, value=k,
    )


def figure(section: Any, ctx: Any, layer: LayerInfo, st: LayerStats) -> str | None:
    """The heat map of the most label-selective units of ``layer``; returns why it was not
    drawn, or None."""
    k = ctx.gan.require_classes()
    if k > LABEL_FIGURE_MAX_CLASSES:
        return (f"{k} classes are too many for the heat map (at most "
                f"{LABEL_FIGURE_MAX_CLASSES}); see the label_selectivity table")
    eta = st.label_selectivity
    ok = [u for u in range(st.units) if not torch.isnan(eta[u])]
    units = sorted(ok, key=lambda u: (-float(eta[u]), u))[:LABEL_UNITS_SHOWN]
    if not units:
        return f"every unit of {layer.label} is constant"
    section.figure(
        figures.selectivity_figure(layer, st, units, class_names(ctx, k), conditioning=True),
        "label_selectivity", title=f"Conditioning-label selectivity of {layer.label}",
        caption=f"Rows: the {len(units)} units of {layer.label} whose activation depends most on "
                "the class label the generator was given (eta squared in brackets: the share of "
                "the unit's variance explained by that label, 0 to 1). Columns: the conditioning "
                "classes. Red: the unit fires more than usual for that class; blue: less. A row "
                "with one red cell is a unit that draws that class; a layer with no such rows "
                "does not carry the label.",
    )
    return None
