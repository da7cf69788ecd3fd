"""Figures of the image_stats analyzer (matplotlib, imported lazily through ganlens.plotting)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from ganlens.plotting import new_figure, plain_log_axis

from .metrics import BANDS, DiscriminatorQuality

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FAKE, REAL = "tab:blue", "grey"
CHANNEL_NAMES = {1: ["intensity"], 3: ["red", "green", "blue"], 4: ["red", "green", "blue", "alpha"]}
MAX_PANELS = 4


def channel_names(c: int) -> list[str]:
    return CHANNEL_NAMES.get(c, [f"channel {i}" for i in range(c)])


def histogram_figure(fake: torch.Tensor, real: torch.Tensor, distances: list[float],
                     bins: int) -> Figure:
    """Per channel (the first four), intensity histograms of fakes and reals on the 0–1 scale."""
    c = min(fake.shape[1], MAX_PANELS)
    fig, axes = new_figure(3.6 * c + 0.4, 3.2, 1, c)
    axes = [axes] if c == 1 else list(axes)
    lo = min(0.0, float(fake.min()), float(real.min()))
    hi = max(1.0, float(fake.max()), float(real.max()))
    edges = np.linspace(lo, hi, bins + 1)
    for ch, (ax, name) in enumerate(zip(axes, channel_names(fake.shape[1]), strict=False)):
        r_density, _ = np.histogram(real[:, ch].flatten().numpy(), bins=edges, density=True)
        f_density, _ = np.histogram(fake[:, ch].flatten().numpy(), bins=edges, density=True)
        ax.stairs(r_density, edges, fill=True, color=REAL, alpha=0.6, label="real")
        ax.stairs(f_density, edges, color=FAKE, linewidth=1.5, label="generated")
        plain_log_axis(ax)
        ax.set_title(f"{name}: W1 = {distances[ch]:.3f}", fontsize=9)
        ax.set_xlabel("intensity (0-1 scale of the value range)")
        ax.set_ylabel("density (log scale)")
        ax.legend(fontsize=7)
    return fig


def mean_std_figure(means: tuple[torch.Tensor, torch.Tensor],
                    stds: tuple[torch.Tensor, torch.Tensor]) -> Figure:
    """Rows: per-pixel mean and std; columns: generated, real, generated − real (channel mean)."""
    fig, axes = new_figure(10, 6.4, 2, 3)
    for row, (kind, (f, r)) in enumerate((("mean", means), ("std", stds))):
        f2, r2 = f.mean(0).numpy(), r.mean(0).numpy()
        vmax = max(float(f2.max()), float(r2.max()), 1e-6)
        for col, (img, name) in enumerate(((f2, "generated"), (r2, "real"))):
            ax = axes[row, col]
            im = ax.imshow(img, cmap="gray" if kind == "mean" else "magma", vmin=0,
                           vmax=1 if kind == "mean" else vmax, interpolation="nearest")
            ax.set_title(f"{kind} image, {name}", fontsize=9)
        # one colour scale for generated and real, so they compare at a glance
        fig.colorbar(im, ax=[axes[row, 0], axes[row, 1]], shrink=0.8,
                     label=f"per-pixel {kind} (0-1 scale)")
        diff = f2 - r2
        # at least +-0.01 (2.5 grey levels of 255), so float noise stays pale
        lim = max(float(np.abs(diff).max()), 0.01)
        ax = axes[row, 2]
        im = ax.imshow(diff, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title(f"{kind}: generated - real", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8, label=f"difference of {kind}s")
        for ax in axes[row]:
            ax.set_xlabel("x (pixel column)")
            ax.set_ylabel("y (pixel row)")
    return fig


def spectrum_figure(freqs: np.ndarray, p_fake: np.ndarray, p_real: np.ndarray,
                    band_ratios: dict[str, float], tolerance: float) -> Figure:
    """Radially averaged power of fakes and reals (left), their ratio per frequency (right)."""
    fig, (ax1, ax2) = new_figure(10, 3.6, 1, 2)
    ax1.plot(freqs, p_real, color=REAL, marker=".", label="real")
    ax1.plot(freqs, p_fake, color=FAKE, marker=".", label="generated")
    plain_log_axis(ax1)
    ax1.set_title("Radially averaged power spectrum")
    ax1.set_ylabel("mean power per frequency (log scale)")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p_real > 0, p_fake / p_real, np.nan)
    ax2.plot(freqs, ratio, color="black", marker=".", label="generated / real")
    ax2.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    for bound in (tolerance, 1 / tolerance):
        ax2.axhline(bound, color="tab:red", linestyle="--", linewidth=0.8)
    ax2.plot([], [], color="tab:red", linestyle="--", linewidth=0.8,
             label=f"warning bounds ({1 / tolerance:.2g}, {tolerance:g})")
    finite = ratio[np.isfinite(ratio) & (ratio > 0)]
    low = min(0.8 / tolerance, float(finite.min()) / 1.2) if len(finite) else 0.8 / tolerance
    high = max(2.5 * tolerance, float(finite.max()) * 2.5) if len(finite) else 2.5 * tolerance
    plain_log_axis(ax2)
    ax2.set_ylim(low, high)
    ax2.set_title("Power ratio per frequency")
    ax2.set_ylabel("power of generated / power of real (log scale)")
    top = float(freqs.max()) if len(freqs) else 0.5
    for (name, lo, hi), shade in zip(BANDS, ("#f2f2f2", "#e0e0e0", "#cccccc"), strict=True):
        for ax in (ax1, ax2):
            ax.axvspan(lo, min(hi, top + 0.02), color=shade, alpha=0.5, zorder=0)
        value = band_ratios.get(name, float("nan"))
        ax2.text((lo + min(hi, top)) / 2, 0.96, f"{name}\n{value:.2f}", ha="center", va="top",
                 transform=ax2.get_xaxis_transform(), fontsize=8)
    for ax in (ax1, ax2):
        ax.axvline(0.5, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("spatial frequency (cycles per pixel; > 0.5: diagonals only)")
        ax.legend(fontsize=7, loc="lower left")
    return fig


def _bins(f: torch.Tensor, r: torch.Tensor, step: float | None = None) -> np.ndarray:
    """30 bins over both samples' range; for values on a lattice of ``step`` (edge densities of
    small images), bins centred on the lattice so that none falls between attainable values."""
    lo = float(min(f.min(), r.min()))
    hi = max(float(max(f.max(), r.max())), lo + 1e-6)
    if step is not None and (hi - lo) / step <= 60:
        k0, k1 = round(lo / step), round(hi / step)
        return (np.arange(k0, k1 + 2) - 0.5) * step
    return np.linspace(lo, hi, 31)


def edges_symmetry_figure(edges: tuple[torch.Tensor, torch.Tensor],
                          asym: tuple[torch.Tensor, torch.Tensor], threshold: float,
                          pixels: int) -> Figure:
    """Histograms of per-image edge density and left-right asymmetry, generated and real;
    ``pixels`` is the number of gradient positions per image (edge densities are multiples of
    its inverse)."""
    fig, (ax1, ax2) = new_figure(10, 3.4, 1, 2)
    for ax, (f, r), step, xlabel, title in (
        (ax1, edges, 1 / pixels, f"edge density (fraction of pixels with gradient > {threshold:g})",
         "Edge density per image"),
        (ax2, asym, None, "mean |image - mirror image| (0-1 scale)",
         "Left-right asymmetry per image"),
    ):
        bins = _bins(f, r, step)
        ax.hist(r.numpy(), bins=bins, density=True, color=REAL, alpha=0.6,
                label=f"real (mean {float(r.mean()):.3f})")
        ax.hist(f.numpy(), bins=bins, density=True, color=FAKE, histtype="step", linewidth=1.5,
                label=f"generated (mean {float(f.mean()):.3f})")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
    return fig


def discriminator_figure(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                         q: DiscriminatorQuality, probabilistic: bool = True) -> Figure:
    """Score histograms (left) and the ROC curve (right). An unbounded critic's scores are
    shown raw, without a decision threshold."""
    fig, (ax1, ax2) = new_figure(10, 3.6, 1, 2)
    if probabilistic:
        real, fake = torch.sigmoid(real_logits.float()), torch.sigmoid(fake_logits.float())
        bins = np.linspace(0, 1, 41)
    else:
        real, fake = real_logits.float(), fake_logits.float()
        both = torch.cat([real, fake])
        bins = np.linspace(float(both.min()), float(both.max()) + 1e-6, 41)
    ax1.hist(real.numpy(), bins=bins, color=REAL, alpha=0.6, label="real")
    ax1.hist(fake.numpy(), bins=bins, color=FAKE, alpha=0.6, label="generated")
    if probabilistic:
        ax1.axvline(0.5, color="black", linestyle=":", linewidth=1, label="0.5 threshold")
        ax1.set_title(f"Discriminator scores (balanced accuracy {q.accuracy:.2f})")
        ax1.set_xlabel("sigmoid(D) (1 = judged real)")
    else:
        ax1.set_title("Critic scores (no decision threshold)")
        ax1.set_xlabel("D's score (higher = judged more real)")
    ax1.set_ylabel("images")
    ax1.legend(fontsize=7)
    ax2.plot(q.fpr, q.tpr, color="black", label=f"D (AUC {q.auc:.3f})")
    ax2.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance (AUC 0.5)")
    ax2.set_xlim(0, 1)
    ax2.set_ylim(0, 1.01)
    ax2.set_title("ROC: real (positive) against generated")
    ax2.set_xlabel("false positive rate (generated called real)")
    ax2.set_ylabel("true positive rate (real called real)")
    ax2.legend(fontsize=7, loc="lower right")
    return fig
