"""Counting modes: known mode centres (mixtures such as ring8 and grid25) and classes (labelled
data, through a classifier).

Known modes follow the VEEGAN / PacGAN protocol (Srivastava et al. 2017; Lin et al. 2018): a
sample is *high quality* when it lies within 3 standard deviations of its nearest mode centre,
and a mode is *covered* when at least ``min_samples_per_mode`` high-quality samples fall on it.
The protocol is defined for 2-D data; in d dimensions the radius is the one that holds the same
share of a true mode's samples as 3 std does in 2-D (1 - exp(-9/2) = 98.9%), so a perfect
generator keeps the same high-quality fraction whatever the dimension; in 2-D it is exactly
3 std.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .neighbours import as_features, nearest
from .stats import js_divergence, kl_divergence


def quality_radius(std: float, dim: int, quality_std: float = 3.0) -> float:
    """The high-quality radius for modes of ``std`` in ``dim`` dimensions (see the module)."""
    if std <= 0 or quality_std <= 0:
        raise ValueError(f"std and quality_std must be positive, got {std} and {quality_std}")
    if dim == 2:
        return quality_std * std
    from scipy.stats import chi2

    share = 1.0 - math.exp(-quality_std**2 / 2.0)
    return std * math.sqrt(float(chi2.ppf(share, dim)))


@dataclass
class ModeResult:
    """Known-mode coverage of a set of samples.

    Attributes:
        modes_covered, modes_total: modes with at least ``min_samples_per_mode`` high-quality
            samples, and the number of modes.
        high_quality_fraction: samples within ``radius`` of their nearest centre.
        counts: (K,) high-quality samples per mode.
        covered: (K,) bool.
        nearest_mode: (n,) each sample's nearest centre; ``high_quality``: (n,) bool.
    """

    modes_covered: int
    modes_total: int
    high_quality_fraction: float
    radius: float
    counts: np.ndarray
    covered: np.ndarray
    nearest_mode: torch.Tensor
    high_quality: torch.Tensor


def mode_coverage(samples: Any, centres: Any, std: float, *, quality_std: float = 3.0,
                  min_samples_per_mode: int = 1) -> ModeResult:
    """Which known modes ``samples`` cover, VEEGAN-style (see the module docstring)."""
    x = as_features(samples, "samples")
    c = as_features(centres, "centres")
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples have {x.shape[1]} values but mode centres {c.shape[1]}")
    if min_samples_per_mode < 1:
        raise ValueError(f"min_samples_per_mode must be ≥ 1, got {min_samples_per_mode}")
    radius = quality_radius(float(std), int(c.shape[1]), quality_std)
    dist, idx = nearest(x, c, 1)
    hq = dist[:, 0] <= radius
    k = int(c.shape[0])
    counts = torch.bincount(idx[hq, 0], minlength=k).numpy()
    covered = counts >= min_samples_per_mode
    return ModeResult(int(covered.sum()), k, float(hq.double().mean()), radius, counts, covered,
                      idx[:, 0], hq)


def histogram_js(counts: Any, reference: Any) -> float:
    """JS divergence (bits) of two histograms; 1 (the maximum) when ``counts`` is empty."""
    if float(np.sum(counts)) <= 0:
        return 1.0
    return js_divergence(counts, reference)


@dataclass
class ClassResult:
    """Class coverage of samples labelled by a classifier.

    Attributes:
        classes_covered: classes present in the real data with at least ``min_count`` samples.
        classes_total: classes present in the real data.
        class_kl: KL(fake ‖ real) of the class histograms in bits, over the real classes.
        counts, real_counts: (C,) per-class counts; ``share_ratio``: fake share / real share.
    """

    classes_covered: int
    classes_total: int
    class_kl: float
    min_count: int
    counts: np.ndarray
    real_counts: np.ndarray
    covered: np.ndarray
    share_ratio: np.ndarray


def coverage_min_count(n: int, classifier_accuracy: float, min_samples: int = 1) -> int:
    """The fewest samples a class needs to count as covered: ``min_samples``, or more when the
    classifier's own errors could put that many samples in a class that is not there. With
    held-out error rate e, up to about e·n of n samples are mislabelled; a class holding fewer
    cannot be told apart from misclassifications."""
    error = max(0.0, 1.0 - float(classifier_accuracy))
    # Rounded first so that 1 - 0.97 = 0.030000000000000027 does not add a sample.
    return max(int(min_samples), math.ceil(round(error * n, 9)))


def class_coverage(predicted: Any, real_labels: Any, num_classes: int, *,
                   min_count: int = 1) -> ClassResult:
    """Classes covered by samples with ``predicted`` labels, against ``real_labels``."""
    pred = torch.as_tensor(predicted).long().flatten()
    real = torch.as_tensor(real_labels).long().flatten()
    if pred.numel() == 0 or real.numel() == 0:
        raise ValueError("class coverage needs at least one sample and one real label")
    counts = torch.bincount(pred, minlength=num_classes)[:num_classes].numpy()
    real_counts = torch.bincount(real, minlength=num_classes)[:num_classes].numpy()
    present = real_counts > 0
    covered = (counts >= min_count) & present
    fake_present = counts[present]
    # With no sample in any real class the divergence is infinite (JSON: null).
    kl = kl_divergence(fake_present, real_counts[present]) if fake_present.sum() > 0 else math.inf
    fake_share = counts / max(1, counts.sum())
    real_share = real_counts / max(1, real_counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(present, fake_share / np.where(present, real_share, 1.0), np.nan)
    return ClassResult(int(covered.sum()), int(present.sum()), kl, int(min_count), counts,
                       real_counts, covered, ratio)


@dataclass
class Counted:
    """Modes or classes: what the fakes cover, beside a real sample of the same size."""

    kind: str  # "mode" or "class"
    names: list[str]
    counts: np.ndarray  # fakes per mode/class (high-quality fakes for modes)
    reference: np.ndarray  # real samples per mode/class (all the real data)
    baseline_counts: np.ndarray  # a real sample of N, labelled the same way as the fakes
    covered: np.ndarray
    covered_count: int
    total: int
    baseline_covered: int
    n_fake: int
    n_baseline: int
    rule: str  # how "covered" was decided, for captions and findings
    high_quality: tuple[float, float] | None = None  # modes: fake and baseline HQ fractions
    radius: float | None = None  # modes: the high-quality radius
    nearest_mode: torch.Tensor | None = None  # modes: each fake's nearest centre
    high_quality_mask: torch.Tensor | None = None  # modes: (N,) bool
