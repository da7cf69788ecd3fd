"""Discriminator-side attributions: which input values D's score depends on.

:class:`DiscriminatorAttributions` applies captum's Saliency, Integrated Gradients, SmoothGrad
and Grad-CAM to D's logit on batches of real or generated samples, and reduces attributions to
"where D looks" maps: per pixel, the absolute attribution summed over channels, averaged over
many samples, accumulated chunk by chunk so that memory does not grow with the sample count.

For a conditional discriminator ``D(x, y)`` every method takes ``labels=``, one class label per
sample: each sample is explained at its own label (the label is an input of D that is held
fixed, not attributed). :meth:`DiscriminatorAttributions.class_maps` gives the mean map of the
samples of each class.
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

    def check_labels(self, x: torch.Tensor, labels: torch.Tensor | None) -> None:
        """A conditional D needs one label per sample: a clear error otherwise."""
        if self.gan.d_conditional and (labels is None or len(labels) != len(x)):
            got = "none" if labels is None else f"{len(labels)}"
            raise AnalyzerError(f"the discriminator is conditional: attributions need one class "
                                f"label per sample (labels=...), got {got} for {len(x)} samples")

    def gradcam_layer(self, example: torch.Tensor,
                      labels: torch.Tensor | None = None) -> tuple[str, torch.nn.Module]:
        """The layer Grad-CAM explains (found once, on ``example``, with its ``labels`` for a
        conditional D)."""
        if self._layer is None:
            y = None if labels is None else labels[:1]

            def score(e: torch.Tensor) -> torch.Tensor:
                return self.gan.score(e, y)

            self._layer = m.last_spatial_conv(self.net, score, example[:1].to(self.gan.device),
                                              self.settings.gradcam_layer)
        return self._layer

    def gradcam_unavailable(self, example: torch.Tensor,
                            labels: torch.Tensor | None = None) -> str | None:
        """Why Grad-CAM does not apply to this GAN, or None."""
        if not self.gan.data.is_image:
            return "Grad-CAM needs image data"
        try:
            self.gradcam_layer(example, labels)
        except AnalyzerError as exc:
            if self.settings.gradcam_layer:
                raise
            return str(exc)
        return None

    def baseline(self, x: torch.Tensor) -> torch.Tensor:
        s = self.settings
        return m.make_baseline(s.baseline, x, value_range=self.gan.data.value_range,
                               mean_real=self.mean_real, blur_sigma=s.blur_sigma)

    def attribute(self, method: str, x: torch.Tensor, *,
                  labels: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample attributions of D's logit: shaped like ``x``, or (N, H, W) for Grad-CAM.
        ``labels``: each sample's class for a conditional D (required there, else ignored)."""
        s, gan = self.settings, self.gan
        self.check_labels(x, labels)
        y = labels if gan.d_conditional else None
        kw = {"freeze": (self.net,), "device": gan.device, "labels": y}
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
            _name, layer = self.gradcam_layer(x, y)
            return m.gradcam(gan.score, layer, x, batch_size=s.internal_batch_size, **kw)
        raise AnalyzerError(f"unknown attribution method {method!r}; expected one of {', '.join(METHODS)}")

    def attribute_map(self, method: str, x: torch.Tensor, *,
                      labels: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample maps: |attribution| summed over channels, (N, H, W) for images and
        (N, d) for vectors (Grad-CAM is already a map)."""
        a = self.attribute(method, x, labels=labels)
        if method == "gradcam":
            return a
        return a.abs().sum(1) if a.ndim == 4 else a.abs().flatten(1)

    def mean_map(self, method: str, x: torch.Tensor, chunk: int = 256, *,
                 labels: torch.Tensor | None = None) -> torch.Tensor:
        """The mean of :meth:`attribute_map` over ``x``, accumulated chunk by chunk."""
        total = None
        for start in range(0, x.shape[0], chunk):
            y = None if labels is None else labels[start : start + chunk]
            part = self.attribute_map(method, x[start : start + chunk], labels=y).double().sum(0)
            total = part if total is None else total + part
        if total is None:
            raise AnalyzerError("mean_map needs at least one sample")
        return (total / x.shape[0]).float()

    def class_maps(self, method: str, x: torch.Tensor, classes: torch.Tensor, num_classes: int,
                   chunk: int = 256, *, labels: torch.Tensor | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-class mean maps in one pass over ``x``: the samples grouped by ``classes`` (N,)
        (their conditioning class), each explained with ``labels`` (its own class, for a
        conditional D). Returns (K, *map) means (zero for a class without samples), (K,)
        counts, and the mean map over all samples (as :meth:`mean_map`)."""
        sums, total = None, None
        counts = torch.bincount(classes.long(), minlength=num_classes)[:num_classes]
        for start in range(0, x.shape[0], chunk):
            y = None if labels is None else labels[start : start + chunk]
            maps = self.attribute_map(method, x[start : start + chunk], labels=y).double()
            if sums is None:
                sums = torch.zeros((num_classes, *maps.shape[1:]), dtype=torch.float64)
            sums.index_add_(0, classes[start : start + chunk].long(), maps)
            part = maps.sum(0)
            total = part if total is None else total + part
        if sums is None:
            raise AnalyzerError("class_maps needs at least one sample")
        shape = (num_classes,) + (1,) * (sums.ndim - 1)
        means = sums / counts.clamp_min(1).reshape(shape).double()
        return means.float(), counts, (total / x.shape[0]).float()

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


def class_spread(maps: torch.Tensor, counts: torch.Tensor, overall: torch.Tensor) -> float | None:
    """The mean, over classes with samples, of the :func:`attention_distance` between each
    class's mean map and the map of all samples: 0 when D looks at the same places whatever
    the class; None without two classes that have samples."""
    present = [k for k in range(len(counts)) if int(counts[k]) > 0]
    if len(present) < 2:
        return None
    return float(sum(attention_distance(overall, maps[k]) for k in present) / len(present))


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
