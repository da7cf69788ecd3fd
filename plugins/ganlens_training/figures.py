"""Figures of the training analyzer: curves per step (smoothed, raw values faint behind),
gradient norms, windowed loss variance and per-epoch diversity, with the onsets marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ganlens.plotting import new_figure, plain_log_axis, smooth

from .detect import History, Onset, oscillation_reference, window_variances

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ONSET_STYLE = {"nan": "black", "divergence": "tab:red", "discriminator_wins": "tab:purple",
               "oscillation": "tab:olive", "swings": "tab:pink", "diversity_drop": "tab:brown"}  # not the curves' blue/orange


def step_positions(h: History) -> np.ndarray:
    """Each step's position in epochs: steps of epoch e spread evenly over (e - 1, e]."""
    x = np.empty(h.num_steps)
    for e in np.unique(h.step_epoch):
        idx = np.flatnonzero(h.step_epoch == e)
        x[idx] = e - 1 + (np.arange(1, len(idx) + 1) / len(idx))
    return x


def _mark_onsets(ax: Axes, onsets: list[Onset]) -> None:
    for o in onsets:
        ax.axvline(o.epoch - 1, color=ONSET_STYLE.get(o.rule, "grey"), linestyle="--",
                   linewidth=1, label=f"{o.rule.replace('_', ' ')} (epoch {o.epoch})")


def _curves(ax: Axes, h: History, keys: list[tuple[str, str]], window: int) -> bool:
    """Per-step curves smoothed with the raw values faint behind; per-epoch when there are no
    steps. Returns whether anything was drawn."""
    drawn = False
    if h.num_steps:
        x = step_positions(h)
        for key, label in keys:
            if key not in h.steps:
                continue
            raw = h.steps[key]
            line, = ax.plot(x, smooth(raw, window), label=f"{label} (smoothed)")
            ax.plot(x, raw, color=line.get_color(), alpha=0.2, linewidth=0.6)
            drawn = True
    else:
        for key, label in keys:
            if h.has(key):
                ax.plot(h.epoch, h.per_epoch[key], marker=".", label=label)
                drawn = True
    return drawn


def curves_figure(h: History, onsets: list[Onset], window: int) -> Figure:
    """Losses (left) and mean sigmoid(D) on real and fake (right) against epochs."""
    fig, (ax1, ax2) = new_figure(10, 3.6, 1, 2)
    _curves(ax1, h, [("d_loss", "D loss"), ("g_loss", "G loss")], window)
    ax1.set_title("Losses")
    ax1.set_ylabel("loss")
    _curves(ax2, h, [("d_real", "D(x) on real"), ("d_fake", "D(G(z)) on fake")], window)
    ax2.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="0.5")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_title("Discriminator outputs")
    ax2.set_ylabel("mean sigmoid(D) over the batch")
    for ax in (ax1, ax2):
        _mark_onsets(ax, onsets)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    return fig


def stability_figure(h: History, onsets: list[Onset], window: int,
                     growth: float) -> Figure:
    """Gradient norms per step (left, log scale) and the windowed loss variance (right)."""
    fig, (ax1, ax2) = new_figure(10, 3.6, 1, 2)
    drawn = _curves(ax1, h, [("d_grad_norm", "D gradient norm"),
                             ("g_grad_norm", "G gradient norm")], window)
    if drawn:
        plain_log_axis(ax1)
    else:
        ax1.text(0.5, 0.5, "no gradient norms recorded", ha="center", va="center",
                 transform=ax1.transAxes)
    ax1.set_title("Gradient norms")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("L2 norm of all gradients")
    any_var = False
    for key, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
        firsts, var = window_variances(h, key)
        if len(var):
            # each window spans epochs first..next first - 1: draw it at its middle
            ends = np.append(firsts[1:] - 1, h.epoch[-1])
            mid = (firsts - 1 + ends) / 2
            positive = np.where(var > 0, var, np.nan)
            line, = ax2.plot(mid, positive, marker=".", label=f"{label} variance")
            ax2.plot(mid, growth * oscillation_reference(var), color=line.get_color(),
                     linestyle=":", linewidth=1)
            any_var = True
    if any_var:
        plain_log_axis(ax2)
        ax2.plot([], [], color="grey", linestyle=":", label=f"{growth:g} x median earlier level")
    else:
        ax2.text(0.5, 0.5, "no per-step losses recorded", ha="center", va="center",
                 transform=ax2.transAxes)
    ax2.set_title("Loss variance per window (detrended)")
    ax2.set_xlabel("epoch (each point: one window of whole epochs)")
    ax2.set_ylabel("variance around the window's trend")
    for ax in (ax1, ax2):
        _mark_onsets(ax, onsets)
        ax.legend(fontsize=7)
    return fig


def diversity_figure(h: History, onsets: list[Onset], drop: float) -> Figure:
    """Per-epoch diversity of the fixed latent batch, the real data's level, the threshold."""
    fig, ax = new_figure(6.5, 3.6)
    div = h.per_epoch["diversity"]
    ax.plot(h.epoch, div, marker=".", label="generated (fixed latent batch)")
    if h.real_diversity is not None:
        ax.axhline(h.real_diversity, color="grey", linestyle="--", linewidth=1,
                   label="real data")
    best = np.fmax.accumulate(np.where(np.isfinite(div), div, -np.inf))
    ref = np.minimum(best, h.real_diversity) if h.real_diversity is not None else best
    ax.plot(h.epoch, drop * ref, color="tab:red", linestyle=":", linewidth=1,
            label=f"collapse threshold ({drop:g} x reference)")
    _mark_onsets(ax, [o for o in onsets if o.rule == "diversity_drop"])
    ax.set_ylim(bottom=0)
    ax.set_title("Sample diversity per epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean pairwise distance")
    ax.legend(fontsize=7)
    return fig
