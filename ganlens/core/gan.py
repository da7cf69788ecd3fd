"""The GAN container that every analyzer receives.

A :class:`GAN` holds a generator, an optional discriminator, the latent spec (shape and
distribution), the data spec (image C×H×W or vector d, value range) and metadata. It runs the
networks in batches on its device, in eval mode, without gradients unless a caller asks for them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .errors import DeviceError, InputError

LATENT_DISTRIBUTIONS = ("normal", "uniform")
LABEL_FORMATS = ("index", "onehot")
"""How a conditional network takes its labels: class indices (an ``nn.Embedding``) or one-hot
vectors (concatenated to z or x)."""
MAPPING_NAMES = ("mapping", "synthesis")
"""A generator with direct submodules of these names is StyleGAN-like: z → mapping → w →
synthesis, and its latent analyses can also run in W."""
W_MEAN_SAMPLES = 10_000
W_MEAN_SEED = 4_242
LABEL_SALT = 1_000_003
"""Labels of the latents of seed s are drawn with seed s + LABEL_SALT, a stream of their own."""
DATA_KINDS = ("image", "vector")
DEFAULT_BATCH_SIZE = 256


@dataclass(frozen=True)
class LatentSpec:
    """What the generator takes: ``shape`` without the batch dimension, and the prior.

    ``distribution`` is ``"normal"`` (N(0, I)) or ``"uniform"`` (U[-1, 1]).
    A 4-D latent such as ``(64, 1, 1)`` is fed to the generator as ``(B, 64, 1, 1)``.
    """

    shape: tuple[int, ...]
    distribution: str = "normal"

    def __post_init__(self) -> None:
        if not self.shape or any(int(s) <= 0 for s in self.shape):
            raise InputError(f"latent shape must be positive integers, got {self.shape!r}")
        if self.distribution not in LATENT_DISTRIBUTIONS:
            raise InputError(
                f"latent distribution {self.distribution!r} is unknown; expected one of "
                f"{', '.join(LATENT_DISTRIBUTIONS)}"
            )
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))

    @property
    def dim(self) -> int:
        """The number of latent coordinates (the product of ``shape``)."""
        return math.prod(self.shape)

    def sample(self, n: int, seed: int | torch.Generator = 0) -> torch.Tensor:
        """Draw ``n`` latents on the CPU; the same seed gives the same latents on every device."""
        gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(seed)
        if self.distribution == "normal":
            return torch.randn((n, *self.shape), generator=gen)
        return torch.rand((n, *self.shape), generator=gen) * 2 - 1

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "distribution": self.distribution}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LatentSpec:
        return cls(tuple(d["shape"]), d.get("distribution", "normal"))


@dataclass(frozen=True)
class DataSpec:
    """What the generator produces: ``kind`` (image or vector), ``shape`` and ``value_range``.

    Images are ``(C, H, W)``; vectors are ``(d,)``. A generator with flat outputs whose
    data are images is reshaped to ``shape`` by :meth:`GAN.forward`.
    """

    kind: str
    shape: tuple[int, ...]
    value_range: tuple[float, float] = (-1.0, 1.0)

    def __post_init__(self) -> None:
        if self.kind not in DATA_KINDS:
            raise InputError(f"data kind {self.kind!r} is unknown; expected image or vector")
        shape = tuple(int(s) for s in self.shape)
        if self.kind == "image" and len(shape) != 3:
            raise InputError(f"image data need a shape (C, H, W), got {shape}")
        if self.kind == "vector" and len(shape) != 1:
            raise InputError(f"vector data need a shape (d,), got {shape}")
        lo, hi = (float(v) for v in self.value_range)
        if not lo < hi:
            raise InputError(f"value range must be (low, high) with low < high, got {self.value_range}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "value_range", (lo, hi))

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Map data from ``value_range`` to [0, 1] (for display), clamped."""
        lo, hi = self.value_range
        return ((x - lo) / (hi - lo)).clamp(0, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "value_range": list(self.value_range)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataSpec:
        return cls(d["kind"], tuple(d["shape"]), tuple(d.get("value_range", (-1.0, 1.0))))


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``auto``/None picks CUDA when available; ``cuda`` without CUDA is a clear error."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"unknown device {device!r}; expected auto, cpu or cuda") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"device {device!r} was asked for but CUDA is not available on this machine; "
            "use --device cpu or --device auto"
        )
    return dev


D_OUTPUTS = ("logit", "probability", "score", "two-class")
"""How a discriminator's output is read: ``logit`` (one value, sigmoid gives P(real)),
``probability`` (one value in [0, 1], e.g. after a final Sigmoid), ``score`` (one unbounded
value of a critic: WGAN, least-squares, hinge; higher is more real, no probability), and
``two-class`` (two values per sample, real/fake logits or softmax probabilities)."""


def flatten_scores(out: torch.Tensor | tuple | list, width: int = 1) -> torch.Tensor:
    """Discriminator outputs of shape (B,), (B, 1) or (B, 1, 1, 1) become (B,); with
    ``width=2``, outputs of (B, 2) stay (B, 2). A tuple or list (an auxiliary-classifier D that
    returns ``(score, class logits)``) is read from its first element."""
    if isinstance(out, (tuple, list)):
        out = out[0]
    if out.ndim == 0:
        out = out.reshape(1)
    b = out.shape[0]
    if out[0].numel() != width:
        expected = "one score" if width == 1 else f"{width} values"
        raise InputError(
            f"the discriminator must return {expected} per sample, got shape {tuple(out.shape)}"
            + ("; for a two-class D give --d-output two-class" if out[0].numel() == 2 else "")
        )
    return out.reshape(b, width) if width > 1 else out.reshape(b)


def select_output(out: Any, select: int | str | None) -> torch.Tensor:
    """The data among a generator's outputs: a tensor itself, ``out[select]`` of a tuple (the
    first by default) or of a dict (``select`` is then its key, required when several)."""
    if isinstance(out, dict):
        tensors = [k for k, v in out.items() if isinstance(v, torch.Tensor)]
        if select is None and len(tensors) == 1:
            select = tensors[0]
        if not isinstance(select, str) or select not in out:
            raise InputError(f"the generator returns a dict with keys {', '.join(map(str, out))}; "
                             "name the data with --output-key KEY")
        return out[select]
    if isinstance(out, (tuple, list)):
        index = 0 if select is None else select
        if not isinstance(index, int) or not -len(out) <= index < len(out):
            raise InputError(f"the generator returns {len(out)} outputs; --output-index must be "
                             f"0 to {len(out) - 1}, got {select!r}")
        return out[index]
    return out


@dataclass
class GAN:
    """A generator, an optional discriminator, and what is known about their inputs and outputs.

    Args:
        generator: maps latents of ``latent.shape`` to data of ``data.shape`` (or flat).
        latent: the latent spec.
        data: the data spec.
        discriminator: maps data to a score per sample (see ``d_output``), or None.
        d_output: how its output is read, one of :data:`D_OUTPUTS` (default ``logit``).
        d_real_index: for ``two-class``, the column that means "real" (default 1).
        d_flatten: feed the discriminator flattened data (an MLP over images).
        d_two_class_probabilities: for ``two-class``, the outputs are softmax probabilities.
        d_note: how the discriminator's reading was decided (inferred, declared), for reports.
        output_select: which output of a generator returning a tuple (an index) or a dict (a
            key) is the data; None: the first of a tuple.
        output_channels_last: the generator returns images as (B, H, W, C).
        d_train_mode: run the discriminator in train mode (dropout on, batch-norm batch
            statistics), as during training; the default is eval mode.
        d_aux_classes: for an auxiliary-classifier D returning ``(score, class logits)``, the
            number of classes of its class head (read with :meth:`class_logits`), else None.
        mapping: the dotted name, inside the generator, of a mapping network z → w whose
            output the rest of the generator (the synthesis) reads; None: found when the
            generator has direct submodules ``mapping`` and ``synthesis``, else none.
        truncation: ψ of the truncation trick: every w becomes w̄ + ψ (w − w̄), w̄ the mean of
            10,000 mapped latents; 1 (the default) changes nothing. Needs a mapping network.
        conditional: the generator takes ``(z, y)``: a label per latent.
        d_conditional: the discriminator takes ``(x, y)``.
        label_format: how the networks take labels, one of :data:`LABEL_FORMATS`.
        num_classes: the number of classes of the training data, when known (required for a
            conditional GAN).
        metadata: the dataset, training history, seed, source file and ganlens version.
        device: where the networks run.
    """

    generator: nn.Module
    latent: LatentSpec
    data: DataSpec
    discriminator: nn.Module | None = None
    d_output: str = "logit"
    num_classes: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    batch_size: int = DEFAULT_BATCH_SIZE
    d_real_index: int = 1
    d_flatten: bool = False
    d_two_class_probabilities: bool = False
    d_note: str = ""
    output_select: int | str | None = None
    output_channels_last: bool = False
    d_train_mode: bool = False
    conditional: bool = False
    d_conditional: bool = False
    label_format: str = "index"
    mapping: str | None = None
    truncation: float = 1.0
    d_aux_classes: int | None = None
    _w_mean: torch.Tensor | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        children = dict(self.generator.named_children())
        if self.mapping is None and all(n in children for n in MAPPING_NAMES):
            self.mapping = "mapping"
        self.use_mapping(self.mapping)
        if not 0 < self.truncation <= 1:
            raise InputError(f"truncation must be in (0, 1], got {self.truncation}")
        if self.truncation != 1.0 and self.mapping is None:
            raise InputError("truncation needs a mapping network (--mapping MODULE), and this "
                             "generator has none")
        if self.label_format not in LABEL_FORMATS:
            raise InputError(f"label_format must be one of {', '.join(LABEL_FORMATS)}, got "
                             f"{self.label_format!r}")
        if (self.conditional or self.d_conditional) and self.num_classes is not None \
                and int(self.num_classes) < 2:
            raise InputError(f"a conditional GAN needs at least 2 classes, got {self.num_classes}")
        if self.d_output not in D_OUTPUTS:
            raise InputError(f"d_output must be one of {', '.join(D_OUTPUTS)}, got "
                             f"{self.d_output!r}")
        if self.d_real_index not in (0, 1):
            raise InputError(f"d_real_index must be 0 or 1, got {self.d_real_index!r}")
        self.device = resolve_device(self.device)
        self.to(self.device)
        self.eval()

    # -- placement -------------------------------------------------------------------------
    def to(self, device: str | torch.device) -> GAN:
        """Move both networks to ``device`` and remember it."""
        self.device = resolve_device(device)
        self.generator.to(self.device)
        if self.discriminator is not None:
            self.discriminator.to(self.device)
        return self

    def eval(self) -> GAN:
        """The generator in eval mode; the discriminator too, unless ``d_train_mode``."""
        self.generator.eval()
        if self.discriminator is not None:
            self.discriminator.train(self.d_train_mode)
        return self

    @property
    def has_discriminator(self) -> bool:
        return self.discriminator is not None

    @property
    def history(self) -> dict[str, Any] | None:
        """The training history stored in a native checkpoint, or None."""
        return (self.metadata.get("training") or {}).get("history")

    # -- sampling --------------------------------------------------------------------------
    def latents(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` latents drawn from the prior with ``seed`` (on the CPU)."""
        return self.latent.sample(n, seed)

    def labels(self, n: int, seed: int | torch.Generator = 0,
               frequencies: torch.Tensor | None = None) -> torch.Tensor | None:
        """``n`` class labels for a conditional GAN (None otherwise): uniform over the classes,
        or drawn with ``frequencies`` (e.g. the real class shares). With an int ``seed`` they
        come from their own stream (seed + :data:`LABEL_SALT`), so z and y are independent."""
        if not self.conditional:
            return None
        k = self.require_classes()
        gen = seed if isinstance(seed, torch.Generator) else \
            torch.Generator().manual_seed(int(seed) + LABEL_SALT)
        if frequencies is None:
            return torch.randint(k, (n,), generator=gen)
        p = torch.as_tensor(frequencies, dtype=torch.float64).reshape(-1)
        if p.numel() != k or not torch.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
            raise InputError(f"label frequencies must be {k} non-negative numbers with a "
                             f"positive sum, got {p.tolist()}")
        return torch.multinomial(p, n, replacement=True, generator=gen)

    def require_classes(self) -> int:
        """The class count of a conditional GAN, or a clear error when none is known."""
        if self.num_classes is None:
            raise InputError("a conditional generator needs its number of classes: give "
                             "--num-classes K (Python: num_classes=K), or labelled real data")
        return int(self.num_classes)

    def condition(self, y: torch.Tensor | None, n: int, network: str = "generator"
                  ) -> torch.Tensor:
        """Labels as the networks take them (indices or one-hot, on the device), checked: one
        class index from 0 to K-1 per sample."""
        if y is None:
            raise InputError(f"the {network} is conditional: it needs a class label per sample "
                             "(labels=...)")
        k = self.require_classes()
        y = torch.as_tensor(y)
        if y.ndim == 2 and y.shape[1] == k and y.is_floating_point():
            y = y.argmax(1)  # one-hot given: back to indices, re-encoded below
        if y.ndim != 1 or y.shape[0] != n:
            raise InputError(f"labels must be one class index per sample, shape ({n},); got "
                             f"{tuple(y.shape)}")
        if y.is_floating_point():
            if not torch.equal(y, y.round()):
                raise InputError("labels must be integer class indices")
            y = y.long()
        if n and (int(y.min()) < 0 or int(y.max()) >= k):
            raise InputError(f"labels must be class indices from 0 to {k - 1}; got values from "
                             f"{int(y.min())} to {int(y.max())}")
        y = y.long().to(self.device)
        if self.label_format == "onehot":
            return torch.nn.functional.one_hot(y, k).float()
        return y

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """One differentiable generator call on ``gan.device``, output shaped like the data;
        ``y``: the class labels of a conditional generator (required there, ignored else)."""
        if self.truncation == 1.0:
            return self._shape_output(self._raw_forward(z, y))
        w_bar, psi = self.w_mean().to(self.device), self.truncation
        handle = self._mapping_module().register_forward_hook(
            lambda _m, _i, out: w_bar + psi * (out - w_bar))
        try:
            return self._shape_output(self._raw_forward(z, y))
        finally:
            handle.remove()

    def _raw_forward(self, z: torch.Tensor, y: torch.Tensor | None) -> Any:
        z = z.to(self.device)
        if z.shape[1:] != self.latent.shape:
            z = z.reshape(z.shape[0], *self.latent.shape)
        if self.conditional:
            return self.generator(z, self.condition(y, z.shape[0]))
        return self.generator(z)

    def _shape_output(self, raw: Any) -> torch.Tensor:
        out = select_output(raw, self.output_select)
        if self.output_channels_last and out.ndim == 4:
            out = out.permute(0, 3, 1, 2)
        if out.shape[1:] != self.data.shape:
            if out[0].numel() != self.data.numel:
                raise InputError(
                    f"the generator returned shape {tuple(out.shape[1:])} per sample, but the data "
                    f"spec says {self.data.shape}; give the right --output-shape"
                )
            out = out.reshape(out.shape[0], *self.data.shape)
        return out

    # -- the W space of a mapping network ---------------------------------------------------
    def use_mapping(self, name: str | None) -> None:
        """Take the generator's submodule ``name`` (dotted) as its mapping network z → w."""
        if name is not None:
            try:
                self.generator.get_submodule(name)
            except AttributeError as exc:
                have = ", ".join(n for n, _ in self.generator.named_modules() if n) or "none"
                raise InputError(f"the generator has no module {name!r} to use as its mapping "
                                 f"network; its modules: {have[:300]}") from exc
        self.mapping = name
        self._w_mean = None

    @property
    def has_mapping(self) -> bool:
        return self.mapping is not None

    def _mapping_module(self) -> nn.Module:
        if self.mapping is None:
            raise InputError("this generator has no mapping network (give --mapping MODULE)")
        return self.generator.get_submodule(self.mapping)

    def map(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """w = mapping(z) (before truncation), differentiable, on the device: G runs up to its
        mapping network and stops there."""
        seen: list[torch.Tensor] = []

        class _Stop(Exception):
            pass

        def grab(_m: nn.Module, _i: Any, out: torch.Tensor) -> None:
            seen.append(out)
            raise _Stop

        handle = self._mapping_module().register_forward_hook(grab)
        try:
            self._raw_forward(z, y)
        except _Stop:
            pass
        finally:
            handle.remove()
        if not seen:
            raise InputError(f"the generator never called its mapping network {self.mapping!r}")
        return seen[0]

    def synthesize(self, w: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """G's output with the mapping network's output replaced by ``w`` (one per sample):
        the synthesis alone, shaped like the data; differentiable."""
        w = w.to(self.device)
        handle = self._mapping_module().register_forward_hook(lambda _m, _i, _o: w)
        try:
            z = torch.zeros((w.shape[0], *self.latent.shape), device=self.device)
            return self._shape_output(self._raw_forward(z, y))
        finally:
            handle.remove()

    def w_mean(self) -> torch.Tensor:
        """w̄, the mean of the mapping network's outputs on 10,000 latents of a fixed seed."""
        if self._w_mean is None:
            z = self.latent.sample(W_MEAN_SAMPLES, W_MEAN_SEED)
            y = self.labels(W_MEAN_SAMPLES, W_MEAN_SEED)
            total = None
            with torch.no_grad():
                for zb, yb in self.paired_batches(z, y):
                    part = self.map(zb, yb).double().sum(0)
                    total = part if total is None else total + part
            self._w_mean = (total / W_MEAN_SAMPLES).float()
        return self._w_mean

    @property
    def d_is_probabilistic(self) -> bool:
        """Whether sigmoid(score) is D's probability that a sample is real (False for an
        unbounded critic, whose scores only order samples)."""
        return self.d_output != "score"

    def score(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """One differentiable discriminator call: one number per sample, higher meaning more
        real. A logit for every reading but ``score`` (probabilities become logits, a two-class
        output the log-odds of its real column), so analyzers see one scale. ``y``: the labels
        of a conditional discriminator (required there, ignored else)."""
        if self.discriminator is None:
            raise InputError("this GAN has no discriminator")
        x = x.to(self.device)
        if self.d_flatten:
            x = x.reshape(x.shape[0], -1)
        if self.d_conditional:
            raw = self.discriminator(x, self.condition(y, x.shape[0], "discriminator"))
        else:
            raw = self.discriminator(x)
        if self.d_output == "two-class":
            out = flatten_scores(raw, width=2)
            real, fake = out[:, self.d_real_index], out[:, 1 - self.d_real_index]
            if self.d_two_class_probabilities:
                real, fake = real.clamp_min(1e-12).log(), fake.clamp_min(1e-12).log()
            return real - fake
        out = flatten_scores(raw)
        if self.d_output == "probability":
            out = torch.logit(out.clamp(1e-6, 1 - 1e-6))
        return out

    def class_logits(self, x: torch.Tensor, y: torch.Tensor | None = None, *,
                     batch_size: int | None = None) -> torch.Tensor:
        """The class logits of an auxiliary-classifier D (the second of its outputs), in
        batches without gradients, on the CPU."""
        if self.discriminator is None or not self.d_aux_classes:
            raise InputError("this discriminator has no auxiliary class head")
        outs = []
        with torch.no_grad():
            for xb, yb in self.paired_batches(x, y, batch_size):
                xb = xb.to(self.device)
                if self.d_flatten:
                    xb = xb.reshape(xb.shape[0], -1)
                out = (self.discriminator(xb, self.condition(yb, xb.shape[0], "discriminator"))
                       if self.d_conditional else self.discriminator(xb))
                outs.append(out[1].reshape(xb.shape[0], -1).float().cpu())
        return torch.cat(outs) if outs else torch.empty(0, self.d_aux_classes)

    def batches(self, x: torch.Tensor, batch_size: int | None = None) -> Iterator[torch.Tensor]:
        bs = batch_size or self.batch_size
        for start in range(0, x.shape[0], bs):
            yield x[start : start + bs]

    def paired_batches(self, x: torch.Tensor, y: torch.Tensor | None,
                       batch_size: int | None = None
                       ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """``x`` in batches, each with its slice of the labels ``y`` (None stays None)."""
        bs = batch_size or self.batch_size
        if y is not None and len(y) != len(x):
            raise InputError(f"{len(y)} labels for {len(x)} samples; give one label per sample")
        for start in range(0, x.shape[0], bs):
            yield x[start : start + bs], None if y is None else y[start : start + bs]

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None, *,
               batch_size: int | None = None) -> torch.Tensor:
        """Generate from latents ``z`` (and labels ``y`` of a conditional GAN) in batches,
        without gradients; the result is on the CPU."""
        with torch.no_grad():
            outs = [self.forward(b, yb).float().cpu() for b, yb in self.paired_batches(z, y, batch_size)]
        return torch.cat(outs) if outs else torch.empty((0, *self.data.shape))

    def sample(self, n: int, seed: int = 0, *, batch_size: int | None = None,
               labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` generated samples from the latents of ``seed`` (and, for a conditional GAN,
        ``labels`` or the labels of ``seed``), on the CPU."""
        if self.conditional and labels is None:
            labels = self.labels(n, seed)
        return self.decode(self.latents(n, seed), labels, batch_size=batch_size)

    def discriminate(self, x: torch.Tensor, y: torch.Tensor | None = None, *,
                     batch_size: int | None = None) -> torch.Tensor:
        """Discriminator logits for ``x`` (with labels ``y`` for a conditional D) in batches,
        without gradients, on the CPU."""
        with torch.no_grad():
            outs = [self.score(b, yb).float().cpu() for b, yb in self.paired_batches(x, y, batch_size)]
        return torch.cat(outs) if outs else torch.empty(0)

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly description for reports."""
        n_g = sum(p.numel() for p in self.generator.parameters())
        n_d = (
            sum(p.numel() for p in self.discriminator.parameters()) if self.discriminator else None
        )
        return {
            "latent": self.latent.to_dict(),
            "data": self.data.to_dict(),
            "generator_parameters": n_g,
            "discriminator_parameters": n_d,
            "d_output": self.d_output,
            "d_read_as": self.d_note or None,
            "d_aux_classes": self.d_aux_classes,
            "num_classes": self.num_classes,
            "conditional": self.conditional,
            "d_conditional": self.d_conditional,
            "label_format": self.label_format if self.conditional or self.d_conditional else None,
            "conditioning": self.metadata.get("conditioning"),
            "mapping": self.mapping,
            "truncation": self.truncation if self.mapping is not None else None,
            "device": str(self.device),
        }
