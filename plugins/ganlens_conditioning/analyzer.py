"""The ``conditioning`` analyzer: does G(z, y) make class y, and all of class y?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

import ganlens
from ganlens.errors import AnalyzerError, FeatureUnavailable, OptionError, SkipAnalysis

from . import figures, verdict
from .metrics import (
    confusion,
    coverage_flags,
    diversity,
    diversity_ratio,
    duplicate_flags,
    duplicate_threshold,
    knn_radii,
    precision_flags,
)

UNCONDITIONAL = ("the generator is unconditional (it takes no class label): conditioning "
                 "accuracy and per-class collapse apply to conditional GANs, G(z, y), only")
MIN_COMPARED = 5
"""Fewest samples per set (generated, real reference, real holdout) a class is compared with."""


class Conditioning(ganlens.Analyzer):
    """Does a conditional generator make the class it is asked for, and the whole of it?
    Conditioning accuracy per class beside the classifier's accuracy on real data, and per-class
    diversity, near-duplicates and coverage beside each class's real samples."""

    name = "conditioning"
    title = "Conditioning"
    description = ("For a conditional GAN: does G(z, y) look like class y? The share of samples "
                   "of each class that a classifier trained on the real labels assigns to it, "
                   "beside what it scores on real data (the ceiling), with the confusion matrix; "
                   "and, within each class, the diversity, near-duplicates and coverage of the "
                   "samples beside that class's real samples: which classes are mis-conditioned "
                   "and which have collapsed.")
    needs_real_data = True

    @dataclass
    class Options:
        per_class: int = ganlens.option(100, ge=10, le=10000)
        """Samples per class: those of the shared pass, topped up by an extra balanced pass for
        classes with fewer. Collapse compares min(per_class, half the class's real samples)."""
        features: str = "auto"
        """Feature space of the per-class collapse tests: auto (random-conv for images, pixels
        for vectors) or any registered space. The classifier's space is trained to pull each
        class together, so it understates differences within a class."""
        k: int = ganlens.option(5, ge=1, le=100)
        """k of the k-NN balls of coverage (Naeem et al. 2020 use 5)."""
        collapse_ratio: float = ganlens.option(0.5, gt=0, lt=1)
        """A class is collapsed when its diversity or coverage is at most this fraction of its
        real class's (and significantly lower)."""
        duplicate_quantile: float = ganlens.option(0.01, gt=0, lt=1)
        """Near-duplicate threshold of a class: this quantile of its real samples' distances
        to their nearest other real sample of the class."""
        significance: float = ganlens.option(0.01, gt=0, lt=0.5)
        """Family-wise level of each per-class test (each class tested at significance / K)."""
        confidence: float = ganlens.option(0.95, gt=0, lt=1)
        """Level of the diversity-ratio intervals shown."""
        figures: bool = True
        """Draw the figures."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        if not self.options.features:
            raise OptionError(f"option {self.name}.features: expected a feature space name or "
                              f"auto, got {self.options.features!r}")

    def validate(self, host: ganlens.PluginHost) -> None:
        self.check_choice("features", ["auto", *sorted(host.feature_spaces)], "feature space")

    def skip_reason(self, gan: ganlens.GAN, has_real: bool) -> str | None:
        if not gan.conditional:
            return UNCONDITIONAL
        if not has_real:
            return ("no real data: give labelled real data with --real (Python: real=...); "
                    "conditioning accuracy (a classifier trained on the real labels) and "
                    "per-class collapse (each class's real samples as baseline) were not computed")
        return None

    # -- the verb ---------------------------------------------------------------------------
    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        gan = ctx.gan
        why = self.skip_reason(gan, ctx.real is not None)
        if why is not None:
            raise SkipAnalysis(why + (f" ({ctx.real_reason})" if ctx.real is None
                                      and ctx.real_reason else ""))
        if ctx.host is not None:
            self.validate(ctx.host)
        real = ctx.real
        k = gan.require_classes()
        both = ("conditioning accuracy (a classifier trained on the real labels) and per-class "
                "collapse (each class's real samples as baseline) were not computed")
        if real.labels is None:
            raise SkipAnalysis(f"the real data {real.name!r} have no labels: {both}")
        if real.num_classes != k:
            raise SkipAnalysis(f"the real data {real.name!r} have {real.num_classes} classes but "
                               f"the generator has {k}: their classes cannot be matched, so {both}")
        names = list(real.class_names) if real.class_names and len(real.class_names) == k \
            else [str(i) for i in range(k)]

        section = self.new_section()
        x, y, extra = self._samples(ctx, k)
        if not torch.isfinite(x).all():
            raise AnalyzerError("the generated samples contain NaN or infinite values")
        section.metric("classes", k, "classes of the conditional generator")
        section.metric("samples_per_class", self.options.per_class,
                       "generated samples per class (balanced)")
        section.metric("extra_samples", extra,
                       "samples generated in an extra pass, for classes with fewer than "
                       "samples_per_class in the shared pass")
        skipped: list[verdict.NotComputed] = []
        cond = self._conditioning(ctx, x, y, k, section, skipped)
        res = self._collapse(ctx, x, y, k, names, section, skipped,
                             set() if cond is None else set(cond.failures))
        if cond is None and res is None:
            raise SkipAnalysis("; ".join(f"{s.what} not computed: {s.reason}" for s in skipped))
        for item in skipped:
            section.finding("info", f"{item.what} not computed: {item.reason}")
        o = self.options
        if cond is not None:
            verdict.conditioning_findings(section, cond, o.significance)
        if res is not None:
            mis = {} if cond is None else {y_: cond.names[cond.top_other(y_)[0]]
                                           for y_ in cond.failures
                                           if cond.kinds[y_] == "another"}
            verdict.collapse_findings(section, res, o.collapse_ratio, o.significance,
                                      cond is not None, mis)
            if res.note:
                section.finding("info", res.note)
        section.table("per_class", "Per class",
                      verdict.per_class_columns(cond is not None, res is not None),
                      verdict.per_class_rows(names, cond, res),
                      "One row per conditioning class: the classifier's verdict on its samples "
                      "beside real data, and its collapse tests beside the real holdout.")
        section.summary = verdict.headline(cond, res, skipped)
        if o.figures:
            figures.add_figures(section, ctx, x, y, k, names, cond, res)
        return section

    # -- samples ----------------------------------------------------------------------------
    def _samples(self, ctx: ganlens.AnalysisContext, k: int
                 ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """``per_class`` samples of each class, ordered by class: the shared pass's first, then
        an extra pass (fresh latents) for what is missing."""
        per = self.options.per_class
        shared = ctx.labels
        picks, deficits = [], []
        for c in range(k):
            idx = torch.nonzero(shared == c).reshape(-1)[:per]
            picks.append(idx)
            deficits.append(per - len(idx))
        total = sum(deficits)
        fresh, fresh_y = None, None
        if total:
            fresh_y = torch.repeat_interleave(torch.arange(k), torch.tensor(deficits))
            z = ctx.latents_for(total, "conditioning/balanced")
            fresh = ctx.generate(z, labels=fresh_y)
        xs = []
        for c in range(k):
            xs.append(ctx.fakes[picks[c]])
            if fresh is not None and deficits[c]:
                xs.append(fresh[fresh_y == c])
        x = torch.cat(xs)
        y = torch.repeat_interleave(torch.arange(k), per)
        return x, y, total

    # -- conditioning accuracy --------------------------------------------------------------
    def _conditioning(self, ctx: ganlens.AnalysisContext, x: torch.Tensor, y: torch.Tensor,
                      k: int, section: ganlens.Section,
                      skipped: list[verdict.NotComputed]) -> verdict.ConditioningResult | None:
        what = "conditioning accuracy"
        clf = ctx.classifier
        if clf is None:
            skipped.append(verdict.NotComputed(what, f"no classifier: {ctx.classifier_reason}"))
            return None
        if clf.num_classes != k:
            skipped.append(verdict.NotComputed(
                what, f"the classifier knows {clf.num_classes} classes but the generator has "
                      f"{k}: their classes cannot be matched"))
            return None
        real = ctx.real
        # Cross-fitted labels on both sides: a real sample is labelled by a classifier that
        # never trained on it, as a generated one is, so the real ceiling is not flattered.
        pred = clf.predict_unseen(x)
        real_pred = clf.predict_unseen(real.x)
        cond = verdict.ConditioningResult(
            list(clf.class_names), confusion(y, pred, k), confusion(real.labels, real_pred, k),
            float(clf.accuracy))
        verdict.judge_conditioning(cond, self.options.significance)
        section.metric("conditioning_accuracy", cond.accuracy,
                       "share of the generated samples that the classifier assigns to the class "
                       "they were generated for (classes balanced)",
                       f"near real_accuracy ({cond.real_accuracy:.3f}): what a perfect generator "
                       "scores")
        section.metric("real_accuracy", cond.real_accuracy,
                       f"the ceiling: share of the {len(real)} real samples the same cross-fitted "
                       "classifiers assign to their true class (each by a classifier that never "
                       "trained on it)")
        section.metric("classifier_accuracy", cond.classifier_accuracy,
                       "held-out accuracy of the classifier on a fixed 20% of the real data",
                       "at least 0.9 (below, ganlens refuses it)")
        section.metric("conditioning_accuracy_per_class", cond.accuracy_per_class,
                       "per class y: share of the samples generated for y labelled y",
                       "each near real_accuracy_per_class")
        section.metric("real_accuracy_per_class", cond.real_accuracy_per_class,
                       "per class: share of its real samples labelled as it (null: no real "
                       "sample of the class)")
        section.metric("conditioning_confusion", cond.shares,
                       "row-normalised confusion matrix: row y, the share of the samples "
                       "generated for y labelled each class",
                       "mass on the diagonal, like real_confusion")
        section.metric("real_confusion", cond.real_shares,
                       "the same for the real samples (row: true class)")
        section.metric("conditioning_failures", [cond.names[i] for i in cond.failures],
                       "classes whose samples are mostly another class, or mostly no one class",
                       "empty")
        section.metric("weakly_conditioned_classes",
                       [cond.names[i] for i, kind in enumerate(cond.kinds) if kind == "weak"],
                       "classes whose samples are mostly right but whose error rate is at least "
                       f"{verdict.ERROR_RATIO:g}x the real class's (significantly)", "empty")
        return cond

    # -- per-class collapse -----------------------------------------------------------------
    def _collapse(self, ctx: ganlens.AnalysisContext, x: torch.Tensor, y: torch.Tensor, k: int,
                  names: list[str], section: ganlens.Section,
                  skipped: list[verdict.NotComputed],
                  mis_conditioned: set[int]) -> verdict.CollapseResult | None:
        what = "per-class collapse"
        o = self.options
        space = o.features
        if space == "auto":
            space = "random-conv" if ctx.gan.data.is_image else "pixels"
        try:
            fn = ctx.feature_fn(space)
        except FeatureUnavailable as exc:
            skipped.append(verdict.NotComputed(what, f"feature space {space!r} is not available "
                                                     f"here: {exc}"))
            return None
        real = ctx.real
        real_x, real_y = real.x, real.labels
        note = None
        fitted_on = getattr(fn, "fitted_on", None)
        if fitted_on is not None:
            unseen = ~fitted_on(real_x)
            note = (f"the {space!r} feature space was fitted on real data: the "
                    f"{int((~unseen).sum())} reals it was fitted on are left out of the "
                    f"per-class references and baselines, which use the other {int(unseen.sum())}")
            real_x, real_y = real_x[unseen], real_y[unseen]
        feats = ctx.embed(fn, x)
        real_feats = ctx.embed(fn, real_x)
        for side, values in (("generated", feats), ("real", real_feats)):
            if values.numel() and not torch.isfinite(values).all():
                skipped.append(verdict.NotComputed(
                    what, f"the {space!r} features of the {side} samples contain NaN or infinite "
                          f"values; choose another space with --option {self.name}.features=NAME"))
                return None
        needed = max(o.k + 1, MIN_COMPARED)
        classes, not_compared = [], []
        for c in range(k):
            rc = real_feats[real_y == c]
            n = min(o.per_class, len(rc) // 2)
            if n < needed:
                not_compared.append((names[c], f"{len(rc)} real samples, {2 * needed} needed"))
                continue
            ref, hold = rc[:n], rc[n : 2 * n]
            fake = feats[y == c][:n]
            div, div_base = diversity(fake), diversity(hold)
            radii = knn_radii(ref, o.k)
            threshold = duplicate_threshold(ref, o.duplicate_quantile)
            classes.append(verdict.ClassCollapse(
                c, names[c], n, div, div_base, diversity_ratio(div, div_base, o.confidence),
                threshold, duplicate_flags(fake, threshold), duplicate_flags(hold, threshold),
                coverage_flags(ref, fake, radii), coverage_flags(ref, hold, radii),
                precision_flags(fake, ref, radii), precision_flags(hold, ref, radii)))
        if not classes:
            skipped.append(verdict.NotComputed(
                what, f"no class has the {2 * needed} real samples a comparison needs "
                      f"(reference and holdout of at least {needed} each)"))
            return None
        res = verdict.CollapseResult(space, ctx.host.feature_spaces[space].obj.description
                                     if ctx.host is not None else space, o.k, classes,
                                     not_compared, note)
        verdict.judge_collapse(res, o.collapse_ratio, o.significance, mis_conditioned)
        self._collapse_metrics(section, res, k)
        return res

    def _collapse_metrics(self, section: ganlens.Section, res: verdict.CollapseResult,
                          k: int) -> None:
        by = {c.index: c for c in res.classes}

        def per(f: Callable[[verdict.ClassCollapse], Any]) -> list[Any]:
            return [f(by[i]) if i in by else None for i in range(k)]

        o = self.options
        section.metric("feature_space", res.space,
                       f"where the per-class collapse tests compare samples: {res.description}")
        section.metric("compared_per_class", per(lambda c: c.n),
                       "n per class: generated samples compared, and the size of the real "
                       "reference and of the real holdout (min(per_class, real / 2); null: not "
                       "computed)")
        section.metric("diversity_per_class", per(lambda c: c.diversity.mean),
                       "mean pairwise distance of each class's generated samples")
        section.metric("diversity_baseline_per_class", per(lambda c: c.diversity_baseline.mean),
                       "the same for n held-out real samples of the class: what a perfect "
                       "generator scores")
        section.metric("diversity_ratio_per_class", per(lambda c: c.ratio.value),
                       "diversity over its baseline, per class",
                       f"near 1; at most {o.collapse_ratio:g} and significantly below 1: collapsed")
        section.metric("diversity_ratio_ci_per_class", per(lambda c: list(c.ratio.interval)),
                       f"{o.confidence:.0%} interval of each ratio (log scale, jackknife "
                       "variances)")
        section.metric("duplicate_fraction_per_class", per(lambda c: c.duplicate_fraction),
                       "share of each class's samples with another sample of the class within "
                       f"the near-duplicate threshold (the {o.duplicate_quantile:g} quantile of "
                       "the class's real nearest-neighbour distances)",
                       "near the baseline; at least 1 - (1 - 1/n)^(n-1) (about 63%), significantly "
                       "above it: collapsed")
        section.metric("duplicate_fraction_baseline_per_class",
                       per(lambda c: c.duplicate_fraction_baseline),
                       "the same for the real holdout of the class")
        section.metric("support_estimate_per_class", per(lambda c: c.support),
                       "the number of equally likely distinct outputs whose n samples would have "
                       "that share of near-duplicates (a lower bound for unequal ones; null: no "
                       "near-duplicate, no bound)",
                       "null or well above n; below n: the class has fewer distinct outputs than "
                       "the samples drawn")
        section.metric("coverage_per_class", per(lambda c: c.coverage),
                       f"share of the class's real reference whose {o.k}-NN ball holds a sample "
                       "of the class (Naeem et al. 2020)",
                       f"near the baseline; at most {o.collapse_ratio:g} of it: real regions of "
                       "the class without samples")
        section.metric("coverage_baseline_per_class", per(lambda c: c.coverage_baseline),
                       "the same for the real holdout of the class")
        section.metric("precision_per_class", per(lambda c: c.precision),
                       f"share of each class's samples inside the {o.k}-NN ball of a real "
                       "reference sample of the class (Kynkäänniemi et al. 2019): do they lie on "
                       "the real class?", "near the baseline")
        section.metric("precision_baseline_per_class", per(lambda c: c.precision_baseline),
                       "the same for the real holdout of the class")
        section.metric("off_class_classes", [c.name for c in res.classes if c.off_class],
                       "classes whose samples cover little of their real class and lie off it "
                       "(low coverage and low precision: quality, not a proof of collapse)",
                       "empty")
        section.metric("collapsed_classes", [c.name for c in res.collapsed],
                       "classes whose samples are collapsed by the tests above", "empty")
        ratios = [c.ratio.value for c in res.classes if c.ratio.value == c.ratio.value]
        if ratios:
            section.metric("min_diversity_ratio", min(ratios),
                           "the lowest diversity ratio of any class", "near 1")
