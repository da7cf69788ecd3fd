"""Small statistics the metrics share: divergences of histograms, the two-proportion z-test, and
bootstrap confidence intervals. numpy in, numbers out."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _distribution(p: Any, what: str) -> np.ndarray:
    a = np.asarray(p, dtype=np.float64).ravel()
    if a.size == 0 or np.any(a < 0) or not np.all(np.isfinite(a)):
        raise ValueError(f"{what}: expected non-negative finite counts or proportions")
    total = a.sum()
    if total <= 0:
        raise ValueError(f"{what}: the counts sum to 0")
    return a / total


def kl_divergence(p: Any, q: Any, *, base: float = 2.0) -> float:
    """KL(p‖q) of two histograms (normalised here), in bits by default; ``inf`` when p puts
    mass where q has none. Equals ``scipy.stats.entropy(p, q, base=base)``."""
    pp, qq = _distribution(p, "p"), _distribution(q, "q")
    if pp.shape != qq.shape:
        raise ValueError(f"histograms of different lengths: {pp.size} and {qq.size}")
    mask = pp > 0
    if np.any(qq[mask] == 0):
        return math.inf
    return float(np.sum(pp[mask] * np.log(pp[mask] / qq[mask])) / math.log(base))


def js_divergence(p: Any, q: Any, *, base: float = 2.0) -> float:
    """Jensen-Shannon divergence of two histograms, in bits by default (so in [0, 1]); the
    square of ``scipy.spatial.distance.jensenshannon(p, q, base=base)``."""
    pp, qq = _distribution(p, "p"), _distribution(q, "q")
    if pp.shape != qq.shape:
        raise ValueError(f"histograms of different lengths: {pp.size} and {qq.size}")
    m = 0.5 * (pp + qq)
    return max(0.0, 0.5 * kl_divergence(pp, m, base=base) + 0.5 * kl_divergence(qq, m, base=base))


def two_proportion_z_test(p1: Any, n1: int, p2: Any, n2: int) -> tuple[np.ndarray, np.ndarray]:
    """The pooled two-proportion z-test, element-wise (Richardson & Weiss 2018 use it per bin).

    ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with the pooled proportion
    ``p = (n1 p1 + n2 p2) / (n1 + n2)``; the two-sided p-value is ``erfc(|z| / √2)``.
    Where both proportions are 0 or both 1 (no variance) z is 0 and the p-value 1.
    """
    if n1 < 1 or n2 < 1:
        raise ValueError(f"sample sizes must be positive, got {n1} and {n2}")
    a1, a2 = np.asarray(p1, dtype=np.float64), np.asarray(p2, dtype=np.float64)
    pooled = (n1 * a1 + n2 * a2) / (n1 + n2)
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (a1 - a2) / np.where(se > 0, se, 1.0), 0.0)
    from scipy.special import erfc

    return z, erfc(np.abs(z) / math.sqrt(2.0))


def one_sided_greater(x1: int, n1: int, x2: int, n2: int) -> float:
    """p-value of the pooled two-proportion z-test that x1/n1 exceeds x2/n2 (one-sided)."""
    z, _ = two_proportion_z_test(x1 / n1, n1, x2 / n2, n2)
    return 0.5 * math.erfc(float(z) / math.sqrt(2.0))


def resample_indices(n: int, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """(rounds, n) indices drawn with replacement."""
    return rng.integers(0, n, size=(rounds, n))


def percentile_interval(values: Any, level: float) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap values (NaNs ignored)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (math.nan, math.nan)
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(v, [tail, 100.0 - tail])
    return (float(lo), float(hi))


def bootstrap_mean_ci(per_sample: Any, *, rounds: int = 1000, level: float = 0.95,
                      seed: int | np.random.Generator = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``per_sample`` values (indicators, counts).

    The per-sample values are held fixed and resampled with replacement: for the k-NN metrics
    this keeps every k-NN radius as computed on the full sets, which avoids the spurious zero
    radii that resampled duplicates would create.
    """
    v = np.asarray(per_sample, dtype=np.float64).ravel()
    if v.size == 0:
        return (math.nan, math.nan)
    if rounds < 1:
        return (math.nan, math.nan)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    means = np.empty(rounds)
    # Chunks of rounds keep the index matrix small for large n.
    step = max(1, (1 << 22) // v.size)
    for start in range(0, rounds, step):
        stop = min(rounds, start + step)
        means[start:stop] = v[resample_indices(v.size, stop - start, rng)].mean(1)
    return percentile_interval(means, level)
