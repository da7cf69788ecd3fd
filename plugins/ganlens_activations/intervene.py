"""Interventions: ablate generator units one at a time and measure what changes.

Ablating unit u of a layer sets its output (its whole map) to a value — zero, as in GAN Dissection
(Bau et al., ICLR 2019), or the unit's mean — for K latents, and compares the outputs with the
unablated ones: the mean absolute change per data value (the pixel effect) and, with a
discriminator, the mean change of D's logit.

Batched: the M ablations share passes instead of costing M sampling runs. First choice, the
shared prefix: G runs on the K latents once per chunk of units, and a hook on the layer expands
its output into one block per ablated unit (plus an unablated block), so the layers before it
run once and only the layers after it see the larger batch. This needs the layers after the
ablated one to treat samples independently; the unablated block must reproduce the plain
outputs, and when it does not (or the forward raises), the analysis falls back to replicating
the latents (one block of K rows per unit, the whole G per block).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

SHARED_PREFIX, REPLICATED, NAIVE = "shared-prefix", "replicated", "one-at-a-time"
OUTPUT_BYTES_BUDGET = 256 * 2**20


@dataclass
class InterventionResult:
    """Effects of ablating ``units`` one at a time (tensors are aligned with ``units``).

    Attributes:
        pixel_effect: (M,) mean |x_ablated - x| over samples and data values.
        effect_maps: (M, *data shape without channels) mean |change| per position (images:
            averaged over channels), or (M, d) for vectors.
        d_change: (M,) mean change of D's logit (negative: the fakes look less real), or None.
        examples: (M, s, *data) ablated outputs of the first ``s`` latents.
        method: how the passes were batched.
        passes: generator passes used.
    """

    layer: str
    units: list[int]
    pixel_effect: torch.Tensor
    effect_maps: torch.Tensor
    d_change: torch.Tensor | None
    examples: torch.Tensor
    method: str
    passes: int
    samples: int

    def ranking(self, by: str = "pixels") -> list[int]:
        """Positions in ``units``, the largest effect first (ties: the lower unit first)."""
        score = self.pixel_effect if by == "pixels" or self.d_change is None else self.d_change.abs()
        return sorted(range(len(self.units)), key=lambda i: (-float(score[i]), self.units[i]))


class _Fallback(Exception):  # noqa: N818 - control flow inside this module
    pass


def _first(output: Any) -> torch.Tensor:
    return output[0] if isinstance(output, (tuple, list)) else output


def _replace_first(output: Any, new: torch.Tensor) -> Any:
    if isinstance(output, (tuple, list)):
        return type(output)([new, *output[1:]])
    return new


def _ablate_blocks(x: torch.Tensor, units: Sequence[int], values: Sequence[float], first: int) -> None:
    """In place: block ``first + j`` of ``x`` (blocks, K, units, ...) gets unit ``units[j]``
    set to ``values[j]``."""
    for j, (u, v) in enumerate(zip(units, values)):
        x[first + j, :, u] = v


def _expand_hook(k: int, units: Sequence[int], values: Sequence[float]) -> Callable[..., Any]:
    def hook(_module: nn.Module, _inputs: Any, output: Any) -> Any:
        t = _first(output)
        if t.shape[0] != k:
            raise _Fallback(f"the layer saw {t.shape[0]} rows, expected {k}")
        x = t.unsqueeze(0).expand(len(units) + 1, *t.shape).clone()
        _ablate_blocks(x, units, values, 1)
        return _replace_first(output, x.reshape(-1, *t.shape[1:]))

    return hook


def _replicate_hook(k: int, units: Sequence[int], values: Sequence[float]) -> Callable[..., Any]:
    def hook(_module: nn.Module, _inputs: Any, output: Any) -> Any:
        t = _first(output)
        if t.shape[0] != k * len(units):
            raise RuntimeError(f"the ablated layer saw {t.shape[0]} rows, expected "
                               f"{k * len(units)}; is it called more than once per forward?")
        x = t.reshape(len(units), k, *t.shape[1:]).clone()
        _ablate_blocks(x, units, values, 0)
        return _replace_first(output, x.reshape(t.shape))

    return hook


def _same(a: torch.Tensor, b: torch.Tensor, width: float) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-3, atol=1e-3 * width))


class _Effects:
    """Accumulates the per-unit effects chunk by chunk."""

    def __init__(self, baseline: torch.Tensor, d_baseline: torch.Tensor | None, image: bool,
                 keep: int) -> None:
        self.baseline, self.d_baseline, self.image, self.keep = baseline, d_baseline, image, keep
        self.pixel, self.maps, self.d, self.examples = [], [], [], []

    def add(self, out: torch.Tensor, d_scores: torch.Tensor | None) -> None:
        k = self.baseline.shape[0]
        out = out.reshape(-1, *self.baseline.shape).float()
        diff = (out - self.baseline[None]).abs()  # (m, K, *data)
        self.pixel.append(diff.flatten(1).mean(1))
        per_pos = diff.mean(1)  # (m, *data)
        self.maps.append(per_pos.mean(1) if self.image else per_pos)
        self.examples.append(out[:, : self.keep].clone())
        if d_scores is not None and self.d_baseline is not None:
            self.d.append((d_scores.reshape(-1, k) - self.d_baseline[None]).mean(1))

    def result(self, layer: str, units: list[int], method: str, passes: int) -> InterventionResult:
        return InterventionResult(
            layer, units, torch.cat(self.pixel), torch.cat(self.maps),
            torch.cat(self.d) if self.d else None, torch.cat(self.examples), method, passes,
            int(self.baseline.shape[0]),
        )


def chunk_size(k: int, data_numel: int, batch_size: int) -> int:
    """Units per pass: about ``4 * batch_size`` rows, and at most 256 MiB of outputs."""
    rows = min(4 * batch_size, max(k, OUTPUT_BYTES_BUDGET // max(4 * data_numel, 1)))
    return max(1, rows // k)


def ablate_units(ctx: Any, layer: str, module: nn.Module, units: Sequence[int], z: torch.Tensor,
                 baseline: torch.Tensor, *, values: Sequence[float] | None = None,
                 d_baseline: torch.Tensor | None = None, keep: int = 3,
                 units_per_pass: int | None = None, method: str = SHARED_PREFIX,
                 labels: torch.Tensor | None = None) -> InterventionResult:
    """Ablate each of ``units`` of ``module`` (a generator layer) on the latents ``z`` and
    measure the effect against ``baseline`` = G(z) (and ``d_baseline`` = D(G(z))).

    Every generator pass goes through ``ctx.generate`` and every hook through ``ctx.hooks``.
    ``method`` is :data:`SHARED_PREFIX` (falls back to :data:`REPLICATED` when the layers after
    the ablated one do not treat samples independently) or :data:`REPLICATED`. ``labels``: the
    class labels of ``z`` for a conditional GAN (those of the baseline), given to G with the
    latents and to a conditional D with the ablated outputs; None for an unconditional GAN.
    """
    units = [int(u) for u in units]
    values = [0.0] * len(units) if values is None else [float(v) for v in values]
    k = int(z.shape[0])
    gan = ctx.gan
    width = gan.data.value_range[1] - gan.data.value_range[0]
    has_d = gan.discriminator is not None and d_baseline is not None
    per = units_per_pass or chunk_size(k, gan.data.numel, ctx.batch_size)
    chunks = [list(range(i, min(i + per, len(units)))) for i in range(0, len(units), per)]
    effects = _Effects(baseline.float(), d_baseline, gan.data.is_image, keep)
    passes = 0
    for idx in chunks:
        cu, cv = [units[i] for i in idx], [values[i] for i in idx]
        if method == SHARED_PREFIX:
            try:
                passes += 1
                with ctx.hooks({module: _expand_hook(k, cu, cv)}):
                    out = ctx.generate(z, labels=labels, batch_size=k)
                if out.shape[0] != k * (len(cu) + 1) or not _same(out[:k], baseline, width):
                    raise _Fallback("the unablated block differs from G(z)")
                out = out[k:]
            except (_Fallback, RuntimeError, ValueError):
                method = REPLICATED  # every chunk is checked; replication is always exact
        if method == REPLICATED:
            zr = z.repeat(len(cu), *([1] * (z.ndim - 1)))
            with ctx.hooks({module: _replicate_hook(k, cu, cv)}):
                out = ctx.generate(zr, labels=_repeat(labels, len(cu)), batch_size=zr.shape[0])
            passes += 1
        scores = _score(ctx, out, labels, len(cu)) if has_d else None
        effects.add(out, scores)
    return effects.result(layer, units, method, passes)


def ablate_units_naive(ctx: Any, layer: str, module: nn.Module, units: Sequence[int],
                       z: torch.Tensor, baseline: torch.Tensor, *,
                       values: Sequence[float] | None = None,
                       d_baseline: torch.Tensor | None = None, keep: int = 3,
                       labels: torch.Tensor | None = None) -> InterventionResult:
    """The reference: one sampling run per ablated unit (what batching saves); ``labels`` as
    in :func:`ablate_units`."""
    units = [int(u) for u in units]
    values = [0.0] * len(units) if values is None else [float(v) for v in values]
    k = int(z.shape[0])
    has_d = ctx.gan.discriminator is not None and d_baseline is not None
    effects = _Effects(baseline.float(), d_baseline, ctx.gan.data.is_image, keep)
    for u, v in zip(units, values):
        with ctx.hooks({module: _replicate_hook(k, [u], [v])}):
            out = ctx.generate(z, labels=labels, batch_size=k)
        effects.add(out, _score(ctx, out, labels, 1) if has_d else None)
    return effects.result(layer, units, NAIVE, len(units))


def _repeat(labels: torch.Tensor | None, blocks: int) -> torch.Tensor | None:
    """The labels of ``blocks`` consecutive copies of the latents (None stays None)."""
    return None if labels is None else labels.repeat(blocks)


def _score(ctx: Any, out: torch.Tensor, labels: torch.Tensor | None, blocks: int) -> torch.Tensor:
    """D on ``blocks`` blocks of ablated outputs, each with the labels of its latents when D is
    conditional."""
    return ctx.discriminate(out, labels=_repeat(labels, blocks) if ctx.gan.d_conditional else None)
