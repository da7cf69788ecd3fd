"""Matplotlib helpers shared by the trainer and the analyzers.

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas, never pyplot, so there is
no global state, no GUI backend and nothing heavy at ``import ganlens`` time (matplotlib is
imported inside these functions).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100


def new_figure(width: float = 6.0, height: float = 4.0, nrows: int = 1, ncols: int = 1,
               squeeze: bool = True, **kwargs: Any) -> tuple[Figure, Any]:
    """A figure and its axes: one Axes, or an array of them (always a 2-D array when
    ``squeeze`` is False)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **kwargs)
    return fig, axes


def wrapped_title(ax: Axes, text: str, fontsize: float = 9) -> None:
    """Set ``ax``'s title, each line wrapped at spaces to the axes' width, so that a long
    layer or target name never runs past the figure's edge."""
    import textwrap

    width_inches = ax.get_position().width * ax.figure.get_figwidth()
    # An average character of the default sans-serif font is about 0.55 em wide.
    chars = max(20, int(width_inches * 72 / (0.55 * fontsize)))
    lines = [textwrap.fill(line, chars) for line in text.split("\n")]
    ax.set_title("\n".join(lines), fontsize=fontsize)


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """Render ``fig`` to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_figure(fig: Figure, path: Path) -> Path:
    from .fileio import atomic_write_bytes

    return atomic_write_bytes(path, figure_png(fig))


def show_image(ax: Axes, image: torch.Tensor, title: str | None = None, **kwargs: Any) -> Any:
    """Draw a (C, H, W) image in [0, 1] on ``ax`` (grey for one channel), no ticks."""
    arr = image.detach().float().cpu().clamp(0, 1).numpy()
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)
    if arr.shape[0] == 1:
        return ax.imshow(arr[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest", **kwargs)
    return ax.imshow(np.transpose(arr[:3], (1, 2, 0)), interpolation="nearest", **kwargs)


def plain_log_axis(ax: Axes) -> None:
    """Log-scale y axis labelled with plain numbers (0.5, 1, 2) instead of powers of ten."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
            return f"{x:g}"

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(Plain())
    ax.yaxis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(1, 0.4)))


def scatter_png(points: torch.Tensor, data: Any, path: Path, title: str) -> Path:
    """Samples of 2-D data over the known modes (when the dataset has them)."""
    fig, ax = new_figure(4.5, 4.5)
    pts = points.detach().cpu().float().numpy()
    ax.scatter(pts[:, 0], pts[:, 1] if pts.shape[1] > 1 else np.zeros(len(pts)), s=6,
               alpha=0.6, label="generated")
    if getattr(data, "modes", None) is not None:
        m = data.modes.numpy()
        ax.scatter(m[:, 0], m[:, 1], marker="x", c="red", s=40, label="true mode centres")
    ax.set_title(title)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.legend(fontsize=7, loc="upper right")
    return save_figure(fig, path)


def smooth(values: np.ndarray | list[float], window: int) -> np.ndarray:
    """Moving average with a window of ``window`` samples (edges use what is there)."""
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) < 2:
        return v
    window = min(window, len(v))
    kernel = np.ones(window)
    num = np.convolve(np.nan_to_num(v), kernel, mode="same")
    den = np.convolve(np.ones_like(v), kernel, mode="same")
    return num / den


def training_curves_figure(history: dict[str, Any]) -> Figure:
    """Losses and D(x)/D(G(z)) per step, smoothed, the raw values faint behind."""
    steps = history["steps"]
    n = len(steps["g_loss"])
    x = np.arange(1, n + 1)
    window = max(1, n // 50)
    fig, (ax1, ax2) = new_figure(9, 3.4, 1, 2)
    for key, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
        line, = ax1.plot(x, smooth(steps[key], window), label=label)
        ax1.plot(x, steps[key], color=line.get_color(), alpha=0.2, linewidth=0.6)
    ax1.set_title("Losses per step")
    ax1.set_xlabel("training step")
    ax1.set_ylabel("loss")
    ax1.legend(fontsize=8)
    for key, label in (("d_real", "D(x) on real"), ("d_fake", "D(G(z)) on fake")):
        line, = ax2.plot(x, smooth(steps[key], window), label=label)
        ax2.plot(x, steps[key], color=line.get_color(), alpha=0.2, linewidth=0.6)
    ax2.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="0.5 (equilibrium)")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_title("Discriminator outputs per step")
    ax2.set_xlabel("training step")
    ax2.set_ylabel("mean sigmoid(D)")
    ax2.legend(fontsize=8)
    return fig


def training_curves_png(history: dict[str, Any], path: Path) -> Path | None:
    if not history["steps"]["g_loss"]:
        return None
    return save_figure(training_curves_figure(history), path)
