"""Small image utilities (no torchvision): grids, PNG encoding, upsampling for overlays."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch


def make_grid(
    images: torch.Tensor, nrow: int | None = None, padding: int = 1, pad_value: float = 1.0
) -> torch.Tensor:
    """Tile (N, C, H, W) images in [0, 1] into one (C, H', W') image, ``nrow`` per row."""
    if images.ndim != 4:
        raise ValueError(f"make_grid expects (N, C, H, W) images, got shape {tuple(images.shape)}")
    n, c, h, w = images.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    grid = torch.full(
        (c, rows * (h + padding) + padding, nrow * (w + padding) + padding), float(pad_value)
    )
    for i in range(n):
        r, k = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[:, top : top + h, left : left + w] = images[i]
    return grid


def to_uint8_hwc(image: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [0, 1] → (H, W) or (H, W, 3) uint8."""
    a = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    if a.shape[0] == 1:
        return a[0]
    return np.transpose(a[:3], (1, 2, 0))


def png_bytes(image: torch.Tensor, scale: int = 1) -> bytes:
    """Encode a (C, H, W) image in [0, 1] as PNG, enlarged ``scale`` times (nearest)."""
    from PIL import Image

    arr = to_uint8_hwc(image)
    im = Image.fromarray(arr)
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def save_png(image: torch.Tensor, path: str | Path, scale: int = 1) -> Path:
    """Write a (C, H, W) image in [0, 1] to ``path`` atomically."""
    from .fileio import atomic_write_bytes

    return atomic_write_bytes(Path(path), png_bytes(image, scale))


def display_images(x: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Data in ``value_range`` → images in [0, 1] for display, (N, C, H, W); colour images with
    4 channels lose their alpha, 2 channels are shown as the first."""
    lo, hi = value_range
    x = ((x.float() - lo) / (hi - lo)).clamp(0, 1)
    if x.shape[1] not in (1, 3):
        x = x[:, :3] if x.shape[1] > 3 else x[:, :1]
    return x


def upsample_map(m: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear upsampling of (N, h, w) or (h, w) maps to ``size`` (for overlays)."""
    squeeze = m.ndim == 2
    t = m[None, None] if squeeze else m[:, None]
    out = torch.nn.functional.interpolate(t.float(), size=size, mode="bilinear", align_corners=False)
    return out[0, 0] if squeeze else out[:, 0]
