"""Copies: near-duplicates among the fakes (with the birthday-paradox support estimate) and
memorisation of training samples.

Both need a notion of "too close", and both take it from the real data rather than from a
constant: a near-duplicate is closer to another fake than the closest ``quantile`` of real
samples are to their nearest other real sample; a memorised fake is closer to a training sample
than the closest ``quantile`` of held-out real samples are. A generator that samples the data
distribution therefore scores about ``quantile`` on both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .neighbours import knn, nearest


def quantile_value(values: torch.Tensor, q: float) -> float:
    """The ``q`` quantile (linear interpolation, as ``numpy.quantile``)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {q}")
    return float(np.quantile(values.double().numpy(), q))


def duplicate_threshold(real: Any, quantile: float = 0.01, **scan: Any) -> float:
    """The ``quantile`` quantile of the real samples' nearest-other-real distances."""
    return quantile_value(knn(real, 1, **scan)["distances"][:, 0], quantile)


@dataclass
class DuplicateResult:
    """Near-duplicates among a set of samples.

    Attributes:
        fraction: the share of samples with another sample within ``threshold``.
        pairs: the number of (unordered) pairs within ``threshold``.
        support_estimate: the birthday-paradox estimate of the number of distinct samples the
            generator can make (Arora & Zhang 2017): a sample of n from S equally likely
            outcomes holds n(n-1)/2 / S duplicate pairs on average, so S ≈ n(n-1)/2 / pairs.
            With no pair it is only a lower bound, n(n-1)/2 (``support_is_lower_bound``).
        partners: (n,) how many other samples lie within ``threshold`` of each sample.
        nearest_distance, nearest_index: (n,) each sample's nearest other sample.
    """

    fraction: float
    pairs: int
    support_estimate: float
    support_is_lower_bound: bool
    threshold: float
    partners: torch.Tensor
    nearest_distance: torch.Tensor
    nearest_index: torch.Tensor

    @property
    def flags(self) -> torch.Tensor:
        return self.partners > 0


def support_from_pairs(n: int, pairs: float) -> tuple[float, bool]:
    """``(n(n-1)/2 / pairs, False)``, or ``(n(n-1)/2, True)`` (a lower bound) with no pair."""
    total = n * (n - 1) / 2.0
    if pairs <= 0:
        return total, True
    return total / pairs, False


def duplicates(samples: Any, threshold: float, **scan: Any) -> DuplicateResult:
    """Near-duplicates among ``samples``: pairs at distance ≤ ``threshold``."""
    if not threshold >= 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number ≥ 0, got {threshold}")
    return duplicates_from_knn(knn(samples, 1, radius=threshold, indices=True, **scan), threshold)


def duplicates_from_knn(res: dict[str, torch.Tensor], threshold: float) -> DuplicateResult:
    """A :class:`DuplicateResult` from :func:`~.neighbours.knn` output computed with
    ``radius=threshold`` and ``indices=True`` (so one pass also yields the k-NN radii)."""
    partners = res["within"]
    n = int(partners.shape[0])
    pairs = int(partners.sum()) // 2
    support, lower = support_from_pairs(n, pairs)
    return DuplicateResult(float((partners > 0).double().mean()), pairs, support, lower, threshold,
                           partners, res["distances"][:, 0], res["indices"][:, 0])


@dataclass
class MemorisationResult:
    """Fakes closer to a training sample than held-out real samples are.

    Attributes:
        fraction: the share of fakes within ``threshold`` of their nearest training sample.
        threshold: the ``quantile`` quantile of the held-out samples' nearest-training distances.
        fake_distance, fake_index: (n,) each fake's nearest training sample.
        heldout_distance: the held-out samples' nearest-training distances.
    """

    fraction: float
    threshold: float
    quantile: float
    fake_distance: torch.Tensor
    fake_index: torch.Tensor
    heldout_distance: torch.Tensor

    @property
    def flags(self) -> torch.Tensor:
        return self.fake_distance <= self.threshold


def memorisation(fake: Any, train: Any, heldout: Any, *, quantile: float = 0.05,
                 **scan: Any) -> MemorisationResult:
    """Memorisation of ``train`` by ``fake``, calibrated on ``heldout`` (real samples that are
    not in ``train``): a fake is memorised when it lies closer to its nearest training sample
    than the closest ``quantile`` of held-out samples do."""
    held_d = nearest(heldout, train, 1, **scan)[0][:, 0]
    threshold = quantile_value(held_d, quantile)
    fake_d, fake_i = nearest(fake, train, 1, **scan)
    fd = fake_d[:, 0]
    return MemorisationResult(float((fd <= threshold).double().mean()), threshold, quantile, fd,
                              fake_i[:, 0], held_d)
