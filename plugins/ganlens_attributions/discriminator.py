"""Discriminator-side attributions: which input values D's score depends on.

:class:`DiscriminatorAttributions` applies captum's Saliency, Integrated Gradients, SmoothGrad
and Grad-CAM to D's logit on batches of real or generated samples, and reduces attributions to
"where D looks" maps: per pixel, the absolute attribution summed over channels, averaged over
many samples, accumulated chunk by chunk so that memory does not grow with the sample count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ganlens import GAN
from ganlens.errors import AnalyzerError

from . import methods as m

METHODS = ("saliency", "integrated_gradients", "smoothgrad", "gradcam")
METHOD_TITLES = {
    "saliency": "Saliency",
    "integrated_gradients": "Integrated Gradients",
    "smoothgrad": "SmoothGrad",
    "gradcam": "Grad-CAM",
}


@dataclass
class DSettings:
    """How the discriminator is explained (the analyzer's options, see its ``Options``)."""

    n_steps: int = 32
    baseline: str = "black"
    blur_sigma: float = 0.1
    smoothgrad_samples: int = 16
    smoothgrad_noise: float = 0.1
    internal_batch_size: int = m.DEFAULT_INTERNAL_BATCH_SIZE
    gradcam_layer: str = ""


@dataclass
class DiscriminatorAttributions:
    """Attributions of D's logit to its input.

    Args:
        gan: a GAN with a discriminator.
        settings: steps, baseline, noise and batching.
        generator: the random generator SmoothGrad's noise is seeded from.
        mean_real: the mean real sample (for the ``mean_real`` baseline), or None.
    """

    gan: GAN
    settings: DSettings
    generator: torch.Generator
    mean_real: torch.Tensor | None = None
    ig_deltas: list[torch.Tensor] = field(default_factory=list)
    ig_changes: list[torch.Tensor] = field(default_factory=list)
    _layer: tuple[str, torch.nn.Module] | None = None

    def __post_init__(self) -> None:
        if self.gan.discriminator is None:
            raise AnalyzerError("this GAN has no discriminator")

    @property
    def net(self) -> torch.nn.Module:
        return self.gan.discriminator

    def gradcam_layer(self, example: torch.Tensor) -> tuple[str, torch.nn.Module]:
        """The layer Grad-CAM explains (found once, on ``example``)."""
        if self._layer is None:
            self._layer = m.last_spatial_conv(self.net, self.gan.score,
                                              example[:1].to(self.gan.device),
                                              self.settings.gradcam_layer)
        return self._layer

    def gradcam_unavailable(self, example: torch.Tensor) -> str | None:
        """Why Grad-CAM does not apply to this GAN, or None."""
        if not self.gan.data.is_image:
            return "Grad-CAM needs image data"
        try:
            self.gradcam_layer(example)
        except AnalyzerError as exc:
            if self.settings.gradcam_layer:
                raise
            return str(exc)
        return None

    def baseline(self, x: torch.Tensor) -> torch.Tensor:
        s = self.settings
        return m.make_baseline(s.baseline, x, value_range=self.gan.data.value_range,
                               mean_real=self.mean_real, blur_sigma=s.blur_sigma)

    def attribute(self, method: str, x: torch.Tensor) -> torch.Tensor:
        """Per-sample attributions of D's logit: shaped like ``x``, or (N, H, W) for Grad-CAM."""
        s, gan = self.settings, self.gan
        kw = {"freeze": (self.net,), "device": gan.device}
        if method == "saliency":
            return m.saliency(gan.score, x, batch_size=s.internal_batch_size, **kw)
        if method == "integrated_gradients":
            result = m.integrated_gradients(gan.score, x, self.baseline(x), n_steps=s.n_steps,
                                            internal_batch_size=s.internal_batch_size, **kw)
            self.ig_deltas.append(result.delta)
            self.ig_changes.append(result.output_change)
            return result.attributions
        if method == "smoothgrad":
            lo, hi = gan.data.value_range
            return m.smoothgrad(gan.score, x, noise_std=s.smoothgrad_noise * (hi - lo),
                                samples=s.smoothgrad_samples, generator=self.generator,
                                internal_batch_size=s.internal_batch_size, **kw)
        if method == "gradcam":
            _name, layer = self.gradcam_layer(x)
            return m.gradcam(gan.score, layer, x, batch_size=s.internal_batch_size, **kw)
        raise AnalyzerError(f"unknown attribution method {method!r}; expected one of {', '.join(METHODS)}")

    def attribute_map(self, method: str, x: torch.Tensor) -> torch.Tensor:
        """Per-sample maps: |attribution| summed over channels, (N, H, W) for images and
        (N, d) for vectors (Grad-CAM is already a map)."""
        a = self.attribute(method, x)
        if method == "gradcam":
            return a
        return a.abs().sum(1) if a.ndim == 4 else a.abs().flatten(1)

    def mean_map(self, method: str, x: torch.Tensor, chunk: int = 256) -> torch.Tensor:
        """The mean of :meth:`attribute_map` over ``x``, accumulated chunk by chunk."""
        total = None
        for start in range(0, x.shape[0], chunk):
            part = self.attribute_map(method, x[start : start + chunk]).double().sum(0)
            total = part if total is None else total + part
        if total is None:
            raise AnalyzerError("mean_map needs at least one sample")
        return (total / x.shape[0]).float()

    def ig_relative_delta(self) -> tuple[float, float] | None:
        """(mean |delta|, mean |delta| / mean |f(x) - f(baseline)|) over every IG call so far."""
        if not self.ig_deltas:
            return None
        delta = torch.cat(self.ig_deltas).abs().mean()
        change = torch.cat(self.ig_changes).abs().mean().clamp_min(1e-12)
        return float(delta), float(delta / change)


# ---------------------------------------------------------------------------------------------
# Summaries of maps
# ---------------------------------------------------------------------------------------------


def normalised(a: torch.Tensor) -> torch.Tensor:
    """A non-negative map scaled to sum to 1 (uniform when it is all zero)."""
    a = a.double().clamp_min(0)
    total = a.sum()
    return a / total if total > 0 else torch.full_like(a, 1.0 / a.numel())


def attention_distance(real_map: torch.Tensor, fake_map: torch.Tensor) -> float:
    """Total-variation distance between two maps normalised to sum 1: 0 when D spreads its
    attention over the positions in the same proportions, 1 when the two never overlap."""
    return float(0.5 * (normalised(real_map) - normalised(fake_map)).abs().sum())


def centroid(a: torch.Tensor) -> list[float]:
    """The attention-weighted centre of an (H, W) map as (row, column) fractions in [0, 1]
    (0 = top/left); the centre of the image is (0.5, 0.5)."""
    w = normalised(a)
    h, wd = a.shape
    rows = (torch.arange(h, dtype=torch.float64) + 0.5) / h
    cols = (torch.arange(wd, dtype=torch.float64) + 0.5) / wd
    return [float((w.sum(1) * rows).sum()), float((w.sum(0) * cols).sum())]


def strongest_difference(real_map: torch.Tensor, fake_map: torch.Tensor, cells: int = 3) -> str:
    """Where fakes draw more of D's attention than reals, as a place in a ``cells``×``cells``
    grid ("top left", "centre", ...)."""
    diff = normalised(fake_map) - normalised(real_map)
    h, w = diff.shape
    best, where = None, (0, 0)
    for i in range(cells):
        for j in range(cells):
            block = diff[i * h // cells : (i + 1) * h // cells, j * w // cells : (j + 1) * w // cells]
            value = float(block.sum()) if block.numel() else float("-inf")
            if best is None or value > best:
                best, where = value, (i, j)
    names_r = ["top", "middle", "bottom"] if cells == 3 else [f"row band {i + 1}" for i in range(cells)]
    names_c = ["left", "centre", "right"] if cells == 3 else [f"column band {j + 1}" for j in range(cells)]
    r, c = names_r[where[0]], names_c[where[1]]
    return "centre" if (r, c) == ("middle", "centre") else f"{r} {c}"
