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

W_DIM = "w.dim"
"""StyleGAN-like generators (a mapping network z → w): the W space. Values per sample of w."""
W_TRUNCATION = "w.truncation"
W_OFFSET_NORM = "w.mean_offset_norm"
W_MEAN_NORM = "w.mean_norm"
W_PPL = "w.ppl"
W_PPL_EPSILON = "w.epsilon"
W_JUMP_FRACTION = "w.jump_fraction"
W_STEP_RATIO_MEDIAN = "w.median_max_step_ratio"
W_PPL_RATIO = "w.ppl_ratio"
"""w.ppl / interpolation.ppl: below 1, W is the smoother space."""
W_GANSPACE_VARIANCE = "w.ganspace_explained_variance"
W_GANSPACE_TOP = "w.ganspace_top_variance_ratio"

TRUNCATION_DIVERSITY_RATIO = "truncation.diversity_ratio"
"""Diversity at the smallest ψ of the sweep over diversity at the largest."""


def diversity_key(psi: float) -> str:
    """``truncation.diversity_at_<ψ>``: mean pairwise feature distance of samples at ψ."""
    return f"truncation.diversity_at_{psi:g}"


def d_score_key(psi: float) -> str:
    """``truncation.d_score_at_<ψ>``: D's mean logit on samples at ψ."""
    return f"truncation.d_score_at_{psi:g}"


def nearest_real_key(psi: float) -> str:
    """``truncation.nearest_real_at_<ψ>``: mean feature distance of samples at ψ to the
    nearest real sample."""
    return f"truncation.nearest_real_at_{psi:g}"


PARTS = ("umap", "interpolation", "directions", "surrogate", "encoder", "truncation")
"""What the analyzer can compute; the ``parts`` option selects among them (``truncation``, and
the W-space halves of ``interpolation`` and ``directions``, only for a generator with a mapping
network)."""
