"""ganlens.plotting: titles wrapped to the axes so long names are never clipped."""

from __future__ import annotations

import torch

from ganlens.plotting import figure_png, new_figure, wrapped_title

LONG = ("Which units of generator.main.block3.conv_transpose raise (green) or lower (red) "
        "target 'region:0.10:0.50:0.20:0.80'")


def title_fits(fig, ax) -> bool:
    figure_png(fig)  # draws, so the extents are final
    box = ax.title.get_window_extent(fig.canvas.get_renderer())
    return box.x0 >= 0 and box.x1 <= fig.bbox.width


def test_a_plain_title_of_this_length_is_clipped():
    fig, ax = new_figure(4.0, 3.0)
    ax.set_title(LONG, fontsize=9)
    assert not title_fits(fig, ax)  # the control: without wrapping it runs off the figure


def test_wrapped_title_fits_and_keeps_every_word():
    fig, ax = new_figure(4.0, 3.0)
    wrapped_title(ax, LONG, fontsize=9)
    assert title_fits(fig, ax)
    assert ax.title.get_text().split() == LONG.split()
    assert ax.title.get_text().count("\n") >= 1


def test_short_titles_and_given_line_breaks_are_kept():
    fig, ax = new_figure(6.0, 3.0)
    wrapped_title(ax, "first line\nsecond line")
    assert ax.title.get_text() == "first line\nsecond line"


def test_attribution_figures_fit_long_layer_and_target_names():
    from ganlens_attributions.figures import conductance_figure, latent_importance_figure

    name = "region:0.10:0.50:0.20:0.80"
    fig = latent_importance_figure(torch.rand(8), [], 0.01, {name: (torch.rand(8), torch.randn(8))})
    assert all(title_fits(fig, ax) for ax in fig.axes)
    fig = conductance_figure(torch.randn(6), "generator.main.block3.conv_transpose", name)
    assert all(title_fits(fig, ax) for ax in fig.axes)
