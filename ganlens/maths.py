"""Public: shared maths with one definition each (see :mod:`ganlens.core.maths` for the
definitions): :func:`lerp`, :func:`slerp` and :func:`interpolate` between latents; exact blocked
nearest neighbours (:func:`nearest`, :func:`knn`, :class:`Scanner`); principal components
(:func:`pca`, :class:`PCA`) and the 2-D view of scatter figures (:func:`plane_2d`)."""

from .core.maths import (
    PCA,
    Scanner,
    as_features,
    interpolate,
    knn,
    lerp,
    nearest,
    pca,
    plane_2d,
    slerp,
)

__all__ = [
    "PCA",
    "Scanner",
    "as_features",
    "interpolate",
    "knn",
    "lerp",
    "nearest",
    "pca",
    "plane_2d",
    "slerp",
]
