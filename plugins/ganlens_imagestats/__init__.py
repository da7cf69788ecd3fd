"""The ``image_stats`` analyzer: how fakes differ from reals, pixel by pixel.

Intensity histograms (per channel for colour) with the Wasserstein-1 distance between them; the
per-pixel mean and standard deviation images and their differences; the radially averaged power
spectrum (GAN upsampling leaves high-frequency fingerprints) and the power ratio per frequency
band; edge density and left-right symmetry; and, when there is a discriminator, its quality as a
real-vs-fake classifier (ROC AUC, accuracy at 0.5, score histograms).

Every number is on the 0–1 intensity scale (a fraction of the data's value range). The metric
functions live in :mod:`ganlens_imagestats.metrics` and work on tensors without a GAN.
"""

from __future__ import annotations

import ganlens

from .analyzer import (
    D_ACCURACY,
    D_AUC,
    HISTOGRAM_DISTANCE,
    MEAN_IMAGE_DIFFERENCE,
    SPECTRUM_HIGH_FREQ_RATIO,
    ImageStats,
)
from .metrics import (
    BANDS,
    DiscriminatorQuality,
    band_powers,
    channel_histogram_distances,
    check_images,
    discriminator_quality,
    edge_density,
    gradient_magnitude,
    lr_asymmetry,
    mean_std_images,
    power_spectrum,
    radial_profile,
    spectrum_band_ratios,
    to_unit,
    wasserstein_1d,
)

__all__ = ["BANDS", "D_ACCURACY", "D_AUC", "HISTOGRAM_DISTANCE", "MEAN_IMAGE_DIFFERENCE", "SPECTRUM_HIGH_FREQ_RATIO", "DiscriminatorQuality", "ImageStats", "band_powers", "channel_histogram_distances", "check_images", "discriminator_quality", "edge_density", "gradient_magnitude", "lr_asymmetry", "mean_std_images", "power_spectrum", "radial_profile", "spectrum_band_ratios", "to_unit", "wasserstein_1d"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [ImageStats]
