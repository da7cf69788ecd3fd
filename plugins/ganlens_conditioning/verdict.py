"""The results per class, the rules that turn them into findings, and the headline.

Every rule compares a class's generated samples with that class's own real samples, and asks for
an effect that is both strong and statistically significant. With K classes tested, each test
runs at ``significance`` / K (Bonferroni), so that on a generator with no fault the chance of any
false finding in the section is at most ``significance``.

Conditioning (labels from the cross-fitted classifier, on generated and on real samples alike):

- ALERT, *mostly another class*: more than half of the samples generated for class y are
  labelled one other class c, and that share is significantly above the share of real class-y
  samples labelled c (one-sided two-proportion z-test).
- ALERT, *mostly not class y*: under half of them are labelled y, no single other class holds
  the majority, and the accuracy is significantly below the real class's.
- WARNING, *below the ceiling*: at least half are labelled y, but the error rate is at least
  twice the real class's (:data:`ERROR_RATIO`) and the accuracy significantly lower.

Per-class collapse (in a feature space, n generated samples of class y against a reference and a
holdout of n real class-y samples each; the holdout, scored like the samples, is the baseline):

- *diversity*: the mean pairwise distance of the samples at most ``collapse_ratio`` (½) of the
  holdout's, and significantly lower (one-sided z-test on the log ratio, jackknife variance);
- *duplicates*: at least 1 - (1 - 1/n)^(n-1) (≈ 1 - 1/e, 63%) of the samples have a
  near-duplicate among the other samples, significantly more than in the holdout (z-test). That
  share is what n samples of n equally likely distinct outputs score (a sample repeats one of the
  n - 1 others with probability 1 - (1 - 1/K)^(n-1) for K outputs), so the class has fewer
  distinct outputs than the samples drawn: a generator that reproduces its training images, a
  few hundred per class, stays well under it, one that repeats a handful goes well over;
- *coverage*: the share of the real reference covered by the samples at most ``collapse_ratio``
  of the holdout's, and significantly lower (exact McNemar test: both cover the same reference),
  while the samples lie on the real class (precision, the share of samples inside a reference
  k-NN ball, not itself at most ``collapse_ratio`` of the holdout's and significantly lower):
  realistic samples that reach only part of the class. Low coverage with low precision is a
  WARNING instead (the samples lie off the real class: quality, or another class, so coverage
  cannot tell collapse); for a class that fails conditioning, low coverage is what samples of
  another class score, and it is reported (info), not counted as collapse.

A class is collapsed (ALERT) when any of the three fires; the finding names the tests that
fired. Nothing not computed is ever called fine: each part not computed is named with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .metrics import Diversity, Ratio, paired_below_p, proportion_below_p, row_shares

if TYPE_CHECKING:
    import torch

    import ganlens

MAJORITY = 0.5


def duplicate_limit(n: int) -> float:
    """The near-duplicate share that n samples of n equally likely distinct outputs score."""
    return 1.0 - (1.0 - 1.0 / n) ** (n - 1)


def support_estimate(fraction: float, n: int) -> float | None:
    """K, the number of equally likely distinct outputs whose n samples have ``fraction`` with
    a duplicate (1 - (1 - 1/K)^(n-1) = fraction); None without duplicates (no bound)."""
    if fraction <= 0:
        return None
    if fraction >= 1:
        return 1.0
    return 1.0 / (1.0 - (1.0 - fraction) ** (1.0 / (n - 1)))
ERROR_RATIO = 2.0
MAX_NAMED = 10


@dataclass
class NotComputed:
    """A part that was not computed: ``what`` and the ``reason``."""

    what: str
    reason: str


# ---------------------------------------------------------------------------------------------
# Conditioning
# ---------------------------------------------------------------------------------------------


@dataclass
class ConditioningResult:
    """Confusion counts of the generated samples (row: conditioning class) and of the real ones
    (row: true class), both labelled by the cross-fitted classifier."""

    names: list[str]
    counts: np.ndarray
    real_counts: np.ndarray
    classifier_accuracy: float
    kinds: list[str | None] = field(default_factory=list)
    """Per class: "another", "spread", "weak" or None (set by :func:`judge_conditioning`)."""

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def shares(self) -> np.ndarray:
        return row_shares(self.counts)

    @property
    def real_shares(self) -> np.ndarray:
        return row_shares(self.real_counts)

    @property
    def accuracy_per_class(self) -> np.ndarray:
        return np.diag(self.shares)

    @property
    def real_accuracy_per_class(self) -> np.ndarray:
        rows = self.real_counts.sum(1)
        return np.where(rows > 0, np.diag(self.real_shares), np.nan)

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.counts) / max(1, self.counts.sum()))

    @property
    def real_accuracy(self) -> float:
        return float(np.trace(self.real_counts) / max(1, self.real_counts.sum()))

    def top_other(self, y: int) -> tuple[int, float]:
        """The other class most of class y's samples are labelled, and its share."""
        row = self.shares[y].copy()
        row[y] = -1.0
        c = int(np.argmax(row))
        return c, float(self.shares[y, c])

    @property
    def failures(self) -> list[int]:
        return [y for y, kind in enumerate(self.kinds) if kind in ("another", "spread")]


def judge_conditioning(cond: ConditioningResult, significance: float) -> None:
    """Set ``cond.kinds`` by the rules of the module docstring."""
    k = cond.k
    alpha = significance / k
    cond.kinds = []
    for y in range(k):
        n, m = int(cond.counts[y].sum()), int(cond.real_counts[y].sum())
        hits = int(cond.counts[y, y])
        acc = hits / max(1, n)
        c, share = cond.top_other(y)
        kind = None
        if n and share > MAJORITY:
            ok = m == 0 or proportion_below_p(int(cond.real_counts[y, c]), m,
                                              int(cond.counts[y, c]), n) < alpha
            kind = "another" if ok else None
        elif n and m and acc < MAJORITY:
            if proportion_below_p(hits, n, int(cond.real_counts[y, y]), m) < alpha:
                kind = "spread"
        elif n and m:
            real_err = 1.0 - cond.real_counts[y, y] / m
            if (1.0 - acc) >= ERROR_RATIO * real_err and (1.0 - acc) > 0 \
                    and proportion_below_p(hits, n, int(cond.real_counts[y, y]), m) < alpha:
                kind = "weak"
        cond.kinds.append(kind)


def conditioning_findings(section: ganlens.Section, cond: ConditioningResult,
                          significance: float) -> None:
    k = cond.k
    acc, real = cond.accuracy_per_class, cond.real_accuracy_per_class
    weak = []
    for y, kind in enumerate(cond.kinds):
        name = cond.names[y]
        c, share = cond.top_other(y)
        real_share = cond.real_shares[y, c]
        if kind == "another":
            section.finding(
                "alert",
                f"class {name}: {share:.0%} of its samples look like class {cond.names[c]} "
                f"(real class-{name} samples: {real_share:.0%}); conditioning accuracy "
                f"{acc[y]:.0%}, real {real[y]:.0%} (threshold: a majority of the class's samples "
                f"labelled one other class, significantly more than of its real samples, z-test "
                f"p < {significance:g}/{k})",
                metric="conditioning_accuracy_per_class", value=share, threshold=MAJORITY)
        elif kind == "spread":
            section.finding(
                "alert",
                f"class {name}: only {acc[y]:.0%} of its samples look like class {name} (real "
                f"{real[y]:.0%}), the rest spread over other classes (most: {cond.names[c]}, "
                f"{share:.0%}) (threshold: under {MAJORITY:.0%} and significantly below the real "
                f"class, z-test p < {significance:g}/{k})",
                metric="conditioning_accuracy_per_class", value=float(acc[y]), threshold=MAJORITY)
        elif kind == "weak":
            weak.append(y)
    if weak:
        parts = [f"{cond.names[y]} ({acc[y]:.0%}, real {real[y]:.0%})" for y in weak]
        section.finding(
            "warning",
            f"conditioning below the real ceiling for class{'es' if len(weak) > 1 else ''} "
            f"{_names(parts)} (threshold: error rate at least {ERROR_RATIO:g}× the real class's "
            f"and accuracy significantly lower, z-test p < {significance:g}/{k})",
            metric="conditioning_accuracy_per_class", value=len(weak), threshold=ERROR_RATIO)


# ---------------------------------------------------------------------------------------------
# Per-class collapse
# ---------------------------------------------------------------------------------------------


@dataclass
class ClassCollapse:
    """One class's diversity, near-duplicates and coverage, each beside the real holdout's."""

    index: int
    name: str
    n: int
    diversity: Diversity
    diversity_baseline: Diversity
    ratio: Ratio
    duplicate_threshold: float
    duplicates: torch.Tensor  # (n,) bool, generated
    duplicates_baseline: torch.Tensor  # (n,) bool, holdout
    covered: torch.Tensor  # (n,) bool, reference covered by the samples
    covered_baseline: torch.Tensor  # (n,) bool, reference covered by the holdout
    inside: torch.Tensor  # (n,) bool, samples inside a reference k-NN ball (precision)
    inside_baseline: torch.Tensor  # (n,) bool, the same for the holdout
    fired: list[str] = field(default_factory=list)
    coverage_explained: bool = False
    off_class: bool = False

    @property
    def duplicate_fraction(self) -> float:
        return float(self.duplicates.double().mean())

    @property
    def duplicate_fraction_baseline(self) -> float:
        return float(self.duplicates_baseline.double().mean())

    @property
    def support(self) -> float | None:
        return support_estimate(self.duplicate_fraction, self.n)

    @property
    def coverage(self) -> float:
        return float(self.covered.double().mean())

    @property
    def coverage_baseline(self) -> float:
        return float(self.covered_baseline.double().mean())

    @property
    def precision(self) -> float:
        return float(self.inside.double().mean())

    @property
    def precision_baseline(self) -> float:
        return float(self.inside_baseline.double().mean())


@dataclass
class CollapseResult:
    space: str
    description: str
    k_nn: int
    classes: list[ClassCollapse]
    not_compared: list[tuple[str, str]]  # (class name, why)
    note: str | None = None

    @property
    def collapsed(self) -> list[ClassCollapse]:
        return [c for c in self.classes if c.fired]


def judge_collapse(res: CollapseResult, collapse_ratio: float, significance: float,
                   mis_conditioned: set[int]) -> None:
    """Set each class's ``fired`` tests by the rules of the module docstring."""
    alpha = significance / max(1, len(res.classes))
    for c in res.classes:
        c.fired = []
        if c.ratio.value <= collapse_ratio and c.ratio.p_below < alpha:
            c.fired.append("diversity")
        dup, n = int(c.duplicates.sum()), c.n
        if dup / n >= duplicate_limit(n) and proportion_below_p(int(c.duplicates_baseline.sum()), n,
                                                      dup, n) < alpha:
            c.fired.append("duplicates")
        c.coverage_explained = c.off_class = False
        low = c.coverage <= collapse_ratio * c.coverage_baseline \
            and paired_below_p(c.covered, c.covered_baseline) < alpha
        off = c.precision <= collapse_ratio * c.precision_baseline \
            and proportion_below_p(int(c.inside.sum()), n, int(c.inside_baseline.sum()), n) < alpha
        if low and c.index in mis_conditioned:
            c.coverage_explained = True
        elif low and off:
            c.off_class = True
        elif low:
            c.fired.append("coverage")


def collapse_findings(section: ganlens.Section, res: CollapseResult, collapse_ratio: float,
                      significance: float, conditioning_known: bool,
                      mis_conditioned_as: dict[int, str]) -> None:
    k = len(res.classes)
    level = f"{res.classes[0].ratio.level:.0%}" if res.classes else ""
    for c in res.classes:
        if not c.fired:
            continue
        lo, hi = c.ratio.interval
        parts = [
            f"diversity {c.ratio.value:.0%} of the real class's (mean pairwise distance "
            f"{c.diversity.mean:.3g} vs {c.diversity_baseline.mean:.3g}, {level} interval "
            f"{lo:.0%}–{hi:.0%})",
            f"{c.duplicate_fraction:.0%} of samples with a near-duplicate (real "
            f"{c.duplicate_fraction_baseline:.0%}"
            + _support_text(c.support),
            f"coverage {c.coverage:.0%} of its real samples (real {c.coverage_baseline:.0%}), "
            f"{c.precision:.0%} of the samples on the real class (real {c.precision_baseline:.0%})",
        ]
        section.finding(
            "alert",
            f"class {c.name} collapsed: {'; '.join(parts)}; fired: {', '.join(c.fired)} (thresholds: "
            f"diversity or coverage ≤ {collapse_ratio:g} × the real class's, or near-duplicates "
            f"≥ {duplicate_limit(c.n):.0%}, fewer distinct outputs than samples; each significantly worse than the real holdout, p < "
            f"{significance:g}/{k}; {res.space} features, n = {c.n})",
            metric="diversity_ratio_per_class", value=c.ratio.value, threshold=collapse_ratio)
    off = [c for c in res.classes if c.off_class]
    for c in off:
        unknown = "" if conditioning_known else \
            ", or samples of another class, which cannot be told without a classifier"
        section.finding(
            "warning",
            f"class {c.name}: its samples cover {c.coverage:.0%} of the real class-{c.name} samples "
            f"(real {c.coverage_baseline:.0%}), but only {c.precision:.0%} of them lie on the real "
            f"class (inside a real sample's {res.k_nn}-NN ball; real {c.precision_baseline:.0%}): "
            f"the samples lie off the real class-{c.name} data (sample quality{unknown}), so coverage "
            f"cannot tell whether it collapsed (threshold: both ≤ {collapse_ratio:g} × the real "
            f"holdout's and significantly lower, p < {significance:g}/{k})",
            metric="coverage_per_class", value=c.coverage, threshold=collapse_ratio)
    for c in res.classes:
        if c.coverage_explained:
            other = mis_conditioned_as.get(c.index)
            section.finding(
                "info",
                f"class {c.name}: its samples cover {c.coverage:.0%} of the real class-{c.name} "
                f"samples (real {c.coverage_baseline:.0%}), as samples of another class would"
                + (f" (they mostly look like class {other})" if other else "")
                + ": counted as a conditioning failure, not as collapse",
                metric="coverage_per_class", value=c.coverage, threshold=collapse_ratio)
    if res.not_compared:
        parts = [f"{name} ({why})" for name, why in res.not_compared]
        section.finding("info", f"per-class collapse not computed for class"
                                f"{'es' if len(parts) > 1 else ''} {_names(parts)}")


# ---------------------------------------------------------------------------------------------
# Headline
# ---------------------------------------------------------------------------------------------


def _support_text(support: float | None) -> str:
    if support is None:
        return ")"
    if support < 1.5:
        return "; as from a single output)"
    return f"; as from about {support:.3g} equally likely outputs)"


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def headline(cond: ConditioningResult | None, res: CollapseResult | None,
             skipped: list[NotComputed]) -> str:
    parts = []
    if cond is not None:
        parts.append(f"conditioning accuracy {cond.accuracy:.1%} (real ceiling "
                     f"{cond.real_accuracy:.1%})")
        bad = [cond.names[y] for y in cond.failures]
        parts.append(f"mis-conditioned: {_names(bad)}" if bad else
                     f"no class mostly another ({cond.k} classes)")
    if res is not None:
        collapsed = [c.name for c in res.collapsed]
        parts.append(f"collapsed: {_names(collapsed)}" if collapsed else
                     f"no class collapsed ({len(res.classes)} compared)")
        off = [c.name for c in res.classes if c.off_class]
        if off:
            parts.append(f"off the real class: {_names(off)}")
    if skipped:
        parts.append("not computed: " + ", ".join(s.what for s in skipped))
    return "; ".join(parts)


def per_class_rows(names: list[str], cond: ConditioningResult | None,
                   res: CollapseResult | None) -> list[list[Any]]:
    by_index = {c.index: c for c in res.classes} if res is not None else {}
    rows = []
    for y, name in enumerate(names):
        row: list[Any] = [name]
        if cond is not None:
            c, share = cond.top_other(y)
            kind = cond.kinds[y]
            row += [round(float(cond.accuracy_per_class[y]), 4),
                    _round(cond.real_accuracy_per_class[y]),
                    f"{cond.names[c]} ({share:.0%})",
                    {"another": "mostly another class", "spread": "mostly not this class",
                     "weak": "below ceiling"}.get(kind, "ok")]
        if res is not None:
            cc = by_index.get(y)
            if cc is None:
                row += [None] * 9 + ["not computed"]
            else:
                row += [cc.n, round(cc.ratio.value, 4),
                        f"{cc.ratio.interval[0]:.2f}–{cc.ratio.interval[1]:.2f}",
                        round(cc.duplicate_fraction, 4), round(cc.duplicate_fraction_baseline, 4),
                        round(cc.coverage, 4), round(cc.coverage_baseline, 4),
                        round(cc.precision, 4), round(cc.precision_baseline, 4),
                        _collapse_word(cc)]
        rows.append(row)
    return rows


def per_class_columns(cond: bool, collapse: bool) -> list[str]:
    cols = ["class"]
    if cond:
        cols += ["conditioning accuracy", "real accuracy", "most common other class",
                 "conditioning"]
    if collapse:
        cols += ["n compared", "diversity ratio", "ratio interval", "near-duplicates",
                 "real near-duplicates", "coverage", "real coverage", "precision",
                 "real precision", "collapse"]
    return cols


def _collapse_word(c: ClassCollapse) -> str:
    if c.fired:
        return "collapsed (" + ", ".join(c.fired) + ")"
    if c.off_class:
        return "off the real class"
    if c.coverage_explained:
        return "low coverage: mis-conditioned"
    return "ok"


def _round(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 4)
