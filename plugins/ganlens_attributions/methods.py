"""Thin, batched wrappers around captum's attribution methods, and IG baselines.

Every wrapper takes a forward function that maps a batch to one scalar per sample (or to
(B, K) outputs with a per-sample ``target`` index), splits the inputs into chunks, and hands
each chunk to captum with ``internal_batch_size`` so that at most that many network evaluations
are alive at once: memory stays bounded whatever the number of samples. The parameters of the
networks are frozen (``requires_grad=False``) for the duration, so autograd computes only the
input gradients the methods need; their flags are restored afterwards.

For a conditional network, ``labels`` gives one class label per input: the forward function is
then called as ``forward(x, y)``, the labels reaching it through captum's
``additional_forward_args`` (sliced with each chunk, and expanded by captum with the integration
steps and noisy copies), so every evaluation sees the label of the sample it explains. Without
``labels`` the forward function is called as ``forward(x)``, as before.

captum is imported inside the functions: importing this module stays light.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ganlens.capture import trace_layers
from ganlens.errors import AnalyzerError

Forward = Callable[[torch.Tensor], torch.Tensor]

DEFAULT_INTERNAL_BATCH_SIZE = 512
STEPS_PER_PASS = 4
"""Integration steps evaluated together in one captum pass; the number of samples per chunk
is ``internal_batch_size // STEPS_PER_PASS`` so that a pass holds ``internal_batch_size``
evaluations."""

BASELINES = ("black", "blurred", "mean_real")


@contextlib.contextmanager
def frozen(*modules: nn.Module | None) -> Iterator[None]:
    """Turn off ``requires_grad`` on the parameters of ``modules`` and restore it afterwards.

    Attributions need gradients with respect to the inputs only; without this autograd also
    keeps what the weight gradients would need and computes them (about a third more work).
    """
    params = [p for m in modules if m is not None for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


def chunk_size(internal_batch_size: int, n_steps: int = STEPS_PER_PASS) -> int:
    """Samples per chunk for a path method with ``n_steps`` steps, so that one captum pass
    holds about ``internal_batch_size`` evaluations (at least ``STEPS_PER_PASS`` steps)."""
    return max(1, internal_batch_size // max(1, min(n_steps, STEPS_PER_PASS)))


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _target_slice(target: torch.Tensor | None, sl: slice) -> torch.Tensor | None:
    return None if target is None else target[sl]


def _extra(labels: torch.Tensor | None, sl: slice, device: torch.device) -> tuple | None:
    """captum's ``additional_forward_args`` for a chunk: its labels, or None."""
    return None if labels is None else (labels[sl].to(device),)


# ---------------------------------------------------------------------------------------------
# Integrated Gradients
# ---------------------------------------------------------------------------------------------


@dataclass
class IGResult:
    """Integrated Gradients of a batch: attributions shaped like the inputs, and the
    convergence delta per sample (sum of attributions minus (f(x) - f(baseline)))."""

    attributions: torch.Tensor
    delta: torch.Tensor

    @property
    def output_change(self) -> torch.Tensor:
        """f(x) - f(baseline) per sample, recovered from completeness."""
        return self.attributions.flatten(1).sum(1) - self.delta


def integrated_gradients(
    forward: Forward,
    inputs: torch.Tensor,
    baselines: torch.Tensor | float = 0.0,
    *,
    n_steps: int = 50,
    internal_batch_size: int = DEFAULT_INTERNAL_BATCH_SIZE,
    target: torch.Tensor | None = None,
    freeze: Sequence[nn.Module | None] = (),
    device: torch.device | str | None = None,
    labels: torch.Tensor | None = None,
) -> IGResult:
    """captum's :class:`~captum.attr.IntegratedGradients` (Sundararajan et al. 2017), batched.

    Args:
        forward: maps a batch to one scalar per sample, or to (B, K) outputs with ``target``.
        inputs: (N, ...) the points to explain (on any device; moved to ``device``).
        baselines: a scalar, one baseline (1, ...) or one per sample (N, ...).
        n_steps: the number of Gauss-Legendre integration steps (captum's default method).
        internal_batch_size: at most this many network evaluations at once.
        target: (N,) output indices when ``forward`` returns (B, K).
        freeze: modules whose parameters need no gradient during the call.
        device: where to compute (default: the inputs' device).
        labels: (N,) class labels of a conditional network: ``forward(x, y)`` is called with
            each sample's label (the baseline is evaluated at the same label).

    Returns:
        attributions on the CPU, shaped like ``inputs``, and the convergence delta per sample.
    """
    from captum.attr import IntegratedGradients

    device = torch.device(device) if device is not None else inputs.device
    ig = IntegratedGradients(forward)
    per_chunk = chunk_size(internal_batch_size, n_steps)
    base = baselines if isinstance(baselines, torch.Tensor) else None
    attrs, deltas = [], []
    with frozen(*freeze):
        for sl in _chunks(inputs.shape[0], per_chunk):
            x = inputs[sl].to(device)
            if base is None:
                b: torch.Tensor | float = float(baselines)
            else:
                b = (base if base.shape[0] == 1 else base[sl]).to(device)
                b = b.expand_as(x) if b.shape[0] == 1 else b
            a, d = ig.attribute(
                x, baselines=b, target=_target_slice(target, sl), n_steps=n_steps,
                additional_forward_args=_extra(labels, sl, device),
                internal_batch_size=max(internal_batch_size, x.shape[0]),
                return_convergence_delta=True,
            )
            attrs.append(a.detach().cpu())
            deltas.append(d.detach().reshape(-1).cpu())
    return IGResult(torch.cat(attrs), torch.cat(deltas))


# ---------------------------------------------------------------------------------------------
# Gradient methods
# ---------------------------------------------------------------------------------------------


def saliency(forward: Forward, inputs: torch.Tensor, *, batch_size: int = 256,
             target: torch.Tensor | None = None, freeze: Sequence[nn.Module | None] = (),
             device: torch.device | str | None = None,
             labels: torch.Tensor | None = None) -> torch.Tensor:
    """captum's :class:`~captum.attr.Saliency` (Simonyan et al. 2014): |∂f/∂x| per input
    value, in chunks of ``batch_size``; on the CPU (``labels``: see the module's docstring)."""
    from captum.attr import Saliency

    device = torch.device(device) if device is not None else inputs.device
    method = Saliency(forward)
    out = []
    with frozen(*freeze):
        for sl in _chunks(inputs.shape[0], batch_size):
            x = inputs[sl].to(device).detach().requires_grad_()
            out.append(method.attribute(x, target=_target_slice(target, sl), abs=True,
                                        additional_forward_args=_extra(labels, sl, device))
                       .detach().cpu())
    return torch.cat(out)


def smoothgrad(forward: Forward, inputs: torch.Tensor, *, noise_std: float, samples: int,
               generator: torch.Generator, internal_batch_size: int = DEFAULT_INTERNAL_BATCH_SIZE,
               freeze: Sequence[nn.Module | None] = (),
               device: torch.device | str | None = None,
               labels: torch.Tensor | None = None) -> torch.Tensor:
    """SmoothGrad (Smilkov et al. 2017): captum's :class:`~captum.attr.NoiseTunnel` around
    :class:`~captum.attr.Saliency`, averaging |∂f/∂x| over ``samples`` noisy copies with
    Gaussian noise of standard deviation ``noise_std`` (data units).

    captum draws the noise from torch's global generator; it is seeded from ``generator`` inside
    a forked RNG state, so results are reproducible and the caller's state is untouched.
    """
    from captum.attr import NoiseTunnel, Saliency

    device = torch.device(device) if device is not None else inputs.device
    tunnel = NoiseTunnel(Saliency(forward))
    per_chunk = max(1, internal_batch_size // max(1, samples))
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    out = []
    devices = [device] if device.type == "cuda" else []
    with frozen(*freeze), torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for sl in _chunks(inputs.shape[0], per_chunk):
            x = inputs[sl].to(device)
            a = tunnel.attribute(x, nt_type="smoothgrad", nt_samples=samples,
                                 nt_samples_batch_size=max(1, min(samples, per_chunk)),
                                 stdevs=float(noise_std), abs=True,
                                 additional_forward_args=_extra(labels, sl, device))
            out.append(a.detach().cpu())
    return torch.cat(out)


def spatial_layers(net: nn.Module, forward: Forward, example: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """The 2-D convolutions of ``net`` in the order a forward pass calls them, with their
    output shapes (without the batch dimension), found by running ``forward`` on ``example``."""
    calls = trace_layers(net, lambda: forward(example), (nn.Conv2d, nn.ConvTranspose2d))
    return [(c.name, c.output_shape) for c in calls if c.output_shape is not None]


def last_spatial_conv(net: nn.Module, forward: Forward, example: torch.Tensor,
                      name: str = "") -> tuple[str, nn.Module]:
    """The layer Grad-CAM explains: ``name`` when given, else the last 2-D convolution the
    forward pass calls whose output still has a spatial map (more than 1×1), so that a final
    1×1 scoring convolution is passed over. Raises :class:`AnalyzerError` when there is none."""
    modules = dict(net.named_modules())
    if name:
        if name not in modules:
            convs = [n for n, m in modules.items() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
            raise AnalyzerError(
                f"option attributions.gradcam_layer={name!r}: the discriminator has no module of "
                f"that name; expected one of its convolutions: {', '.join(convs) or 'none'}"
            )
        return name, modules[name]
    calls = [(n, s) for n, s in spatial_layers(net, forward, example)
             if len(s) == 3 and s[1] * s[2] > 1]
    if not calls:
        raise AnalyzerError("the discriminator has no 2-D convolution with a spatial output")
    chosen = calls[-1][0]
    return chosen, modules[chosen]


def gradcam(forward: Forward, layer: nn.Module, inputs: torch.Tensor, *, batch_size: int = 256,
            freeze: Sequence[nn.Module | None] = (),
            device: torch.device | str | None = None,
            labels: torch.Tensor | None = None) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al. 2017): captum's :class:`~captum.attr.LayerGradCam` on
    ``layer`` (ReLU of the gradient-weighted channel sum), upsampled bilinearly to the input's
    height and width with :meth:`~captum.attr.LayerAttribution.interpolate`; (N, H, W)."""
    from captum.attr import LayerAttribution, LayerGradCam

    device = torch.device(device) if device is not None else inputs.device
    method = LayerGradCam(forward, layer)
    size = tuple(inputs.shape[-2:])
    out = []
    with frozen(*freeze):
        for sl in _chunks(inputs.shape[0], batch_size):
            cam = method.attribute(inputs[sl].to(device), relu_attributions=True,
                                   additional_forward_args=_extra(labels, sl, device))
            if cam.ndim != 4:
                raise AnalyzerError(f"Grad-CAM needs a layer with (C, H, W) outputs, got {tuple(cam.shape[1:])}")
            up = LayerAttribution.interpolate(cam.detach(), size, "bilinear")
            out.append(up[:, 0].cpu())
    return torch.cat(out)


# ---------------------------------------------------------------------------------------------
# Baselines for Integrated Gradients on data
# ---------------------------------------------------------------------------------------------


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) images with standard deviation ``sigma`` pixels
    (edges replicated)."""
    if sigma <= 0:
        return x.clone()
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    n, c, h, w = x.shape
    y = x.reshape(n * c, 1, h, w)
    y = nn.functional.pad(y, (radius, radius, 0, 0), mode="replicate")
    y = nn.functional.conv2d(y, k.view(1, 1, 1, -1))
    y = nn.functional.pad(y, (0, 0, radius, radius), mode="replicate")
    y = nn.functional.conv2d(y, k.view(1, 1, -1, 1))
    return y.reshape(n, c, h, w)


def make_baseline(kind: str, x: torch.Tensor, *, value_range: tuple[float, float],
                  mean_real: torch.Tensor | None = None, blur_sigma: float = 0.1) -> torch.Tensor:
    """The IG baseline for inputs ``x``: ``black`` (every value at the low end of the data
    range), ``blurred`` (each image blurred with a Gaussian of ``blur_sigma`` times its shorter
    side), or ``mean_real`` (the mean real sample, given as ``mean_real``)."""
    if kind == "black":
        return torch.full((1, *x.shape[1:]), float(value_range[0]), dtype=x.dtype)
    if kind == "blurred":
        if x.ndim != 4:
            raise AnalyzerError(
                "option attributions.baseline='blurred' needs image data (N, C, H, W); for "
                f"data of shape {tuple(x.shape[1:])} use 'black' or 'mean_real'"
            )
        return gaussian_blur(x.float(), blur_sigma * min(x.shape[-2:]))
    if kind == "mean_real":
        if mean_real is None:
            raise AnalyzerError("option attributions.baseline='mean_real' needs real data")
        return mean_real.reshape(1, *x.shape[1:]).to(x.dtype)
    raise AnalyzerError(f"option attributions.baseline={kind!r}: expected one of {', '.join(BASELINES)}")
