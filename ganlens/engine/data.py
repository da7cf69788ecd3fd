"""Resolving a dataset name or path to a :class:`~ganlens.core.dataset.Dataset`.

A registered name (``digits``, ``ring8``, ``grid25`` or one a plugin registers through
``ganlens_register_datasets``) is built by its extension; a path is read by the first dataset file
format (``ganlens_register_dataset_formats``) that claims it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.dataset import (
    DEFAULT_RANGE,
    Dataset,
    fit_image_list,
    fit_images,
    normalise_images,
    resize_images,
)
from ..core.errors import DatasetError
from ..core.gan import DataSpec
from .host import PluginHost


def load_dataset(
    spec: str | Path | Dataset,
    *,
    value_range: tuple[float, float] = DEFAULT_RANGE,
    n: int | None = None,
    std: float | None = None,
    seed: int = 0,
    image_size: int | None = None,
    fit_to: tuple[int, ...] | None = None,
    fit: str | None = None,
    sample: int | None = None,
    host: PluginHost,
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
        fit_to: the image shape (C, H, W) the data must have (the generator's), with ``fit``.
        fit: ``resize`` or ``crop``: convert images of another size or channel count (grey,
            RGB, RGBA, mixed in one folder) to ``fit_to``; None leaves them as they are.
            What was done is recorded in the dataset's options as ``fitted``.
        sample: read at most this many items of a path, chosen with ``seed``, when its format
            can read a sample (image folders) instead of loading the whole source; recorded
            in the dataset's options as ``sampled``.
        host: the plugin host whose datasets and dataset formats are asked.

    Raises:
        DatasetError: an unknown name (the known ones are listed), a missing path, a file of
            unknown format, images of mixed sizes, labels that do not match.
    """
    if isinstance(spec, Dataset):
        return spec
    value_range = (float(value_range[0]), float(value_range[1]))
    registry = host.datasets
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
        x, y, digest, fmt, sampled = read_path(path, host, sample=sample, seed=seed)
        fitted = None
        if isinstance(x, list):  # images of mixed sizes or channels
            if fit is None or fit_to is None:
                sizes = sorted({tuple(a.shape) for a in x})
                shown = ", ".join("x".join(map(str, s)) for s in sizes[:4])
                raise DatasetError(
                    f"{name}: images of mixed sizes or channels ({shown}); give --real-resize "
                    "resize or crop (Python: real_resize=...) to convert them to the "
                    "generator's shape"
                )
            x, fitted = fit_image_list(x, fit_to, fit)
        if not np.isfinite(x).all():
            raise DatasetError(f"{name}: the data contain NaN or infinite values")
        if n is not None:
            x, y = x[:n], (None if y is None else y[:n])
        if x.ndim == 4:
            t = normalise_images(x, name, value_range)
            spec_ = DataSpec("image", tuple(t.shape[1:]), value_range)
        else:
            t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
            spec_ = DataSpec("vector", (t.shape[1],), (float(t.min()), float(t.max()) + 1e-6))
        labels = None if y is None else torch.from_numpy(y)
        opts: dict[str, Any] = {"format": fmt}
        if n is not None:
            opts["n"] = n
        if fitted:
            opts["fitted"] = fitted
        rows = None
        if sampled:
            opts["sampled"], rows = sampled
            rows = None if rows is None else torch.as_tensor(np.asarray(rows), dtype=torch.long)
        ds = Dataset(str(path), t, spec_, labels, str(path.resolve()), digest, opts,
                     source_rows=rows)
    if fit is not None and fit_to is not None and ds.spec.is_image \
            and tuple(ds.spec.shape) != tuple(fit_to):
        before = "x".join(map(str, ds.spec.shape))
        ds.x, done = fit_images(ds.x, tuple(fit_to), fit)
        ds.spec = DataSpec("image", tuple(ds.x.shape[1:]), ds.spec.value_range)
        ds.options["fitted"] = f"images of {before}: " + "; ".join(done)
    if image_size is not None:
        if not ds.spec.is_image:
            raise DatasetError(f"{ds.name}: image_size applies to images, these are vectors")
        ds.x = resize_images(ds.x, image_size)
        ds.spec = DataSpec("image", tuple(ds.x.shape[1:]), ds.spec.value_range)
        ds.options["image_size"] = image_size
    if not torch.isfinite(ds.x).all():
        raise DatasetError(f"{ds.name}: the data contain NaN or infinite values")
    return ds


def reload_recorded(record: dict[str, Any], value_range: tuple[float, float], *,
                    host: PluginHost) -> Dataset:
    """Rebuild the dataset a checkpoint recorded (by name, or from its path)."""
    opts = dict(record.get("options") or {})
    source = record.get("source") or ""
    target = source if source and Path(source).exists() else record.get("name")
    if not target:
        raise DatasetError("the checkpoint records no dataset; give the real data with --real")
    ds = load_dataset(
        target, host=host, value_range=value_range, n=opts.get("n"), std=opts.get("std"),
        seed=opts.get("seed", 0), image_size=opts.get("image_size"),
    )
    return ds


def read_path(path: Path, host: PluginHost, *, sample: int | None = None, seed: int = 0
              ) -> tuple[Any, np.ndarray | None, str, str, tuple[str, Any] | None]:
    """Read a dataset path with the first registered format that claims it: (x, labels,
    sha256, format name, and for a sample (what was sampled, its source rows or None), else
    None). With ``sample`` a format that can read a
    sample reads ``sample`` items chosen with ``seed``."""
    if not path.exists():
        raise DatasetError(f"dataset path does not exist: {path}")
    for entry in host.dataset_formats.values():
        fmt = entry.obj
        if fmt.claims(path):
            if sample is not None and fmt.read_sample is not None:
                got = fmt.read_sample(path, sample, seed)
                x, y, digest, total = got[:4]
                rows = got[4] if len(got) > 4 else None
                if len(x) >= total:
                    return x, y, digest, fmt.name, None
                note = f"{len(x)} of {total} items chosen with seed {seed}"
                return x, y, digest, fmt.name, (note, rows)
            x, y, digest = fmt.read(path)
            return x, y, digest, fmt.name, None
    known = "; ".join(f"{e.obj.name} ({e.obj.description})" for e in host.dataset_formats.values())
    if path.is_dir():
        raise DatasetError(f"{path}: no dataset format reads this folder; expected one of: "
                           f"{known or 'none registered'}")
    raise DatasetError(f"{path}: unknown dataset file; expected one of: "
                       f"{known or 'none registered'}")
