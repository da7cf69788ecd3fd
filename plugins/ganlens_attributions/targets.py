"""Scalar targets: what the generator-side attributions explain.

captum explains one scalar per sample; a generator outputs an image. A :class:`Target` turns a
batch of generated data into one number per sample (D's score, the sum of a pixel region, a
classifier logit), so that "which latent dimensions / which generator units drive *this*" is a
well-posed attribution question.

Targets are named in the analyzer's ``targets`` option as ``NAME`` or ``NAME:ARGUMENT``:

- ``discriminator`` — D's logit (needs a discriminator);
- ``region:TOP:BOTTOM:LEFT:RIGHT`` — the sum of the data values in that box, given as
  fractions of the image height and width (0 = top/left, 1 = bottom/right); for vector data
  ``region:START:STOP`` as fractions of the coordinates;
- ``classifier`` — the logit of each sample's predicted class under the classifier ganlens
  trains on labelled real data; ``classifier:K`` the logit of class K (index or name).

A plugin adds one with :func:`register_target` (at import time of its package) or through the
``ganlens_attributions.targets`` entry-point group, whose objects are factories
``factory(ctx, argument) -> Target``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

import torch

from ganlens.errors import FeatureUnavailable, OptionError, PluginError

if TYPE_CHECKING:
    from ganlens.context import AnalysisContext

ENTRY_POINT_GROUP = "ganlens_attributions.targets"


@dataclass
class Target:
    """A scalar function of generated data.

    Args:
        name: the spec it was built from (``discriminator``, ``classifier:3``, ...).
        description: one line for the report (what the number is).
        fn: maps a batch of data (B, *data shape), on the GAN's device, to (B,) scalars, or
            to (B, K) outputs when ``select`` is given.
        select: optional; maps the batch of end points (B, *data shape) to (B,) indices of
            the output to explain for each sample (e.g. its predicted class). The index stays
            fixed along an integration path.
        modules: networks the target runs (their parameters are frozen during attributions).
    """

    name: str
    description: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    select: Callable[[torch.Tensor], torch.Tensor] | None = None
    modules: tuple[torch.nn.Module, ...] = ()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def indices(self, x: torch.Tensor) -> torch.Tensor | None:
        """The per-sample output indices for end points ``x`` (None for a scalar target)."""
        if self.select is None:
            return None
        with torch.no_grad():
            return self.select(x).reshape(-1).long()


TargetFactory = Callable[["AnalysisContext", "str | None"], Target]
"""``factory(ctx, argument) -> Target``; raise :class:`ganlens.errors.FeatureUnavailable` with
the reason when the target does not apply to this GAN, :class:`ganlens.errors.OptionError` when
the argument is malformed."""


@dataclass(frozen=True)
class TargetInfo:
    name: str
    factory: TargetFactory
    description: str
    source: str = "ganlens_attributions"


_REGISTRY: dict[str, TargetInfo] = {}
_ENTRY_POINTS_LOADED = False


def register_target(name: str, factory: TargetFactory, description: str = "", *,
                    source: str = "") -> None:
    """Make ``name`` usable in the ``attributions.targets`` option.

    Raises:
        PluginError: ``name`` is empty, contains ``:`` or ``,``, or is already registered.
    """
    if not name or ":" in name or "," in name or name != name.strip():
        raise PluginError(f"attribution target name {name!r}: expected a word without ':' or ','")
    if not callable(factory):
        raise PluginError(f"attribution target {name!r}: the factory {factory!r} is not callable")
    if name in _REGISTRY and _REGISTRY[name].factory is not factory:
        raise PluginError(f"attribution target {name!r} is registered twice: by "
                          f"{_REGISTRY[name].source} and by {source or 'a caller'}")
    _REGISTRY[name] = TargetInfo(name, factory, description, source or "a caller")


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            factory = ep.load()
        except Exception as exc:  # one broken plugin must not hide the built-in targets
            raise PluginError(f"attribution target {ep.name!r} from {ep.value} failed to load: "
                              f"{type(exc).__name__}: {exc}") from exc
        register_target(ep.name, factory, (factory.__doc__ or "").strip().split("\n")[0],
                        source=ep.value)


def registered_targets() -> dict[str, TargetInfo]:
    """Every known target: the built-in ones, registered ones and entry points."""
    _load_entry_points()
    return dict(_REGISTRY)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"classifier:3"`` → ``("classifier", "3")``; checks that the name is known."""
    name, sep, arg = spec.strip().partition(":")
    known = registered_targets()
    if name not in known:
        raise OptionError(f"option attributions.targets: unknown target {name!r}; expected one of "
                          f"{', '.join(sorted(known))} (NAME or NAME:ARGUMENT)")
    return name, (arg if sep else None)


def build_target(ctx: AnalysisContext, spec: str) -> Target:
    """The target for ``spec``; raises FeatureUnavailable when it does not apply."""
    name, arg = parse_spec(spec)
    target = registered_targets()[name].factory(ctx, arg)
    if not isinstance(target, Target):
        raise PluginError(f"attribution target {name!r} returned {type(target).__name__}, "
                          "expected a ganlens_attributions.Target")
    return target


# ---------------------------------------------------------------------------------------------
# Built-in targets
# ---------------------------------------------------------------------------------------------


def discriminator_target(ctx: AnalysisContext, arg: str | None = None) -> Target:
    """D's logit."""
    if arg:
        raise OptionError(f"option attributions.targets: 'discriminator' takes no argument, got {arg!r}")
    gan = ctx.gan
    if gan.discriminator is None:
        raise FeatureUnavailable("this GAN has no discriminator")
    return Target("discriminator", "the discriminator's logit D(x) (higher: judged more real)",
                  gan.score, modules=(gan.discriminator,))


def parse_region(arg: str | None, ndim: int) -> tuple[float, ...]:
    """``"0:0.5:0:1"`` → four fractions for images (``ndim`` 3), two for vectors."""
    want = 4 if ndim == 3 else 2
    form = "region:TOP:BOTTOM:LEFT:RIGHT" if want == 4 else "region:START:STOP"
    parts = (arg or "").split(":")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != want or not all(0.0 <= v <= 1.0 for v in values) \
            or any(values[i] >= values[i + 1] for i in range(0, want, 2)):
        raise OptionError(f"option attributions.targets: {('region:' + (arg or '')).rstrip(':')!r}: "
                          f"expected {form} with fractions 0 <= start < stop <= 1, e.g. "
                          + ("region:0:0.5:0:0.5 (the top-left quarter)" if want == 4 else "region:0:0.5"))
    return values


def _span(lo: float, hi: float, size: int) -> slice:
    start = min(size - 1, int(math.floor(lo * size)))
    return slice(start, max(start + 1, int(math.ceil(hi * size))))


def region_sum(fractions: tuple[float, ...]) -> Callable[[torch.Tensor], torch.Tensor]:
    """The sum of the data values in a box given as fractions (rows then columns for
    images, one range for vectors)."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        if len(fractions) == 4:
            rows = _span(fractions[0], fractions[1], x.shape[-2])
            cols = _span(fractions[2], fractions[3], x.shape[-1])
            return x[..., rows, cols].flatten(1).sum(1)
        return x.flatten(1)[:, _span(fractions[0], fractions[1], x[0].numel())].sum(1)

    return fn


def region_target(ctx: AnalysisContext, arg: str | None) -> Target:
    """The sum of the data values in a box."""
    shape = ctx.gan.data.shape
    fr = parse_region(arg, len(shape))
    if len(fr) == 4:
        rows, cols = _span(fr[0], fr[1], shape[1]), _span(fr[2], fr[3], shape[2])
        where = f"rows {rows.start}-{rows.stop - 1}, columns {cols.start}-{cols.stop - 1}"
    else:
        span = _span(fr[0], fr[1], shape[0])
        where = f"coordinates {span.start}-{span.stop - 1}"
    return Target(f"region:{arg}", f"the sum of the generated values in {where}", region_sum(fr))


def classifier_target(ctx: AnalysisContext, arg: str | None) -> Target:
    """A logit of the classifier trained on the labelled real data."""
    clf = ctx.classifier
    if clf is None:
        raise FeatureUnavailable(f"no classifier: {ctx.classifier_reason or 'no labelled real data'}")
    model = clf.model

    def logits(x: torch.Tensor) -> torch.Tensor:
        return model(x.to(clf.device))

    if arg is None:
        return Target("classifier", "the classifier's logit of each sample's predicted class",
                      logits, select=lambda x: logits(x).argmax(1), modules=(model,))
    names = list(clf.class_names)
    if arg in names:
        k = names.index(arg)
    else:
        try:
            k = int(arg)
        except ValueError:
            k = -1
    if not 0 <= k < clf.num_classes:
        raise OptionError(f"option attributions.targets: 'classifier:{arg}': expected a class index "
                          f"0..{clf.num_classes - 1} or a class name ({', '.join(names)})")
    return Target(f"classifier:{arg}", f"the classifier's logit of class {names[k]!r}",
                  lambda x: logits(x)[:, k], modules=(model,))


register_target("discriminator", discriminator_target, "D's logit")
register_target("region", region_target, "the sum of the data values in a box (fractions)")
register_target("classifier", classifier_target, "a logit of the real-data classifier")
