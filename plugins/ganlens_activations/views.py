"""The parts of the activations section: layer metrics, tables and findings, and the figures
that show units (feature maps, overlays, top-activating samples, class selectivity)."""

from __future__ import annotations

from typing import Any

import torch

from ganlens.images import display_images

from . import figures
from .layers import DISCRIMINATOR, GENERATOR, LayerInfo
from .stats import LayerStats

DEAD_FRACTION = "dead_fraction"
NEAR_CONSTANT_FRACTION = "near_constant_fraction"
SPARSITY = "sparsity"
CLASS_SELECTIVITY = "class_selectivity"
DEAD_UNITS = "dead_units"
NEGATIVE_REGIME_FRACTION = "negative_regime_fraction"
NEGATIVE_REGIME_UNITS = "negative_regime_units"
NEAR_CONSTANT_UNITS = "near_constant_units"
FEATURE_GRID_SAMPLES = 2
SELECTIVE_UNITS_SHOWN = 16

Stats = dict[str, tuple[LayerInfo, LayerStats]]


def add_figure(section: Any, opts: Any, make: Any, name: str, *, title: str, caption: str) -> None:
    """Draw ``make()`` and add it, unless the option ``figures`` is off."""
    if opts.figures:
        section.figure(make(), name, title=title, caption=caption)


def metric_key(layer: LayerInfo, stat: str) -> str:
    """``<network>.<layer>.<stat>``, e.g. ``generator.blocks.0.2.dead_fraction``."""
    return f"{layer.key}.{stat}"


def by_network(stats: Stats) -> dict[str, list[tuple[LayerInfo, LayerStats]]]:
    out: dict[str, list[tuple[LayerInfo, LayerStats]]] = {GENERATOR: [], DISCRIMINATOR: []}
    for layer, st in stats.values():
        out[layer.network].append((layer, st))
    for items in out.values():
        items.sort(key=lambda item: item[0].order)
    return out


def layer_metrics(section: Any, stats: Stats, n: int, opts: Any) -> None:
    """Per-layer metrics, pooled metrics per network, the layers table and the findings."""
    rows = []
    for net, items in by_network(stats).items():
        if not items:
            continue
        rect = [(layer, st) for layer, st in items if st.dead is not None]
        if rect:
            dead = sum(int(st.dead.sum()) for _, st in rect)
            total = sum(st.units for _, st in rect)
            section.metric(f"{net}.{DEAD_FRACTION}", dead / total,
                           f"fraction of the {net}'s true rectifier units (ReLU, ReLU6, ...; over "
                           f"all its analysed rectifier layers) that are never above zero over "
                           f"the {n} samples, so exactly zero: constant, whatever the input",
                           "0; dead units are capacity the network does not use")
        leaky = [(layer, st) for layer, st in items if st.negative_regime is not None]
        if leaky:
            neg = sum(int(st.negative_regime.sum()) for _, st in leaky)
            total = sum(st.units for _, st in leaky)
            section.metric(f"{net}.{NEGATIVE_REGIME_FRACTION}", neg / total,
                           f"fraction of the {net}'s leaky-activation units (LeakyReLU, ELU, "
                           f"GELU, SiLU, ...; over all its analysed leaky layers) that are never "
                           f"on the positive side over the {n} samples: their input is always "
                           "negative, but their output still follows it (not dead)",
                           "close to 0; such units never use their activation's kink (a "
                           "LeakyReLU one is a scaled-down linear copy of its input)")
        section.metric(f"{net}.{NEAR_CONSTANT_FRACTION}",
                       sum(int(st.near_constant.sum()) for _, st in items) / sum(st.units for _, st in items),
                       f"fraction of the {net}'s analysed units whose output hardly changes with "
                       f"the sample (std at most {opts.near_constant:g} of the layer's RMS)",
                       "close to 0; units that ignore the input carry no information")
        for layer, st in items:
            _one_layer(section, layer, st, n, opts)
            rows.append([layer.label, layer.module_type, layer.units, layer.map_size,
                         round(float(st.mean.mean()), 4), round(float(st.std.mean()), 4),
                         _r(st.dead_fraction), round(st.near_constant_fraction, 4),
                         _r(st.negative_regime_fraction), _r(st.sparsity),
                         _r(st.mean_selectivity)])
        _findings(section, net, items, opts)
    section.table(
        "layers", "Analysed layers",
        ["layer", "type", "units", "map", "mean activation", "mean unit std", "dead fraction",
         "near-constant fraction", "negative-regime fraction", "sparsity", "class selectivity"],
        rows,
        caption="One row per analysed layer, in forward order (G: generator, D: discriminator, on "
                "generated samples). Statistics are over the spatial mean of each unit's map. Dead "
                "(never above zero, so exactly zero) and sparsity apply to true rectifiers (ReLU, "
                "ReLU6, ...) only; negative-regime (never on the positive side, still varying) to "
                "leaky activations (LeakyReLU, ELU, GELU, SiLU, ...) only; n/a elsewhere. "
                "Near-constant applies to every layer.",
    )


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _one_layer(section: Any, layer: LayerInfo, st: LayerStats, n: int, opts: Any) -> None:
    if st.dead is not None:
        section.metric(metric_key(layer, DEAD_FRACTION), st.dead_fraction,
                       f"fraction of the {st.units} units of {layer.label} ({layer.module_type}, "
                       f"a true rectifier) never above zero, anywhere in their map, over the {n} "
                       "samples: their output is exactly zero whatever the input",
                       "0; above a few percent the layer wastes capacity")
        section.metric(metric_key(layer, SPARSITY), st.sparsity,
                       "average fraction of the layer's units that are silent (exactly zero "
                       "everywhere in their map) on one sample",
                       "between about 0.1 and 0.9; near 1 almost nothing fires, near 0 every unit "
                       "fires on every sample")
        if st.dead_units:
            section.metric(metric_key(layer, DEAD_UNITS), st.dead_units,
                           "indices of the dead units", "empty")
    if st.negative_regime is not None:
        section.metric(metric_key(layer, NEGATIVE_REGIME_FRACTION), st.negative_regime_fraction,
                       f"fraction of the {st.units} units of {layer.label} ({layer.module_type}, "
                       f"a leaky activation) never above its output at zero input "
                       f"({layer.at_zero:.4g}), anywhere in their map, over the {n} samples: their "
                       "input is always negative, so they only work on the leaky slope or smooth "
                       "tail; their output still follows the input, so they are not dead (see "
                       "near-constant for units that do not vary)",
                       "close to 0; a negative-regime unit never uses the activation's kink: "
                       "after LeakyReLU or PReLU it is a scaled-down linear copy of its input, "
                       "after a smooth activation it works only on the small negative tail")
        if st.negative_regime_units:
            section.metric(metric_key(layer, NEGATIVE_REGIME_UNITS), st.negative_regime_units,
                           "indices of the negative-regime units", "empty")
    section.metric(metric_key(layer, NEAR_CONSTANT_FRACTION), st.near_constant_fraction,
                   f"fraction of units whose spatial mean and max vary by at most "
                   f"{opts.near_constant:g} of the layer's RMS across samples: an output that is "
                   "the same on every sample counts, and so do dead rectifier units (a constant "
                   "zero)",
                   "close to 0; near-constant units ignore z (in G) or the image (in D)")
    if st.near_constant_units:
        section.metric(metric_key(layer, NEAR_CONSTANT_UNITS), st.near_constant_units,
                       "indices of the near-constant units", "empty")
    if st.mean_selectivity is not None:
        section.metric(metric_key(layer, CLASS_SELECTIVITY), st.mean_selectivity,
                       "mean over units of eta squared: the share of a unit's variance across "
                       "samples explained by the sample's class (classifier labels)",
                       "no single good value; high values mean units that encode the class")


def _findings(section: Any, net: str, items: list, opts: Any) -> None:
    for stat, threshold, what in (
        (DEAD_FRACTION, opts.dead_warning, "dead (never above zero: a constant zero)"),
        (NEAR_CONSTANT_FRACTION, opts.near_constant_warning, "near-constant"),
    ):
        scored = [(layer, getattr(st, stat)) for layer, st in items if getattr(st, stat) is not None]
        over = [(layer, v) for layer, v in scored if v >= threshold]
        if not over:
            continue
        layer, value = max(over, key=lambda item: item[1])
        section.finding(
            "warning",
            f"{len(over)} of {len(scored)} {net} layers have {stat} >= {threshold:g}; worst "
            f"{layer.label}: {value:.0%} of its {layer.units} units are {what}",
            metric=metric_key(layer, stat), value=value, threshold=threshold,
        )
    _negative_regime_finding(section, net, items, opts.negative_regime_info)


def _negative_regime_finding(section: Any, net: str, items: list, threshold: float) -> None:
    """An info finding (not a warning: the units still work) for the leaky layer with the most
    negative-regime units, when its fraction reaches ``threshold``."""
    scored = [(layer, st) for layer, st in items if st.negative_regime is not None]
    over = [(layer, st) for layer, st in scored if st.negative_regime_fraction >= threshold]
    if not over:
        return
    layer, st = max(over, key=lambda item: item[1].negative_regime_fraction)
    value = st.negative_regime_fraction
    negative = st.negative_regime
    varying = int((negative & ~st.near_constant).sum())
    flat = int(negative.sum()) - varying
    if not flat:
        rest = "they are not dead: all of them still vary with the input, on the leaky slope"
    elif not varying:
        rest = "none of them varies with the sample: they are near-constant too (counted there)"
    else:
        rest = (f"{varying} of them still vary with the input, on the leaky slope (not dead); "
                f"{flat} {'is' if flat == 1 else 'are'} near-constant too (counted there)")
    section.finding(
        "info",
        f"{len(over)} of {len(scored)} leaky {net} layers have {NEGATIVE_REGIME_FRACTION} >= "
        f"{threshold:g}; most in {layer.label} ({layer.module_type}): {value:.0%} of its "
        f"{layer.units} units never reach the positive side (their input is always negative); "
        f"{rest}",
        metric=metric_key(layer, NEGATIVE_REGIME_FRACTION), value=value, threshold=threshold,
    )


def most_variable(units_std: torch.Tensor, k: int) -> list[int]:
    """The ``k`` units with the largest std (ties: the lower index)."""
    order = sorted(range(len(units_std)), key=lambda u: (-float(units_std[u]), u))
    return order[:k]


def spread(items: list, k: int) -> list:
    if len(items) <= k:
        return items
    step = (len(items) - 1) / max(k - 1, 1)
    return [items[round(i * step)] for i in range(k)]


def feature_maps(section: Any, ctx: Any, net: str, items: list, opts: Any) -> str | None:
    """The feature-map grid of one network; returns why it was not drawn, or None."""
    spatial = [(layer, st) for layer, st in items if layer.spatial and layer.maps_ok]
    if not spatial:
        return f"the analysed {net} layers have no 2-D feature maps"
    entries = []
    for layer, st in spread(spatial, opts.layers_shown):
        maps = ctx.activations(net, layer.name, "none")
        entries.append((layer, maps, sorted(most_variable(st.std, opts.maps_per_layer))))
    s = min(FEATURE_GRID_SAMPLES, opts.display_samples, *(m.shape[0] for _, m, _ in entries))
    images = (display_images(ctx.fakes[:s], ctx.gan.data.value_range)
              if ctx.gan.data.is_image else None)
    fig = figures.feature_maps_figure(net, entries, images, s)
    who = "the generator computes" if net == GENERATOR else "the discriminator computes on it"
    section.figure(
        fig, f"feature_maps_{net}", title=f"{net.capitalize()} feature maps",
        caption=f"For {s} fixed samples (rows, first column the generated image) and up to "
                f"{opts.layers_shown} convolutional layers, the maps that {who} for the "
                f"{opts.maps_per_layer} units of each layer whose activation varies most across "
                "samples (columns, most variable first; the unit index is written on each map). "
                "Bright = strong activation; each unit is scaled on its own over the samples shown. Maps that change between samples carry the sample's content; "
                "identical maps ignore it.",
    )
    return None


def overlays(section: Any, ctx: Any, layer: LayerInfo, st: LayerStats, opts: Any) -> None:
    maps = ctx.activations(GENERATOR, layer.name, "none")
    s = min(opts.display_samples, maps.shape[0])
    units = most_variable(st.std, opts.units_shown)
    images = display_images(ctx.fakes[:s], ctx.gan.data.value_range)
    section.figure(
        figures.overlays_figure(layer, maps, images, units), "unit_overlays",
        title=f"Where units of G:{layer.name} fire",
        caption=f"The {len(units)} most variable units of G:{layer.name} (rows) on {s} fixed "
                "samples (columns): each unit's map upsampled (bilinear) to the image and laid "
                "over it; bright = strong activation, each unit on its own scale. A unit that "
                "lights up the same part of the object across samples (a stroke, a region) is an "
                "interpretable unit in the sense of GAN Dissection.",
    )


def top_samples(section: Any, ctx: Any, layer: LayerInfo, st: LayerStats, opts: Any) -> None:
    acts = ctx.activations(layer.network, layer.name, "mean")
    units = most_variable(st.std, opts.units_shown)
    t = min(opts.top_samples, acts.shape[0])
    rows = [(u, *torch.sort(acts[:, u], descending=True, stable=True)) for u in units]
    top_idx = torch.stack([idx[:t] for _u, _v, idx in rows])
    top_val = torch.stack([val[:t] for _u, val, _idx in rows])
    net = "generator" if layer.network == GENERATOR else "discriminator (on the generated samples)"
    if layer.network == DISCRIMINATOR and ctx.gan.d_conditional:
        net = "discriminator (on the generated samples, each given its class label)"
    if ctx.gan.data.is_image:
        def make():
            shown = display_images(ctx.fakes[top_idx.flatten()], ctx.gan.data.value_range)
            return figures.top_samples_figure(layer, units, top_val,
                                              shown.reshape(*top_idx.shape, *shown.shape[1:]))
        caption = (f"For the {len(units)} most variable units of {layer.label} in the {net} "
                   f"(rows), the {t} generated samples among {acts.shape[0]} with the highest "
                   "mean activation (title), strongest first. What they share is what the unit "
                   "responds to (GAN Dissection's unit view, without a segmenter).")
    else:
        def make():
            return figures.unit_scatter_figure(layer, units, acts, ctx.fakes)
        caption = (f"The generated samples (projected to 2-D), coloured by the activation of each "
                   f"of the {len(units)} most variable units of {layer.label} in the {net}. A "
                   "colour gradient across one region shows which part of the data the unit codes.")
    add_figure(section, opts, make, f"top_samples_{layer.network}",
               title=f"Top-activating samples of {layer.label}", caption=caption)
    columns = ["unit", "std", f"top {t} sample indices", "their activations"]
    rows = [[u, round(float(st.std[u]), 4), top_idx[i].tolist(),
             [round(float(v), 3) for v in top_val[i]]] for i, u in enumerate(units)]
    caption = "Indices into the run's generated samples (the shared pass, same seed)."
    if ctx.labels is not None:  # a conditional GAN: the class each top sample was made with
        columns.append("their conditioning classes")
        for i, row in enumerate(rows):
            row.append(ctx.labels[top_idx[i]].tolist())
        caption += (" Conditioning classes: the label each sample was generated with; a unit "
                    "whose top samples share one class responds to that class.")
    section.table(f"top_samples_{layer.network}", f"Top-activating samples of {layer.label}",
                  columns, rows, caption=caption)


def selectivity(section: Any, layer: LayerInfo, st: LayerStats, class_names: list[str]) -> None:
    ok = [u for u in range(st.units) if not torch.isnan(st.selectivity[u])]
    units = sorted(ok, key=lambda u: (-float(st.selectivity[u]), u))[:SELECTIVE_UNITS_SHOWN]
    if not units:
        return
    section.figure(
        figures.selectivity_figure(layer, st, units, class_names), "class_selectivity",
        title=f"Class selectivity of {layer.label}",
        caption=f"Rows: the {len(units)} units of {layer.label} whose activation depends most on "
                "the class of the generated sample (eta squared in brackets: the share of the "
                "unit's variance explained by the class, 0 to 1). Columns: classes, as labelled by "
                "a classifier trained on the real data. Red: the unit fires more than usual on that "
                "class; blue: less. A row with one red cell is a class detector.",
    )
