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

For a conditional GAN every generator-side attribution explains ``target(G(z, y))`` at a fixed
label y per latent. A target that itself needs the label (the ``discriminator`` target of a
conditional ``D(x, y)``) is a :class:`LabelledTarget`: its ``labelled(x, y)`` is called with
the labels of the samples it explains (bound per chunk by the callers, through captum's
``additional_forward_args``); :func:`evaluate` calls either kind.

A plugin adds one through the ``ganlens_register_attribution_targets`` hook, returning
:class:`ganlens.AttributionTargetInfo` entries whose ``build(ctx, argument)`` makes a
:class:`ganlens.AttributionTarget`; ``ganlens plugins`` lists them with the plugin they came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

import ganlens
from ganlens.errors import FeatureUnavailable, OptionError, PluginError

if TYPE_CHECKING:
    from ganlens import AnalysisContext

Target = ganlens.AttributionTarget
"""A scalar function of generated data (:class:`ganlens.AttributionTarget`)."""



@dataclass
class LabelledTarget(ganlens.AttributionTarget):
    """A target that also takes the class labels of the samples it explains:
    ``labelled(x, y)`` maps a batch of data and its (B,) labels to (B,) scalars (for a
    conditional discriminator: ``D(x, y)``). Called without labels it raises a clear error."""

    labelled: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    def __call__(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.labelled is None:
            return self.fn(x)
        if labels is None:
            raise PluginError(f"attribution target {self.name!r} needs the class label of each "
                              "sample (it explains a conditional network)")
        return self.labelled(x, labels)


def evaluate(target: Target, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """``target`` on a batch ``x`` whose samples have ``labels`` (None: unconditional); only a
    :class:`LabelledTarget` receives the labels."""
    if isinstance(target, LabelledTarget) and target.labelled is not None:
        return target(x, labels)
    return target(x)


def needs_labels(target: Target) -> bool:
    return isinstance(target, LabelledTarget) and target.labelled is not None


TargetFactory = Callable[["AnalysisContext", "str | None"], Target]
"""``factory(ctx, argument) -> Target``; raise :class:`ganlens.errors.FeatureUnavailable` with
the reason when the target does not apply to this GAN, :class:`ganlens.errors.OptionError` when
the argument is malformed."""


def registered_targets(ctx: AnalysisContext) -> dict[str, ganlens.AttributionTargetInfo]:
    """Every target the run's plugin host knows: the built-in ones and those plugins register
    through ``ganlens_register_attribution_targets``."""
    table = getattr(ctx.host, "attribution_targets", None) or {}
    return {name: entry.obj for name, entry in table.items()}


def parse_spec(spec: str, known: dict[str, ganlens.AttributionTargetInfo]) -> tuple[str, str | None]:
    """``"classifier:3"`` → ``("classifier", "3")``; checks that the name is in ``known``."""
    name, sep, arg = spec.strip().partition(":")
    if name not in known:
        raise OptionError(f"option attributions.targets: unknown target {name!r}; expected one of "
                          f"{', '.join(sorted(known))} (NAME or NAME:ARGUMENT)")
    return name, (arg if sep else None)


def build_target(ctx: AnalysisContext, spec: str) -> Target:
    """The target for ``spec``; raises FeatureUnavailable when it does not apply."""
    known = registered_targets(ctx)
    name, arg = parse_spec(spec, known)
    target = known[name].build(ctx, arg)
    if not isinstance(target, Target):
        raise PluginError(f"attribution target {name!r} returned {type(target).__name__}, "
                          "expected a ganlens.AttributionTarget")
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
    if gan.d_conditional:
        return LabelledTarget(
            "discriminator", "the conditional discriminator's logit D(x, y) at the label y each "
            "sample was generated with (higher: judged a more real sample of that class)",
            gan.score, modules=(gan.discriminator,), labelled=gan.score)
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


BUILTIN_TARGETS = [
    ganlens.AttributionTargetInfo("discriminator", discriminator_target, "D's logit"),
    ganlens.AttributionTargetInfo("region", region_target,
                                  "the sum of the data values in a box (fractions)"),
    ganlens.AttributionTargetInfo("classifier", classifier_target,
                                  "a logit of the real-data classifier"),
]
