"""An explanatory model: an encoder E that inverts G, trained on pairs (z, G(z)) drawn here.

How well G(E(x)) reconstructs real images, against the same on fakes, shows what G cannot
represent: real images it cannot reconstruct lie outside its range (Zhu et al. 2016, iGAN;
Bau et al. 2019, "Seeing what a GAN cannot generate").

For a conditional GAN, E still maps x to z only: the pairs are (z, G(z, y)) with labels drawn
uniformly, and every reconstruction is G(E(x), y) at the sample's own label (fakes: the label
they were made with; reals: their data label, or, when the real data have no usable labels,
the shared pass's labels, which a finding then says).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import ganlens

from . import keys
from .embedding import single_threaded
from .plots import image_rows, panels, projector
from .views import record_embedding, run_embedding, seed_for

LEARNING_RATE = 1e-3
RATIO_WARNING = 2.0


class Encoder(nn.Module):
    """data → latent: a linear map plus a two-hidden-layer MLP on standardised, flattened data.
    The linear path starts at the least-squares inverse and the MLP at zero, so training
    begins from the best linear inversion and learns what is nonlinear."""

    def __init__(self, in_dim: int, out_dim: int, width: int, mean: torch.Tensor,
                 scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.reshape(1, -1).float())
        self.register_buffer("scale", scale.reshape(()).float())
        self.linear = nn.Linear(in_dim, out_dim)
        self.mlp = nn.Sequential(nn.Linear(in_dim, width), nn.ReLU(), nn.Linear(width, width),
                                 nn.ReLU(), nn.Linear(width, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x.reshape(len(x), -1) - self.mean) / self.scale
        return self.linear(x) + self.mlp(x)


@dataclass
class Inversion:
    """A trained encoder and how well it inverts G."""

    encoder: Encoder
    training: Training
    latent_error: float
    fake_errors: torch.Tensor
    real_errors: torch.Tensor | None
    real_codes: torch.Tensor | None
    real_recon: torch.Tensor | None
    real_x: torch.Tensor | None
    label_note: str | None = None
    """For a conditional GAN whose reals were reconstructed at the shared labels: why."""


RIDGES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
VALIDATION_FRACTION = 0.1
VALIDATION_RECON = 128
CHECKS = 10


def least_squares_inverses(x: torch.Tensor, z: torch.Tensor, ridges: tuple[float, ...] = RIDGES
                           ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """For each ridge r: W (D, P) and b (D,) minimising |x W^T + b - z|^2 + lam |W|^2 with
    lam = r * trace(x_c^T x_c) / P, from one eigendecomposition (of x_c^T x_c or, with more
    values than samples, of x_c x_c^T)."""
    xd, zd = x.double(), z.double()
    xm, zm = xd.mean(0), zd.mean(0)
    xc, zc = xd - xm, zd - zm
    n, p = xc.shape
    scale = float((xc**2).sum()) / p
    out = []
    if p <= n:
        vals, vecs = torch.linalg.eigh(xc.T @ xc)
        proj = vecs.T @ (xc.T @ zc)
        for r in ridges:
            w = vecs @ (proj / (vals.clamp_min(0) + r * scale + 1e-12)[:, None])
            out.append((w.T.float(), (zm - xm @ w).float()))
    else:
        vals, vecs = torch.linalg.eigh(xc @ xc.T)
        proj = vecs.T @ zc
        for r in ridges:
            w = xc.T @ (vecs @ (proj / (vals.clamp_min(0) + r * scale + 1e-12)[:, None]))
            out.append((w.T.float(), (zm - xm @ w).float()))
    return out


@dataclass
class Training:
    """The training record: loss per step, validation loss at the checks, the step kept."""

    losses: list[float]
    check_steps: list[int]
    check_losses: list[float]
    best_step: int


def train_encoder(x: torch.Tensor, z: torch.Tensor, *, width: int, steps: int, batch: int,
                  seed: int, device: torch.device,
                  decode: Callable[..., torch.Tensor] | None = None,
                  labels: torch.Tensor | None = None) -> tuple[Encoder, Training]:
    """Fit E(x) ≈ z by mean squared error. 10% of the pairs are set aside for validation: the
    linear path starts at the least-squares inverse whose ridge validates best, the MLP at zero;
    Adam (learning rate decaying linearly to 0) trains both, and the encoder kept is the one
    with the lowest validation loss among 10 checks and the start, so E never ends worse than
    its linear start. The validation loss is the reconstruction error of ``decode(E(x))``
    against x on 128 validation pairs when ``decode`` (G) is given: what E is for; else the
    latent error. Latent directions G ignores make the latent error a poor guide. With
    ``labels`` (a conditional G, one per pair) ``decode(codes, y)`` gets the validation pairs'
    labels."""
    flat = x.reshape(len(x), -1).float()
    zf = z.reshape(len(z), -1).float()
    n_val = max(1, int(len(flat) * VALIDATION_FRACTION))
    x_val, z_val = flat[-n_val:], zf[-n_val:]
    flat, zf = flat[:-n_val], zf[:-n_val]
    mean = flat.mean(0)
    scale = (flat - mean).std().clamp_min(1e-6)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        enc = Encoder(flat.shape[1], zf.shape[1], width, mean, scale)
    xs_val = (x_val - mean) / scale
    fits = least_squares_inverses((flat - mean) / scale, zf)
    w, b = min(fits, key=lambda f: float(((xs_val @ f[0].T + f[1] - z_val) ** 2).mean()))
    with torch.no_grad():
        enc.linear.weight.copy_(w)
        enc.linear.bias.copy_(b)
        enc.mlp[-1].weight.zero_()
        enc.mlp[-1].bias.zero_()
    enc = enc.to(device)
    xs, zs = flat.to(device), zf.to(device)
    x_val, z_val = x_val.to(device), z_val.to(device)

    x_rec = x_val[:VALIDATION_RECON]
    y_rec = None if labels is None else labels[len(labels) - n_val :][:VALIDATION_RECON]

    def reconstruct(codes: torch.Tensor) -> torch.Tensor:
        return decode(codes) if y_rec is None else decode(codes, y_rec)

    def validate() -> float:
        enc.eval()
        with torch.no_grad():
            if decode is None:
                loss = float(F.mse_loss(enc(x_val), z_val))
            else:
                loss = float(per_sample_mse(reconstruct(enc(x_rec).cpu()), x_rec.cpu()).mean())
        enc.train()
        return loss

    record = Training([], [0], [validate()], 0)
    best = {k: v.clone() for k, v in enc.state_dict().items()}
    every = max(1, steps // CHECKS)
    opt = torch.optim.Adam(enc.parameters(), lr=LEARNING_RATE)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - s / steps)
    gen = torch.Generator().manual_seed(seed)
    enc.train()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(xs), (min(batch, len(xs)),), generator=gen).to(device)
        loss = F.mse_loss(enc(xs[idx]), zs[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        record.losses.append(float(loss.detach()))
        if step % every == 0 or step == steps:
            record.check_steps.append(step)
            record.check_losses.append(validate())
            if record.check_losses[-1] < min(record.check_losses[:-1]):
                record.best_step = step
                best = {k: v.clone() for k, v in enc.state_dict().items()}
    enc.load_state_dict(best)
    return enc.eval(), record


def encode(enc: Encoder, x: torch.Tensor, device: torch.device, batch: int = 512) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([enc(b.to(device)).float().cpu() for b in x.split(batch)])


def per_sample_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a.reshape(len(a), -1).double() - b.reshape(len(b), -1).double()) ** 2).mean(1)


def real_labels(ctx: ganlens.AnalysisContext, n: int) -> tuple[torch.Tensor | None, str | None]:
    """For a conditional GAN, labels for the first ``n`` real samples: their data labels when
    they are class indices of G, else the shared pass's labels (cycled), with why; for an
    unconditional one (None, None)."""
    if not ctx.conditional:
        return None, None
    k = ctx.gan.require_classes()
    y = ctx.real.labels if ctx.real is not None else None
    if y is not None:
        y = y[:n].long()
        if not len(y) or (int(y.min()) >= 0 and int(y.max()) < k):
            return y, None
        why = (f"the real data's labels ({int(y.min())} to {int(y.max())}) are not class "
               f"indices of G (0 to {k - 1})")
    else:
        why = "the real data have no labels"
    shared = ctx.labels
    return shared.repeat(-(-n // len(shared)))[:n], why


def invert(ctx: ganlens.AnalysisContext, opts: Any) -> Inversion:
    """Train E on fresh (z, G(z)) pairs, then measure it on held-out fakes and on real data."""
    gan = ctx.gan
    held = min(512, max(16, opts.encoder_pairs // 8))
    z = ctx.latents_for(opts.encoder_pairs + held, "latent/encoder")
    y = ctx.labels_for(opts.encoder_pairs + held, "latent/encoder")
    x = ctx.generate(z, labels=y)  # one batched pass for training and held-out pairs
    zf = z.reshape(len(z), -1).float()

    def decode(codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return ctx.generate(codes.reshape(len(codes), *gan.latent.shape), labels=labels)

    z_held, x_held = zf[opts.encoder_pairs :], x[opts.encoder_pairs :]
    real_x = ctx.real.x[: max(held, min(opts.points, len(ctx.real)))] if ctx.real is not None else None
    # Small models train fastest on one CPU thread (threads only add synchronisation).
    with single_threaded() if ctx.device.type == "cpu" else contextlib.nullcontext():
        enc, training = train_encoder(x[: opts.encoder_pairs], zf[: opts.encoder_pairs],
                                      width=opts.encoder_width, steps=opts.encoder_steps,
                                      batch=opts.encoder_batch, seed=seed_for(ctx, "encoder-init"),
                                      device=ctx.device, decode=decode,
                                      labels=None if y is None else y[: opts.encoder_pairs])
        z_hat = encode(enc, x_held, ctx.device)
        codes = [z_hat] + ([encode(enc, real_x, ctx.device)] if real_x is not None else [])
    latent_error = math.sqrt(float(((z_hat - z_held) ** 2).sum() / (z_held**2).sum().clamp_min(1e-12)))
    both = torch.cat(codes)
    real_y, why = real_labels(ctx, len(real_x)) if real_x is not None else (None, None)
    both_y = None if y is None else torch.cat(
        [y[opts.encoder_pairs :]] + ([] if real_y is None else [real_y]))
    recon = ctx.generate(both.reshape(len(both), *gan.latent.shape), labels=both_y)  # one pass
    fake_errors = per_sample_mse(recon[:held], x_held)
    if real_x is None:
        return Inversion(enc, training, latent_error, fake_errors, None, None, None, None)
    real_errors = per_sample_mse(recon[held:], real_x)
    return Inversion(enc, training, latent_error, fake_errors, real_errors, codes[1], recon[held:],
                     real_x, why)


def analyze_encoder(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any,
                    with_umap: bool) -> Inversion:
    inv = invert(ctx, opts)
    held = len(inv.fake_errors)
    section.metric(
        keys.LATENT_ERROR, inv.latent_error,
        f"relative latent error of the encoder on {held} held-out fakes: sqrt(sum |E(G(z)) - z|^2 "
        f"/ sum |z|^2) (encoder: {opts.encoder_steps} steps on {opts.encoder_pairs} pairs, "
        f"width {opts.encoder_width})",
        "near 0: E inverts G (G is injective enough to be read back); near 1: no better than "
        "guessing the mean latent, either because E is weak or because G ignores many latent "
        "directions (then the fake reconstruction error stays small)",
    )
    section.metric(keys.FAKE_RECON, float(inv.fake_errors.mean()),
                   "mean squared error per value between G(E(x)) and x for held-out fakes x"
                   + (" (G(E(x), y) at the label y each fake was made with: the GAN is "
                      "conditional)" if ctx.conditional else ""),
                   "small: the baseline that real samples are compared with")
    if inv.real_errors is not None:
        real, fake = float(inv.real_errors.mean()), float(inv.fake_errors.mean())
        ratio = real / fake if fake > 0 else float("inf")
        section.metric(keys.REAL_RECON, real,
                       f"mean squared error per value between G(E(x)) and x for {len(inv.real_errors)} "
                       "real samples x",
                       "close to inversion.fake_recon_error: G can represent the real data")
        section.metric(keys.RECON_RATIO, ratio,
                       "inversion.real_recon_error / inversion.fake_recon_error",
                       f"about 1; above {RATIO_WARNING:g}: real samples lie outside what G can make")
        if inv.label_note is not None:
            section.finding(
                "info", f"conditional GAN: {inv.label_note}, so the real samples were "
                        "reconstructed as G(E(x), y) at the shared pass's labels, not their own "
                        f"class; {keys.REAL_RECON} and {keys.RECON_RATIO} then include class "
                        "mismatches and overstate what G cannot make (no warning is raised on "
                        "them)")
        elif ratio > RATIO_WARNING:
            section.finding(
                "warning", f"real samples reconstruct {ratio:.1f}x worse than fakes "
                           f"({keys.RECON_RATIO} > {RATIO_WARNING:g}): G cannot represent part of "
                           "the real data", metric=keys.RECON_RATIO, value=ratio,
                threshold=RATIO_WARNING)
        if opts.worst > 0:
            _worst_figure(ctx, section, inv, opts.worst)
    _errors_figure(section, inv)
    if with_umap and inv.real_codes is not None:
        _inversion_view(ctx, section, opts, inv)
    return inv


def _worst_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section, inv: Inversion,
                  worst: int) -> None:
    gan = ctx.gan
    k = min(worst, len(inv.real_errors))
    order = inv.real_errors.argsort(descending=True)[:k]
    if gan.data.is_image:
        imgs = torch.cat([inv.real_x[order], inv.real_recon[order]])
        fig = image_rows(imgs, gan.data.value_range, ["real x", "G(E(x))"],
                         [f"{float(inv.real_errors[i]):.3g}" for i in order],
                         title=f"The {k} real images G reconstructs worst",
                         xlabel="mean squared error per value")
    else:
        proj, axis = projector(inv.real_x)
        fig, (ax,) = panels(1, 5.5, 4.8)
        r, g = proj(inv.real_x), proj(inv.real_recon)
        ax.scatter(r[:, 0], r[:, 1], s=4, color="lightgrey", label="real x")
        for j, i in enumerate(order.tolist()):
            ax.plot([r[i, 0], g[i, 0]], [r[i, 1], g[i, 1]], "-", color="tab:red", linewidth=0.8)
            ax.scatter(r[i, 0], r[i, 1], s=14, color="tab:red", label="worst real" if j == 0 else None)
            ax.scatter(g[i, 0], g[i, 1], s=14, color="tab:blue",
                       label="G(E(x))" if j == 0 else None)
        ax.set_xlabel(axis[0])
        ax.set_ylabel(axis[1])
        ax.set_title(f"The {k} real samples G reconstructs worst", fontsize=10)
        ax.legend(fontsize=7)
    section.figure(
        fig, "inversion_worst", title="Real samples G cannot reconstruct",
        caption="The real samples with the largest reconstruction error, each beside G(E(x)), the "
                "closest thing the encoder finds that G can make (for vectors: a red line from "
                "each real point to its reconstruction). What is lost between the two is what "
                "the generator fails to represent (a class, a style, details).",
    )


def _errors_figure(section: ganlens.Section, inv: Inversion) -> None:
    fig, (ax1, ax2) = panels(2, 4.6, 3.4)
    tr = inv.training
    ax1.plot(np.arange(1, len(tr.losses) + 1), tr.losses, color="tab:blue", linewidth=0.6,
             alpha=0.7, label="training batches")
    val = ax1.twinx()
    val.plot(tr.check_steps, tr.check_losses, "o-", color="black", markersize=3,
             label="validation: MSE of G(E(x))")
    val.set_ylabel("validation reconstruction MSE per value", fontsize=8)
    val.legend(fontsize=7, loc="upper right")
    ax1.axvline(tr.best_step, color="tab:green", linestyle="--", label=f"kept (step {tr.best_step})")
    ax1.set_yscale("log")
    ax1.set_xlabel("training step (0: least-squares linear start)")
    ax1.set_ylabel("latent MSE |E(G(z)) - z|^2 / dim")
    ax1.set_title("Encoder training", fontsize=9)
    ax1.legend(fontsize=7, loc="upper left")
    errs = [("fake (held out)", inv.fake_errors, "tab:blue")]
    if inv.real_errors is not None:
        errs.append(("real", inv.real_errors, "grey"))
    pos = torch.cat([e for _, e, _ in errs])
    lo, hi = float(pos.clamp_min(1e-12).min()), float(pos.max())
    bins = np.logspace(np.log10(lo), np.log10(max(hi, lo * 1.01)), 40)
    for name, e, colour in errs:
        ax2.hist(e.clamp_min(1e-12).numpy(), bins=bins, alpha=0.6, color=colour, label=name)
    ax2.set_xscale("log")
    ax2.set_xlabel("reconstruction MSE of G(E(x)) per value")
    ax2.set_ylabel("samples")
    ax2.set_title("Reconstruction error", fontsize=9)
    ax2.legend(fontsize=7)
    section.figure(
        fig, "inversion_errors", title="Inverting the generator",
        caption="Left: the encoder's latent loss on training batches (blue, left axis) and the "
                "reconstruction error of G(E(x)) on validation pairs (black, right axis); the "
                "encoder kept (green) is the one that reconstructs best. If validation still falls "
                "steeply at the end, raise encoder_steps; if it rises, the encoder overfits: raise "
                "encoder_pairs. Right: per-sample reconstruction error of G(E(x)) for "
                "held-out fakes (blue) and real samples (grey). Grey far right of blue means real "
                "images the generator cannot produce.",
    )


def _inversion_view(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any,
                    inv: Inversion) -> None:
    m = min(max(2, opts.points // 2), ctx.n_samples, len(inv.real_codes))
    z = ctx.latents.reshape(len(ctx.latents), -1)[:m].float()
    x = torch.cat([z, inv.real_codes[:m]])
    emb = run_embedding(ctx, opts, "inversion", x)
    record_embedding(section, "inversion", "latent codes z and encoded real samples E(x)", emb,
                     2 * m)
    c = emb.coords
    err = inv.real_errors[:m].numpy()
    fig, (ax1, ax2) = panels(2)
    ax1.scatter(c[:m, 0], c[:m, 1], s=5, color="tab:blue", alpha=0.5, linewidths=0,
                label="z ~ prior")
    ax1.scatter(c[m:, 0], c[m:, 1], s=5, color="tab:red", alpha=0.5, linewidths=0, label="E(real)")
    ax1.legend(fontsize=7, markerscale=2)
    ax1.set_title("prior codes and encoded reals", fontsize=9)
    ax2.scatter(c[:m, 0], c[:m, 1], s=4, color="lightgrey", linewidths=0)
    sc = ax2.scatter(c[m:, 0], c[m:, 1], s=6, c=np.log10(np.clip(err, 1e-12, None)),
                     cmap="viridis", linewidths=0)
    bar = fig.colorbar(sc, ax=ax2, shrink=0.8)
    bar.set_label("log10 reconstruction MSE", fontsize=8)
    ax2.set_title("encoded reals by reconstruction error", fontsize=9)
    for ax in (ax1, ax2):
        ax.set_xlabel("UMAP 1")
        ax.set_ylabel("UMAP 2")
    t = emb.trustworthiness
    fig.suptitle(f"UMAP of z and E(real) (trustworthiness {'n/a' if t is None else f'{t:.3f}'})",
                 fontsize=10)
    section.figure(
        fig, "umap_inversion", title="Encoded real samples among the latent codes",
        caption=f"{m} latent codes drawn from the prior (blue) and the codes E(x) the encoder gives "
                f"{m} real samples (red), embedded together. Red outside the blue cloud: real "
                "samples the encoder can only place in atypical latent regions, which G rarely "
                "samples. Right: encoded reals coloured by how badly G(E(x)) reconstructs them.",
    )
