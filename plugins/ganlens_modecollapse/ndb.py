"""NDB/K (Richardson & Weiss 2018, "On GANs and GMMs"): K-means bins on the real data, a
two-proportion z-test per bin, and the JS divergence of the bin histograms.

A perfect generator puts the same share of samples in every bin as the real data do, so about
α·K bins differ by chance: NDB/K near α is good, well above it means the generator over- or
under-fills regions of the data (mode dropping or mode collapse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .neighbours import as_features
from .stats import js_divergence, two_proportion_z_test

KMEANS_ITERATIONS = 100


def kmeans(x: Any, k: int, *, seed: int = 0,
           iterations: int = KMEANS_ITERATIONS) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's K-means with k-means++ seeding (Arthur & Vassilvitskii 2007).

    Returns the (k, d) centres (float32) and the (n,) bin of each row. Deterministic for a
    seed; an empty bin is re-seeded with the row farthest from its centre.
    """
    data = as_features(x, "x").float()
    n = data.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of samples {n}, got {k}")
    gen = torch.Generator().manual_seed(int(seed))
    first = int(torch.randint(n, (1,), generator=gen))
    centres = [data[first]]
    closest = ((data - data[first]) ** 2).sum(1).double()
    for _ in range(1, k):
        total = float(closest.sum())
        if total <= 0:  # fewer distinct points than bins: take any unused row
            pick = int(torch.randint(n, (1,), generator=gen))
        else:
            pick = int(torch.multinomial(closest / total, 1, generator=gen))
        centres.append(data[pick])
        closest = torch.minimum(closest, ((data - data[pick]) ** 2).sum(1).double())
    c = torch.stack(centres)
    labels = torch.full((n,), -1, dtype=torch.long)
    for _ in range(iterations):
        dist, new = _closest_centre(data, c)
        if torch.equal(new, labels):
            break
        labels = new
        counts = torch.bincount(labels, minlength=k)
        sums = torch.zeros_like(c, dtype=torch.float64).index_add_(0, labels, data.double())
        filled = counts > 0
        c = c.clone()
        c[filled] = (sums[filled] / counts[filled, None]).float()
        far = dist.clone()
        for empty in torch.nonzero(~filled).flatten().tolist():
            pick = int(far.argmax())
            c[empty] = data[pick]
            far[pick] = -1.0
    # The bins of the final centres, computed exactly as assign() computes them for new data.
    return c, _closest_centre(data, c)[1]


def _closest_centre(x: torch.Tensor, centres: torch.Tensor,
                    chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared distance to, and index of, the nearest centre (float32: Lloyd's iterations need
    no exact ties, and this runs up to a hundred times)."""
    cc = (centres * centres).sum(1)
    dists, idx = [], []
    for part in x.split(chunk):
        sq = torch.addmm(cc[None, :], part, centres.T, alpha=-2.0)
        sq.add_((part * part).sum(1, keepdim=True))
        d, i = sq.min(1)
        dists.append(d.clamp_min(0))
        idx.append(i)
    return torch.cat(dists), torch.cat(idx)


def assign(x: Any, centres: torch.Tensor) -> torch.Tensor:
    """The bin (nearest centre) of each row of ``x``."""
    return _closest_centre(as_features(x, "x").float(), centres.float())[1]


@dataclass
class NDBResult:
    """The outcome of the NDB test.

    Attributes:
        ndb: bins whose fake share differs significantly from the real share.
        ndb_k: ``ndb / bins``.
        js: JS divergence (bits) of the two bin histograms.
        bins: K.
        real_share, fake_share: (K,) bin proportions.
        z, p_value: per-bin test statistics (z > 0: the real share is larger).
        significant: (K,) bool, ``p_value < alpha``.
    """

    ndb: int
    ndb_k: float
    js: float
    bins: int
    alpha: float
    real_share: np.ndarray
    fake_share: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    significant: np.ndarray
    real_count: int = 0
    fake_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def ndb_from_counts(real_counts: Any, fake_counts: Any, *, alpha: float = 0.05) -> NDBResult:
    """NDB, NDB/K and the JS divergence from per-bin counts of real and fake samples."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    rc = np.asarray(real_counts, dtype=np.float64)
    fc = np.asarray(fake_counts, dtype=np.float64)
    if rc.shape != fc.shape or rc.ndim != 1:
        raise ValueError(f"bin counts must be two vectors of the same length, got {rc.shape} and {fc.shape}")
    n_r, n_f = int(rc.sum()), int(fc.sum())
    if n_r < 1 or n_f < 1:
        raise ValueError("both histograms need at least one sample")
    pr, pf = rc / n_r, fc / n_f
    z, p = two_proportion_z_test(pr, n_r, pf, n_f)
    sig = p < alpha
    k = int(rc.size)
    return NDBResult(int(sig.sum()), float(sig.sum()) / k, js_divergence(pr, pf), k, alpha, pr, pf,
                     z, p, sig, n_r, n_f)


def ndb(real: Any, fake: Any, *, bins: int = 50, alpha: float = 0.05,
        seed: int = 0) -> NDBResult:
    """NDB/K of ``fake`` against ``real`` features: K-means with ``bins`` bins on ``real``,
    then :func:`ndb_from_counts`. The centres are in ``result.extra["centres"]``."""
    centres, real_bins = kmeans(real, bins, seed=seed)
    fake_bins = assign(fake, centres)
    res = ndb_from_counts(torch.bincount(real_bins, minlength=bins).numpy(),
                          torch.bincount(fake_bins, minlength=bins).numpy(), alpha=alpha)
    res.extra["centres"] = centres
    res.extra["fake_bins"] = fake_bins
    return res


def bootstrap_ndb(real_counts: Any, fake_bins: Any, bins: int, *, alpha: float, rounds: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """NDB/K and JS over ``rounds`` resamples (with replacement) of the fake bin labels,
    vectorised over the rounds."""
    labels = np.asarray(fake_bins, dtype=np.int64)
    rc = np.asarray(real_counts, dtype=np.float64)
    n_r, n_f = int(rc.sum()), labels.size
    pr = rc / n_r
    ndb_k, js = np.empty(rounds), np.empty(rounds)
    step = max(1, (1 << 22) // max(1, n_f))
    for start in range(0, rounds, step):
        m = min(rounds, start + step) - start
        draws = labels[rng.integers(0, n_f, size=(m, n_f))] + bins * np.arange(m)[:, None]
        pf = np.bincount(draws.ravel(), minlength=m * bins).reshape(m, bins) / n_f
        _, p = two_proportion_z_test(pr[None, :], n_r, pf, n_f)
        ndb_k[start : start + m] = (p < alpha).sum(1) / bins
        js[start : start + m] = js_rows(pr[None, :], pf)
    return ndb_k, js


def js_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise JS divergence (bits) of proportion arrays (rows sum to 1), broadcasting."""
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
        kq = np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
    return np.maximum(0.0, 0.5 * kp.sum(-1) + 0.5 * kq.sum(-1))
