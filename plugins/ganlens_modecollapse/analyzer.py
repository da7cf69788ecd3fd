"""The ``mode_collapse`` analyzer: known modes, classes, feature-space metrics, a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

import ganlens
from ganlens.errors import AnalyzerError, FeatureUnavailable, OptionError

from . import compare as C
from . import figures, verdict
from .modes import Counted, class_coverage, coverage_min_count, histogram_js, mode_coverage

MODES_COVERED, MODES_TOTAL = "modes_covered", "modes_total"
HIGH_QUALITY_FRACTION, MODE_HISTOGRAM_JS = "high_quality_fraction", "mode_histogram_js"
CLASSES_COVERED, CLASSES_TOTAL = "classes_covered", "classes_total"
CLASS_KL, CLASSIFIER_ACCURACY = "class_kl", "classifier_accuracy"


class ModeCollapse(ganlens.Analyzer):
    """Has the generator collapsed? Known modes, classes and feature-space coverage, each beside
    what real data score at the same sample size."""

    name = "mode_collapse"
    title = "Mode collapse"
    description = ("Does the generator cover the data, or only part of it? Known modes (mixtures), "
                   "classes (labelled data), and precision/recall, density/coverage, NDB/K, "
                   "duplicates and memorisation in a feature space, each beside a real-vs-real "
                   "baseline with bootstrap intervals, and the birthday-paradox test of the "
                   "support.")
    needs_real_data = True

    @dataclass
    class Options:
        features: str = "auto"
        """Feature space of the metrics: auto (the classifier when the real data have labels it
        learns to 90%, else random-conv for images and pixels for vectors) or any registered
        space (pixels, discriminator, classifier, random-conv, ...)."""
        k_precision_recall: int = ganlens.option(3, ge=1)
        """k of the k-NN balls for precision and recall (Kynkäänniemi et al. use 3)."""
        k_density_coverage: int = ganlens.option(5, ge=1)
        """k for density and coverage (Naeem et al. use 5)."""
        ndb_bins: int = ganlens.option(50, ge=2)
        """K-means bins of NDB/K (fewer when there are under 10 real samples per bin)."""
        ndb_alpha: float = ganlens.option(0.05, gt=0, lt=1)
        """Significance level of NDB's per-bin z-test."""
        min_samples_per_mode: int = ganlens.option(1, ge=1)
        """High-quality samples a known mode (or class) needs to count as covered."""
        quality_std: float = ganlens.option(3.0, gt=0)
        """A sample within this many mode std of its nearest mode centre is high quality."""
        duplicate_quantile: float = ganlens.option(0.01, gt=0, lt=1)
        """Near-duplicate threshold: this quantile of real nearest-neighbour distances."""
        memorisation_quantile: float = ganlens.option(0.05, gt=0, lt=1)
        """Memorisation threshold: this quantile of held-out nearest-training distances."""
        bootstrap: int = ganlens.option(1000, ge=0)
        """Bootstrap resamples for the confidence intervals (0: none, faster; the findings then
        compare with the normal-approximation interval of the baseline and say so)."""
        confidence: float = ganlens.option(0.95, gt=0, lt=1)
        """Level of the bootstrap intervals."""
        ties: Literal["strict", "inclusive"] = "strict"
        """A point at exactly a k-NN radius is outside (strict, as prdc) or inside (inclusive)."""
        figures: bool = True
        """Draw the figures (turn off for speed, e.g. when called from a training loop)."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        validate_options(self.options)

    def validate(self, host: ganlens.PluginHost) -> None:
        self.check_choice("features", ["auto", *sorted(host.feature_spaces)], "feature space")

    # -- the verb ---------------------------------------------------------------------------
    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        section = self.new_section()
        if ctx.real is None:
            raise ganlens.errors.SkipAnalysis(ctx.real_reason or "no real data")
        opts = self.options
        if ctx.host is not None:
            self.validate(ctx.host)
        section.metric("samples", ctx.n_samples, "generated samples analysed (N)")
        skipped: list[verdict.NotComputed] = []
        modes = self._known_modes(ctx, section, skipped)
        classes = self._classes(ctx, section, skipped)
        comparison = self._feature_metrics(ctx, section, skipped)
        verdict.add_findings(section, modes, classes, comparison, opts, skipped)
        section.summary = verdict.headline(modes, classes, comparison, skipped)
        if opts.figures:
            figures.add_figures(section, ctx, modes, classes, comparison)
        return section

    # -- known modes --------------------------------------------------------------------------
    def _known_modes(self, ctx: ganlens.AnalysisContext, section: ganlens.Section,
                     skipped: list[verdict.NotComputed]) -> Counted | None:
        real = ctx.real
        if not real.has_modes:
            skipped.append(verdict.NotComputed(
                "known-mode metrics", "the real data declare no mode centres (ring8, grid25 and "
                "dataset plugins that declare them do)", "no known modes"))
            return None
        centres = real.modes.reshape(real.modes.shape[0], -1).float()
        if centres.shape[1] != ctx.fakes[0].numel():
            skipped.append(verdict.NotComputed(
                "known-mode metrics", f"the real data declare modes of {centres.shape[1]} values "
                f"but samples have {ctx.fakes[0].numel()}", "modes of another dimension"))
            return None
        o = self.options
        kw = dict(quality_std=o.quality_std, min_samples_per_mode=o.min_samples_per_mode)
        fake = mode_coverage(ctx.fakes, centres, real.mode_std, **kw)
        ref = mode_coverage(real.x, centres, real.mode_std, **kw)
        n_base = min(ctx.n_samples, len(real))
        base = mode_coverage(real.x[:n_base], centres, real.mode_std, **kw)
        section.metric(MODES_COVERED, fake.modes_covered,
                       f"known modes with at least {o.min_samples_per_mode} high-quality sample(s)",
                       f"all {fake.modes_total} (the real baseline covers {base.modes_covered})")
        section.metric(MODES_TOTAL, fake.modes_total, "known modes of the real data")
        section.metric(HIGH_QUALITY_FRACTION, fake.high_quality_fraction,
                       f"share of samples within {o.quality_std:g} std (radius "
                       f"{fake.radius:.3g}) of their nearest mode centre",
                       f"near the real baseline {base.high_quality_fraction:.3f}")
        section.metric(MODE_HISTOGRAM_JS, histogram_js(fake.counts, ref.counts),
                       "JS divergence (bits, 0 to 1) between the high-quality samples per mode "
                       "and the real samples per mode",
                       f"near 0, like the real baseline {histogram_js(base.counts, ref.counts):.3f}")
        section.metric(MODES_COVERED + "_baseline", base.modes_covered,
                       f"modes covered by {n_base} real samples (what a perfect generator scores)")
        section.metric(HIGH_QUALITY_FRACTION + "_baseline", base.high_quality_fraction,
                       f"high-quality share of {n_base} real samples")
        section.metric(MODE_HISTOGRAM_JS + "_baseline", histogram_js(base.counts, ref.counts),
                       f"mode-histogram JS divergence of {n_base} real samples")
        return Counted(
            "mode", [str(i) for i in range(fake.modes_total)], fake.counts, ref.counts, base.counts,
            fake.covered, fake.modes_covered, fake.modes_total, base.modes_covered,
            ctx.n_samples, n_base,
            f"a mode is covered by at least {o.min_samples_per_mode} sample(s) within "
            f"{o.quality_std:g} std of its centre",
            (fake.high_quality_fraction, base.high_quality_fraction), fake.radius,
            fake.nearest_mode, fake.high_quality,
        )

    # -- classes ------------------------------------------------------------------------------
    def _classes(self, ctx: ganlens.AnalysisContext, section: ganlens.Section,
                 skipped: list[verdict.NotComputed]) -> Counted | None:
        if ctx.real.labels is None:
            if ctx.gan.d_aux_classes and not ctx.gan.d_conditional:
                return self._head_classes(ctx, section)
            skipped.append(verdict.NotComputed("class metrics", "the real data have no labels",
                                               "no labels"))
            return None
        clf = ctx.classifier
        if clf is None:
            skipped.append(verdict.NotComputed("class metrics", str(ctx.classifier_reason),
                                               "no classifier"))
            return None
        o = self.options
        n = ctx.n_samples
        n_base = min(n, len(ctx.real))
        # Cross-fitted labels: each real sample is labelled by a classifier that did not train
        # on it, and fakes the same way, so the real baseline is not flattered by memorised
        # training labels.
        accuracy = clf.unseen_accuracy
        min_fake = coverage_min_count(n, accuracy, o.min_samples_per_mode)
        min_base = coverage_min_count(n_base, accuracy, o.min_samples_per_mode)
        k = clf.num_classes
        fake = class_coverage(clf.predict_unseen(ctx.fakes), ctx.real.labels, k,
                              min_count=min_fake)
        base = class_coverage(clf.predict_unseen(ctx.real.x[:n_base]), ctx.real.labels, k,
                              min_count=min_base)
        section.metric(CLASSES_COVERED, fake.classes_covered,
                       f"classes the classifier finds at least {min_fake} times among the samples "
                       f"(more than its {1 - accuracy:.1%} error rate could put there)",
                       f"all {fake.classes_total} (the real baseline covers {base.classes_covered})")
        section.metric(CLASSES_TOTAL, fake.classes_total, "classes present in the real data")
        section.metric(CLASS_KL, fake.class_kl,
                       "KL(fake ‖ real) of the class histograms, in bits",
                       f"near 0, like the real baseline {base.class_kl:.3f}")
        section.metric(CLASSIFIER_ACCURACY, accuracy,
                       "held-out accuracy of the two cross-fitted classifiers that label the "
                       "samples (each on the half of the real data it did not train on)",
                       "at least 0.9 (below, its error rate limits what the class metrics "
                       "can show)")
        section.metric(CLASSES_COVERED + "_baseline", base.classes_covered,
                       f"classes covered by {n_base} real samples under the same rule")
        section.metric(CLASS_KL + "_baseline", base.class_kl,
                       f"class-histogram KL of {n_base} real samples labelled by the classifier")
        ratio = fake.share_ratio
        valid = np.isfinite(ratio)
        if valid.any():
            over = int(np.nanargmax(np.where(valid, ratio, np.nan)))
            under = int(np.nanargmin(np.where(valid, ratio, np.nan)))
            names = clf.class_names
            section.metric("most_overrepresented_class", names[over],
                           f"the class whose sample share most exceeds its real share "
                           f"({ratio[over]:.2f}x)")
            section.metric("most_underrepresented_class", names[under],
                           f"the class whose sample share falls furthest below its real share "
                           f"({ratio[under]:.2f}x)")
        return Counted(
            "class", list(clf.class_names), fake.counts, fake.real_counts, base.counts,
            fake.covered, fake.classes_covered, fake.classes_total, base.classes_covered, n,
            n_base, f"a class is covered by at least {min_fake} sample(s) (the classifier's "
                    f"error rate × N, at least {o.min_samples_per_mode})",
        )

    def _head_classes(self, ctx: ganlens.AnalysisContext, section: ganlens.Section) -> Counted:
        """Class coverage with an auxiliary-classifier D's class head as the labeller, for real
        data without labels: fakes, the real data and a real baseline of N are all labelled by
        it. Its accuracy cannot be measured without labels, so the coverage rule is the plain
        minimum count, and the report says where the labels came from."""
        o = self.options
        n, k = ctx.n_samples, int(ctx.gan.d_aux_classes)
        n_base = min(n, len(ctx.real))
        labels_real = ctx.gan.class_logits(ctx.real.x).argmax(1)
        labels_fake = ctx.gan.class_logits(ctx.fakes).argmax(1)
        ctx.record_pass("discriminator", 2, len(ctx.real) + n)
        fake = class_coverage(labels_fake, labels_real, k, min_count=o.min_samples_per_mode)
        base = class_coverage(labels_real[:n_base], labels_real, k,
                              min_count=o.min_samples_per_mode)
        section.metric("class_labeller", "discriminator class head",
                       "what labelled the samples: the real data have no labels, and the "
                       "discriminator's auxiliary class head (an AC-GAN) does it")
        section.metric(CLASSES_COVERED, fake.classes_covered,
                       f"classes D's class head finds at least {o.min_samples_per_mode} times "
                       "among the samples",
                       f"all {fake.classes_total} (the real baseline covers {base.classes_covered})")
        section.metric(CLASSES_TOTAL, fake.classes_total,
                       "classes D's class head finds in the real data")
        section.metric(CLASS_KL, fake.class_kl,
                       "KL(fake ‖ real) of the class histograms under D's class head, in bits",
                       f"near 0, like the real baseline {base.class_kl:.3f}")
        section.metric(CLASSES_COVERED + "_baseline", base.classes_covered,
                       f"classes covered by {n_base} real samples under the same rule")
        section.metric(CLASS_KL + "_baseline", base.class_kl,
                       f"class-histogram KL of {n_base} real samples labelled by D's class head")
        section.finding("info", "class coverage uses the discriminator's auxiliary class head "
                        "as its labeller (the real data have no labels); D trained that head "
                        "alongside G, and its accuracy cannot be measured here, so read the "
                        "class counts as D's view of the classes")
        return Counted(
            "class", [str(i) for i in range(k)], fake.counts, fake.real_counts, base.counts,
            fake.covered, fake.classes_covered, fake.classes_total, base.classes_covered, n,
            n_base, f"a class is covered by at least {o.min_samples_per_mode} sample(s) as "
                    "labelled by D's class head",
        )

    # -- feature space ------------------------------------------------------------------------
    def _feature_metrics(self, ctx: ganlens.AnalysisContext, section: ganlens.Section,
                         skipped: list[verdict.NotComputed]) -> C.Comparison | None:
        o = self.options
        try:
            fs = ctx.features(o.features)
        except FeatureUnavailable as exc:
            if o.features == "auto":
                raise
            raise AnalyzerError(f"feature space {o.features!r} is not available here: {exc}") from exc
        for side, values in (("generated", fs.fake), ("real", fs.real)):
            if not torch.isfinite(values).all():
                raise AnalyzerError(f"the {fs.name!r} features of the {side} samples contain NaN or "
                                    "infinite values; choose another space with "
                                    "--option mode_collapse.features=NAME")
        settings = C.Settings(o.k_precision_recall, o.k_density_coverage, o.ndb_bins, o.ndb_alpha,
                              o.duplicate_quantile, o.memorisation_quantile, o.bootstrap,
                              o.confidence, o.ties == "inclusive")
        n = C.samples_compared(fs.fake.shape[0], fs.real.shape[0])
        if n < C.minimum_samples(settings):
            skipped.append(verdict.NotComputed(
                "feature-space metrics", f"{n} samples per set (N = {fs.fake.shape[0]}, half the "
                f"{fs.real.shape[0]} real) are fewer than the {C.minimum_samples(settings)} the "
                "k-NN metrics need", f"{n} samples per set, {C.minimum_samples(settings)} needed"))
            return None
        # Each random stream has its own salt: toggling one (bootstrap=0) never moves another.
        comp = C.compare(fs.fake, fs.real, settings, lambda salt: ctx.rng(f"mode_collapse/{salt}"),
                         fitted=fs.real_fitted, device=ctx.device)
        if fs.real_index is not None and comp.train_index is not None:
            # rows of [fs.real; fs.real_fitted] → rows of ctx.real
            rows = torch.cat([fs.real_index, fs.real_fitted_index])
            comp.train_index = rows[comp.train_index]
        comp.extra["space"], comp.extra["description"] = fs.name, fs.description
        comp.extra["is_image"] = bool(ctx.gan.data.is_image)
        section.metric("feature_space", fs.name, f"where the metrics compare samples: {fs.description}")
        section.metric("feature_dim", fs.dim, "values per sample in that feature space")
        section.metric("samples_compared", comp.n,
                       "n: fakes compared, and the size of the real reference and of the real "
                       "holdout that gives the baseline (min(N, real / 2))")
        verdict.record_feature_metrics(section, comp, o)
        if fs.real_note:
            section.finding("info", fs.real_note)
        for note in comp.notes:
            section.finding("info", note)
        return comp


def validate_options(o: object) -> None:
    """What the fields' declared bounds cannot say (the numeric ranges are declared there)."""
    def bad(key: str, expected: str) -> OptionError:
        return OptionError(f"option mode_collapse.{key}: expected {expected}, got {getattr(o, key)!r}")

    if not o.features:
        raise bad("features", "a feature space name or auto")
