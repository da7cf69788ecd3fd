"""The mode-collapse metrics as plain functions: feature arrays in, numbers out.

Usable without a GAN or a report, e.g. from a training loop::

    from ganlens_modecollapse import metrics
    metrics.compute_prdc(real_features, fake_features, nearest_k=5)
    # {'precision': ..., 'recall': ..., 'density': ..., 'coverage': ...}
    metrics.ndb(real_features, fake_features, bins=50).ndb_k

Arrays are numpy arrays or torch tensors of shape (n, d) (images are flattened). Every
nearest-neighbour computation is exact and runs in blocks (:mod:`.neighbours`): memory grows
with n, never n². Keyword arguments ``device``, ``dtype`` and ``block_elems`` are passed to the
block scanner (e.g. ``device="cuda"``).

Ties. ``prdc`` (Naeem et al.'s reference code) counts a point as inside a k-NN ball when its
distance is strictly less than the radius (``<``). That is the default here too, so the numbers
equal prdc's. With ``inclusive=True`` the ball is closed (``≤``). The two differ only when a
distance equals a radius exactly, which happens with repeated points: in prdc issue #7 (every
real and fake feature identical, all radii 0) ``<`` gives precision, recall, density and
coverage 0 while ``≤`` gives 1, 1, n/k and 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .copies import (
    BirthdayResult,
    DuplicateResult,
    MemorisationResult,
    birthday_test,
    birthday_threshold,
    duplicate_threshold,
    duplicates,
    memorisation,
    pairs_within,
)
from .modes import (
    ClassResult,
    ModeResult,
    class_coverage,
    coverage_min_count,
    histogram_js,
    mode_coverage,
    quality_radius,
)
from .ndb import NDBResult, kmeans, ndb, ndb_from_counts
from .neighbours import as_features, knn, manifold_pass, nearest
from .stats import (
    bootstrap_mean_ci,
    js_divergence,
    kl_divergence,
    percentile_interval,
    two_proportion_z_test,
)

__all__ = [
    "BirthdayResult",
    "ClassResult",
    "DuplicateResult",
    "ManifoldResult",
    "MemorisationResult",
    "ModeResult",
    "NDBResult",
    "birthday_test",
    "birthday_threshold",
    "bootstrap_mean_ci",
    "class_coverage",
    "compute_prdc",
    "coverage_min_count",
    "density_coverage",
    "duplicate_threshold",
    "duplicates",
    "histogram_js",
    "js_divergence",
    "kl_divergence",
    "kmeans",
    "knn",
    "manifold_metrics",
    "memorisation",
    "mode_coverage",
    "ndb",
    "ndb_from_counts",
    "nearest",
    "pairs_within",
    "percentile_interval",
    "precision_recall",
    "quality_radius",
    "real_radii",
    "two_proportion_z_test",
]


@dataclass
class ManifoldResult:
    """Precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al.
    2020), with the per-sample values they average (for bootstrap intervals).

    Attributes:
        precision: share of fakes inside at least one real k-NN ball (k = ``k_precision_recall``).
        recall: share of reals inside at least one fake k-NN ball.
        density: mean number of real k-NN balls (k = ``k_density_coverage``) holding each fake,
            divided by k; about 1 for matching distributions, can exceed 1.
        coverage: share of reals whose k-NN ball holds at least one fake.
        precision_hits, density_counts: (n_fake,) per-fake values; recall_hits, coverage_hits:
            (n_real,) per-real values.
        nearest_fake_distance: (n_real,) each real's distance to its nearest fake.
    """

    precision: float
    recall: float
    density: float
    coverage: float
    k_precision_recall: int
    k_density_coverage: int
    precision_hits: torch.Tensor
    density_counts: torch.Tensor
    recall_hits: torch.Tensor
    coverage_hits: torch.Tensor
    nearest_fake_distance: torch.Tensor | None = None

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "density": self.density,
                "coverage": self.coverage}


def real_radii(real: Any, k_precision_recall: int = 3, k_density_coverage: int = 5,
               **scan: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One pass over the real set: its k-NN radii for both k, and its nearest-other distance."""
    kmax = max(k_precision_recall, k_density_coverage)
    d = knn(real, kmax, **scan)["distances"]
    return d[:, k_precision_recall - 1], d[:, k_density_coverage - 1], d[:, 0]


def manifold_metrics(real: Any, fake: Any, *, k_precision_recall: int = 3,
                     k_density_coverage: int = 5, inclusive: bool = False,
                     radii: tuple[torch.Tensor, torch.Tensor] | None = None,
                     fake_radius: torch.Tensor | None = None, **scan: Any) -> ManifoldResult:
    """Precision, recall, density and coverage of ``fake`` against ``real`` features.

    Args:
        real, fake: (n_real, d) and (n_fake, d) features.
        k_precision_recall: k of the k-NN balls for precision and recall (3 in the paper).
        k_density_coverage: k for density and coverage (5 in the paper).
        inclusive: count points on a ball's boundary as inside (``≤``); default ``<`` as prdc.
        radii: the real k-NN radii for both k, when already computed (:func:`real_radii`).
        fake_radius: the fakes' k-NN radii for ``k_precision_recall``, when already computed.
    """
    real_t, fake_t = as_features(real, "real"), as_features(fake, "fake")
    for name, k in (("k_precision_recall", k_precision_recall),
                    ("k_density_coverage", k_density_coverage)):
        if not 1 <= k < min(real_t.shape[0], fake_t.shape[0]):
            raise ValueError(f"{name} must be between 1 and the smaller set size minus 1 "
                             f"({min(real_t.shape[0], fake_t.shape[0]) - 1}), got {k}")
    if radii is None:
        r_pr, r_dc, _ = real_radii(real_t, k_precision_recall, k_density_coverage, **scan)
    else:
        r_pr, r_dc = radii
    if fake_radius is None:
        fake_radius = knn(fake_t, k_precision_recall, **scan)["distances"][:, -1]
    res = manifold_pass(real_t, fake_t, r_pr, r_dc, fake_radius, inclusive=inclusive, **scan)
    prec_hits = res["precision_count"] > 0
    dens = res["density_count"]
    return ManifoldResult(
        precision=float(prec_hits.double().mean()),
        recall=float(res["recall"].double().mean()),
        density=float(dens.double().mean()) / k_density_coverage,
        coverage=float(res["coverage"].double().mean()),
        k_precision_recall=k_precision_recall, k_density_coverage=k_density_coverage,
        precision_hits=prec_hits, density_counts=dens, recall_hits=res["recall"],
        coverage_hits=res["coverage"], nearest_fake_distance=res["nearest_fake"],
    )


def compute_prdc(real_features: Any, fake_features: Any, nearest_k: int = 5, *,
                 inclusive: bool = False, **scan: Any) -> dict[str, float]:
    """A drop-in for ``prdc.compute_prdc``: precision, recall, density and coverage with one k.

    Equal to prdc's numbers (it compares float32 distances computed as scikit-learn does), in
    blocks: prdc holds three n×n matrices (1.4 GB at n = 10,000); this holds a few MB.
    """
    return manifold_metrics(real_features, fake_features, k_precision_recall=nearest_k,
                            k_density_coverage=nearest_k, inclusive=inclusive,
                            **scan).as_dict()


def precision_recall(real: Any, fake: Any, k: int = 3, **kwargs: Any) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), k = 3 by default."""
    r = manifold_metrics(real, fake, k_precision_recall=k, k_density_coverage=k, **kwargs)
    return r.precision, r.recall


def density_coverage(real: Any, fake: Any, k: int = 5, **kwargs: Any) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), k = 5 by default."""
    r = manifold_metrics(real, fake, k_precision_recall=k, k_density_coverage=k, **kwargs)
    return r.density, r.coverage
