"""The numbers of the ``conditioning`` analyzer, as plain functions of tensors (no GAN needed).

- :func:`confusion` counts (conditioning or true class, predicted class) pairs.
- :func:`diversity` is the mean pairwise distance of a set with its jackknife variance (the mean
  pairwise distance is a U-statistic; its leave-one-out values come from the row sums of the
  distance matrix, so nothing of size n × n is held).
- :func:`diversity_ratio` compares two such means on the log scale (delta method), with an
  interval and the one-sided p-value that the first is below the second.
- :func:`coverage_flags` is Naeem et al. (2020)'s coverage, per reference sample: is the nearest
  sample inside that reference sample's k-NN ball (strictly, as prdc)?
- :func:`precision_flags`: is each sample inside some reference sample's k-NN ball
  (Kynkäänniemi et al. 2019)? It tells low coverage from collapse apart from samples that lie off
  the reference data.
- :func:`duplicate_threshold` and :func:`duplicate_flags`: near-duplicates under a quantile of the
  reference's own nearest-neighbour distances.
- :func:`proportion_below_p` and :func:`paired_below_p`: one-sided tests of two proportions,
  independent (pooled z-test) or on the same reference samples (exact McNemar / sign test).

Distances are the exact blocked ones of :mod:`ganlens.maths`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import torch

from ganlens.maths import Scanner, as_features, knn, nearest

_NORMAL = NormalDist()


def confusion(true: Any, predicted: Any, k: int) -> np.ndarray:
    """(k, k) counts: row = the true (or conditioning) class, column = the predicted class."""
    t = torch.as_tensor(true).long().reshape(-1).numpy()
    p = torch.as_tensor(predicted).long().reshape(-1).numpy()
    if t.shape != p.shape:
        raise ValueError(f"{t.size} true labels for {p.size} predictions")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def row_shares(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows of 0 stay 0)."""
    totals = counts.sum(1, keepdims=True)
    return np.where(totals > 0, counts / np.maximum(totals, 1), 0.0)


# ---------------------------------------------------------------------------------------------
# Diversity: the mean pairwise distance and its jackknife variance
# ---------------------------------------------------------------------------------------------


@dataclass
class Diversity:
    """The mean distance between two distinct members of a set, and its jackknife variance."""

    mean: float
    variance: float
    n: int

    @property
    def se(self) -> float:
        return math.sqrt(max(self.variance, 0.0))


def pairwise_row_sums(x: Any, **scan: Any) -> torch.Tensor:
    """(n,) float64: each row's summed distance to every other row."""
    sc = Scanner(x, None, **scan)
    sums = torch.zeros(sc.n_a, dtype=torch.float64)
    for r0, r1, _c0, _c1, d in sc:
        sums[r0:r1] += d.double().sum(1).cpu()
    return sums


def diversity(x: Any, **scan: Any) -> Diversity:
    """The mean pairwise distance U of ``x`` (n ≥ 3 rows) and its jackknife variance.

    With S the sum over pairs and r_i row i's sum, leaving row i out gives
    U_(i) = (S - r_i) / C(n - 1, 2), and the jackknife variance is
    (n - 1)/n Σ (U_(i) - mean U_(.))² (Arvesen 1969 for U-statistics).
    """
    feats = as_features(x)
    n = int(feats.shape[0])
    if n < 3:
        raise ValueError(f"diversity needs at least 3 samples, got {n}")
    r = pairwise_row_sums(feats, **scan).numpy()
    total = float(r.sum()) / 2.0
    mean = total / (n * (n - 1) / 2.0)
    loo = (total - r) / ((n - 1) * (n - 2) / 2.0)
    variance = (n - 1) / n * float(((loo - loo.mean()) ** 2).sum())
    return Diversity(mean, variance, n)


@dataclass
class Ratio:
    """``value`` = a / b with its interval at ``level`` and the one-sided p-value of a < b."""

    value: float
    interval: tuple[float, float]
    p_below: float
    level: float


def diversity_ratio(a: Diversity, b: Diversity, level: float = 0.95) -> Ratio:
    """a.mean / b.mean, its normal interval on the log scale (delta method: the variance of the
    log ratio is var_a / a² + var_b / b²) and the one-sided p-value that a's mean is below b's.

    a set of identical points (a.mean = 0) has ratio 0, interval (0, 0) and p-value 0; a
    baseline of identical points (b.mean = 0) gives NaN throughout."""
    if not b.mean > 0:
        return Ratio(math.nan, (math.nan, math.nan), math.nan, level)
    if not a.mean > 0:
        return Ratio(0.0, (0.0, 0.0), 0.0, level)
    log_ratio = math.log(a.mean / b.mean)
    se = math.sqrt(a.variance / a.mean**2 + b.variance / b.mean**2)
    if se == 0:
        p = 0.0 if log_ratio < 0 else 1.0
        return Ratio(math.exp(log_ratio), (math.exp(log_ratio),) * 2, p, level)
    z = _NORMAL.inv_cdf(0.5 + level / 2.0)
    interval = (math.exp(log_ratio - z * se), math.exp(log_ratio + z * se))
    return Ratio(math.exp(log_ratio), interval, _NORMAL.cdf(log_ratio / se), level)


# ---------------------------------------------------------------------------------------------
# Coverage and near-duplicates
# ---------------------------------------------------------------------------------------------


def knn_radii(reference: Any, k: int, **scan: Any) -> torch.Tensor:
    """(n,) each reference sample's distance to its k-th nearest other reference sample."""
    return knn(reference, k, **scan)["distances"][:, k - 1]


def coverage_flags(reference: Any, samples: Any, radii: torch.Tensor, **scan: Any) -> torch.Tensor:
    """(n_ref,) bool: the nearest of ``samples`` lies strictly inside the reference sample's k-NN
    ball of radius ``radii`` (Naeem et al. 2020; their mean is the coverage)."""
    d, _ = nearest(reference, samples, 1, **scan)
    return d[:, 0] < radii


def precision_flags(samples: Any, reference: Any, radii: torch.Tensor, **scan: Any) -> torch.Tensor:
    """(n_samples,) bool: the sample lies strictly inside at least one reference sample's k-NN
    ball (Kynkäänniemi et al. 2019's precision, with the coverage radii)."""
    sc = Scanner(samples, reference, **scan)
    r = radii.to(sc.device, torch.float32)
    inside = torch.zeros(sc.n_a, dtype=torch.bool)
    for r0, r1, c0, c1, d in sc:
        inside[r0:r1] |= (d < r[None, c0:c1]).any(1).cpu()
    return inside


def duplicate_threshold(reference: Any, quantile: float, **scan: Any) -> float:
    """The ``quantile`` quantile (numpy's linear interpolation) of the reference samples'
    distances to their nearest other reference sample."""
    d = knn(reference, 1, **scan)["distances"][:, 0]
    return float(np.quantile(d.double().numpy(), quantile))


def duplicate_flags(x: Any, threshold: float, **scan: Any) -> torch.Tensor:
    """(n,) bool: another row of ``x`` lies within ``threshold`` (≤) of the row."""
    return knn(x, 1, **scan)["distances"][:, 0] <= threshold


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def proportion_below_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """p-value of the pooled two-proportion z-test that x1/n1 is below x2/n2 (one-sided).
    No variance at all (both 0 or both 1) gives 1."""
    if n1 < 1 or n2 < 1:
        raise ValueError(f"sample sizes must be positive, got {n1} and {n2}")
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return _NORMAL.cdf((p1 - p2) / se)


def paired_below_p(a: Any, b: Any) -> float:
    """Exact one-sided McNemar (sign) test that the share of True in ``a`` is below that in
    ``b``, two indicator vectors on the same samples: of the discordant samples, too few are
    True in ``a`` only. P(X ≤ c) for X ~ Binomial(c + d, ½), c = a only, d = b only."""
    a = torch.as_tensor(a, dtype=torch.bool)
    b = torch.as_tensor(b, dtype=torch.bool)
    c = int((a & ~b).sum())
    d = int((~a & b).sum())
    if c + d == 0:
        return 1.0
    from scipy.stats import binom

    return float(min(1.0, binom.cdf(c, c + d, 0.5)))
