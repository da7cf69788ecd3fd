"""Figures of the attributions analyzer (matplotlib, no pyplot): overlays, "where D looks" maps,
latent importance, pixel sensitivity and unit conductance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ganlens.images import display_images
from ganlens.plotting import new_figure, show_image

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
    """Rows: samples; columns: the sample, then each method's map laid over it."""
    n, cols = images.shape[0], 1 + len(maps)
    shown = display_images(images, value_range)
    fig, axes = _grid(1.45 * cols + 1.1, 1.45 * n + 0.7, n, cols)
    im = None
    for r in range(n):
        show_image(axes[r][0], shown[r], title="sample" if r == 0 else None)
        axes[r][0].set_ylabel(labels[r], fontsize=7)
        grey = shown[r].mean(0)
        for c, (method, per_sample) in enumerate(maps.items(), start=1):
            ax = axes[r][c]
            ax.imshow(grey.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            im = ax.imshow(_relative(per_sample[r]), cmap=HEAT, vmin=0, vmax=1, alpha=0.65,
                           interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(METHOD_TITLES.get(method, method), fontsize=8)
    if im is not None:
        fig.colorbar(im, ax=list(axes[:, 1:].flatten()), shrink=0.6,
                     label="|attribution| / the map's 99th percentile")
    fig.suptitle("What the discriminator looks at, per sample", fontsize=10)
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
    ax.set_title(title, fontsize=9)
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
    ax.set_title(f"Which units of {layer} raise (green) or lower (red) target '{target}'",
                 fontsize=9)
    return fig
