"""Generator-side attributions: which latent dimensions and which units matter.

- :func:`latent_jacobian` — how strongly each latent coordinate moves the output (the mean
  absolute entry of its Jacobian column) and how strongly the latent controls each output value
  (the norm of its Jacobian row), from exact Jacobian-vector products, accumulated over chunks
  of latents.
- :func:`latent_attributions` — captum's Integrated Gradients on z for a scalar target of G(z),
  e.g. D(G(z)).
- :func:`unit_conductance` — captum's LayerConductance of a generator layer's units for a target.

Every generator pass goes through a ``generate(z)`` callable; the analyzer passes
``lambda z, y=None: ctx.generate(z, labels=y, grad=True)`` so that each pass is counted. For a
conditional generator every function takes ``labels=``, one class label per latent, and calls
``generate(z, y)`` with the labels of the latents it evaluates: a label is held fixed along
each integration path and each Jacobian (the attributions are to z at a given class).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ganlens.capture import UNIT_LAYERS, trace_layers
from ganlens.errors import AnalyzerError

from .methods import DEFAULT_INTERNAL_BATCH_SIZE, IGResult, frozen, integrated_gradients
from .targets import Target, evaluate

Generate = Callable[..., torch.Tensor]
"""``generate(z)`` for an unconditional generator, ``generate(z, y)`` with labels."""


def _run(generate: Generate, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return generate(z) if y is None else generate(z, y)


def _path_forward(generate: Generate, target: Target, labelled: bool) -> Callable[..., torch.Tensor]:
    """The forward function captum differentiates: ``target(G(z))``, or with labels (given as
    captum's additional_forward_args) ``target(G(z, y), y)``."""
    if not labelled:
        return lambda z: target(generate(z))
    return lambda z, y: evaluate(target, generate(z, y), y)


@dataclass
class JacobianStats:
    """Accumulated Jacobian statistics of G at many latents.

    Attributes:
        latent_effect: (d,) for each latent coordinate, the mean over latents and output values
            of |∂x/∂z_i| (data units per unit of z).
        sensitivity: (*data shape) for each output value, the mean over latents of the norm
            ‖∂x_p/∂z‖ over all latent coordinates.
        samples: how many latents were used.
    """

    latent_effect: torch.Tensor
    sensitivity: torch.Tensor
    samples: int

    def sensitivity_map(self) -> torch.Tensor:
        """For images (C, H, W): the per-pixel norm over channels, (H, W); vectors unchanged."""
        s = self.sensitivity
        return s.pow(2).sum(0).sqrt() if s.ndim == 3 else s


def _jvp(generate: Generate, z: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """J(z) v by the double-backward trick (torch.autograd.functional.jvp): two reverse passes,
    supported by every differentiable operation. (Forward-mode dual tensors are about a third
    cheaper per pass, but their first use imports torch._dynamo, which costs more than the
    whole computation on small generators.)"""
    return torch.autograd.functional.jvp(generate, z, v)[1]


def latent_jacobian(generate: Generate, latents: torch.Tensor, *, generator: nn.Module,
                    internal_batch_size: int = DEFAULT_INTERNAL_BATCH_SIZE,
                    labels: torch.Tensor | None = None) -> JacobianStats:
    """Exact Jacobians of G at ``latents`` (N, *latent shape), one column per latent coordinate,
    evaluated ``internal_batch_size`` (latent, coordinate) pairs at a time (at each latent's
    label, for a conditional G).

    Each latent is repeated once per coordinate and pushed forward with a one-hot tangent, so a
    pass of B·d evaluations yields the full Jacobians of B latents.
    """
    n = latents.shape[0]
    latent_shape = latents.shape[1:]
    d = int(latents[0].numel())
    per_chunk = max(1, internal_batch_size // d)
    effect = torch.zeros(d, dtype=torch.float64)
    sens = None
    out_shape: tuple[int, ...] = ()
    device = next(iter(generator.parameters()), torch.empty(0)).device
    eye = torch.eye(d, device=device)
    with frozen(generator):
        for start in range(0, n, per_chunk):
            z = latents[start : start + per_chunk].to(device)
            b = z.shape[0]
            z_rep = z.reshape(b, 1, d).expand(b, d, d).reshape(b * d, *latent_shape)
            tangent = eye.expand(b, d, d).reshape(b * d, *latent_shape)
            if labels is None:
                fn = generate
            else:
                y_rep = labels[start : start + per_chunk].repeat_interleave(d)

                def fn(zz: torch.Tensor, y_rep: torch.Tensor = y_rep) -> torch.Tensor:
                    return generate(zz, y_rep)
            jac = _jvp(fn, z_rep, tangent).detach().float()   # (b*d, *data)
            out_shape = tuple(jac.shape[1:])
            jac = jac.reshape(b, d, -1)                               # (b, d, P)
            effect += jac.abs().mean(2).sum(0).double().cpu()
            rows = jac.pow(2).sum(1).sqrt().sum(0).double().cpu()     # (P,)
            sens = rows if sens is None else sens + rows
    if sens is None:
        raise AnalyzerError("latent_jacobian needs at least one latent")
    return JacobianStats((effect / n).float(), (sens / n).float().reshape(out_shape), n)


def inactive_dims(effect: torch.Tensor, fraction: float) -> list[int]:
    """Latent coordinates whose effect is below ``fraction`` of the average coordinate's."""
    mean = float(effect.mean())
    if mean <= 0:
        return list(range(effect.numel()))
    return [int(i) for i in torch.nonzero(effect < fraction * mean).flatten()]


def latent_attributions(generate: Generate, target: Target, latents: torch.Tensor, *,
                        generator: nn.Module, n_steps: int = 32,
                        internal_batch_size: int = DEFAULT_INTERNAL_BATCH_SIZE,
                        labels: torch.Tensor | None = None) -> IGResult:
    """Integrated Gradients on z of ``target(G(z))``, from the baseline z = 0 (the prior's
    mean), for ``latents`` (N, *latent shape); with ``labels``, of ``target(G(z, y))`` with
    each latent's label y fixed along its path (the baseline is G(0, y))."""
    device = next(iter(generator.parameters()), torch.empty(0)).device
    indices = None
    if target.select is not None:
        ends = torch.cat([_run(generate, latents[s : s + 256].to(device),
                               None if labels is None else labels[s : s + 256]).detach()
                          for s in range(0, latents.shape[0], 256)])
        indices = target.indices(ends)
    return integrated_gradients(
        _path_forward(generate, target, labels is not None), latents, 0.0, n_steps=n_steps,
        internal_batch_size=internal_batch_size, target=indices,
        freeze=(generator, *target.modules), device=device, labels=labels,
    )


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------


def called_unit_layers(net: nn.Module, generate: Generate, example: torch.Tensor,
                       labels: torch.Tensor | None = None) -> list[str]:
    """Linear and convolutional layers of ``net`` in the order ``generate`` calls them."""
    return [c.name for c in trace_layers(net, lambda: _run(generate, example, labels),
                                         UNIT_LAYERS)]


def choose_unit_layer(net: nn.Module, generate: Generate, example: torch.Tensor,
                      name: str = "", labels: torch.Tensor | None = None) -> str:
    """``name`` when given (checked), else the middle hidden layer: of the linear and
    convolutional layers the forward pass calls, the output layer excluded, the middle one."""
    modules = dict(net.named_modules())
    order = called_unit_layers(net, generate, example, labels)
    if name:
        if name not in modules or not name:
            raise AnalyzerError(
                f"option attributions.generator_layer={name!r}: the generator has no module of "
                f"that name; expected one of its layers: {', '.join(order) or 'none'}"
            )
        return name
    hidden = order[:-1]
    if not hidden:
        raise AnalyzerError("the generator has no hidden linear or convolutional layer")
    return hidden[len(hidden) // 2]


@dataclass
class Conductance:
    """Per-unit conductance of a generator layer for a target.

    Attributes:
        layer: the layer's name.
        per_unit: (N, U) conductance of each unit (channels of a convolution, summed over
            positions) for each latent.
        delta: (N,) convergence delta: the sum over units minus (f(G(z)) - f(G(0))).
    """

    layer: str
    per_unit: torch.Tensor
    delta: torch.Tensor

    @property
    def mean(self) -> torch.Tensor:
        return self.per_unit.mean(0)

    @property
    def output_change(self) -> torch.Tensor:
        return self.per_unit.sum(1) - self.delta


def unit_conductance(generate: Generate, target: Target, latents: torch.Tensor, *,
                     generator: nn.Module, layer: str, n_steps: int = 32,
                     internal_batch_size: int = DEFAULT_INTERNAL_BATCH_SIZE,
                     labels: torch.Tensor | None = None) -> Conductance:
    """captum's :class:`~captum.attr.LayerConductance` (Dhamdhere et al. 2018) of ``layer``'s
    units for ``target(G(z))`` from z = 0, for ``latents``; summed over spatial positions
    (with ``labels``: ``target(G(z, y))``, each latent's label fixed along its path).

    The trapezoid rule is used rather than captum's default Gauss-Legendre nodes: conductance
    sums gradients times the change of the layer between consecutive steps, and only a rule
    whose nodes include 0 and 1 makes those changes add up to the whole change of the layer.
    """
    from captum.attr import LayerConductance

    module = dict(generator.named_modules())[layer]
    device = next(iter(generator.parameters()), torch.empty(0)).device
    method = LayerConductance(_path_forward(generate, target, labels is not None), module)
    # LayerConductance evaluates one extra step per pass: at least two steps per pass.
    per_chunk = max(1, internal_batch_size // max(2, min(n_steps + 1, 8)))
    units, deltas = [], []
    with frozen(generator, *target.modules):
        for start in range(0, latents.shape[0], per_chunk):
            z = latents[start : start + per_chunk].to(device)
            y = None if labels is None else labels[start : start + per_chunk].to(device)
            indices = None
            if target.select is not None:
                with torch.no_grad():
                    indices = target.indices(_run(generate, z, y))
            attr, delta = method.attribute(
                z, baselines=0.0, target=indices, n_steps=n_steps, method="riemann_trapezoid",
                additional_forward_args=None if y is None else (y,),
                internal_batch_size=max(internal_batch_size, 2 * z.shape[0]),
                return_convergence_delta=True,
            )
            attr = attr.detach().float()
            units.append((attr.flatten(2).sum(2) if attr.ndim > 2 else attr).cpu())
            deltas.append(delta.detach().reshape(-1).cpu())
    return Conductance(layer, torch.cat(units), torch.cat(deltas))


def rank(values: torch.Tensor, k: int, largest: bool = True) -> Sequence[int]:
    """Indices of the ``k`` largest (or smallest) values."""
    k = min(k, values.numel())
    return [int(i) for i in values.topk(k, largest=largest).indices]
