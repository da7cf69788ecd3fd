"""The shared sampling pass: forward hooks registered once for every analyzer.

Each analyzer asks for activations with :class:`CaptureRequest` (a network, a module name, a
reduction, float16 or not, a sample limit). The runner merges the requests, registers one forward
hook per module, draws N latents from the seed, runs G — and D on the fakes and on the real data
— in batches, and removes every hook afterwards, also on error. Activations are moved to the CPU
batch by batch, reduced as asked, so memory stays bounded by the reductions.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .errors import InputError
from .gan import GAN
from .progress import progress_bar

NETWORKS = ("generator", "discriminator")
REDUCTIONS = ("mean", "max", "none")
SOURCES = ("fake", "real")

# Layer kinds that carry units worth analysing; containers are skipped.
UNIT_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)
ACTIVATION_LAYERS: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.PReLU, nn.ReLU6,
    nn.Mish, nn.Softplus, nn.Hardtanh,
)


@dataclass(frozen=True)
class CaptureRequest:
    """Activations an analyzer wants from the shared pass.

    Args:
        network: ``"generator"`` or ``"discriminator"``.
        module: the module's name in ``network.named_modules()``.
        reduction: ``"mean"`` (over spatial dimensions; the default), ``"max"`` or ``"none"``
            (the full output; use ``limit`` to keep it small).
        float16: store in half precision.
        limit: keep only the first ``limit`` samples (e.g. full maps of a few display samples).
    """

    network: str
    module: str
    reduction: str = "mean"
    float16: bool = False
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise InputError(f"capture network {self.network!r}; expected one of {NETWORKS}")
        if self.reduction not in REDUCTIONS:
            raise InputError(f"capture reduction {self.reduction!r}; expected one of {REDUCTIONS}")


@dataclass
class _Form:
    reduction: str
    float16: bool
    limit: int | None


def merge_requests(requests: Iterable[CaptureRequest]) -> dict[tuple[str, str], list[_Form]]:
    """The union of requests: one entry per (network, module), one form per reduction."""
    merged: dict[tuple[str, str], dict[str, _Form]] = defaultdict(dict)
    for r in requests:
        forms = merged[(r.network, r.module)]
        old = forms.get(r.reduction)
        if old is None:
            forms[r.reduction] = _Form(r.reduction, r.float16, r.limit)
        else:
            old.float16 = old.float16 and r.float16
            old.limit = None if old.limit is None or r.limit is None else max(old.limit, r.limit)
    return {k: list(v.values()) for k, v in merged.items()}


def reduce_output(out: Any, reduction: str) -> torch.Tensor:
    """Apply a reduction to a module output (the first tensor of a tuple). Without a spatial
    reduction the result is the output itself: copy it before the forward pass goes on."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise InputError(f"cannot capture a module output of type {type(out).__name__}")
    out = out.detach()
    if reduction == "none" or out.ndim <= 2:
        # The caller copies it into its buffer now, before a later in-place op
        # (ReLU(inplace=True)) could change it.
        return out
    dims = tuple(range(2, out.ndim))
    return out.mean(dim=dims) if reduction == "mean" else out.amax(dim=dims)


def layer_names(module: nn.Module, kinds: tuple[type[nn.Module], ...] = UNIT_LAYERS) -> list[str]:
    """Names of the leaf modules of the given kinds, in forward-registration order."""
    return [n for n, m in module.named_modules() if n and isinstance(m, kinds)]


@dataclass(frozen=True)
class LayerCall:
    """A module as one forward pass called it.

    Attributes:
        name: its name in the network.
        module: the module.
        output_shape: its (first) output's shape without the batch dimension; None when the
            output is not a tensor with a batch dimension.
        calls: how often the pass called it (more than 1: a reused module).
        order: its position among the traced modules, by first call.
        modified_in_place: a later operation changed its output in place (``ReLU(inplace=True)``).
    """

    name: str
    module: nn.Module
    output_shape: tuple[int, ...] | None
    calls: int
    order: int
    modified_in_place: bool = False


def trace_layers(net: nn.Module, run: Any,
                 kinds: tuple[type[nn.Module], ...] | dict[str, nn.Module] = UNIT_LAYERS,
                 ) -> list[LayerCall]:
    """The modules of ``kinds`` in ``net`` (or the named ``modules`` given as a dict) in the
    order ``run()`` first calls them, found by running it once without gradients; modules it
    never calls are left out. The hooks are removed afterwards, also on error. Use it to find
    layers by what they do (the last spatial convolution, the first layer) rather than by name."""
    if isinstance(kinds, dict):
        modules = dict(kinds)
    else:
        modules = {n: m for n, m in net.named_modules() if n and isinstance(m, kinds)}
    order: list[str] = []
    shapes: dict[str, tuple[int, ...] | None] = {}
    counts: dict[str, int] = defaultdict(int)
    kept: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def make(name: str):
        def hook(_m: nn.Module, _inputs: Any, output: Any) -> None:
            counts[name] += 1
            if counts[name] > 1:
                return
            order.append(name)
            out = output[0] if isinstance(output, (tuple, list)) and output else output
            if isinstance(out, torch.Tensor) and out.ndim >= 1:
                shapes[name] = tuple(int(s) for s in out.shape[1:])
                kept[name] = (out, out.detach().clone())
            else:
                shapes[name] = None
        return hook

    handles = [m.register_forward_hook(make(n)) for n, m in modules.items()]
    try:
        with torch.no_grad():
            run()
    finally:
        for h in handles:
            h.remove()

    def changed(name: str) -> bool:
        if name not in kept:
            return False
        live, copy = kept[name]
        return not bool(((live == copy) | (torch.isnan(live) & torch.isnan(copy))).all())

    return [LayerCall(n, modules[n], shapes[n], counts[n], i, changed(n))
            for i, n in enumerate(order)]


@dataclass
class Capture:
    """What the shared pass collected. Tensors are on the CPU."""

    latents: torch.Tensor
    fakes: torch.Tensor
    d_fake: torch.Tensor | None = None
    d_real: torch.Tensor | None = None
    real_x: torch.Tensor | None = None
    activations: dict[tuple[str, str, str, str], torch.Tensor] = field(default_factory=dict)
    generator_calls: int = 0
    seconds: float = 0.0
    reused_modules: list[str] = field(default_factory=list)
    """Modules called more than once per forward pass; only their first call was captured."""
    labels: torch.Tensor | None = None
    """The class label of each latent (a conditional GAN), else None."""
    real_labels: torch.Tensor | None = None
    """The labels of ``real_x`` (what a conditional D was given), else None."""
    notes: list[str] = field(default_factory=list)
    """What the pass could not do (e.g. D on reals without labels), for the report."""

    def activation(self, network: str, module: str, reduction: str = "mean",
                   source: str = "fake") -> torch.Tensor:
        """The captured activations of ``module`` in ``network`` (float32 on the CPU)."""
        key = (source, network, module, reduction)
        if key not in self.activations:
            have = sorted({f"{k[1]}:{k[2]}({k[3]}, {k[0]})" for k in self.activations})
            raise KeyError(
                f"no {reduction} activations of {network} module {module!r} on {source} data were "
                f"captured; request them in Analyzer.requests (captured: {', '.join(have) or 'none'})"
            )
        return self.activations[key].float()


class _HookSet:
    """Forward hooks on the requested modules, storing each form per source."""

    def __init__(self, gan: GAN, merged: dict[tuple[str, str], list[_Form]],
                 totals: dict[str, int]) -> None:
        self.source = "fake"
        self.batch = 0
        self.seen: dict[tuple[str, str], int] = {}
        self.reused: set[tuple[str, str]] = set()
        # One buffer per key, allocated at the first batch for every sample of its source and
        # filled in place: no list of chunks and no concatenation (half the peak memory).
        self.totals = totals
        self.store: dict[tuple[str, str, str, str], torch.Tensor] = {}
        self.kept: dict[tuple[str, str, str, str], int] = defaultdict(int)
        self.handles: list[torch.utils.hooks.RemovableHandle] = []
        self.merged = merged
        self.gan = gan

    def __enter__(self) -> _HookSet:
        nets = {"generator": self.gan.generator, "discriminator": self.gan.discriminator}
        try:
            for (network, name), forms in self.merged.items():
                net = nets[network]
                if net is None:
                    raise InputError(f"cannot capture {network} module {name!r}: there is no {network}")
                modules = dict(net.named_modules())
                if name not in modules:
                    known = ", ".join(n for n in list(modules)[1:30] if n)
                    raise InputError(
                        f"the {network} has no module named {name!r}; its modules include: {known}"
                    )
                self.handles.append(modules[name].register_forward_hook(self._hook(network, name, forms)))
        except BaseException:
            self.remove()
            raise
        return self

    def _hook(self, network: str, name: str, forms: list[_Form]):
        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            # A module called several times in one forward (a shared activation) keeps its
            # first call per batch, so activations stay aligned with the samples.
            call = (network, name)
            if self.seen.get(call) == self.batch:
                self.reused.add(call)
                return
            self.seen[call] = self.batch
            for form in forms:
                key = (self.source, network, name, form.reduction)
                have = self.kept[key]
                if form.limit is not None and have >= form.limit:
                    continue
                value = reduce_output(output, form.reduction)
                if form.limit is not None:
                    value = value[: form.limit - have]
                buf = self.store.get(key)
                if buf is None:
                    size = self.totals[self.source]
                    size = size if form.limit is None else min(size, form.limit)
                    dtype = torch.float16 if form.float16 else torch.float32
                    buf = self.store[key] = torch.empty((size, *value.shape[1:]), dtype=dtype)
                buf[have : have + value.shape[0]] = value
                self.kept[key] = have + value.shape[0]

        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def results(self) -> dict[tuple[str, str, str, str], torch.Tensor]:
        return {k: v[: self.kept[k]] for k, v in self.store.items()}


def run_capture(
    gan: GAN,
    requests: Iterable[CaptureRequest],
    *,
    n: int,
    seed: int = 0,
    real_x: torch.Tensor | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    real_labels: torch.Tensor | None = None,
    label_frequencies: torch.Tensor | None = None,
) -> Capture:
    """Run the shared pass: G on ``n`` latents of ``seed`` (with labels of ``seed`` for a
    conditional G, drawn uniformly or with ``label_frequencies``), D on the fakes and on
    ``real_x`` (with ``real_labels`` for a conditional D)."""
    if n < 1:
        raise InputError(f"the number of samples must be at least 1, got {n}")
    t0 = time.perf_counter()
    bs = batch_size or gan.batch_size
    merged = merge_requests(requests)
    latents = gan.latents(n, seed)
    labels = gan.labels(n, seed, label_frequencies)
    notes: list[str] = []
    has_d = gan.discriminator is not None
    if has_d and gan.d_conditional and real_x is not None and real_labels is None:
        notes.append("the discriminator is conditional and the real data have no labels: D was "
                     "not run on real data")
        real_x = None
    steps = math.ceil(n / bs) + (math.ceil(len(real_x) / bs) if has_d and real_x is not None else 0)
    bar = progress_bar(total=steps, desc="sampling", enabled=progress)
    fakes = torch.empty((n, *gan.data.shape))
    d_fake, d_real = [], []
    calls, done = 0, 0
    gan.eval()
    try:
        totals = {"fake": n, "real": len(real_x) if real_x is not None else 0}
        with _HookSet(gan, merged, totals) as hooks, torch.no_grad():
            for z, y in gan.paired_batches(latents, labels, bs):
                hooks.source = "fake"
                hooks.batch += 1
                x = gan.forward(z, y)
                calls += 1
                fakes[done : done + len(x)] = x
                done += len(x)
                if has_d:
                    hooks.batch += 1
                    d_fake.append(gan.score(x, y).float().cpu())
                bar.update(1)
            if has_d and real_x is not None:
                hooks.source = "real"
                for x, y in gan.paired_batches(real_x, real_labels if gan.d_conditional else None, bs):
                    hooks.batch += 1
                    d_real.append(gan.score(x, y).float().cpu())
                    bar.update(1)
            activations = hooks.results()
            reused = sorted(f"{net}:{name}" for net, name in hooks.reused)
    finally:
        bar.close()
    fakes_t = fakes
    # One sum instead of an elementwise test: NaN and inf propagate into it.
    if not torch.isfinite(fakes_t.sum(dtype=torch.float64)):
        raise InputError("the generator produced NaN or infinite samples; check its weights")
    return Capture(
        latents=latents,
        fakes=fakes_t,
        d_fake=torch.cat(d_fake) if d_fake else None,
        d_real=torch.cat(d_real) if d_real else None,
        real_x=real_x if has_d else None,
        activations=activations,
        reused_modules=reused,
        generator_calls=calls,
        seconds=time.perf_counter() - t0,
        labels=labels,
        real_labels=real_labels if has_d and real_x is not None else None,
        notes=notes,
    )
