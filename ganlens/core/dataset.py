"""Real data as analyzers see them: :class:`Dataset`, and the helpers every reader shares.

A dataset holds float data in the model's value range, labels when there are any, its source and
sha256, and, for mixtures, the known mode centres and std. Named datasets and file formats are
extensions (:mod:`ganlens.builtin.datasets`, :mod:`ganlens.builtin.fileformats`); resolving a name
or a path is :func:`ganlens.engine.data.load_dataset`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .errors import DatasetError
from .gan import DataSpec

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
        source_rows: for a sample of a larger source (``--real-samples``), the row of the
            source each sample is; None when the data are the whole source.
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
    source_rows: torch.Tensor | None = None

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
            self.sha256 = digest_arrays(*arrays)
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
            self.class_names, None if self.source_rows is None else self.source_rows[idx],
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


def digest_arrays(*arrays: np.ndarray) -> str:
    """The sha256 of the arrays' bytes, in order."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def scale_unit(x: np.ndarray | torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Map data in [0, 1] to ``value_range``."""
    lo, hi = value_range
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    return t * (hi - lo) + lo


def normalise_images(x: np.ndarray, source: str, value_range: tuple[float, float]) -> torch.Tensor:
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




FIT_MODES = ("resize", "crop")


def _channels(x: torch.Tensor, channels: int) -> tuple[torch.Tensor, str | None]:
    """(N, C, H, W) to ``channels``: grey repeated to RGB, RGB to grey by luminance (ITU-R
    BT.601 weights), an alpha channel dropped."""
    c = x.shape[1]
    if c == channels:
        return x, None
    if c in (2, 4):  # grey+alpha, RGBA: drop the alpha
        x, c = x[:, : c - 1], c - 1
        if c == channels:
            return x, "alpha dropped"
    if c == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1), "grey repeated to RGB"
    if c == 3 and channels == 1:
        w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype).reshape(1, 3, 1, 1)
        # Clamped: the weights sum to 1 only up to rounding (white would come out 1.0000002).
        lo, hi = float(x.min()), float(x.max())
        return (x * w).sum(1, keepdim=True).clamp(lo, hi), "RGB to grey (luminance)"
    raise DatasetError(f"cannot convert images of {c} channels to {channels}")


def fit_images(x: torch.Tensor, shape: tuple[int, ...], mode: str) -> tuple[torch.Tensor, list[str]]:
    """Images (N, C, H, W) to ``shape`` (C', H', W'): channels converted, then ``resize`` (scaled
    to H'×W', antialiased) or ``crop`` (scaled, aspect kept, to cover H'×W', then centre-cropped).
    Returns the images and what was done to them."""
    if mode not in FIT_MODES:
        raise DatasetError(f"real_resize {mode!r}: expected one of {', '.join(FIT_MODES)}")
    c, h, w = shape
    x, note = _channels(x, c)
    done = [note] if note else []
    _, _, ih, iw = x.shape
    if (ih, iw) != (h, w):
        if mode == "crop":
            scale = max(h / ih, w / iw)
            sh, sw = max(h, round(ih * scale)), max(w, round(iw * scale))
            x = torch.nn.functional.interpolate(x, size=(sh, sw), mode="bilinear",
                                                align_corners=False, antialias=scale < 1)
            top, left = (sh - h) // 2, (sw - w) // 2
            x = x[:, :, top : top + h, left : left + w]
            done.append(f"{ih}x{iw} centre-cropped to {h}x{w}")
        else:
            x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear",
                                                align_corners=False,
                                                antialias=h < ih or w < iw)
            done.append(f"{ih}x{iw} resized to {h}x{w}")
    return x.contiguous(), done


def fit_image_list(images: list[np.ndarray], shape: tuple[int, ...], mode: str
                   ) -> tuple[np.ndarray, str]:
    """Images of mixed sizes and channels ((C, H, W) arrays) fitted one by one to ``shape``."""
    out = [fit_images(torch.from_numpy(np.ascontiguousarray(a))[None].float(), shape, mode)[0][0]
           for a in images]
    sizes = sorted({tuple(a.shape) for a in images})
    shown = ", ".join("x".join(map(str, s)) for s in sizes[:4]) + (", ..." if len(sizes) > 4 else "")
    verb = "centre-cropped" if mode == "crop" else "resized"
    return (np.stack([t.numpy() for t in out]),
            f"{len(images)} images of {len(sizes)} shapes ({shown}) {verb} to "
            f"{'x'.join(map(str, shape))}")
