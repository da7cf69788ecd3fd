"""Plotting helpers shared by the latent analyzer's views: labelled image grids, coloured
scatter panels and a 2-D projection for vector data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ganlens.images import display_images, make_grid
from ganlens.maths import plane_2d
from ganlens.plotting import new_figure, show_image


def image_rows(images: torch.Tensor, value_range: tuple[float, float], row_labels: Sequence[str],
               col_labels: Sequence[str], *, title: str, xlabel: str) -> Any:
    """A figure of ``len(row_labels)`` rows of ``len(col_labels)`` images (one grid image, rows
    labelled on the left, columns below). ``images`` is (rows * cols, C, H, W) in data units."""
    rows, cols = len(row_labels), len(col_labels)
    shown = display_images(images, value_range)
    _, _, h, w = shown.shape
    pad = max(1, min(h, w) // 16)
    grid = make_grid(shown, nrow=cols, padding=pad)
    scale = max(0.45, min(1.1, 28.0 / max(h, w)))
    fig, ax = new_figure(min(16.0, 0.8 * cols * scale + 2.2), min(24.0, 0.8 * rows * scale + 1.0))
    show_image(ax, grid)
    ax.set_yticks([pad + r * (h + pad) + h / 2 for r in range(rows)])
    ax.set_yticklabels(row_labels, fontsize=7)
    ax.set_xticks([pad + c * (w + pad) + w / 2 for c in range(cols)])
    ax.set_xticklabels(col_labels, fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    return fig


def projector(reference: torch.Tensor) -> tuple[Callable[[torch.Tensor], np.ndarray], tuple[str, str]]:
    """A map from vectors to 2-D for plots: the coordinates themselves for 1 or 2 dimensions,
    else the projection on the first two principal components of ``reference``."""
    project, axis = plane_2d(reference.detach())
    return (lambda x: project(x.detach()).numpy()), axis


def scatter_panel(ax: Any, coords: np.ndarray, values: np.ndarray | None, *, kind: str,
                  label: str, names: Sequence[str] | None = None, title: str = "") -> None:
    """One UMAP scatter: ``kind`` is ``continuous`` (a colour bar), ``categorical`` (a legend of
    ``names``) or ``none`` (one colour)."""
    size = 6 if len(coords) <= 2000 else 3
    if kind == "continuous" and values is not None:
        sc = ax.scatter(coords[:, 0], coords[:, 1], c=values, s=size, cmap="viridis",
                        linewidths=0, alpha=0.85)
        bar = ax.figure.colorbar(sc, ax=ax, shrink=0.8)
        bar.set_label(label, fontsize=8)
    elif kind == "categorical" and values is not None:
        cats = np.unique(values)
        cmap = _categorical_cmap(len(cats))
        for i, cat in enumerate(cats):
            m = values == cat
            name = names[int(cat)] if names is not None and int(cat) < len(names) else str(cat)
            ax.scatter(coords[m, 0], coords[m, 1], s=size, color=cmap(i), linewidths=0,
                       alpha=0.85, label=name)
        ax.legend(fontsize=6, markerscale=2, title=label, title_fontsize=7, loc="best",
                  ncol=2 if len(cats) > 6 else 1)
    else:
        ax.scatter(coords[:, 0], coords[:, 1], s=size, color="tab:blue", linewidths=0, alpha=0.7)
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    if title:
        ax.set_title(title, fontsize=9)


def _categorical_cmap(n: int) -> Any:
    from matplotlib import colormaps

    return colormaps["tab10" if n <= 10 else "tab20"]


def path_figure(reference: torch.Tensor, x: torch.Tensor, n_paths: int, steps: int,
                labels: Sequence[str | None], colours: Sequence[int], *, title: str) -> Any:
    """Paths of vector samples drawn in data space: ``x`` is (n_paths * steps, d), path i in
    colour ``C{colours[i]}`` with legend entry ``labels[i]`` (None: no entry), a cross at its
    start, over grey samples of ``reference``, on ``reference``'s 2-D projection."""
    proj, axis = projector(reference)
    fig, (ax,) = panels(1, 5.5, 4.8)
    bg = proj(reference[:1000])
    ax.scatter(bg[:, 0], bg[:, 1], s=3, color="lightgrey", label="samples")
    pts = proj(x).reshape(n_paths, steps, 2)
    for i in range(n_paths):
        colour = f"C{colours[i] % 10}"
        ax.plot(pts[i, :, 0], pts[i, :, 1], "-", marker=".", color=colour, label=labels[i])
        ax.plot(pts[i, 0, 0], pts[i, 0, 1], "x", color=colour)
    ax.set_xlabel(axis[0])
    ax.set_ylabel(axis[1])
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6, ncol=2 if n_paths > 6 else 1)
    return fig


def panels(n: int, width: float = 4.6, height: float = 4.2) -> tuple[Any, list[Any]]:
    """A figure with ``n`` side-by-side axes."""
    fig, axes = new_figure(width * n, height, 1, n)
    return fig, [axes] if n == 1 else list(axes)
