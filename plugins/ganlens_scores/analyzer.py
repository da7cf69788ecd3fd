"""The ``scores`` analyzer: FD, KID, Vendi and the data-copying test in every feature space."""

from __future__ import annotations

from dataclasses import dataclass, field

import ganlens
from ganlens.errors import OptionError, SkipAnalysis

from . import figures, record
from .compute import Settings, copying_data_source, score_space

ALL = "all"


class Scores(ganlens.Analyzer):
    """The numbers researchers report: Fréchet distance, KID and Vendi score, each beside real
    data of the same size, and the data-copying test, in every feature space."""

    name = "scores"
    title = "Numbers to report"
    description = ("Fréchet distance (with bootstrap intervals, optionally FD∞), KID and the "
                   "Vendi score in every feature space, each beside held-out real data of the "
                   "same size, and the data-copying test C_T of Meehan et al.; one table of the "
                   "numbers to report, shown at the top of the report.")
    needs_real_data = True

    @dataclass
    class Options:
        spaces: list[str] = field(default_factory=lambda: [ALL])
        """Feature spaces to score in: all (every registered space: classifier, discriminator,
        pixels, random-conv and any a plugin adds) or a comma-separated list of names. A space
        that does not apply to this GAN is reported as not computed, with the reason."""
        bootstrap: int = ganlens.option(20, ge=0, le=10000)
        """Bootstrap resamples for the FD intervals (0: none). Each costs about one FD."""
        confidence: float = ganlens.option(0.95, gt=0, lt=1)
        """Level of the bootstrap intervals."""
        kid_subsets: int = ganlens.option(100, ge=1, le=100000)
        """Random subset pairs KID averages over (torch-fidelity's default: 100)."""
        kid_subset_size: int = ganlens.option(1000, ge=2)
        """Samples per KID subset (torch-fidelity's default: 1000), capped at the set sizes."""
        fd_infinity: bool = False
        """Also compute FD∞ (Chong & Forsyth 2020): FD on 15 subset sizes, extrapolated to 1/N = 0."""
        ct_cells: int = ganlens.option(20, ge=2)
        """k-means cells of the training data for the data-copying test (fewer when there are
        under 2 × ct_min_samples held-out samples per cell)."""
        ct_min_samples: int = ganlens.option(20, ge=2)
        """Generated and held-out samples a cell needs to count in C_T."""
        ct_threshold: float = ganlens.option(-3.0, lt=0)
        """C_T below this is data copying (an alert naming the cells below it too)."""
        figures: bool = True
        """Draw the figures."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        validate_options(self.options)

    def validate(self, host: ganlens.PluginHost) -> None:
        known = sorted(host.feature_spaces)
        for space in self.options.spaces:
            if space != ALL and space not in known:
                raise OptionError(f"option scores.spaces: unknown feature space {space!r}; "
                                  f"expected all or names from: {', '.join(known)}")

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        if ctx.real is None:
            raise SkipAnalysis(ctx.real_reason or "no real data")
        if ctx.host is not None:
            self.validate(ctx.host)
        o = self.options
        section = self.new_section()
        names = ctx.feature_space_names() if o.spaces == [ALL] else list(o.spaces)
        s = Settings(o.bootstrap, o.confidence, o.kid_subsets, o.kid_subset_size, o.fd_infinity,
                     o.ct_cells, o.ct_min_samples)
        source = copying_data_source(ctx)
        scores = [score_space(ctx, name, s, source) for name in names]
        section.metric("samples", ctx.n_samples, "generated samples of the run (N)")
        section.metric("spaces_computed", [sc.space for sc in scores if sc.computed],
                       "feature spaces the scores were computed in")
        section.metric("spaces_not_computed", {sc.space: sc.reason for sc in scores
                                               if not sc.computed},
                       "feature spaces that do not apply here, with the reason",
                       "empty, or only spaces that cannot apply to this GAN")
        for sc in scores:
            record.record_metrics(section, sc, s, o.ct_threshold)
        record.add_table(section, scores, s, o.ct_threshold)
        record.add_findings(section, scores, o.ct_threshold)
        preferred = ctx.default_feature_space() if ctx.host is not None else None
        section.summary = record.headline(scores, preferred)
        if o.figures:
            figures.add_figures(section, scores, o.ct_threshold)
        return section


def validate_options(o: object) -> None:
    """What the fields' declared bounds cannot say."""
    spaces = list(o.spaces)
    if not spaces:
        raise OptionError("option scores.spaces: expected all or at least one feature space "
                          "name, got an empty list")
    if ALL in spaces and len(spaces) > 1:
        raise OptionError(f"option scores.spaces: expected all alone or a list of names, got "
                          f"{','.join(spaces)}")
    if len(set(spaces)) != len(spaces):
        raise OptionError(f"option scores.spaces: expected each feature space once, got "
                          f"{','.join(spaces)}")
