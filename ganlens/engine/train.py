"""The training loop behind ``ganlens train`` and ``ganlens.train``.

Non-saturating GAN loss (Goodfellow et al. 2014) by default, hinge loss (Lim & Ye 2017; Miyato
et al. 2018) as an option; Adam. Each epoch draws its shuffling and latents from a generator
seeded by (seed, epoch), so a run that stops and resumes from its checkpoint gives the same
weights as one that never stopped (on the CPU). The history records per-step losses, D(x),
D(G(z)), gradient norms, and per epoch a diversity statistic of a fixed latent batch.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..core.checkpoint import (
    CheckpointSource,
    checkpoint_dict,
    is_native,
    load_weights,
    save_checkpoint,
)
from ..core.dataset import Dataset
from ..core.errors import CheckpointError, InputError
from ..core.extensions import lookup_architecture
from ..core.gan import GAN, LatentSpec, resolve_device
from ..core.progress import progress_bar
from .data import load_dataset
from .host import PluginHost

LOSSES = ("ns", "hinge")
CHECKPOINT_NAME = "checkpoint.pt"
GRID_SIZE = 64
DEFAULT_HOLDOUT = 0.1
HOLDOUT_SALT = 7_919


@dataclass
class TrainConfig:
    """Everything that decides the weights a run produces (stored in the checkpoint)."""

    arch: str = "auto"
    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    latent_dim: int | None = None
    width: int | None = None
    loss: str = "ns"
    seed: int = 0
    d_steps: int = 1
    holdout: float = DEFAULT_HOLDOUT
    conditional: bool = False

    def validate(self) -> None:
        if self.loss not in LOSSES:
            raise InputError(f"loss {self.loss!r} is unknown; expected one of {', '.join(LOSSES)}")
        for name in ("epochs", "batch_size", "d_steps"):
            if int(getattr(self, name)) < 1 and not (name == "epochs" and self.epochs == 0):
                raise InputError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not self.lr > 0:
            raise InputError(f"the learning rate must be positive, got {self.lr}")
        if not 0 <= self.holdout <= 0.5:
            raise InputError(f"holdout must be a fraction from 0 to 0.5, got {self.holdout}")


def held_out_rows(n: int, fraction: float, seed: int) -> torch.Tensor:
    """The rows (sorted) of an ``n``-sample dataset that training with ``seed`` holds out:
    round(n × fraction) of them, at least one when the fraction is positive."""
    if fraction <= 0 or n < 2:
        return torch.empty(0, dtype=torch.long)
    k = min(n - 1, max(1, round(n * fraction)))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed + HOLDOUT_SALT))
    return torch.sort(perm[:k]).values


@dataclass
class TrainResult:
    """The trained GAN, where its checkpoint and figures went, and the history."""

    gan: GAN
    checkpoint: Path | None
    history: dict[str, Any]
    out_dir: Path | None


def _pick_arch(name: str, dataset: Dataset) -> str:
    if name != "auto":
        return name
    if dataset.spec.is_image:
        _c, h, w = dataset.spec.shape
        return "dcgan" if h == w and 8 <= h <= 64 else "mlp"
    return "mlp"


def _default_latent(dataset: Dataset) -> int:
    if not dataset.spec.is_image:
        return 16
    return 32 if dataset.spec.shape[1] <= 16 else 64


def _losses(loss: str, real_logits, fake_logits_d, fake_logits_g):
    if loss == "hinge":
        d = F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits_d).mean()
        g = -fake_logits_g.mean() if fake_logits_g is not None else None
    else:
        d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \
            F.binary_cross_entropy_with_logits(fake_logits_d, torch.zeros_like(fake_logits_d))
        g = (
            F.binary_cross_entropy_with_logits(fake_logits_g, torch.ones_like(fake_logits_g))
            if fake_logits_g is not None else None
        )
    return d, g


def _grad_norm(module: torch.nn.Module) -> float:
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))


def diversity(x: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance within a batch (a cheap collapse signal)."""
    flat = x.flatten(1).float()
    d = torch.cdist(flat, flat)
    n = flat.shape[0]
    return float(d.sum() / (n * (n - 1))) if n > 1 else 0.0


def empty_history() -> dict[str, Any]:
    step_keys = ("epoch", "g_loss", "d_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm")
    epoch_keys = ("epoch", "g_loss", "d_loss", "d_real", "d_fake", "diversity", "seconds")
    return {
        "steps": {k: [] for k in step_keys},
        "epochs": {k: [] for k in epoch_keys},
        "real_diversity": None,
        "d_real_meaning": "mean sigmoid(D(x)) over the batch",
    }


def train(
    dataset: str | Path | Dataset = "digits",
    *,
    arch: str = "auto",
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 2e-4,
    latent_dim: int | None = None,
    width: int | None = None,
    loss: str = "ns",
    seed: int = 0,
    device: str | None = "auto",
    out_dir: str | Path | None = None,
    resume: str | Path | bool | None = None,
    image_size: int | None = None,
    holdout: float = DEFAULT_HOLDOUT,
    conditional: bool = False,
    progress: bool = True,
    host: PluginHost,
) -> TrainResult:
    """Train a GAN, or resume one, and write its checkpoint and figures.

    Args:
        dataset: a dataset name (``digits``, ``ring8``, ``grid25``, ...), a path, or a Dataset.
        arch: ``auto`` (DCGAN for square images of side 8 to 64, else MLP), ``dcgan``, ``mlp``
            or a registered name.
        epochs: the number of epochs to run in this call (on top of a resumed checkpoint's).
        batch_size: samples per step.
        lr: Adam's learning rate for both networks (betas 0.5, 0.999).
        latent_dim: the latent size (default 32 for small images, 64 for larger, 16 vectors).
        width: the architecture's width (its default when None).
        loss: ``ns`` (non-saturating) or ``hinge``.
        seed: decides initialisation, shuffling and latents.
        device: ``auto``, ``cpu`` or ``cuda``.
        out_dir: where ``checkpoint.pt``, ``samples/epoch_NNN.png`` and ``losses.png`` go.
        resume: a checkpoint path (or True for ``out_dir/checkpoint.pt``) to continue from.
        image_size: resize square images to this side before training.
        holdout: the fraction of the data held out of training (never seen by G or D), recorded
            in the checkpoint so an analysis scores D on reals it never trained on and tests
            for copying against them; 0 trains on everything. A resumed run keeps its own.
        conditional: train a class-conditional GAN on the data's labels (the conditional
            variant of ``arch``: G(z, y) with a class embedding, a projection D(x, y)); fakes
            get the labels of the real batch they are scored with.
        progress: show a progress bar (and the host's ``progress`` setting allows it).
        host: the plugin host whose architectures and datasets are used.

    Returns:
        A :class:`TrainResult` with the GAN (history in ``gan.metadata['training']``).
    """
    dev = resolve_device(device)
    out = Path(out_dir) if out_dir is not None else None
    state = None
    if resume:
        ckpt_path = out / CHECKPOINT_NAME if resume is True and out else Path(str(resume))
        if resume is True and out is None:
            raise InputError("resume=True needs out_dir (the folder holding checkpoint.pt)")
        state = _read_resume(ckpt_path)
        # A run from before the held-out split trained on everything, and keeps doing so.
        cfg = TrainConfig(**{"holdout": 0.0, **state["training"]["config"]})
        ds_opts = (state.get("dataset") or {}).get("options") or {}
        data = load_dataset(
            dataset, host=host, n=ds_opts.get("n"), std=ds_opts.get("std"), seed=ds_opts.get("seed", 0),
            image_size=ds_opts.get("image_size") or image_size,
            value_range=tuple(state["data"]["value_range"]),
        )
        recorded = (state.get("dataset") or {}).get("sha256")
        if recorded and recorded != data.sha256:
            raise InputError(
                f"cannot resume {ckpt_path}: it was trained on data with sha256 {recorded[:12]}..., "
                f"but {data.name} has {data.sha256[:12]}...; resume on the same data"
            )
    else:
        cfg = TrainConfig(arch, epochs, batch_size, lr, latent_dim=latent_dim, width=width,
                          loss=loss, seed=seed, holdout=holdout, conditional=conditional)
        data = load_dataset(dataset, host=host, image_size=image_size, seed=seed)
    cfg.validate()
    if epochs < 0:
        raise InputError(f"epochs must be >= 0, got {epochs}")

    if cfg.conditional and (data.labels is None or (data.num_classes or 0) < 2):
        raise InputError(f"conditional training needs labelled data of at least two classes; "
                         f"{data.name!r} has {'no labels' if data.labels is None else 'one class'}")
    arch_name = _pick_arch(cfg.arch, data)
    info = lookup_architecture(arch_name, host.architectures)
    if cfg.conditional and not info.conditional:
        if info.conditional_variant is None:
            raise InputError(f"architecture {arch_name!r} is not conditional and names no "
                             "conditional variant; choose a conditional architecture")
        arch_name = info.conditional_variant
        info = lookup_architecture(arch_name, host.architectures)
    elif info.conditional and not cfg.conditional:
        raise InputError(f"architecture {arch_name!r} is conditional: train it with "
                         "--conditional (on labelled data)")
    cfg.arch = arch_name
    if info.supports is not None and (why := info.supports(data.spec)):
        raise InputError(f"architecture {arch_name!r} cannot model {data.name}: {why}")
    if info.discriminator is None:
        raise InputError(f"architecture {arch_name!r} has no discriminator; it cannot be trained")
    cfg.latent_dim = cfg.latent_dim or _default_latent(data)
    if state is not None:
        g_kwargs, d_kwargs = state["generator"]["kwargs"], state["discriminator"]["kwargs"]
    elif info.default_kwargs is None:
        raise InputError(
            f"architecture {arch_name!r} declares no default_kwargs, so ganlens cannot build its "
            "networks for training; add default_kwargs(data_spec, latent_dim, width) to its "
            "ArchitectureInfo (it still loads from checkpoints)"
        )
    else:
        g_kwargs, d_kwargs = info.default_kwargs(data.spec, cfg.latent_dim, cfg.width)
        if cfg.conditional:
            g_kwargs["num_classes"] = d_kwargs["num_classes"] = int(data.num_classes)

    torch.manual_seed(cfg.seed)
    generator = info.generator(**g_kwargs).to(dev)
    discriminator = info.discriminator(**d_kwargs).to(dev)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    history = empty_history()
    epochs_done = 0
    if state is not None:
        load_weights(generator, state["generator"]["state_dict"], "resume (generator)")
        load_weights(discriminator, state["discriminator"]["state_dict"], "resume (discriminator)")
        opt_g.load_state_dict(state["training"]["optimizers"]["g"])
        opt_d.load_state_dict(state["training"]["optimizers"]["d"])
        history = state["training"]["history"]
        epochs_done = int(state["training"]["epochs_done"])

    latent = LatentSpec((cfg.latent_dim,))
    held = held_out_rows(len(data), cfg.holdout, cfg.seed)
    keep = torch.ones(len(data), dtype=torch.bool)
    keep[held] = False
    x_all = data.x[keep].to(dev)
    y_all = data.labels[keep].long().to(dev) if cfg.conditional else None
    n = x_all.shape[0]
    bs = min(cfg.batch_size, n)
    steps_per_epoch = n // bs if n >= bs else 1
    fixed_z = latent.sample(GRID_SIZE, seed=cfg.seed + 1_000_003).to(dev)
    fixed_y = (torch.arange(GRID_SIZE) % int(data.num_classes)).to(dev) if cfg.conditional else None
    g_args = (lambda z, y: (z, y)) if cfg.conditional else (lambda z, y: (z,))
    if history.get("real_diversity") is None:
        history["real_diversity"] = diversity(
            x_all[torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))[:GRID_SIZE]]
            .cpu()
        )
    record = data.record()
    if len(held):
        record["held_out"] = {"fraction": cfg.holdout, "count": len(held),
                              "indices": held.tolist()}

    gan = GAN(generator, latent, data.spec, discriminator, num_classes=data.num_classes,
              metadata={"dataset": record}, device=dev, conditional=cfg.conditional,
              d_conditional=cfg.conditional)
    def save() -> None:
        training = {
            "epochs_done": epochs_done,
            "config": asdict(cfg),
            "history": history,
            "optimizers": {"g": opt_g.state_dict(), "d": opt_d.state_dict()},
        }
        save_checkpoint(
            checkpoint_dict(gan, arch=arch_name, g_kwargs=g_kwargs, d_kwargs=d_kwargs,
                            training=training, seed=cfg.seed),
            out / CHECKPOINT_NAME,
        )

    bar = progress_bar(total=epochs * steps_per_epoch, desc="train",
                       enabled=progress and host.progress)
    for epoch in range(epochs_done + 1, epochs_done + epochs + 1):
        t0 = time.perf_counter()
        rng = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        perm = torch.randperm(n, generator=rng)
        generator.train()
        discriminator.train()
        sums = {"g_loss": 0.0, "d_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
        for step in range(steps_per_epoch):
            rows = perm[step * bs : (step + 1) * bs].to(dev)
            real = x_all[rows]
            y = y_all[rows] if y_all is not None else None
            z = latent.sample(real.shape[0], seed=rng).to(dev)
            fake = generator(*g_args(z, y)).reshape(real.shape)
            real_logits = discriminator(*g_args(real, y)).reshape(-1)
            fake_logits = discriminator(*g_args(fake.detach(), y)).reshape(-1)
            d_loss, _ = _losses(cfg.loss, real_logits, fake_logits, None)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            d_norm = _grad_norm(discriminator)
            opt_d.step()

            fake_logits_g = discriminator(*g_args(fake, y)).reshape(-1)
            _, g_loss = _losses(cfg.loss, real_logits.detach(), fake_logits.detach(), fake_logits_g)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            g_norm = _grad_norm(generator)
            opt_g.step()

            row = {
                "epoch": epoch,
                "g_loss": g_loss.item(),
                "d_loss": d_loss.item(),
                "d_real": torch.sigmoid(real_logits).mean().item(),
                "d_fake": torch.sigmoid(fake_logits).mean().item(),
                "g_grad_norm": g_norm,
                "d_grad_norm": d_norm,
            }
            for k, v in row.items():
                history["steps"][k].append(v)
            for k in sums:
                sums[k] += row[k]
            bar.update(1)
            bar.set_postfix(epoch=epoch, d_loss=f"{row['d_loss']:.3f}", g_loss=f"{row['g_loss']:.3f}",
                            refresh=False)
        generator.eval()
        with torch.no_grad():
            grid = generator(*g_args(fixed_z, fixed_y)).reshape(GRID_SIZE, *data.spec.shape).cpu()
        ep = history["epochs"]
        ep["epoch"].append(epoch)
        for k in sums:
            ep[k].append(sums[k] / steps_per_epoch)
        ep["diversity"].append(diversity(grid))
        ep["seconds"].append(time.perf_counter() - t0)
        if not all(math.isfinite(v) for v in (ep["g_loss"][-1], ep["d_loss"][-1])):
            bar.write(f"warning: the losses became NaN or infinite in epoch {epoch}")
        if out is not None:
            _save_epoch_grid(grid, data, out, epoch)
        epochs_done = epoch
        if out is not None:
            save()
    bar.close()
    gan.eval()
    gan.metadata["training"] = {"epochs_done": epochs_done, "config": asdict(cfg), "history": history}
    gan.metadata["architecture"] = arch_name
    gan.metadata["seed"] = cfg.seed
    gan.metadata["train_kwargs"] = {"generator": g_kwargs, "discriminator": d_kwargs}
    ckpt = None
    if out is not None:
        ckpt = out / CHECKPOINT_NAME
        if epochs == 0 and state is None:
            save()  # an untrained run still leaves a checkpoint to analyze or resume
        _save_curves(history, out)
    return TrainResult(gan, ckpt, history, out)


def _read_resume(path: Path) -> dict[str, Any]:
    source = CheckpointSource(path)
    payload, err = source.try_payload()
    if err is not None or not is_native(payload):
        raise CheckpointError(f"cannot resume from {path}: {source.describe_failure() if err else 'not a ganlens checkpoint'}")
    training = payload.get("training") or {}
    if "optimizers" not in training or "config" not in training:
        raise CheckpointError(f"cannot resume from {path}: it holds no optimizer states")
    return payload


def _save_epoch_grid(grid: torch.Tensor, data: Dataset, out: Path, epoch: int) -> None:
    from ..core.images import display_images, make_grid, save_png

    path = out / "samples" / f"epoch_{epoch:03d}.png"
    if data.spec.is_image:
        img = make_grid(display_images(grid, data.spec.value_range), nrow=8)
        scale = max(1, 256 // img.shape[-1])
        save_png(img, path, scale=scale)
    else:
        from ..core.plotting import scatter_png

        scatter_png(grid, data, path, title=f"Samples after epoch {epoch}")


def _save_curves(history: dict[str, Any], out: Path) -> None:
    from ..core.plotting import training_curves_png

    training_curves_png(history, out / "losses.png")
