"""Metric keys of the ``latent`` analyzer, as named constants (callers never type them)."""

from __future__ import annotations

VIEWS = ("latent", "features", "real_fake", "inversion")
"""The UMAP views, in report order."""


def trust_key(view: str) -> str:
    """``umap.<view>.trustworthiness``."""
    return f"umap.{view}.trustworthiness"


UMAP_POINTS = "umap.points"
UNCOVERED_REAL = "real_fake.uncovered_real_fraction"
UNSUPPORTED_FAKE = "real_fake.unsupported_fake_fraction"

PPL = "interpolation.ppl"
PPL_EPSILON = "interpolation.epsilon"
JUMP_FRACTION = "interpolation.jump_fraction"
STEP_RATIO_MEDIAN = "interpolation.median_max_step_ratio"

GANSPACE_VARIANCE = "directions.ganspace_explained_variance"
SEFA_SHARE = "directions.sefa_eigenvalue_share"
DIRECTION_COSINE = "directions.mean_best_cosine"

COND_WITHIN_STEP = "conditional.within_class_step_change"
"""Conditional GANs: mean RMS change per step of t along z paths at a fixed class."""
COND_WITHIN = "conditional.within_class_change"
COND_BETWEEN = "conditional.between_class_change"
COND_BETWEEN_STEP = "conditional.between_class_step_change"
COND_RATIO = "conditional.class_to_latent_ratio"
COND_LABEL_STEP_RATIO = "conditional.label_path_step_ratio"
"""One-hot labels only: median largest / mean step along the interpolated labels."""

SURROGATE_R2 = "surrogate.r2"

LATENT_ERROR = "inversion.latent_error"
REAL_RECON = "inversion.real_recon_error"
FAKE_RECON = "inversion.fake_recon_error"
RECON_RATIO = "inversion.recon_error_ratio"

PARTS = ("umap", "interpolation", "directions", "surrogate", "encoder")
"""What the analyzer can compute; the ``parts`` option selects among them."""
