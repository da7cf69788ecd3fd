"""Public: figure helpers, so every analyzer's figures look alike and render off-screen.

:func:`new_figure` makes an Agg figure and its axes, :func:`show_image` draws an image without
ticks, :func:`wrapped_title` wraps a title to the axes' width, :func:`plain_log_axis` labels a
log axis in plain numbers, :func:`smooth` is a moving average for curves, :func:`figure_png` and
:func:`save_figure` render one.
"""

from .core.plotting import (
    figure_png,
    new_figure,
    plain_log_axis,
    save_figure,
    show_image,
    smooth,
    wrapped_title,
)

__all__ = [
    "figure_png",
    "new_figure",
    "plain_log_axis",
    "save_figure",
    "show_image",
    "smooth",
    "wrapped_title",
]
