"""Public: small image utilities (ganlens needs no torchvision).

:func:`display_images` maps data in the generator's value range to [0, 1] for display,
:func:`make_grid` tiles a batch, :func:`upsample_map` resizes a heat map to an image,
:func:`png_bytes` and :func:`save_png` encode one.
"""

from .core.images import display_images, make_grid, png_bytes, save_png, to_uint8_hwc, upsample_map

__all__ = ["display_images", "make_grid", "png_bytes", "save_png", "to_uint8_hwc", "upsample_map"]
