"""Datasets: the bundled digits, the standard Gaussian mixtures, and data from files.

``load_dataset`` resolves a registered name (``digits``, ``ring8``, ``grid25`` or one a plugin
registers through ``ganlens_register_datasets``) or a path (IDX, .npy/.npz, an image folder) to a
:class:`Dataset`: float data normalised to the model's value range, labels when there are any,
the source and its sha256, and, for mixtures, the known mode centres and std.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .datafiles import load_path
from .errors import DatasetError
from .gan import DataSpec
from .hookspecs import hookimpl

DEFAULT_RANGE = (-1.0, 1.0)


@dataclass
class Dataset:
    """Data in the model's value range, with what is known about them.

    Attributes:
        name: the registered name, or the path it was read from.
        x: float32 tensor, images (N, C, H, W) or vectors (N, d).
        spec: the data spec (kind, shape, value range).
        labels: int64 tensor (N,) or None.
        source: where the data came from (``builtin:digits``, a path).
        sha256: a digest of the source, stored in checkpoints.
        options: the options that rebuild it (n, std, seed, image size).
        modes: (K, d) known mode centres (mixtures), or None.
        mode_std: the std of every mode, or None.
        class_names: names of the label values, when known.
    """

    name: str
    x: torch.Tensor
    spec: DataSpec
    labels: torch.Tensor | None = None
    source: str = ""
    sha256: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    modes: torch.Tensor | None = None
    mode_std: float | None = None
    class_names: list[str] | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_classes(self) -> int | None:
        if self.labels is None:
            return None
        return len(self.class_names) if self.class_names else int(self.labels.max()) + 1

    @property
    def has_modes(self) -> bool:
        return self.modes is not None and self.mode_std is not None

    def digest(self) -> str:
        """The sha256 of the source, or of the data themselves for in-memory datasets."""
        if not self.sha256:
            arrays = [self.x.numpy()] + ([] if self.labels is None else [self.labels.numpy()])
            self.sha256 = _digest_array(*arrays)
        return self.sha256

    def subset(self, index: torch.Tensor | np.ndarray | list[int]) -> Dataset:
        """The samples at ``index``, keeping everything else; the digest names the subset."""
        idx = torch.as_tensor(index, dtype=torch.long)
        # The digest names the set of samples, not their order.
        members = torch.sort(idx).values.numpy().tobytes()
        digest = hashlib.sha256((self.digest() + "/").encode() + members).hexdigest()
        return Dataset(
            self.name, self.x[idx], self.spec,
            None if self.labels is None else self.labels[idx],
            self.source, digest, dict(self.options), self.modes, self.mode_std,
            self.class_names,
        )

    def split(self, fraction: float = 0.5, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Two disjoint random parts, the first with ``fraction`` of the samples."""
        perm = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        cut = int(round(len(self) * fraction))
        return self.subset(perm[:cut]), self.subset(perm[cut:])

    def record(self) -> dict[str, Any]:
        """What a checkpoint stores to find these data again."""
        return {
            "name": self.name,
            "source": self.source,
            "sha256": self.sha256,
            "options": dict(self.options),
            "num_samples": len(self),
            "spec": self.spec.to_dict(),
            "num_classes": self.num_classes,
        }


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset.

    Args:
        name: the name users type.
        build: ``build(n=None, std=None, seed=0, value_range=(-1, 1)) -> Dataset``.
            Builders ignore options that do not apply to them.
        description: one line for ``ganlens plugins``.
    """

    name: str
    build: Callable[..., Dataset]
    description: str = ""


# ---------------------------------------------------------------------------------------------
# Built-in datasets
# ---------------------------------------------------------------------------------------------


def _digest_array(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def scale_unit(x: np.ndarray | torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Map data in [0, 1] to ``value_range``."""
    lo, hi = value_range
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    return t * (hi - lo) + lo


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
        torch.from_numpy(y), "builtin:sklearn.datasets.load_digits", _digest_array(x, y),
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
        None, f"builtin:{name}", _digest_array(x),
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


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------


def _normalise_images(x: np.ndarray, source: str, value_range: tuple[float, float]) -> torch.Tensor:
    """Float images: [0, 1] data (the readers' output) are mapped to ``value_range``; data already
    in [-1, 1] are mapped from there; anything else is min-max scaled."""
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0.0 and hi <= 1.0:
        unit = x
    elif lo >= -1.0 and hi <= 1.0:
        unit = (x + 1.0) / 2.0
    elif lo >= 0.0 and hi <= 255.0:
        unit = x / 255.0
    else:
        if hi == lo:
            raise DatasetError(f"{source}: every value is {lo}; the data hold no images")
        unit = (x - lo) / (hi - lo)
    return scale_unit(unit, value_range)


def resize_images(x: torch.Tensor, side: int) -> torch.Tensor:
    """Resize (N, C, H, W) images to side×side (bilinear, antialiased when shrinking)."""
    if x.shape[-1] == side and x.shape[-2] == side:
        return x
    return torch.nn.functional.interpolate(
        x, size=(side, side), mode="bilinear", align_corners=False,
        antialias=side < x.shape[-1],
    )


def load_dataset(
    spec: str | Path | Dataset,
    *,
    value_range: tuple[float, float] = DEFAULT_RANGE,
    n: int | None = None,
    std: float | None = None,
    seed: int = 0,
    image_size: int | None = None,
    registry: dict | None = None,
) -> Dataset:
    """Resolve a dataset name or path.

    Args:
        spec: a registered name (``digits``, ``ring8``, ``grid25``, ...), a path to IDX/.npy/.npz
            data or a folder of images, or a :class:`Dataset` (returned as is).
        value_range: the range images are normalised to (the generator's output range).
        n: the number of samples (mixtures) or a cap (others).
        std: the mode std (mixtures).
        seed: the sampling seed (mixtures).
        image_size: resize square images to this side.

    Raises:
        DatasetError: an unknown name (the known ones are listed), a missing path, a file of
            unknown format, images of mixed sizes, labels that do not match.
    """
    if isinstance(spec, Dataset):
        return spec
    value_range = (float(value_range[0]), float(value_range[1]))
    if registry is None:
        from .plugins import get_host

        registry = get_host().datasets
    name = str(spec)
    if name in registry:
        ds = registry[name].obj.build(n=n, std=std, seed=seed, value_range=value_range)
        if not isinstance(ds, Dataset):
            raise DatasetError(f"dataset {name!r} did not build a ganlens Dataset")
    else:
        path = Path(name).expanduser()
        looks_like_path = path.exists() or any(c in name for c in "/\\.")
        if not looks_like_path:
            raise DatasetError(
                f"unknown dataset {name!r}; known: {', '.join(sorted(registry))}, "
                "or a path to IDX, .npy/.npz files or a folder of PNG/JPEG images"
            )
        x, y, digest, fmt = load_path(path)
        if not np.isfinite(x).all():
            raise DatasetError(f"{name}: the data contain NaN or infinite values")
        if n is not None:
            x, y = x[:n], (None if y is None else y[:n])
        if x.ndim == 4:
            t = _normalise_images(x, name, value_range)
            spec_ = DataSpec("image", tuple(t.shape[1:]), value_range)
        else:
            t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
            spec_ = DataSpec("vector", (t.shape[1],), (float(t.min()), float(t.max()) + 1e-6))
        labels = None if y is None else torch.from_numpy(y)
        opts: dict[str, Any] = {"format": fmt}
        if n is not None:
            opts["n"] = n
        ds = Dataset(str(path), t, spec_, labels, str(path.resolve()), digest, opts)
    if image_size is not None:
        if not ds.spec.is_image:
            raise DatasetError(f"{ds.name}: image_size applies to images, these are vectors")
        ds.x = resize_images(ds.x, image_size)
        ds.spec = DataSpec("image", tuple(ds.x.shape[1:]), ds.spec.value_range)
        ds.options["image_size"] = image_size
    if not torch.isfinite(ds.x).all():
        raise DatasetError(f"{ds.name}: the data contain NaN or infinite values")
    return ds


def check_compatible(ds: Dataset, spec: DataSpec, what: str = "real data") -> None:
    """Raise a clear error when ``ds`` does not have the shape the generator produces."""
    if ds.spec.kind != spec.kind or ds.spec.shape != spec.shape:
        hint = ""
        if ds.spec.is_image and spec.is_image and ds.spec.shape[0] == spec.shape[0]:
            hint = f"; resize them to {spec.shape[1]}x{spec.shape[2]} (image_size={spec.shape[1]})"
        raise DatasetError(
            f"{what} {ds.name!r} have shape {ds.spec.shape} ({ds.spec.kind}), but the generator "
            f"makes {spec.shape} ({spec.kind}){hint}"
        )


def reload_recorded(record: dict[str, Any], value_range: tuple[float, float]) -> Dataset:
    """Rebuild the dataset a checkpoint recorded (by name, or from its path)."""
    opts = dict(record.get("options") or {})
    source = record.get("source") or ""
    target = source if source and Path(source).exists() else record.get("name")
    if not target:
        raise DatasetError("the checkpoint records no dataset; give the real data with --real")
    ds = load_dataset(
        target, value_range=value_range, n=opts.get("n"), std=opts.get("std"),
        seed=opts.get("seed", 0), image_size=opts.get("image_size"),
    )
    return ds
