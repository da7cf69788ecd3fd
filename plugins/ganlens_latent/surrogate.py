"""The linear surrogate: how much of G a linear map from the latent to the output explains.

For a conditional GAN the map also takes the one-hot class label: G(z, y) ≈ W z + b_y, linear
in z with one offset per class (a linear model of z alone would count the class's effect as
nonlinearity)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

import ganlens
from ganlens.images import display_images, make_grid
from ganlens.plotting import new_figure, show_image

from . import keys
from .embedding import single_threaded
from .plots import panels

TEST_FRACTION = 0.2


def linear_r2(z_train: torch.Tensor, x_train: torch.Tensor, z_test: torch.Tensor,
              x_test: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
    """Fit x ≈ W z + b by least squares on the training pairs; return the held-out R²
    (variance-weighted over outputs, as scikit-learn's ``r2_score(multioutput=
    "variance_weighted")``), the R² of each output, and the test predictions."""
    def design(z: torch.Tensor) -> torch.Tensor:
        z = z.reshape(len(z), -1).double()
        return torch.cat([z, torch.ones(len(z), 1, dtype=torch.float64)], 1)

    xtr = x_train.reshape(len(x_train), -1).double()
    xte = x_test.reshape(len(x_test), -1).double()
    w = torch.linalg.lstsq(design(z_train), xtr, driver="gelsd").solution
    pred = design(z_test) @ w
    sse = ((xte - pred) ** 2).sum(0)
    sst = ((xte - xte.mean(0)) ** 2).sum(0)
    total = float(1 - sse.sum() / sst.sum()) if float(sst.sum()) > 0 else float("nan")
    per = torch.where(sst > 1e-12 * sst.max().clamp_min(1e-300), 1 - sse / sst.clamp_min(1e-300),
                      torch.full_like(sst, float("nan")))
    return total, per, pred.float()


def analyze_surrogate(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any) -> None:
    gan = ctx.gan
    d = gan.latent.dim
    k = gan.require_classes() if ctx.conditional else 0
    need = math.ceil(2 * (d + k + 1) / (1 - TEST_FRACTION)) + 2
    z = ctx.latents.reshape(len(ctx.latents), -1).float()
    x = ctx.fakes
    y = ctx.labels
    if len(z) < need:  # too few shared samples for a well-posed fit: draw the rest
        extra = ctx.latents_for(need - len(z), "latent/surrogate")
        extra_y = ctx.labels_for(len(extra), "latent/surrogate")
        z = torch.cat([z, extra.reshape(len(extra), -1).float()])
        x = torch.cat([x, ctx.generate(extra, labels=extra_y)])
        y = None if y is None else torch.cat([y, extra_y])
    if y is not None:  # regress on z and the one-hot label: one offset per class
        z = torch.cat([z, torch.nn.functional.one_hot(y.long(), k).float()], 1)
    n_test = max(2, int(round(len(z) * TEST_FRACTION)))
    n_train = len(z) - n_test
    with single_threaded():
        r2, per, pred = linear_r2(z[:n_train], x[:n_train], z[n_train:], x[n_train:])
    inputs = f"the latent ({d} values)" if not k else \
        f"the latent ({d} values) and the one-hot class label ({k} values: one offset per class)"
    section.metric(
        keys.SURROGATE_R2, r2,
        f"R^2 on {n_test} held-out samples of the least-squares linear map from {inputs} "
        f"to the output, fitted on {n_train} samples: the share of the output's "
        "variance that a linear model of the latent explains",
        "1: G is linear in z; near 0: a linear model explains nothing (typical of deep "
        "generators: read it as how much nonlinearity G adds)",
    )
    if gan.data.is_image:
        _image_figure(ctx, section, per, x[n_train:], pred, r2)
    elif per.numel() <= 64:
        fig, (ax,) = panels(1, max(5.0, 0.25 * per.numel() + 2), 3.4)
        ax.bar(np.arange(per.numel()), per.nan_to_num(0).numpy(), color="tab:blue")
        ax.set_xticks(np.arange(0, per.numel(), max(1, per.numel() // 16)))
        ax.set_ylim(min(0.0, float(per.nan_to_num(0).min())), 1.0)
        ax.set_xlabel("output dimension")
        ax.set_ylabel("held-out R^2")
        ax.set_title(f"Linear surrogate per output (R^2 = {r2:.3f})", fontsize=10)
        section.figure(fig, "surrogate", title="Linear surrogate of the generator",
                       caption="Held-out R^2 of a linear map from the latent to each output "
                               "dimension. Bars near 1: that output is a linear function of z; "
                               "near 0 or below: G computes it nonlinearly." + _class_note(ctx))


def _image_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section, per: torch.Tensor,
                  x: torch.Tensor, pred: torch.Tensor, r2: float) -> None:
    gan = ctx.gan
    c, h, w = gan.data.shape
    # Pixels that barely vary (a background) have no meaningful R^2: shown grey.
    var = x.reshape(len(x), -1).double().var(0)
    per = torch.where(var >= 0.01 * var.max(), per, torch.full_like(per, float("nan")))
    r2_map = per.reshape(c, h, w).nanmean(0).numpy() if c > 1 else per.reshape(h, w).numpy()
    k = min(8, len(x))
    fig, (ax1, ax2) = new_figure(11, 3.4, 1, 2, gridspec_kw={"width_ratios": [1, 2.6]})
    from matplotlib import colormaps

    cmap = colormaps["magma"].with_extremes(bad="lightgrey")
    im = ax1.imshow(np.clip(r2_map, -0.5, 1), cmap=cmap, vmin=-0.5, vmax=1)
    ax1.set_title("held-out R^2 per pixel", fontsize=9)
    ax1.set_xlabel("x (pixels)")
    ax1.set_ylabel("y (pixels)")
    fig.colorbar(im, ax=ax1, shrink=0.8)
    pred_imgs = pred.reshape(len(pred), c, h, w)
    shown = display_images(torch.cat([x[:k], pred_imgs[:k]]), gan.data.value_range)
    pad = max(1, min(h, w) // 16)
    show_image(ax2, make_grid(shown, nrow=k, padding=pad))
    ax2.set_yticks([pad + h / 2, 2 * pad + 1.5 * h])
    ax2.set_yticklabels(["G(z)", "linear"], fontsize=8)
    ax2.set_xlabel(f"{k} held-out samples")
    ax2.set_title("generator output and its linear surrogate from the same z", fontsize=9)
    fig.suptitle(f"Linear surrogate of G (held-out R^2 = {r2:.3f})", fontsize=10)
    section.figure(
        fig, "surrogate", title="Linear surrogate of the generator",
        caption="Left: the held-out R^2 of a linear map from the latent to each pixel (averaged "
                "over channels); bright pixels are linear functions of z, dark ones are made "
                "nonlinearly; grey pixels barely vary (under 1% of the most varying pixel's "
                "variance), so their R^2 means nothing. Right: held-out samples (top row) above the linear model's "
                "prediction from the same z (bottom row); the closer they look, the more of G is "
                "linear." + _class_note(ctx),
    )


def _class_note(ctx: ganlens.AnalysisContext) -> str:
    if not ctx.conditional:
        return ""
    return (" The GAN is conditional: the linear map also takes the one-hot class label (one "
            "offset per class), so R^2 counts what the class adds as linear.")
