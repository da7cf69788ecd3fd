"""The analysis context: everything an analyzer receives.

It holds the GAN, the shared capture (latents, samples, D scores, activations), the real data,
the seed and device, the feature spaces (computed once per run, shared by analyzers), the
classifier trained on labelled real data, and the ways to run extra passes. Every extra generator
pass goes through :meth:`AnalysisContext.generate` so that it is counted: a run's generator calls
are the shared pass plus the passes analyzers asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
from torch import nn

from .capture import Capture
from .dataset import Dataset
from .errors import AnalyzerError, FeatureUnavailable
from .gan import GAN
from .progress import track

T = TypeVar("T")
_UNSET = object()


@dataclass
class FeatureSet:
    """Features of the run's fakes and reals in one space (CPU float32).

    ``real`` holds the reals the embedding never saw: a space fitted on real data (its embed
    function has ``fitted_on(x) -> bool mask``) leaves out the reals it was fitted on, which
    come in ``real_fitted`` instead (for tests that need every training sample, such as
    memorisation, never for baselines). ``real_index`` and ``real_fitted_index`` give the rows
    of ``ctx.real`` each holds (None: ``real`` is all of them, in order); ``real_note`` says
    what was left out."""

    name: str
    description: str
    fake: torch.Tensor
    real: torch.Tensor | None
    real_index: torch.Tensor | None = None
    real_note: str | None = None
    real_fitted: torch.Tensor | None = None
    real_fitted_index: torch.Tensor | None = None

    @property
    def dim(self) -> int:
        return int(self.fake.shape[1])


@dataclass
class PassRecord:
    """One extra pass an analyzer ran through the context."""

    analyzer: str | None
    network: str
    calls: int
    samples: int
    grad: bool


@dataclass
class AnalysisContext:
    """What every analyzer's ``analyze(ctx)`` receives.

    Attributes:
        gan: the GAN (networks in eval mode on ``gan.device``).
        capture: the shared pass (``latents``, ``fakes``, ``d_fake``, ``d_real``, activations).
        real: the real data (shuffled with the seed, capped at max(10,000, 2N)), or None.
        real_full: all the real data, in their original order (the classifier trains on it).
        real_reason: why there are no real data, when ``real`` is None.
        real_train: the real samples the GAN was trained on, where the checkpoint records a
            held-out split of the dataset given (``ganlens train --holdout``), else None.
        real_held_out: real samples the GAN never trained on (that split's held-out rows),
            else None; ``held_out_note`` says where they came from, or why there are none.
        seed: the run's seed.
        n_samples: N, the number of generated samples in the shared pass.
        batch_size: the batch size of every pass.
        host: the plugin host (registries of feature spaces, datasets, attribution targets).
        progress_enabled: whether progress bars are shown.
        classifier_factory: ``factory(dataset, device=...) -> classifier`` that trains (or
            loads from the cache) the classifier on labelled real data; the engine passes the
            built-in one. Raises :class:`FeatureUnavailable` when it cannot.
    """

    gan: GAN
    capture: Capture
    real: Dataset | None
    seed: int = 0
    n_samples: int = 0
    batch_size: int = 256
    host: Any = None
    real_reason: str | None = None
    progress_enabled: bool = True
    real_full: Dataset | None = None
    real_train: Dataset | None = None
    real_held_out: Dataset | None = None
    held_out_note: str | None = None
    passes: list[PassRecord] = field(default_factory=list)
    current_analyzer: str | None = None
    _features: dict[str, FeatureSet] = field(default_factory=dict)
    _feature_fns: dict[str, Callable[[torch.Tensor], torch.Tensor]] = field(default_factory=dict)
    _classifier: Any = _UNSET
    classifier_reason: str | None = None
    classifier_factory: Callable[..., Any] | None = None

    # -- what the shared pass produced -------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.gan.device

    @property
    def latents(self) -> torch.Tensor:
        """(N, *latent shape) latents of the shared pass, on the CPU."""
        return self.capture.latents

    @property
    def fakes(self) -> torch.Tensor:
        """(N, *data shape) generated samples of the shared pass, on the CPU."""
        return self.capture.fakes

    @property
    def labels(self) -> torch.Tensor | None:
        """(N,) the class label of each latent of the shared pass (a conditional GAN), else
        None. Pass ``labels=ctx.labels[idx]`` with ``ctx.latents[idx]`` to extra passes."""
        return self.capture.labels

    @property
    def conditional(self) -> bool:
        """Whether the generator takes a class label with each latent."""
        return bool(self.gan.conditional)

    @property
    def real_labels_for_d(self) -> torch.Tensor | None:
        """The labels given to a conditional D with ``real_for_d``, else None."""
        return self.capture.real_labels

    @property
    def d_fake(self) -> torch.Tensor | None:
        """D's logits on the fakes, or None without a discriminator."""
        return self.capture.d_fake

    @property
    def d_real(self) -> torch.Tensor | None:
        """D's logits on ``real_for_d`` (the first N real samples), or None."""
        return self.capture.d_real

    @property
    def real_for_d(self) -> torch.Tensor | None:
        """The real samples D scored in the shared pass (the first N of ``real``)."""
        return self.capture.real_x

    def activations(self, network: str, module: str, reduction: str = "mean",
                    source: str = "fake") -> torch.Tensor:
        """Captured activations (float32, CPU) of a module the analyzer requested."""
        return self.capture.activation(network, module, reduction, source)

    # -- randomness ---------------------------------------------------------------------------
    def rng(self, salt: str = "") -> torch.Generator:
        """A CPU generator seeded from the run's seed and ``salt`` (e.g. the analyzer's name),
        so each analyzer's random draws are reproducible and independent of the others."""
        digest = hashlib.sha256(f"{self.seed}/{salt}".encode()).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))

    def latents_for(self, n: int, salt: str) -> torch.Tensor:
        """``n`` fresh latents from the prior, reproducible for (seed, salt)."""
        return self.gan.latent.sample(n, self.rng(salt))

    def labels_for(self, n: int, salt: str) -> torch.Tensor | None:
        """``n`` fresh class labels (uniform) for a conditional GAN, reproducible for (seed,
        salt); None for an unconditional one."""
        return self.gan.labels(n, self.rng(f"labels/{salt}"))

    # -- extra passes -------------------------------------------------------------------------
    def generate(self, z: torch.Tensor, *, labels: torch.Tensor | None = None,
                 grad: bool = False, batch_size: int | None = None) -> torch.Tensor:
        """Run G on ``z`` (with ``labels``, one per latent, for a conditional G: required
        there). Without ``grad``: batched, no gradients, result on the CPU. With ``grad``: one
        differentiable call on ``gan.device``. Every call is counted."""
        if self.conditional and labels is None:
            raise AnalyzerError(f"{self.current_analyzer or 'this analyzer'}: the generator is "
                                "conditional; pass labels= with the latents (ctx.labels for the "
                                "shared latents, ctx.labels_for(n, salt) for fresh ones)")
        if grad:
            self.record_pass("generator", 1, z.shape[0], True)
            return self.gan.forward(z, labels)
        bs = batch_size or self.batch_size
        calls = -(-z.shape[0] // bs)
        self.record_pass("generator", calls, z.shape[0], False)
        return self.gan.decode(z, labels, batch_size=bs)

    def discriminate(self, x: torch.Tensor, *, labels: torch.Tensor | None = None,
                     grad: bool = False, batch_size: int | None = None) -> torch.Tensor:
        """D's logits for ``x`` (with ``labels`` for a conditional D: required there); batched
        on the CPU without ``grad``, one call with it."""
        if self.gan.discriminator is None:
            raise AnalyzerError("this GAN has no discriminator")
        if self.gan.d_conditional and labels is None:
            raise AnalyzerError(f"{self.current_analyzer or 'this analyzer'}: the discriminator "
                                "is conditional; pass labels= with the samples")
        if grad:
            self.record_pass("discriminator", 1, x.shape[0], True)
            return self.gan.score(x, labels)
        bs = batch_size or self.batch_size
        self.record_pass("discriminator", -(-x.shape[0] // bs), x.shape[0], False)
        return self.gan.discriminate(x, labels, batch_size=bs)

    def record_pass(self, network: str, calls: int, samples: int, grad: bool = False) -> None:
        """Record an extra pass an analyzer ran itself (e.g. a probe in ``requests``), so the
        run's count of generator calls stays complete."""
        self.passes.append(PassRecord(self.current_analyzer, network, calls, samples, grad))

    @property
    def extra_generator_calls(self) -> int:
        return sum(p.calls for p in self.passes if p.network == "generator")

    @contextlib.contextmanager
    def hooks(self, hooks: dict[nn.Module, Callable[..., Any]]) -> Iterator[None]:
        """Register forward hooks for the duration of a ``with`` block; always removed."""
        handles = []
        try:
            for module, fn in hooks.items():
                handles.append(module.register_forward_hook(fn))
            yield
        finally:
            for h in handles:
                h.remove()

    def progress(self, items: Iterable[T], desc: str = "", total: int | None = None) -> Iterator[T]:
        """Iterate with a progress bar (shown on a terminal)."""
        return track(items, desc=desc, total=total, enabled=self.progress_enabled)

    # -- classifier and feature spaces --------------------------------------------------------
    @property
    def classifier(self) -> Any:
        """A classifier trained on the labelled real data (cached per dataset), or None with
        the reason in ``classifier_reason``."""
        if self._classifier is _UNSET:
            self._classifier = None
            if self.real is None:
                self.classifier_reason = "no real data"
            elif self.classifier_factory is None:
                self.classifier_reason = "no classifier factory was given to this context"
            else:
                try:
                    self._classifier = self.classifier_factory(self.real_full or self.real,
                                                               device=self.device)
                except FeatureUnavailable as exc:
                    self.classifier_reason = str(exc)
        return self._classifier

    def feature_space_names(self) -> list[str]:
        return sorted(self.host.feature_spaces) if self.host is not None else []

    def features(self, name: str = "auto") -> FeatureSet:
        """Fakes and reals embedded in the feature space ``name`` (``auto``: the classifier
        when there is one, else random-conv for images and pixels for vectors); computed once
        per run. Raises :class:`FeatureUnavailable` with the reason when it does not apply."""
        if name == "auto":
            name = self.default_feature_space()
        if name in self._features:
            return self._features[name]
        embed = self.feature_fn(name)
        fake = self.embed(embed, self.fakes)
        real, index, note, fitted, fitted_index = None, None, None, None, None
        if self.real is not None:
            reals = self.real.x
            fitted_on = getattr(embed, "fitted_on", None)
            if fitted_on is not None:
                seen = fitted_on(reals)
                index = torch.nonzero(~seen).reshape(-1)
                fitted_index = torch.nonzero(seen).reshape(-1)
                note = (f"the {name!r} feature space was fitted on real data: the "
                        f"{len(fitted_index)} reals it was fitted on are left out of its real "
                        f"reference and baselines (they count only as training data for the "
                        f"memorisation test), which use the other {len(index)} of {len(reals)}")
                fitted = self.embed(embed, reals[fitted_index])
                reals = reals[index]
            real = self.embed(embed, reals)
        fs = FeatureSet(name, self.host.feature_spaces[name].obj.description, fake, real, index,
                        note, fitted, fitted_index)
        self._features[name] = fs
        return fs

    def default_feature_space(self) -> str:
        """What ``features("auto")`` resolves to for this run: the classifier when there is one,
        else random-conv for images and pixels for vectors."""
        if self.classifier is not None:
            return "classifier"
        return "random-conv" if self.gan.data.is_image else "pixels"

    def feature_fn(self, name: str = "auto") -> Callable[[torch.Tensor], torch.Tensor]:
        """The embedding function of feature space ``name`` (built once per run), to embed
        samples other than the run's fakes and reals: ``ctx.embed(ctx.feature_fn(), x)``."""
        if name == "auto":
            name = self.default_feature_space()
        if name not in self._feature_fns:
            registry = self.host.feature_spaces if self.host is not None else {}
            if name not in registry:
                raise FeatureUnavailable(
                    f"unknown feature space {name!r}; known: {', '.join(sorted(registry))}"
                )
            self._feature_fns[name] = registry[name].obj.build(self)
        return self._feature_fns[name]

    def embed(self, embed: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Apply ``embed`` in batches on the device without gradients; float32 on the CPU."""
        outs = []
        with torch.no_grad():
            for start in range(0, x.shape[0], self.batch_size):
                outs.append(embed(x[start : start + self.batch_size].to(self.device)).float().cpu())
        return torch.cat(outs) if outs else torch.empty(0, 0)
