"""Figures of the attributions analyzer (matplotlib, no pyplot): overlays, "where D looks" maps,
latent importance, pixel sensitivity and unit conductance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ganlens.images import display_images
from ganlens.plotting import new_figure, show_image, wrapped_title

from .discriminator import METHOD_TITLES

MAX_BARS = 48
HEAT = "inferno"


def _grid(width: float, height: float, nrows: int, ncols: int) -> tuple[Any, np.ndarray]:
    """A figure and its axes as a 2-D array, whatever the number of rows and columns."""
    fig, axes = new_figure(width, height, nrows, ncols)
    return fig, np.asarray(axes, dtype=object).reshape(nrows, ncols)


def _pixel_ticks(ax: Any, shape: tuple[int, ...]) -> None:
    """Integer pixel ticks (show_image removes them) so both panels read alike."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(6, integer=True))


def _relative(a: torch.Tensor) -> np.ndarray:
    """A map divided by its 99th percentile and clipped to [0, 1] (robust to a few hot pixels)."""
    a = a.detach().float()
    top = torch.quantile(a.flatten(), 0.99) if a.numel() > 1 else a.max()
    top = float(top) if float(top) > 0 else float(a.max()) or 1.0
    return (a / top).clamp(0, 1).numpy()


def overlay_figure(images: torch.Tensor, labels: Sequence[str], maps: dict[str, torch.Tensor],
                   value_range: tuple[float, float]) -> Any:
    """Rows: samples; columns: the sample, then each method's map laid over it (in grey).

    The cells are blended in numpy and tiled into one image, so the figure is one ``imshow``
    however many samples and methods there are.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    n, h, w = images.shape[0], images.shape[-2], images.shape[-1]
    cols, pad = 1 + len(maps), max(1, min(h, w) // 8)
    shown = display_images(images, value_range)
    rgb = shown.expand(-1, 3, -1, -1) if shown.shape[1] == 1 else shown[:, :3]
    rgb = rgb.permute(0, 2, 3, 1).numpy()
    grey = rgb.mean(3, keepdims=True)
    heat = colormaps[HEAT]
    mosaic = np.ones((n * (h + pad) - pad, cols * (w + pad) - pad, 3))
    for r in range(n):
        top = r * (h + pad)
        mosaic[top : top + h, :w] = rgb[r]
        for c, per_sample in enumerate(maps.values(), start=1):
            left = c * (w + pad)
            colour = heat(_relative(per_sample[r]))[..., :3]
            mosaic[top : top + h, left : left + w] = 0.35 * grey[r] + 0.65 * colour
    scale = 1.3 / max(h, w)
    fig, ax = new_figure(cols * w * scale + 2.4, n * h * scale + 1.0)
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_xticks([c * (w + pad) + (w - 1) / 2 for c in range(cols)])
    ax.set_xticklabels(["sample", *(METHOD_TITLES.get(m, m) for m in maps)], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([r * (h + pad) + (h - 1) / 2 for r in range(n)])
    ax.set_yticklabels(list(labels), fontsize=7)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.colorbar(ScalarMappable(Normalize(0, 1), heat), ax=ax, shrink=0.6,
                 label="|attribution| / the map's 99th percentile")
    ax.set_title("What the discriminator looks at, per sample", fontsize=10)
    return fig


MAP_UNITS = {
    "saliency": "mean |dD/dx| (logit per data unit)",
    "integrated_gradients": "mean |IG| (logit units)",
    "smoothgrad": "mean SmoothGrad |dD/dx| (logit per data unit)",
    "gradcam": "mean Grad-CAM (relative units)",
}


def where_d_looks_figure(fake_map: torch.Tensor, real_map: torch.Tensor | None, method: str,
                         n_fake: int, n_real: int) -> Any:
    """Mean maps on fakes and reals with one colour scale, and fake minus real."""
    unit = MAP_UNITS.get(method, "mean |attribution|")
    panels = 3 if real_map is not None else 1
    fig, axes = _grid(3.6 * panels + 0.6, 3.5, 1, panels)
    axes = axes[0]
    vmax = float(max(fake_map.max(), real_map.max() if real_map is not None else 0)) or 1.0
    order = [("generated", fake_map, n_fake)]
    if real_map is not None:
        order.insert(0, ("real", real_map, n_real))
    im = None
    for ax, (name, a, count) in zip(axes, order):
        im = ax.imshow(a.numpy(), cmap=HEAT, vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(f"{name} ({count} samples)", fontsize=9)
        ax.set_xlabel("column (pixel)")
        ax.set_ylabel("row (pixel)")
    fig.colorbar(im, ax=list(axes[: len(order)]), shrink=0.8, label=unit)
    if real_map is not None:
        diff = (fake_map - real_map).numpy()
        lim = float(np.abs(diff).max()) or 1.0
        ax = axes[2]
        dim = ax.imshow(diff, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title("generated minus real", fontsize=9)
        ax.set_xlabel("column (pixel)")
        ax.set_ylabel("row (pixel)")
        fig.colorbar(dim, ax=ax, shrink=0.8, label="difference of " + unit.split(" (")[0])
    fig.suptitle(f"Where the discriminator looks ({METHOD_TITLES.get(method, method)})", fontsize=10)
    return fig


def where_d_looks_vector_figure(fake_map: torch.Tensor, real_map: torch.Tensor | None,
                                method: str) -> Any:
    """For vector data: mean |attribution| per coordinate on fakes and reals."""
    d = fake_map.numel()
    fig, ax = new_figure(min(12.0, 3 + 0.25 * d), 3.4)
    x = np.arange(d)
    width = 0.4 if real_map is not None else 0.8
    if real_map is not None:
        ax.bar(x - width / 2, real_map.numpy(), width, color="grey", label="real")
    ax.bar(x + (width / 2 if real_map is not None else 0), fake_map.numpy(), width,
           color="tab:blue", label="generated")
    ax.set_xlabel("data coordinate")
    ax.set_ylabel(MAP_UNITS.get(method, "mean |attribution|"))
    ax.set_title(f"Where the discriminator looks ({METHOD_TITLES.get(method, method)})")
    ax.legend(fontsize=8)
    return fig


def _ranked_bars(ax: Any, values: torch.Tensor, *, colors: Sequence[str], ylabel: str,
                 title: str, threshold: float | None = None) -> None:
    order = torch.argsort(values, descending=True)[:MAX_BARS]
    ax.bar(np.arange(len(order)), values[order].numpy(), color=[colors[int(i)] for i in order])
    ax.set_xticks(np.arange(len(order)))
    ax.set_xticklabels([str(int(i)) for i in order], fontsize=6, rotation=90)
    ax.set_xlabel("latent dimension (ranked)" + (f"; top {MAX_BARS} of {values.numel()}"
                                                  if values.numel() > MAX_BARS else ""))
    ax.set_ylabel(ylabel, fontsize=8)
    wrapped_title(ax, title, fontsize=9)
    if threshold is not None:
        ax.axhline(threshold, color="black", linestyle=":", linewidth=1,
                   label="inactive below this line")
        ax.legend(fontsize=7, loc="upper right")


def latent_importance_figure(effect: torch.Tensor, inactive: Sequence[int], threshold: float,
                             ig: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> Any:
    """One panel for the pixel effect, one per target (mean |IG|, coloured by mean sign)."""
    rows = 1 + len(ig)
    fig, axes = _grid(max(6.0, 0.16 * min(effect.numel(), MAX_BARS) + 2), 2.6 * rows, rows, 1)
    dead = set(inactive)
    colors = ["lightgrey" if i in dead else "tab:blue" for i in range(effect.numel())]
    _ranked_bars(axes[0][0], effect, colors=colors, threshold=threshold,
                 ylabel="mean |dx/dz_i|\n(data units per unit z)",
                 title="Effect of each latent dimension on the output (grey: inactive)")
    for row, (name, (abs_mean, signed_mean)) in enumerate(ig.items(), start=1):
        colors = ["tab:green" if float(s) >= 0 else "tab:red" for s in signed_mean]
        _ranked_bars(axes[row][0], abs_mean, colors=colors,
                     ylabel=f"mean |IG| on z\n({name} units)",
                     title=f"Integrated Gradients of target '{name}' on each latent dimension "
                           "(green: raises it on average, red: lowers it)")
    return fig


def sensitivity_figure(sensitivity: torch.Tensor, mean_fake: torch.Tensor,
                       value_range: tuple[float, float]) -> Any:
    """Images: the mean generated image beside the per-pixel sensitivity map; vectors: bars."""
    label = "mean ||dx_p/dz|| (data units per unit z)"
    if sensitivity.ndim == 2:
        fig, (ax0, ax1) = new_figure(7.2, 3.5, 1, 2)
        show_image(ax0, display_images(mean_fake[None], value_range)[0])
        _pixel_ticks(ax0, sensitivity.shape)
        ax0.set_title("mean generated image", fontsize=9)
        ax0.set_xlabel("column (pixel)")
        ax0.set_ylabel("row (pixel)")
        im = ax1.imshow(sensitivity.numpy(), cmap=HEAT, interpolation="nearest")
        ax1.set_title("pixel sensitivity to the latent", fontsize=9)
        ax1.set_xlabel("column (pixel)")
        ax1.set_ylabel("row (pixel)")
        fig.colorbar(im, ax=ax1, shrink=0.85, label=label)
        return fig
    fig, ax = new_figure(min(12.0, 3 + 0.25 * sensitivity.numel()), 3.4)
    ax.bar(np.arange(sensitivity.numel()), sensitivity.numpy(), color="tab:blue")
    ax.set_xlabel("data coordinate")
    ax.set_ylabel(label, fontsize=8)
    ax.set_title("Sensitivity of each output coordinate to the latent")
    return fig


def conductance_figure(mean: torch.Tensor, layer: str, target: str, k: int = 12) -> Any:
    """The ``k`` units with the highest and the ``k`` with the lowest mean conductance."""
    order = torch.argsort(mean, descending=True)
    if mean.numel() > 2 * k:
        order = torch.cat([order[:k], order[-k:]])
    values = mean[order].numpy()
    fig, ax = new_figure(max(6.0, 0.28 * len(order) + 2), 3.6)
    ax.bar(np.arange(len(order)), values,
           color=["tab:green" if v >= 0 else "tab:red" for v in values])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(np.arange(len(order)))
    ax.set_xticklabels([str(int(i)) for i in order], fontsize=7, rotation=90)
    ax.set_xlabel(f"unit (channel) of {layer}" + (f": top and bottom {k} of {mean.numel()}"
                                                    if mean.numel() > 2 * k else ""))
    ax.set_ylabel(f"mean conductance\n({target} units)", fontsize=8)
    wrapped_title(ax, f"Which units of {layer} raise (green) or lower (red) target '{target}'",
                  fontsize=9)
    return fig


def class_maps_figure(fake_maps: torch.Tensor, fake_counts: Sequence[int],
                      real_maps: torch.Tensor | None, real_counts: Sequence[int] | None,
                      names: Sequence[str], method: str, d_form: str) -> Any:
    """Per-class mean maps on one colour scale. Images: one column per class, a row of real
    and a row of generated samples; vectors: one panel per source, a row per class."""
    unit = MAP_UNITS.get(method, "mean |attribution|")
    rows = [("generated", fake_maps, fake_counts)]
    if real_maps is not None:
        rows.insert(0, ("real", real_maps, real_counts))
    vmax = float(max(float(r[1].max()) for r in rows)) or 1.0
    k = len(names)
    if fake_maps.ndim == 3:
        fig, axes = _grid(1.9 * k + 1.6, 2.1 * len(rows) + 0.8, len(rows), k)
        im = None
        for r, (source, maps, counts) in enumerate(rows):
            for c in range(k):
                ax = axes[r][c]
                im = ax.imshow(maps[c].numpy(), cmap=HEAT, vmin=0, vmax=vmax,
                               interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"y = {names[c]} (n = {counts[c]})", fontsize=7)
                if c == 0:
                    ax.set_ylabel(source, fontsize=9)
        fig.supxlabel("conditioning class y (one column each)", fontsize=8)
        fig.colorbar(im, ax=list(axes.ravel()), shrink=0.8, label=unit)
    else:
        fig, axes = _grid(5.2 * len(rows) + 1.2, max(2.8, 0.3 * k + 1.6), 1, len(rows))
        im = None
        for ax, (source, maps, counts) in zip(axes[0], rows):
            im = ax.imshow(maps.numpy(), cmap=HEAT, vmin=0, vmax=vmax, aspect="auto",
                           interpolation="nearest")
            ax.set_yticks(np.arange(k))
            ax.set_yticklabels([f"y = {n} (n = {c})" for n, c in zip(names, counts)], fontsize=7)
            ax.set_xlabel("data coordinate")
            ax.set_ylabel("conditioning class")
            ax.set_title(source, fontsize=9)
        fig.colorbar(im, ax=list(axes.ravel()), shrink=0.8, label=unit)
    fig.suptitle(f"Where {d_form} looks, per conditioning class "
                 f"({METHOD_TITLES.get(method, method)})", fontsize=10)
    return fig
