"""Copies: near-duplicates among the fakes, the birthday-paradox test of their support (Arora &
Zhang 2017), and memorisation of training samples.

All need a notion of "too close", and all take it from the real data rather than from a
constant: a near-duplicate is closer to another fake than the closest ``quantile`` of real
samples are to their nearest other real sample; a memorised fake is closer to a training sample
than the closest ``quantile`` of held-out real samples are. A generator that samples the data
distribution therefore scores about ``quantile`` on both. The birthday test needs a stricter
notion (see :func:`birthday_test`): a quantile threshold finds that share of "duplicates" in any
sample by construction, and the support it implied grew with n whatever the generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .neighbours import Scanner, as_features, knn, nearest


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
        partners: (n,) how many other samples lie within ``threshold`` of each sample.
        nearest_distance, nearest_index: (n,) each sample's nearest other sample.
    """

    fraction: float
    pairs: int
    threshold: float
    partners: torch.Tensor
    nearest_distance: torch.Tensor
    nearest_index: torch.Tensor

    @property
    def flags(self) -> torch.Tensor:
        return self.partners > 0


def duplicates(samples: Any, threshold: float, **scan: Any) -> DuplicateResult:
    """Near-duplicates among ``samples``: pairs at distance ≤ ``threshold``."""
    if not threshold >= 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number ≥ 0, got {threshold}")
    return duplicates_from_knn(knn(samples, 1, radius=threshold, indices=True, **scan), threshold)


def duplicates_from_knn(res: dict[str, torch.Tensor], threshold: float) -> DuplicateResult:
    """A :class:`DuplicateResult` from :func:`~.neighbours.knn` output computed with
    ``radius=threshold`` and ``indices=True`` (so one pass also yields the k-NN radii)."""
    partners = res["within"]
    pairs = int(partners.sum()) // 2
    return DuplicateResult(float((partners > 0).double().mean()), pairs, threshold, partners,
                           res["distances"][:, 0], res["indices"][:, 0])


# ---------------------------------------------------------------------------------------------
# The birthday-paradox test (Arora & Zhang 2017)
# ---------------------------------------------------------------------------------------------

BIRTHDAY_ROUNDS = 400
"""Random subsets drawn per size (the share holding a duplicate has sd ≤ 0.025)."""
BIRTHDAY_MAX_PAIRS = 200_000
"""Past this many duplicate pairs the test runs on a random half of the samples (and so on):
duplicates are then so common that s½ is far below the sizes it still tries."""
BIRTHDAY_LARGEST_SHARE = 3
"""Subsets of up to 1/3 of the samples are tried. Larger ones overlap too much to be random
subsets (all of them hold every pair), and a third keeps chance pairs from reaching half: one
pair under the threshold is in a subset of a third only 1/9 of the time, and about six are
needed to reach half. (Under the analyzer's threshold, the closest pair of 2n real samples, n
samples of the data distribution hold about 1/4 such pair on average.)"""


def birthday_threshold(real: Any, **scan: Any) -> float:
    """The distance between the two closest of the ``real`` samples: the birthday test's
    duplicates are closer than any two real samples are."""
    return float(knn(real, 1, **scan)["distances"][:, 0].min())


def pairs_within(samples: Any, threshold: float, *, max_pairs: int | None = None,
                 knn_result: dict[str, torch.Tensor] | None = None,
                 **scan: Any) -> torch.Tensor | None:
    """The (p, 2) index pairs ``i < j`` of ``samples`` at distance ≤ ``threshold``, or None when
    there are more than ``max_pairs``.

    With ``knn_result`` (:func:`~.neighbours.knn` of the same samples with ``indices=True``) and
    every row's k-th neighbour farther than ``threshold``, every pair is among the k nearest
    neighbours and no distance is recomputed; otherwise one pass over the pairs finds them.
    """
    if knn_result is not None:
        d, idx = knn_result["distances"], knn_result["indices"]
        if bool((d[:, -1] > threshold).all()):
            rows, cols = torch.nonzero(d <= threshold, as_tuple=True)
            i, j = rows, idx[rows, cols]
            keep = i < j  # each pair is in both rows' lists: keep it once
            return torch.stack([i[keep], j[keep]], 1)
    found, count = [], 0
    for r0, _r1, c0, _c1, d in Scanner(samples, None, **scan).upper_tiles():
        hits = d <= threshold
        if c0 == r0:  # a diagonal tile: pairs above its diagonal only
            hits = torch.triu(hits, diagonal=1)
        i, j = torch.nonzero(hits, as_tuple=True)
        if i.numel():
            count += int(i.numel())
            if max_pairs is not None and count > max_pairs:
                return None
            found.append(torch.stack([i + r0, j + c0], 1).cpu())
    return torch.cat(found) if found else torch.zeros((0, 2), dtype=torch.long)


@dataclass
class BirthdayResult:
    """The birthday-paradox test of Arora & Zhang (2017, "Do GANs learn the distribution?").

    A distribution over K equally likely outcomes gives a duplicate in about half the samples of
    size s when s(s - 1) ≈ 2 ln 2 · K (the birthday paradox: s ≈ 1.18 √K); Arora & Zhang read a
    sample size s at which duplicates appear with probability about ½ as a support of about s².
    Here a *duplicate* is a pair at distance ≤ ``threshold`` and the probability is measured on
    ``rounds`` random subsets of every size s up to ``sizes_tried``.

    Attributes:
        threshold: the duplicate threshold.
        sample_size: s½, the smallest s at which at least half of the random subsets of s
            samples hold a duplicate; None when no size tried gets there.
        support_estimate: s½ (s½ - 1) / (2 ln 2), the number of equally likely outcomes whose
            duplicates appear at s½ with probability ½; None with ``sample_size``. Unequal
            outcomes repeat sooner, so a generator with duplicates at s½ has at least about this
            many distinct outputs at the threshold's resolution, and most of its mass on about
            this many (Arora & Zhang's reading). It rests on the threshold: a pair a person would
            call distinct may fall under it, so look at the closest pairs.
        sizes_tried: the largest subset size tried, a third of the samples examined (see
            ``BIRTHDAY_LARGEST_SHARE``).
        samples: the samples examined: all of them, or a random half (quarter, ...) when there
            are more than ``max_pairs`` duplicate pairs.
        pairs: the duplicate pairs among the samples examined.
        rounds: random subsets per size.
        curve: (sizes_tried,) the share of random subsets of s = 1, 2, ... samples that hold a
            duplicate.
        duplicate_pairs: (pairs, 2) the duplicate pairs, as positions in ``index``.
        index: (samples,) the input rows examined.
    """

    threshold: float
    sample_size: int | None
    support_estimate: float | None
    sizes_tried: int
    samples: int
    pairs: int
    rounds: int
    curve: np.ndarray
    duplicate_pairs: torch.Tensor
    index: torch.Tensor


def birthday_test(samples: Any, threshold: float, *, rounds: int = BIRTHDAY_ROUNDS,
                  generator: torch.Generator | None = None,
                  max_pairs: int | None = BIRTHDAY_MAX_PAIRS,
                  knn_result: dict[str, torch.Tensor] | None = None,
                  **scan: Any) -> BirthdayResult:
    """The birthday-paradox test on ``samples``: for every subset size s up to a third of the
    samples, the share of ``rounds`` random subsets that hold a pair at distance ≤
    ``threshold``, and the smallest s where that share reaches ½ (see :class:`BirthdayResult`).

    A random subset of s samples is the first s of a random order, so one order per round
    answers every s at once: its first duplicate appears at the first position that completes
    a pair. ``generator`` draws the orders (a seeded CPU generator for reproducible results).
    """
    if not threshold >= 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number ≥ 0, got {threshold}")
    if rounds < 1:
        raise ValueError(f"rounds must be positive, got {rounds}")
    x = as_features(samples, "samples")
    n = int(x.shape[0])
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    index = torch.arange(n)
    pairs = pairs_within(x, threshold, max_pairs=max_pairs, knn_result=knn_result, **scan)
    if pairs is None:
        order = torch.randperm(n, generator=gen)
        m = n
        while pairs is None:
            m //= 2
            index = order[:m]
            pairs = pairs_within(x[index], threshold, max_pairs=max_pairs, **scan)
    m = int(index.numel())
    sizes = m // BIRTHDAY_LARGEST_SHARE
    curve = np.zeros(sizes)
    if pairs.shape[0] and sizes >= 2:
        first = _first_duplicate(pairs, m, rounds, gen)
        curve = (first[None, :] <= np.arange(1, sizes + 1)[:, None]).mean(1)
    reached = np.flatnonzero(curve >= 0.5)
    s_half = int(reached[0]) + 1 if reached.size else None
    support = s_half * (s_half - 1) / math.log(4.0) if s_half is not None else None
    return BirthdayResult(float(threshold), s_half, support, sizes, m, int(pairs.shape[0]), rounds,
                          curve, pairs, index)


def _first_duplicate(pairs: torch.Tensor, m: int, rounds: int,
                     gen: torch.Generator) -> np.ndarray:
    """(rounds,) for random orders of ``m`` samples, the length of the shortest prefix that
    holds both members of a pair (m + 1 when none does)."""
    out = np.empty(rounds, dtype=np.int64)
    i, j = pairs[:, 0], pairs[:, 1]
    chunk = max(1, min(rounds, (1 << 22) // max(1, m)))
    pair_step = max(1, (1 << 22) // chunk)
    for start in range(0, rounds, chunk):
        r = min(rounds, start + chunk) - start
        keys = torch.rand((r, m), generator=gen)
        position = torch.empty((r, m), dtype=torch.int64)
        position.scatter_(1, keys.argsort(1), torch.arange(m).expand(r, m).contiguous())
        first = torch.full((r,), m, dtype=torch.int64)
        for p0 in range(0, i.numel(), pair_step):
            pi, pj = i[p0 : p0 + pair_step], j[p0 : p0 + pair_step]
            done = torch.maximum(position[:, pi], position[:, pj]).min(1).values
            first = torch.minimum(first, done)
        out[start : start + r] = (first + 1).numpy()
    return out


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
