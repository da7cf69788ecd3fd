"""Per-unit statistics of a layer, accumulated over batches and finalised once.

Input per batch: each unit's spatial mean and spatial maximum per sample, shape (B, units) (for a
linear layer both are the activation itself), and optionally a class label per sample. The
accumulator merges batches with Chan et al.'s parallel update (exact, numerically stable), so
sample counts beyond memory, or shards computed on several workers, give the same numbers.

Definitions (per unit, over the N samples):
- mean, std: of the spatial mean activation (std with Bessel's correction).
- near-constant (every layer): the std of both its spatial mean and its spatial maximum is at
  most ``tol`` times the layer's root-mean-square value of that quantity: its output hardly
  changes with the sample (a unit whose output is the same on every sample has std 0).
- dead (true rectifier layers only, whose output is exactly zero wherever it is not above zero:
  ReLU, ReLU6, ...): the unit's output is never above zero, anywhere, on any sample, so it is
  exactly zero everywhere: the constant-zero special case of near-constant.
- negative-regime (leaky layers only: LeakyReLU, ELU, GELU, SiLU, Softplus, ...): the unit's
  output is never above the activation's value at zero input (0; log 2 / beta for Softplus),
  anywhere, on any sample: its input is always negative. It still follows its input on the
  leaky slope or smooth tail, so it is not dead; it is near-constant only if it also hardly
  varies.
- sparsity (true rectifier layers only): the average fraction of units that are silent (exactly
  zero everywhere in the map) on one sample.
- class selectivity: eta squared, the share of the unit's variance across samples explained by
  the samples' classes (one-way ANOVA; 0 = no relation to the class, 1 = a pure class code); the
  preferred class is the one with the highest mean activation. The classes are the classifier's
  labels of the generated samples; for a conditional GAN the same statistic with the class each
  sample was generated with (its conditioning label) is the label selectivity
  (:func:`label_selectivity`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


class _Moments:
    """Count, mean and sum of squared deviations of (B, U) rows, merged batch by batch."""

    def __init__(self, units: int) -> None:
        self.n = 0
        self.mean = torch.zeros(units, dtype=torch.float64)
        self.m2 = torch.zeros(units, dtype=torch.float64)

    def update(self, x: torch.Tensor) -> None:
        b = x.shape[0]
        if b == 0:
            return
        bm = x.mean(0)
        bm2 = ((x - bm) ** 2).sum(0)
        self.merge_parts(b, bm, bm2)

    def merge_parts(self, b: int, bm: torch.Tensor, bm2: torch.Tensor) -> None:
        n = self.n + b
        delta = bm - self.mean
        self.mean = self.mean + delta * (b / n)
        self.m2 = self.m2 + bm2 + delta**2 * (self.n * b / n)
        self.n = n

    def var(self, correction: int = 1) -> torch.Tensor:
        return self.m2 / max(self.n - correction, 1)

    def mean_square(self) -> torch.Tensor:
        """Mean of x² over the rows, per unit."""
        return self.m2 / max(self.n, 1) + self.mean**2


@dataclass
class LayerStats:
    """Finalised statistics of one layer; tensors are per unit (float64)."""

    units: int
    count: int
    mean: torch.Tensor
    std: torch.Tensor
    max_std: torch.Tensor
    peak: torch.Tensor  # the highest value each unit reached (spatial max over all samples)
    near_constant: torch.Tensor  # bool
    dead: torch.Tensor | None  # bool; None except for true rectifiers
    sparsity: float | None
    negative_regime: torch.Tensor | None = None  # bool; None except for leaky activations
    selectivity: torch.Tensor | None = None  # eta squared, NaN for constant units
    preferred: torch.Tensor | None = None  # long
    class_means: torch.Tensor | None = None  # (classes, units)
    class_counts: torch.Tensor | None = None  # (classes,)
    # The same, for the conditioning label of a conditional GAN (see label_selectivity).
    label_selectivity: torch.Tensor | None = None
    label_preferred: torch.Tensor | None = None
    label_class_means: torch.Tensor | None = None
    label_class_counts: torch.Tensor | None = None

    @property
    def dead_fraction(self) -> float | None:
        return None if self.dead is None else float(self.dead.double().mean())

    @property
    def near_constant_fraction(self) -> float:
        return float(self.near_constant.double().mean())

    @property
    def dead_units(self) -> list[int]:
        return [] if self.dead is None else self.dead.nonzero().flatten().tolist()

    @property
    def negative_regime_fraction(self) -> float | None:
        return None if self.negative_regime is None else float(self.negative_regime.double().mean())

    @property
    def negative_regime_units(self) -> list[int]:
        return ([] if self.negative_regime is None
                else self.negative_regime.nonzero().flatten().tolist())

    @property
    def near_constant_units(self) -> list[int]:
        return self.near_constant.nonzero().flatten().tolist()

    @property
    def variability(self) -> float:
        """The layer's mean unit std divided by its root-mean-square activation: how strongly
        its units react to z, comparable between layers of different scales."""
        rms = float((self.std**2 + self.mean**2).mean().sqrt())
        return float(self.std.mean()) / rms if rms > 0 else 0.0

    @property
    def mean_selectivity(self) -> float | None:
        return _nanmean(self.selectivity)

    @property
    def mean_label_selectivity(self) -> float | None:
        """The mean over units of eta squared for the conditioning label (None for an
        unconditional GAN, or when every unit is constant)."""
        return _nanmean(self.label_selectivity)


def _nanmean(values: torch.Tensor | None) -> float | None:
    if values is None:
        return None
    ok = ~torch.isnan(values)
    return float(values[ok].mean()) if ok.any() else None


def label_selectivity(stats: LayerStats, mean: torch.Tensor, labels: torch.Tensor,
                      num_classes: int, chunk: int = 4096) -> LayerStats:
    """Add to ``stats`` each unit's selectivity for the conditioning labels ``labels`` (N,) of
    the samples whose (N, units) spatial means are ``mean``: eta squared, the preferred class
    and the class means, as for the classifier's classes. Returns ``stats``."""
    acc = UnitAccumulator(stats.units, rectifier=False, num_classes=num_classes)
    for start in range(0, mean.shape[0], chunk):
        sl = slice(start, start + chunk)
        acc.update(mean[sl], None, labels[sl])
    st = acc.finalize(0.0)
    stats.label_selectivity, stats.label_preferred = st.selectivity, st.preferred
    stats.label_class_means, stats.label_class_counts = st.class_means, st.class_counts
    return stats


class UnitAccumulator:
    """Accumulate a layer's unit statistics over batches: ``update`` per batch (or ``merge``
    another accumulator), then ``finalize``.

    Args:
        units: the number of units.
        rectifier: whether the layer is a true rectifier, exactly zero wherever it is not above
            zero (dead units and sparsity are defined).
        leaky_at: for a leaky activation, its output at zero input (negative-regime units are
            defined); None otherwise.
        num_classes: the number of classes when labels are given to ``update``.
    """

    def __init__(self, units: int, *, rectifier: bool, leaky_at: float | None = None,
                 num_classes: int | None = None) -> None:
        if rectifier and leaky_at is not None:
            raise ValueError("a layer is either a rectifier or leaky, not both")
        self.units = units
        self.rectifier = rectifier
        self.leaky_at = leaky_at
        self.means = _Moments(units)
        self.maxes = _Moments(units)
        self.peak = torch.full((units,), -torch.inf, dtype=torch.float64)
        self.silent_sum = 0.0
        self.num_classes = num_classes
        if num_classes:
            self.class_n = torch.zeros(num_classes, dtype=torch.float64)
            self.class_sum = torch.zeros(num_classes, units, dtype=torch.float64)

    def update(self, mean: torch.Tensor, maximum: torch.Tensor | None = None,
               labels: torch.Tensor | None = None) -> None:
        """Add a batch: (B, units) spatial means, spatial maxima (the means when None), labels."""
        mean = mean.detach().to("cpu", torch.float64)
        maximum = mean if maximum is None else maximum.detach().to("cpu", torch.float64)
        if mean.ndim != 2 or mean.shape[1] != self.units or maximum.shape != mean.shape:
            raise ValueError(f"expected (batch, {self.units}) activations, got "
                             f"{tuple(mean.shape)} and {tuple(maximum.shape)}")
        self.means.update(mean)
        self.maxes.update(maximum)
        if mean.shape[0]:
            self.peak = torch.maximum(self.peak, maximum.amax(0))
            self.silent_sum += float((maximum <= 0).double().mean(1).sum())
        if self.num_classes and labels is not None:
            labels = labels.to("cpu", torch.long)
            self.class_n += torch.bincount(labels, minlength=self.num_classes).double()
            self.class_sum.index_add_(0, labels, mean)

    def merge(self, other: UnitAccumulator) -> None:
        """Fold in an accumulator of the same layer (another shard of samples)."""
        self.means.merge_parts(other.means.n, other.means.mean, other.means.m2)
        self.maxes.merge_parts(other.maxes.n, other.maxes.mean, other.maxes.m2)
        self.peak = torch.maximum(self.peak, other.peak)
        self.silent_sum += other.silent_sum
        if self.num_classes and other.num_classes:
            self.class_n += other.class_n
            self.class_sum += other.class_sum

    def finalize(self, near_constant_tol: float) -> LayerStats:
        """The statistics; ``near_constant_tol`` is the relative std below which a unit is
        near-constant."""
        n = self.means.n
        std = self.means.var().sqrt()
        max_std = self.maxes.var().sqrt()
        rms = float(self.means.mean_square().mean().sqrt())
        rms_max = float(self.maxes.mean_square().mean().sqrt())
        near = (std <= near_constant_tol * rms) & (max_std <= near_constant_tol * rms_max)
        stats = LayerStats(
            units=self.units, count=n, mean=self.means.mean.clone(), std=std, max_std=max_std,
            peak=self.peak.clone(), near_constant=near,
            dead=(self.peak <= 0) if self.rectifier else None,
            sparsity=(self.silent_sum / n) if self.rectifier and n else None,
            negative_regime=None if self.leaky_at is None else self.peak <= self.leaky_at,
        )
        if self.num_classes and n:
            present = self.class_n > 0
            class_means = self.class_sum / self.class_n.clamp_min(1)[:, None]
            between = (self.class_n[:, None] * (class_means - self.means.mean) ** 2)[present].sum(0)
            total = self.means.m2
            selectivity = torch.where(total > 0, between / total.clamp_min(1e-300),
                                      torch.full_like(total, torch.nan))
            masked = class_means.masked_fill(~present[:, None], -torch.inf)
            stats.selectivity = selectivity.clamp(0, 1)
            stats.preferred = masked.argmax(0)
            stats.class_means = torch.where(present[:, None], class_means,
                                            torch.full_like(class_means, torch.nan))
            stats.class_counts = self.class_n.clone()
        return stats
