"""The built-in named datasets: scikit-learn's bundled digits and the standard Gaussian mixtures
(``ring8``, ``grid25``), which carry their mode centres so mode coverage is exact."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..core.dataset import DEFAULT_RANGE, Dataset, digest_arrays, scale_unit
from ..core.errors import DatasetError
from ..core.extensions import DatasetInfo
from ..core.gan import DataSpec
from ..markers import hookimpl


def digits(n: int | None = None, value_range=DEFAULT_RANGE, **_: Any) -> Dataset:
    """scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    y = bunch.target.astype(np.int64)
    if n is not None:
        x, y = x[:n], y[:n]
    return Dataset(
        "digits", scale_unit(x, value_range), DataSpec("image", (1, 8, 8), value_range),
        torch.from_numpy(y), "builtin:sklearn.datasets.load_digits", digest_arrays(x, y),
        {"n": n} if n is not None else {}, class_names=[str(i) for i in range(10)],
    )


def mixture(
    name: str, centres: np.ndarray, std: float, n: int, seed: int
) -> Dataset:
    """``n`` points from an equal-weight Gaussian mixture with the given centres and std."""
    if n <= 0:
        raise DatasetError(f"{name}: the number of samples must be positive, got {n}")
    if std <= 0:
        raise DatasetError(f"{name}: the std must be positive, got {std}")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(centres), size=n)
    x = (centres[which] + rng.normal(0.0, std, size=(n, centres.shape[1]))).astype(np.float32)
    return Dataset(
        name, torch.from_numpy(x), DataSpec("vector", (centres.shape[1],), (-1.0, 1.0)),
        None, f"builtin:{name}", digest_arrays(x),
        {"n": n, "std": std, "seed": seed},
        modes=torch.from_numpy(centres.astype(np.float32)), mode_std=float(std),
    )


def ring8_centres(radius: float = 1.0) -> np.ndarray:
    angles = 2 * np.pi * np.arange(8) / 8
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def grid25_centres() -> np.ndarray:
    g = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    return np.array([(a, b) for a in g for b in g])


def ring8(n: int | None = None, std: float | None = None, seed: int = 0, **_: Any) -> Dataset:
    """8 Gaussians evenly spaced on the unit circle, std 0.01 (VEEGAN/PacGAN protocol)."""
    return mixture("ring8", ring8_centres(), std if std is not None else 0.01, n or 10_000, seed)


def grid25(n: int | None = None, std: float | None = None, seed: int = 0, **_: Any) -> Dataset:
    """25 Gaussians at {-4,-2,0,2,4}², std 0.05 (VEEGAN/PacGAN protocol)."""
    return mixture("grid25", grid25_centres(), std if std is not None else 0.05, n or 10_000, seed)


@hookimpl
def ganlens_register_datasets() -> list[DatasetInfo]:
    return [
        DatasetInfo("digits", digits, "scikit-learn's bundled 8x8 digits, 1,797 images, labels"),
        DatasetInfo("ring8", ring8, "8 Gaussians on the unit circle, std 0.01, known modes"),
        DatasetInfo("grid25", grid25, "25 Gaussians on a 5x5 grid, std 0.05, known modes"),
    ]


