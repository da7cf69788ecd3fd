"""The feature-space comparison: every metric on the fakes, the same metric on held-out real data
(the baseline: what a perfect generator scores at this sample size), and bootstrap intervals.

The real data (already shuffled with the run's seed) are split so that every comparison is like
for like. With n = min(N, M // 2) for N fakes and M reals:

- ``reference`` R = the first n reals: the real side of precision/recall/density/coverage, the
  K-means bins of NDB and the duplicate threshold;
- ``holdout`` H = the next n reals: scored against R exactly as the n fakes are, which gives
  the baseline;
- ``train`` T = every real sample except H: memorisation looks for fakes closer to T than held-out
  samples are. The threshold comes from the first half of H, the baseline from the second half.

The birthday test's duplicates are closer than any two of the 2n samples of R and H are.

Randomness: every random stream (the K-means seeding of NDB, each bootstrap, the birthday test's
subsets) draws from its own generator, ``streams(salt)`` with a salt of its own, so that turning
one on or off (``bootstrap=0``) never moves another's numbers.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from . import metrics as M
from .copies import BirthdayResult, birthday_test, duplicates_from_knn, quantile_value
from .ndb import NDBResult, assign, bootstrap_ndb, kmeans, ndb_from_counts
from .stats import bootstrap_mean_ci, percentile_interval

MIN_SAMPLES_PER_BIN = 10  # NDB's per-bin z-test needs about 10 reference samples per bin

PRECISION, RECALL, DENSITY, COVERAGE = "precision", "recall", "density", "coverage"
NDB_K, NDB_JS = "ndb_k", "ndb_js"
DUPLICATE_FRACTION, SUPPORT_ESTIMATE = "duplicate_fraction", "support_estimate"
MEMORISED_FRACTION = "memorised_fraction"
FEATURE_METRICS = (PRECISION, RECALL, DENSITY, COVERAGE, NDB_K, NDB_JS, DUPLICATE_FRACTION,
                   MEMORISED_FRACTION)
"""The metrics that have a real baseline (and, with ``bootstrap`` > 0, intervals). The
birthday test's ``support_estimate`` has none: its threshold comes from the real data."""

Streams = Callable[[str], torch.Generator]
"""``streams(salt)``: a CPU generator for one random stream (``AnalysisContext.rng``)."""


@dataclass
class Settings:
    """What the comparison needs from the analyzer's options."""

    k_precision_recall: int = 3
    k_density_coverage: int = 5
    ndb_bins: int = 50
    ndb_alpha: float = 0.05
    duplicate_quantile: float = 0.01
    memorisation_quantile: float = 0.05
    bootstrap: int = 1000
    confidence: float = 0.95
    inclusive: bool = False


@dataclass
class Comparison:
    """Values, baselines and intervals of the feature-space metrics, and what the figures show.

    ``cis`` and ``baseline_cis`` are empty with ``bootstrap=0``."""

    n: int
    values: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, float] = field(default_factory=dict)
    cis: dict[str, tuple[float, float]] = field(default_factory=dict)
    baseline_cis: dict[str, tuple[float, float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    ndb_fake: NDBResult | None = None
    ndb_real: NDBResult | None = None
    duplicates: M.DuplicateResult | None = None
    birthday: BirthdayResult | None = None
    memorisation: M.MemorisationResult | None = None
    train_index: torch.Tensor | None = None  # row of T → row of the real data
    notes: list[str] = field(default_factory=list)


def samples_compared(n_fake: int, n_real: int) -> int:
    """n = min(N, M // 2): the fakes compared, and the size of the reference and the holdout."""
    return min(n_fake, n_real // 2)


def minimum_samples(s: Settings) -> int:
    """The smallest n the k-NN metrics accept: k + 1 points per set, and two held-out halves."""
    return max(s.k_precision_recall, s.k_density_coverage) + 1


def seeded_streams(seed: int, prefix: str = "mode_collapse") -> Streams:
    """Streams as ``AnalysisContext.rng`` makes them, for a seed (outside an analysis)."""
    def rng(salt: str) -> torch.Generator:
        digest = hashlib.sha256(f"{seed}/{prefix}/{salt}".encode()).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
    return rng


def _seed(gen: torch.Generator) -> int:
    return int(torch.randint(2**62, (1,), generator=gen))


def compare(fake: torch.Tensor, real: torch.Tensor, s: Settings, streams: Streams | int,
            fitted: torch.Tensor | None = None, **scan: Any) -> Comparison:
    """Run every feature-space metric on ``fake`` against ``real`` features (real shuffled).

    ``fitted``: features of reals the feature space was fitted on (a classifier's training
    samples). They join only the memorisation test's training set T, never the reference or
    the holdout, so every baseline compares samples the space never saw; ``train_index`` then
    counts rows of ``real`` followed by rows of ``fitted``.

    ``streams(salt)`` gives each random stream its generator (an int seeds
    :func:`seeded_streams`): ``ndb/kmeans``, ``birthday``, and ``bootstrap/<metric>`` and
    ``bootstrap/<metric>_baseline`` for each interval.
    """
    if not callable(streams):
        streams = seeded_streams(int(streams))
    n = samples_compared(fake.shape[0], real.shape[0])
    if n < minimum_samples(s):
        raise ValueError(f"{n} samples per set are too few for k = "
                         f"{max(s.k_precision_recall, s.k_density_coverage)}; need at least "
                         f"{minimum_samples(s)} fakes and {2 * minimum_samples(s)} real samples")

    def bootstrap(key: str) -> np.random.Generator:
        return np.random.default_rng(_seed(streams(f"bootstrap/{key}")))

    out = Comparison(n)
    F, R, H = fake[:n], real[:n], real[n : 2 * n]
    train_index = torch.cat([torch.arange(n), torch.arange(2 * n, real.shape[0])])
    T = real[train_index]
    if fitted is not None and len(fitted):
        T = torch.cat([T, fitted.to(T.dtype)])
        train_index = torch.cat([train_index, real.shape[0] + torch.arange(len(fitted))])
    out.train_index = train_index

    # -- precision, recall, density, coverage -------------------------------------------------
    r_pr, r_dc, r_nn = M.real_radii(R, s.k_precision_recall, s.k_density_coverage, **scan)
    tau = quantile_value(r_nn, s.duplicate_quantile)
    # One pass per set gives both its k-NN radii and its near-duplicates.
    knn_f = M.knn(F, s.k_precision_recall, radius=tau, indices=True, **scan)
    knn_h = M.knn(H, s.k_precision_recall, radius=tau, indices=True, **scan)
    dup_f, dup_h = duplicates_from_knn(knn_f, tau), duplicates_from_knn(knn_h, tau)
    kw = dict(k_precision_recall=s.k_precision_recall, k_density_coverage=s.k_density_coverage,
              inclusive=s.inclusive, radii=(r_pr, r_dc))
    man_f = M.manifold_metrics(R, F, fake_radius=knn_f["distances"][:, -1], **kw, **scan)
    man_h = M.manifold_metrics(R, H, fake_radius=knn_h["distances"][:, -1], **kw, **scan)
    for key, per_f, per_h in (
        (PRECISION, man_f.precision_hits, man_h.precision_hits),
        (RECALL, man_f.recall_hits, man_h.recall_hits),
        (DENSITY, man_f.density_counts.double() / s.k_density_coverage,
         man_h.density_counts.double() / s.k_density_coverage),
        (COVERAGE, man_f.coverage_hits, man_h.coverage_hits),
    ):
        out.values[key] = float(per_f.double().mean())
        out.baselines[key] = float(per_h.double().mean())
        _ci(out, key, per_f, per_h, s, bootstrap)

    # -- NDB/K ---------------------------------------------------------------------------------
    bins = min(s.ndb_bins, n // MIN_SAMPLES_PER_BIN)
    if bins >= 2:
        centres, real_bins = kmeans(R, bins, seed=_seed(streams("ndb/kmeans")))
        real_counts = torch.bincount(real_bins, minlength=bins).numpy()
        fake_bins = assign(F, centres).numpy()
        hold_bins = assign(H, centres).numpy()
        out.ndb_fake = ndb_from_counts(real_counts, np.bincount(fake_bins, minlength=bins),
                                       alpha=s.ndb_alpha)
        out.ndb_real = ndb_from_counts(real_counts, np.bincount(hold_bins, minlength=bins),
                                       alpha=s.ndb_alpha)
        for res, labels, values, cis, salt in (
                (out.ndb_fake, fake_bins, out.values, out.cis, "ndb"),
                (out.ndb_real, hold_bins, out.baselines, out.baseline_cis, "ndb_baseline")):
            values[NDB_K], values[NDB_JS] = res.ndb_k, res.js
            if s.bootstrap > 0:
                bk, bj = bootstrap_ndb(real_counts, labels, bins, alpha=s.ndb_alpha,
                                       rounds=s.bootstrap, rng=bootstrap(salt))
                cis[NDB_K] = percentile_interval(bk, s.confidence)
                cis[NDB_JS] = percentile_interval(bj, s.confidence)
        out.extra["ndb_bins"] = bins
    else:
        out.notes.append(f"NDB/K not computed: it needs at least {2 * MIN_SAMPLES_PER_BIN} "
                         f"samples per set for 2 bins of {MIN_SAMPLES_PER_BIN}; there are {n}")

    # -- duplicates ----------------------------------------------------------------------------
    out.duplicates = dup_f
    out.extra["duplicate_threshold"] = tau
    out.values[DUPLICATE_FRACTION] = dup_f.fraction
    out.baselines[DUPLICATE_FRACTION] = dup_h.fraction
    _ci(out, DUPLICATE_FRACTION, dup_f.flags, dup_h.flags, s, bootstrap)

    # -- the birthday test: duplicates closer than any two of the 2n real samples of R and H ---
    closest_real = min(float(r_nn.min()), float(knn_h["distances"][:, 0].min()),
                       float(man_h.nearest_fake_distance.min()))
    out.birthday = birthday_test(F, closest_real, generator=streams("birthday"),
                                 knn_result=knn_f, **scan)
    out.values[SUPPORT_ESTIMATE] = out.birthday.support_estimate
    out.extra["birthday_reference"] = 2 * n

    # -- memorisation --------------------------------------------------------------------------
    half = n // 2
    mem = M.memorisation(F, T, H[:half], quantile=s.memorisation_quantile, **scan)
    base_d = M.nearest(H[half:], T, 1, **scan)[0][:, 0]
    base_flags = base_d <= mem.threshold
    out.memorisation = mem
    out.values[MEMORISED_FRACTION] = mem.fraction
    out.baselines[MEMORISED_FRACTION] = float(base_flags.double().mean())
    _ci(out, MEMORISED_FRACTION, mem.flags, base_flags, s, bootstrap)
    out.extra["memorisation_threshold"] = mem.threshold
    out.extra["memorisation_baseline_n"] = int(base_flags.numel())
    return out


def _ci(out: Comparison, key: str, per_fake: torch.Tensor, per_base: torch.Tensor, s: Settings,
        bootstrap: Callable[[str], np.random.Generator]) -> None:
    """Bootstrap intervals of ``key`` and its baseline, each from its own stream; none with
    ``bootstrap=0``."""
    if s.bootstrap <= 0:
        return
    for values, cis, salt in ((per_fake, out.cis, key), (per_base, out.baseline_cis, f"{key}_baseline")):
        cis[key] = bootstrap_mean_ci(values.double().numpy(), rounds=s.bootstrap,
                                     level=s.confidence, seed=bootstrap(salt))


def proportion_interval(p: float, n: int, level: float) -> tuple[float, float]:
    """The normal-approximation (Wald) interval of a proportion ``p`` of ``n``: what the
    bootstrap interval of a mean of 0/1 values approaches, for findings with ``bootstrap=0``."""
    from scipy.stats import norm

    half = float(norm.ppf(0.5 + level / 2.0)) * math.sqrt(max(0.0, p * (1.0 - p)) / max(1, n))
    return (max(0.0, p - half), min(1.0, p + half))
