"""Which layers of G and D to analyse, found by kind and checked with a two-sample probe pass.

Automatic choice: the leaf modules that carry units — linear and convolutional layers (and custom
layers with a weight of two or more dimensions, such as equalised-learning-rate convolutions)
and activation functions — in the order the forward pass runs them, without containers, without
the output layer and what follows it (its "units" are pixels or the score), capped per network.

The probe runs each network once on two samples with hooks on the candidates, and drops what the
shared capture could not measure correctly: modules that are never called, modules called more
than once per forward (a reused ``self.relu``: its activations would mix), outputs that are not
tensors, and 2-D outputs that a later operation modifies in place (``nn.ReLU(inplace=True)``
after a linear layer: the capture would record the values after the ReLU).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ganlens.capture import ACTIVATION_LAYERS, UNIT_LAYERS, trace_layers
from ganlens.errors import OptionError

GENERATOR, DISCRIMINATOR = "generator", "discriminator"
PREFIXES = {"g": GENERATOR, "generator": GENERATOR, "d": DISCRIMINATOR, "discriminator": DISCRIMINATOR}
SHORT = {GENERATOR: "G", DISCRIMINATOR: "D"}

# What a unit's sign means depends on its activation function, checked class by class (and on
# the module's parameters where they change the shape of the negative side):
# - RECTIFIERS: the output is never below zero, and where it is not above zero it is exactly
#   zero: ReLU, ReLU6 and every Hardtanh with min_val 0, Hardsigmoid (0 for inputs <= -3),
#   Threshold with value 0 at a threshold >= 0, and the leaky kinds with slope or alpha 0. A unit
#   never above zero outputs exactly 0 on every sample: it is dead (a constant zero).
# - LEAKY: the output is at most its value at zero input exactly when the input is at most zero,
#   and it still changes with the input below zero (a slope, a smooth tail): LeakyReLU, PReLU and
#   RReLU with non-negative slopes, ELU and CELU with alpha > 0, SELU, GELU, SiLU, Mish, Hardswish,
#   Softplus (whose value at zero is log 2 / beta). A unit never above that value has an input that
#   is always negative, but its output still follows the input: "negative-regime", not dead.
# Everything else (Tanh, Sigmoid, Hardtanh with min_val < 0, ...) is an "activation": its sign
# says nothing about being on or off.
RECTIFIERS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.Hardtanh, nn.Hardsigmoid, nn.Threshold)
LEAKY: tuple[type[nn.Module], ...] = (
    nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Hardswish, nn.Softplus,
)
NOT_UNITS: tuple[type[nn.Module], ...] = (nn.Embedding, nn.EmbeddingBag)


@dataclass
class LayerInfo:
    """A layer chosen for analysis, with what the probe saw of its output."""

    network: str
    name: str
    kind: str  # "unit" (linear/conv), "rectifier", "leaky", "activation" or "module" (by name)
    module_type: str
    out_shape: tuple[int, ...]  # per sample: (units,) or (units, *spatial)
    order: int  # position in the forward pass of its network
    maps_ok: bool = True  # full maps can be captured (not modified in place later)
    at_zero: float | None = None  # leaky layers: the output at zero input (see output_at_zero)

    @property
    def units(self) -> int:
        return int(self.out_shape[0])

    @property
    def spatial(self) -> bool:
        """Whether each unit has a 2-D map that can be drawn (output (units, H, W))."""
        return len(self.out_shape) == 3

    @property
    def key(self) -> str:
        """``<network>.<layer>``: the prefix of this layer's metric keys."""
        return f"{self.network}.{self.name}"

    @property
    def label(self) -> str:
        return f"{SHORT[self.network]}:{self.name}"

    @property
    def map_size(self) -> str:
        return "x".join(map(str, self.out_shape[1:])) or "-"


@dataclass
class Probe:
    """What one forward pass showed of a module."""

    calls: int = 0
    order: int = -1
    shape: tuple[int, ...] | None = None
    tensor: bool = True
    aliased: bool = False


@dataclass
class NetworkPlan:
    """The layers of one network and why others were left out."""

    network: str
    layers: list[LayerInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def kind_of(module: nn.Module) -> str | None:
    """``unit``, ``rectifier``, ``leaky``, ``activation`` or None (not a unit-carrying leaf)."""
    if isinstance(module, NOT_UNITS) or not _is_leaf(module):
        return None
    sign = sign_kind(module)
    if sign is not None:
        return sign
    if isinstance(module, (*ACTIVATION_LAYERS, *RECTIFIERS, *LEAKY)):
        return "activation"
    if isinstance(module, UNIT_LAYERS):
        return "unit"
    weight = getattr(module, "weight", None)
    if isinstance(weight, torch.Tensor) and weight.ndim >= 2:
        return "unit"  # a custom linear or convolution (e.g. equalised learning rate)
    return None


def sign_kind(module: nn.Module) -> str | None:
    """``rectifier`` or ``leaky`` (see :data:`RECTIFIERS` and :data:`LEAKY`) for this module with
    its present parameters, else None."""
    if isinstance(module, (nn.ReLU, nn.Hardsigmoid)):
        return "rectifier"
    if isinstance(module, nn.Hardtanh):  # ReLU6 is Hardtanh(0, 6)
        return "rectifier" if module.min_val == 0 else None
    if isinstance(module, nn.Threshold):
        return "rectifier" if module.value == 0 and module.threshold >= 0 else None
    if isinstance(module, nn.LeakyReLU):
        slope = module.negative_slope
        return "rectifier" if slope == 0 else "leaky" if slope > 0 else None
    if isinstance(module, nn.PReLU):
        weight = module.weight.detach()
        return ("rectifier" if bool((weight == 0).all()) else
                "leaky" if bool((weight >= 0).all()) else None)
    if isinstance(module, nn.RReLU):
        return ("rectifier" if module.lower == module.upper == 0 else
                "leaky" if min(module.lower, module.upper) >= 0 else None)
    if isinstance(module, (nn.ELU, nn.CELU)):
        return "rectifier" if module.alpha == 0 else "leaky" if module.alpha > 0 else None
    if isinstance(module, nn.Softplus):
        return "leaky" if module.beta > 0 else None
    if isinstance(module, LEAKY):
        return "leaky"
    return None


def output_at_zero(module: nn.Module) -> float:
    """The output of a leaky activation at zero input: a unit never above it has a negative
    input on every sample and everywhere in its map."""
    if isinstance(module, nn.Softplus):
        return math.log(2.0) / float(module.beta)
    return 0.0


def _is_leaf(module: nn.Module) -> bool:
    # Spectral or weight norm adds a "parametrizations" child; the layer is still a leaf.
    return all(name == "parametrizations" for name, _ in module.named_children())


def probe(modules: dict[str, nn.Module], run: Callable[[], Any]) -> dict[str, Probe]:
    """Run ``run()`` once without gradients, with a hook on each module (every hook is removed
    afterwards, also on error), and say what each module's output was."""
    records = {name: Probe() for name in modules}
    for call in trace_layers(nn.Module(), run, modules):
        rec = records[call.name]
        rec.calls, rec.order = call.calls, call.order
        shape = call.output_shape
        if shape is None or len(shape) == 0:
            rec.tensor = False
            continue
        rec.shape = shape
        rec.aliased = call.modified_in_place
    return records


def parse_layer_names(names: Sequence[str], has_d: bool) -> dict[str, list[str]]:
    """``["G:blocks.0", "discriminator:net.1", "blocks.1"]`` → names per network; a bare name
    gets its network later (:func:`resolve_bare`)."""
    out: dict[str, list[str]] = {GENERATOR: [], DISCRIMINATOR: [], "": []}
    for raw in names:
        prefix, sep, rest = raw.partition(":")
        if sep and prefix.strip().lower() in PREFIXES:
            network = PREFIXES[prefix.strip().lower()]
            if network == DISCRIMINATOR and not has_d:
                raise OptionError(f"option activations.layers: {raw!r} names a discriminator "
                                  "layer but this GAN has no discriminator")
            out[network].append(rest.strip())
        else:
            out[""].append(raw.strip())
    return out


def resolve_bare(bare: list[str], nets: dict[str, nn.Module | None], out: dict[str, list[str]]) -> None:
    """Give each bare name its network: the one that has a module of that name."""
    for name in bare:
        found = [n for n, net in nets.items() if net is not None and name in dict(net.named_modules())]
        if len(found) > 1:
            raise OptionError(f"option activations.layers: {name!r} names a module in both the "
                              f"generator and the discriminator; write G:{name} or D:{name}")
        if not found:
            raise OptionError(_unknown(name, nets))
        out[found[0]].append(name)


def _unknown(name: str, nets: dict[str, nn.Module | None]) -> str:
    import difflib

    known = [f"{SHORT[n]}:{m}" for n, net in nets.items() if net is not None
             for m, mod in net.named_modules() if m and kind_of(mod)]
    close = difflib.get_close_matches(name, [k.split(":", 1)[1] for k in known], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    where = " or the ".join(n for n, net in nets.items() if net is not None)
    return (f"option activations.layers: no module named {name!r} in the {where}{hint}; "
            f"layers it can analyse: {', '.join(known[:40]) or 'none'}")


def plan_network(network: str, net: nn.Module, run: Callable[[], Any], *,
                 explicit: list[str] | None, max_layers: int, required: Sequence[str] = (),
                 option: str = "layers") -> NetworkPlan:
    """Choose and probe the layers of one network: the ``explicit`` names, else automatically;
    the ``required`` names (named by option ``option``) are always included."""
    plan = NetworkPlan(network)
    modules = dict(net.named_modules())
    named = list(dict.fromkeys([*(explicit or []), *required]))
    for name in named:
        if name not in modules or not name:
            which = "layers" if name in (explicit or []) else option
            raise OptionError(_unknown(name, {network: net}).replace("activations.layers",
                                                                      f"activations.{which}"))
    if explicit is not None:
        chosen = {n: modules[n] for n in named}
    else:
        chosen = {n: m for n, m in modules.items() if n and kind_of(m)}
        chosen.update({n: modules[n] for n in required})
    records = probe(chosen, run)
    layers, out_order, kept = [], None, []
    for name, module in chosen.items():
        rec = records[name]
        why = _unusable(rec, module)
        if why is not None:
            if name in named:
                which = option if name in required else "layers"
                raise OptionError(f"option activations.{which}: {network} module {name!r} {why}")
            plan.notes.append(f"{SHORT[network]}:{name} left out: {why}")
            continue
        kind = kind_of(module) or "module"
        info = LayerInfo(network, name, kind, type(module).__name__, rec.shape or (1,),
                         rec.order, maps_ok=not rec.aliased,
                         at_zero=output_at_zero(module) if kind == "leaky" else None)
        (kept if name in named else layers).append(info)
        if kind == "unit" and name not in named:
            out_order = rec.order if out_order is None else max(out_order, rec.order)
    if explicit is None:
        layers.sort(key=lambda info: info.order)
        if out_order is not None:  # the output layer and what follows it are not hidden units
            layers = [info for info in layers if info.order < out_order]
        if not layers and not kept:
            plan.notes.append(f"the {network} has no hidden linear, convolutional or activation "
                              "layer before its output layer")
        layers = _spread(layers, max_layers)
    plan.layers = sorted(layers + kept, key=lambda info: info.order)
    return plan


def _unusable(rec: Probe, module: nn.Module) -> str | None:
    if rec.calls == 0:
        return "is not called in a forward pass"
    if rec.calls > 1:
        return (f"is called {rec.calls} times per forward pass (a reused module): its "
                "activations would mix; give each use its own module")
    if not rec.tensor or rec.shape is None:
        return "does not return a tensor of shape (batch, units, ...)"
    if rec.aliased and len(rec.shape) == 1:
        return ("has its output modified in place by a later operation (e.g. ReLU(inplace=True)), "
                "so captured values would be wrong; analyse the activation after it instead")
    return None


def _spread(layers: list[LayerInfo], cap: int) -> list[LayerInfo]:
    """At most ``cap`` layers, evenly spaced over the forward pass, the last one kept."""
    if len(layers) <= cap:
        return layers
    if cap == 1:
        return [layers[-1]]
    step = (len(layers) - 1) / (cap - 1)
    return [layers[round(i * step)] for i in range(cap)]
