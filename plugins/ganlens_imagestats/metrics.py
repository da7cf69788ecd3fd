"""Image statistics of fakes against reals, as plain functions on tensors.

Every function takes images as (N, C, H, W) tensors in the data's value range and a
``value_range`` (low, high) that maps them to the 0–1 intensity scale used for every number here,
so results are comparable between GANs trained on [-1, 1] and on [0, 1]. They work for any
channel count and any (also non-square) size, and need no GAN.

References: the 1-D Wasserstein distance (earth mover's distance) between intensity
distributions (computed exactly from the sorted samples); the azimuthally averaged power spectrum as a GAN fingerprint (Durall, Keuper &
Keuper 2020, "Watch your up-convolution"; Dzanic, Shah & Witherden 2020, "Fourier spectrum
discrepancies in deep network generated images").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ganlens.errors import AnalyzerError

# Frequency bands in cycles per pixel: (0, 1/6], (1/6, 1/3] and everything above 1/3, the
# diagonal corners beyond the axis Nyquist limit 0.5 included (a checkerboard, the classic
# upsampling artefact, sits at the corner: radius 0.71).
BANDS = (("low", 0.0, 1 / 6), ("mid", 1 / 6, 1 / 3), ("high", 1 / 3, math.inf))
_CHUNK = 256


def check_images(x: torch.Tensor, what: str) -> torch.Tensor:
    """``x`` as float32 (N, C, H, W) on the CPU; raises AnalyzerError for another shape or for
    NaN or infinite values."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise AnalyzerError(f"{what}: expected images of shape (N, C, H, W), got {shape}")
    if x.shape[0] < 1:
        raise AnalyzerError(f"{what}: no images")
    x = x.detach().float().cpu()
    bad = (~torch.isfinite(x)).flatten(1).any(1)
    if bad.any():
        raise AnalyzerError(f"{what}: {int(bad.sum())} of {len(x)} images hold NaN or infinite "
                            "values")
    return x


def to_unit(x: torch.Tensor, value_range: Sequence[float] = (0.0, 1.0)) -> torch.Tensor:
    """Map ``x`` from ``value_range`` to the 0–1 intensity scale (no clamping)."""
    lo, hi = float(value_range[0]), float(value_range[1])
    if not hi > lo:
        raise AnalyzerError(f"value range must be (low, high) with low < high, got {value_range}")
    return (x.float() - lo) / (hi - lo)


def wasserstein_1d(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """The exact 1-D Wasserstein-1 distance between two samples of numbers: the area between
    their empirical CDFs (the same as ``scipy.stats.wasserstein_distance``, but sorting in
    torch, which is several times faster on millions of pixels). For samples of equal size it
    is the mean absolute difference of the sorted values, so a shift of every value by d gives
    exactly |d|."""
    # sort in the given precision (exact), subtract and sum in float64
    a = torch.sort(torch.as_tensor(a).detach().flatten().cpu())[0].double()
    b = torch.sort(torch.as_tensor(b).detach().flatten().cpu())[0].double()
    if not len(a) or not len(b):
        raise AnalyzerError("the Wasserstein distance needs two non-empty samples")
    if len(a) == len(b):
        return float((a - b).abs().mean())
    values = torch.sort(torch.cat([a, b]))[0]
    widths = values[1:] - values[:-1]
    cdf_a = torch.searchsorted(a, values[:-1], right=True).double() / len(a)
    cdf_b = torch.searchsorted(b, values[:-1], right=True).double() / len(b)
    return float(((cdf_a - cdf_b).abs() * widths).sum())


def channel_histogram_distances(fake: torch.Tensor, real: torch.Tensor,
                                value_range: Sequence[float] = (0.0, 1.0)) -> list[float]:
    """Per channel, the Wasserstein-1 distance between the pixel intensities of ``fake`` and
    ``real`` on the 0–1 scale (fraction of the value range)."""
    fake, real = to_unit(fake, value_range), to_unit(real, value_range)
    _same_channels(fake, real)
    return [wasserstein_1d(fake[:, c], real[:, c]) for c in range(fake.shape[1])]


def _same_channels(fake: torch.Tensor, real: torch.Tensor, size: bool = False) -> None:
    if fake.shape[1] != real.shape[1] or (size and fake.shape[2:] != real.shape[2:]):
        raise AnalyzerError(f"fakes of shape {tuple(fake.shape[1:])} and reals of shape "
                            f"{tuple(real.shape[1:])} cannot be compared")


def mean_std_images(x: torch.Tensor, value_range: Sequence[float] = (0.0, 1.0)
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-pixel mean and standard deviation over the images, (C, H, W) each, 0–1 scale."""
    u = to_unit(x, value_range).double()
    std = u.std(0, unbiased=True) if len(u) > 1 else torch.zeros_like(u[0])
    return u.mean(0).float(), std.float()


def _frequency_radius(h: int, w: int) -> torch.Tensor:
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(w, dtype=torch.float64)[None, :]
    return torch.sqrt(fy**2 + fx**2)


def power_spectrum(x: torch.Tensor, value_range: Sequence[float] = (0.0, 1.0)) -> torch.Tensor:
    """The mean 2-D power spectrum (H, W) over images and channels, in FFT order.

    Each image channel has its mean removed first (the DC term is brightness, covered by the
    histograms); power is |FFT|² / (H·W), so white noise of variance s² has flat power s².
    Computed in chunks, so memory stays bounded.
    """
    n, c, h, w = x.shape
    total = torch.zeros(h, w, dtype=torch.float64)
    for start in range(0, n, _CHUNK):
        u = to_unit(x[start : start + _CHUNK], value_range).double()
        u = u - u.mean(dim=(2, 3), keepdim=True)
        total += (torch.fft.fft2(u).abs() ** 2).sum(dim=(0, 1)) / (h * w)
    return total / (n * c)


def radial_profile(spectrum: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Azimuthal average of a 2-D power spectrum in FFT order: frequencies (cycles per pixel,
    bins of 1/max(H, W)) and the mean power in each bin; the DC bin and empty bins are left out."""
    h, w = spectrum.shape
    n = max(h, w)
    k = torch.round(_frequency_radius(h, w) * n).long().flatten()
    p = spectrum.double().flatten()
    sums = torch.zeros(int(k.max()) + 1, dtype=torch.float64).index_add_(0, k, p)
    counts = torch.zeros_like(sums).index_add_(0, k, torch.ones_like(p))
    keep = (counts > 0) & (torch.arange(len(sums)) > 0)
    freqs = torch.arange(len(sums), dtype=torch.float64)[keep] / n
    return freqs.numpy(), (sums[keep] / counts[keep]).numpy()


def band_powers(spectrum: torch.Tensor, bands=BANDS) -> dict[str, float]:
    """Total power in each frequency band of a 2-D spectrum (FFT order); NaN for a band with no
    frequency on this grid (tiny images)."""
    r = _frequency_radius(*spectrum.shape)
    out = {}
    for name, lo, hi in bands:
        mask = (r > lo) & (r <= hi)
        out[name] = float(spectrum.double()[mask].sum()) if mask.any() else math.nan
    return out


def spectrum_band_ratios(fake: torch.Tensor, real: torch.Tensor,
                         value_range: Sequence[float] = (0.0, 1.0)) -> dict[str, float]:
    """Per band (low, mid, high), the fakes' total power divided by the reals'; NaN where the
    reals have no power in the band."""
    _same_channels(fake, real, size=True)
    pf, pr = band_powers(power_spectrum(fake, value_range)), band_powers(power_spectrum(real, value_range))
    return {k: (pf[k] / pr[k] if pr[k] > 0 else math.nan) for k in pf}


def gradient_magnitude(x: torch.Tensor, value_range: Sequence[float] = (0.0, 1.0)) -> torch.Tensor:
    """Per image, the intensity gradient magnitude (N, H-1, W-1) of the channel-mean image on
    the 0–1 scale, from forward differences between neighbouring pixels."""
    if x.shape[2] < 2 or x.shape[3] < 2:
        raise AnalyzerError(f"edges need images of at least 2x2 pixels, got "
                            f"{x.shape[2]}x{x.shape[3]}")
    g = to_unit(x, value_range).mean(1)
    gx = g[:, :-1, 1:] - g[:, :-1, :-1]
    gy = g[:, 1:, :-1] - g[:, :-1, :-1]
    return torch.sqrt(gx**2 + gy**2)


def edge_density(x: torch.Tensor, value_range: Sequence[float] = (0.0, 1.0),
                 threshold: float = 0.1) -> torch.Tensor:
    """Per image, the fraction of pixels whose gradient magnitude exceeds ``threshold`` (a step
    of that fraction of the intensity range between neighbouring pixels), shape (N,)."""
    return (gradient_magnitude(x, value_range) > threshold).float().flatten(1).mean(1)


def lr_asymmetry(x: torch.Tensor, value_range: Sequence[float] = (0.0, 1.0)) -> torch.Tensor:
    """Per image, the mean absolute difference between the image and its left-right mirror on
    the 0–1 scale, shape (N,): 0 for a mirror-symmetric image."""
    u = to_unit(x, value_range)
    return (u - u.flip(-1)).abs().flatten(1).mean(1)


@dataclass
class DiscriminatorQuality:
    """How well D's scores separate real (label 1) from fake (label 0) images.

    ``auc``: the ROC AUC (sklearn); ``accuracy``: the balanced accuracy when sigmoid(score) ≥ 0.5
    is called real (the mean of the accuracy on reals and on fakes); ``fpr``/``tpr``: the ROC
    curve.
    """

    auc: float
    accuracy: float
    real_accuracy: float
    fake_accuracy: float
    fpr: np.ndarray
    tpr: np.ndarray


def discriminator_quality(real_logits: torch.Tensor, fake_logits: torch.Tensor
                          ) -> DiscriminatorQuality:
    """ROC AUC and accuracy at 0.5 of a discriminator's logits as a real-vs-fake classifier."""
    from sklearn.metrics import roc_auc_score, roc_curve

    r = torch.as_tensor(real_logits).detach().double().flatten().cpu().numpy()
    f = torch.as_tensor(fake_logits).detach().double().flatten().cpu().numpy()
    if not len(r) or not len(f):
        raise AnalyzerError("D's quality needs scores on at least one real and one fake image")
    for name, v in (("real", r), ("fake", f)):
        if not np.isfinite(v).all():
            raise AnalyzerError(f"the discriminator returned {int((~np.isfinite(v)).sum())} NaN "
                                f"or infinite scores on {name} images")
    labels = np.concatenate([np.ones(len(r)), np.zeros(len(f))])
    scores = np.concatenate([r, f])
    fpr, tpr, _ = roc_curve(labels, scores)
    real_acc, fake_acc = float((r >= 0).mean()), float((f < 0).mean())
    return DiscriminatorQuality(float(roc_auc_score(labels, scores)), (real_acc + fake_acc) / 2,
                                real_acc, fake_acc, fpr, tpr)
