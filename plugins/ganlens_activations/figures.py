"""The figures of the activations analyzer (matplotlib is imported lazily by ganlens.plotting).

Each function returns a matplotlib figure; the analyzer adds it to the section with its caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ganlens.images import display_images, upsample_map
from ganlens.maths import plane_2d
from ganlens.plotting import new_figure, wrapped_title

from .intervene import InterventionResult
from .layers import LayerInfo
from .stats import LayerStats

MAP_CMAP = "magma"
PAD = 1


def colorize(m: torch.Tensor, lo: float, hi: float, cmap: str = MAP_CMAP) -> torch.Tensor:
    """A 2-D map as a (3, h, w) RGB image in [0, 1], ``lo``..``hi`` spread over ``cmap``."""
    from matplotlib import colormaps

    scaled = ((m.float() - lo) / max(hi - lo, 1e-12)).clamp(0, 1).numpy()
    rgb = colormaps[cmap](scaled)[..., :3]
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float()


def rgb(image: torch.Tensor) -> torch.Tensor:
    """A (C, H, W) display image in [0, 1] as RGB (grey repeated)."""
    return image.expand(3, -1, -1) if image.shape[0] == 1 else image[:3]


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour resize of a (3, h, w) image (maps keep their blocks visible)."""
    if tuple(image.shape[-2:]) == size:
        return image
    return torch.nn.functional.interpolate(image[None], size=size, mode="nearest")[0]


def blend(image: torch.Tensor, heat: torch.Tensor, alpha: float = 0.55) -> torch.Tensor:
    return (1 - alpha) * rgb(image) + alpha * heat


def mosaic(cells: list[list[torch.Tensor | None]], size: tuple[int, int]) -> torch.Tensor:
    """Tile rows of (3, h, w) cells, each resized to ``size``, on a white background."""
    h, w = size
    rows, cols = len(cells), max(len(r) for r in cells)
    out = torch.ones(3, rows * (h + PAD) + PAD, cols * (w + PAD) + PAD)
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            if cell is not None:
                top, left = PAD + r * (h + PAD), PAD + c * (w + PAD)
                out[:, top : top + h, left : left + w] = resize(cell, size)
    return out


def show_mosaic(ax: Any, image: torch.Tensor, size: tuple[int, int], row_labels: list[str],
                col_labels: list[str], xlabel: str, ylabel: str) -> None:
    """Draw a mosaic with its rows and columns labelled by ticks."""
    h, w = size
    ax.imshow(image.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_xticks([PAD + c * (w + PAD) + (w - 1) / 2 for c in range(len(col_labels))])
    ax.set_xticklabels(col_labels, fontsize=7)
    ax.set_yticks([PAD + r * (h + PAD) + (h - 1) / 2 for r in range(len(row_labels))])
    ax.set_yticklabels(row_labels, fontsize=7)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(length=0)


def _mosaic_figure(rows: int, cols: int, cell_in: float = 0.8, extra_w: float = 1.6,
                   extra_h: float = 1.0):
    return new_figure(min(cell_in * cols + extra_w, 14.0), min(cell_in * rows + extra_h, 16.0))


def _cell_size(shapes: list[tuple[int, ...]], least: int = 24) -> tuple[int, int]:
    """A common cell size: the largest map, enlarged by an integer factor to at least ``least``."""
    h = max(s[-2] for s in shapes)
    w = max(s[-1] for s in shapes)
    k = max(1, -(-least // max(h, w)))
    return h * k, w * k


def layer_stats_figure(by_network: dict[str, list[tuple[LayerInfo, LayerStats]]]) -> Any:
    """Per layer: dead, near-constant, negative-regime and silent (sparsity) fractions as
    markers (0 stays visible; a missing marker means "not defined for this layer")."""
    nets = [n for n, items in by_network.items() if items]
    widest = max(len(by_network[n]) for n in nets)
    fig, axes = new_figure(max(6.0, 0.6 * widest + 2.5), 3.2 * len(nets), len(nets), 1)
    axes = np.atleast_1d(axes)
    series = (("dead (rectifiers)", "tab:red", "o"), ("near-constant", "tab:orange", "s"),
              ("negative-regime (leaky)", "tab:purple", "D"),
              ("sparsity (silent per sample)", "tab:blue", "^"))
    for ax, net in zip(axes, nets):
        items = by_network[net]
        x = np.arange(len(items))
        for s, (label, colour, marker) in enumerate(series):
            vals = [(st.dead_fraction, st.near_constant_fraction, st.negative_regime_fraction,
                     st.sparsity)[s] for _, st in items]
            ys = np.array([np.nan if v is None else v for v in vals], dtype=float)
            ax.scatter(x + (s - 1.5) * 0.16, ys, color=colour, marker=marker, s=28, label=label,
                       zorder=3, clip_on=False)
        ax.set_xticks(x)
        ax.set_xticklabels([f"{layer.name}\n({layer.module_type}, {layer.units})"
                            for layer, _ in items], rotation=30, ha="right", fontsize=7)
        ax.set_xlim(-0.6, len(items) - 0.4)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylabel("fraction of units")
        ax.set_xlabel(f"{net} layer in forward order (type, units)")
        wrapped_title(ax, f"{net.capitalize()}: dead, near-constant, negative-regime and silent "
                          "units per layer")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=2)
    return fig


def feature_maps_figure(network: str, entries: Sequence[tuple[LayerInfo, torch.Tensor, list[int]]],
                        images: torch.Tensor | None, samples: int) -> Any:
    """Rows: (layer, sample); first column the image, then the most variable units' maps, each
    unit scaled over the samples shown."""
    shapes = [tuple(m.shape[-2:]) for _, m, _ in entries]
    if images is not None:
        shapes.append(tuple(images.shape[-2:]))
    size = _cell_size(shapes)
    cols = max(len(ch) for _, _, ch in entries)
    cells, row_labels = [], []
    for layer, maps, channels in entries:
        for s in range(samples):
            row = [rgb(images[s])] if images is not None else []
            for c in channels:
                m = maps[:samples, c]
                row.append(colorize(maps[s, c], float(m.min()), float(m.max())))
            cells.append(row)
            row_labels.append(f"{layer.name} #{s}")
    col_labels = (["image"] if images is not None else []) + [f"{j + 1}" for j in range(cols)]
    fig, ax = _mosaic_figure(len(cells), len(col_labels))
    show_mosaic(ax, mosaic(cells, size), size, row_labels, col_labels,
                "the layer's most variable units (unit index written on each map)",
                "layer #sample")
    off = 1 if images is not None else 0
    h, w = size
    for r, (_layer, _maps, channels) in enumerate(e for e in entries for _ in range(samples)):
        for j, c in enumerate(channels):
            ax.text(PAD + (off + j) * (w + PAD), PAD + r * (h + PAD), str(c), color="white",
                    fontsize=6, ha="left", va="top",
                    bbox={"facecolor": "black", "alpha": 0.6, "pad": 0.6, "linewidth": 0})
    ax.set_title(f"{network.capitalize()} feature maps", fontsize=9)
    return fig


def overlays_figure(layer: LayerInfo, maps: torch.Tensor, images: torch.Tensor, units: list[int]) -> Any:
    """Each unit's map upsampled over the generated image (rows: units, columns: samples)."""
    s = images.shape[0]
    size = tuple(images.shape[-2:])
    cells = []
    for u in units:
        up = upsample_map(maps[:s, u], size)
        lo, hi = float(up.min()), float(up.max())
        cells.append([blend(images[c], colorize(up[c], lo, hi, "inferno")) for c in range(s)])
    big = _cell_size([size], least=48)
    fig, ax = _mosaic_figure(len(units), s, cell_in=1.3)
    show_mosaic(ax, mosaic(cells, big), big, [f"unit {u}" for u in units],
                [f"sample {c}" for c in range(s)], "fixed generated sample", "unit")
    ax.set_title(f"G:{layer.name}: where each unit fires, over the generated image", fontsize=9)
    return fig


def top_samples_figure(layer: LayerInfo, units: list[int], top_val: torch.Tensor,
                       images: torch.Tensor) -> Any:
    """Rows: units; columns: the generated images (units, t, C, H, W) that activate it most."""
    t = images.shape[1]
    size = _cell_size([tuple(images.shape[-2:])], least=32)
    cells = [[rgb(images[r, c]) for c in range(t)] for r in range(len(units))]
    fig, ax = _mosaic_figure(len(units), t, cell_in=0.9)
    show_mosaic(ax, mosaic(cells, size), size,
                [f"unit {u}\n(top {float(top_val[r, 0]):.2f})" for r, u in enumerate(units)],
                [f"{c + 1}" for c in range(t)], "rank among the generated samples (1 = strongest)",
                "unit (its highest mean activation)")
    ax.set_title(f"{layer.label}: top-activating samples per unit", fontsize=9)
    return fig


def project_2d(x: torch.Tensor, reference: torch.Tensor) -> tuple[torch.Tensor, tuple[str, str]]:
    """Vectors in 2-D (:func:`ganlens.maths.plane_2d`): their first coordinates, or the
    reference's first two principal axes."""
    project, axis = plane_2d(reference)
    return project(x), axis


def unit_scatter_figure(layer: LayerInfo, units: list[int], acts: torch.Tensor,
                        fakes: torch.Tensor, most: int = 4) -> Any:
    """Vector data: the samples, coloured by each unit's activation (scaled per unit)."""
    pts, axis = project_2d(fakes, fakes)
    units = units[:most]
    fig, axes = new_figure(3.0 * len(units) + 1.0, 3.2, 1, len(units), sharex=True, sharey=True)
    axes = np.atleast_1d(axes)
    sc = None
    for ax, u in zip(axes, units):
        a = acts[:, u]
        scaled = ((a - a.min()) / (a.max() - a.min()).clamp_min(1e-12)).numpy()
        sc = ax.scatter(pts[:, 0].numpy(), pts[:, 1].numpy(), c=scaled, s=4, cmap="viridis",
                        vmin=0, vmax=1)
        ax.set_title(f"unit {u} ({float(a.min()):.2g} to {float(a.max()):.2g})", fontsize=8)
        ax.set_xlabel(axis[0])
    axes[0].set_ylabel(axis[1])
    fig.colorbar(sc, ax=list(axes), label="activation (unit's min to max)")
    fig.suptitle(f"{layer.label}: generated samples coloured by unit activation", fontsize=9)
    return fig


def selectivity_figure(layer: LayerInfo, stats: LayerStats, units: list[int],
                       class_names: list[str], *, conditioning: bool = False) -> Any:
    """Heat map: each unit's mean activation per class, in stds from its overall mean; the
    classes are the classifier's labels, or with ``conditioning`` the labels G was given."""
    means = stats.label_class_means if conditioning else stats.class_means
    eta = stats.label_selectivity if conditioning else stats.selectivity
    cm = means[:, units].T  # (units, classes)
    z = (cm - stats.mean[units, None]) / stats.std[units, None].clamp_min(1e-12)
    fig, ax = new_figure(0.45 * len(class_names) + 3.0, 0.32 * len(units) + 1.6)
    lim = float(np.nanmax(np.abs(z.numpy()))) if len(units) else 1.0
    im = ax.imshow(z.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    fig.colorbar(im, ax=ax, label="class mean - unit mean (in unit stds)")
    ax.set_xticks(range(len(class_names)))
    ax.set_xticklabels(class_names, fontsize=7)
    ax.set_yticks(range(len(units)))
    ax.set_yticklabels([f"unit {u} (eta2 {float(eta[u]):.2f})" for u in units], fontsize=7)
    if conditioning:
        ax.set_xlabel("class the sample was generated with (its conditioning label)")
        ax.set_ylabel("unit (label selectivity eta squared)")
        ax.set_title(f"{layer.label}: selectivity for the conditioning label", fontsize=9)
    else:
        ax.set_xlabel("class of the generated sample (the classifier's label)")
        ax.set_ylabel("unit (class selectivity eta squared)")
        ax.set_title(f"{layer.label}: class selectivity of its most selective units", fontsize=9)
    return fig


def effects_figure(result: InterventionResult, order: list[int], top: int = 20) -> Any:
    """Bars of the causal effect of the top units, pixels and D's score."""
    idx = order[:top]
    labels = [str(result.units[i]) for i in idx]
    cols = 2 if result.d_change is not None else 1
    fig, axes = new_figure(max(5.0, 0.3 * len(idx) + 2.0) * cols, 3.4, 1, cols)
    axes = np.atleast_1d(axes)
    axes[0].bar(range(len(idx)), [float(result.pixel_effect[i]) for i in idx], color="tab:purple")
    axes[0].set_ylabel("mean |change| per data value")
    axes[0].set_title("Change in the output when the unit is ablated", fontsize=9)
    if result.d_change is not None:
        axes[1].bar(range(len(idx)), [float(result.d_change[i]) for i in idx], color="tab:green")
        axes[1].axhline(0, color="grey", linewidth=0.8)
        axes[1].set_ylabel("mean change of D's logit")
        axes[1].set_title("Change in D's score (below 0: looks less real)", fontsize=9)
    for ax in axes:
        ax.set_xticks(range(len(idx)))
        ax.set_xticklabels(labels, fontsize=7, rotation=90 if len(idx) > 24 else 0)
        ax.set_xlabel(f"unit of G:{result.layer}, ranked by output change")
    return fig


def before_after_figure(result: InterventionResult, order: list[int], baseline: torch.Tensor,
                        value_range: tuple[float, float], top: int = 3) -> Any:
    """Rows: top units; per sample the image before and after ablation; last: the change map."""
    idx = order[:top]
    s = result.examples.shape[1]
    before = display_images(baseline[:s], value_range)
    size = _cell_size([tuple(before.shape[-2:])], least=40)
    cells, labels = [], []
    for i in idx:
        after = display_images(result.examples[i], value_range)
        row = []
        for c in range(s):
            row += [rgb(before[c]), rgb(after[c])]
        emap = result.effect_maps[i]
        row.append(colorize(emap, 0.0, float(emap.max()), "inferno"))
        cells.append(row)
        labels.append(f"unit {result.units[i]}\n(max {float(emap.max()):.2f})")
    cols = [x for c in range(s) for x in (f"#{c} before", f"#{c} after")] + ["mean |change|"]
    fig, ax = _mosaic_figure(len(idx), len(cols), cell_in=1.0)
    show_mosaic(ax, mosaic(cells, size), size, labels, cols, "sample before / after ablation, "
                "and where the output changes (black 0 to yellow: the row's max)",
                "ablated unit")
    ax.set_title(f"G:{result.layer}: samples before and after ablating each top unit", fontsize=9)
    return fig


def before_after_vectors_figure(result: InterventionResult, order: list[int],
                                baseline: torch.Tensor, fakes: torch.Tensor, top: int = 3) -> Any:
    """Vector data: samples before (grey) and after (colour) ablating each top unit."""
    from matplotlib.collections import LineCollection

    idx = order[:top]
    fig, axes = new_figure(3.5 * len(idx), 3.3, 1, len(idx))
    axes = np.atleast_1d(axes)
    for ax, i in zip(axes, idx):
        b, axis = project_2d(baseline, fakes)
        a, _ = project_2d(result.examples[i], fakes)
        ax.scatter(b[:, 0].numpy(), b[:, 1].numpy(), s=10, c="grey", label="before")
        ax.scatter(a[:, 0].numpy(), a[:, 1].numpy(), s=10, c="tab:red", label="after")
        segments = np.stack([b.numpy(), a.numpy()], 1)
        ax.add_collection(LineCollection(segments, colors="tab:red", alpha=0.3, linewidths=0.6))
        ax.set_title(f"ablate unit {result.units[i]}", fontsize=8)
        ax.set_xlabel(axis[0])
        ax.set_ylabel(axis[1])
        ax.legend(fontsize=7)
    fig.suptitle(f"G:{result.layer}: where samples move when a top unit is ablated", fontsize=9)
    return fig

