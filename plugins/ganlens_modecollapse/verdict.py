"""The verdict: the feature metrics written into the section, the findings, the headline.

Every finding names its metric and the threshold that fired. The thresholds compare the fakes
with the real baseline (held-out real data of the same size), never with a fixed number alone,
and they ask for an effect that is both strong and statistically significant:

- ALERT, missing modes or classes: fewer covered than a real sample of the same size covers.
- ALERT, recall or coverage far below the baseline: at most ``FAR_BELOW`` (½) of it, and lower
  by a one-sided two-proportion z-test at ``SIGNIFICANCE`` (1%).
- WARNING, recall or coverage below the low end of the baseline's interval and significantly
  lower. The interval is the bootstrap one; with ``bootstrap=0`` it is the normal-approximation
  interval of the baseline proportion at the same level, and the finding says which was used.
  Precision, density or the high-quality fraction at most ½ of the baseline (sample quality).
- WARNING, imbalance: a covered mode or class holds at least ``IMBALANCE_RATIO`` (2×) or at most
  ½ of its real share, significant by a two-proportion z-test at 1% / K (Bonferroni); NDB/K at
  least twice max(baseline, α) and unlikely under chance (binomial tail < 1%).
- WARNING, duplicates or memorisation at least ``WELL_ABOVE`` (2×) max(baseline, the quantile
  that sets their threshold), and significantly above the baseline.
- WARNING, the birthday test: at least half of the random subsets of some size (up to a third
  of the samples) hold a pair closer than any two of the 2n real samples; the finding gives that
  size s½ and the support estimate s½(s½ - 1)/(2 ln 2). INFO when no size gets there: no upper
  bound on the support.
- INFO otherwise: no sign of collapse in the tests computed. Each test that could not be
  computed is named with the reason, and when none could be, no "no sign" line is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from . import compare as C
from .stats import one_sided_greater, two_proportion_z_test

if TYPE_CHECKING:
    import ganlens

    from .modes import Counted


@dataclass
class NotComputed:
    """A family of tests that was not computed: ``what`` (e.g. "known-mode metrics"), the
    ``reason`` in full, and a ``short`` reason for the headline."""

    what: str
    reason: str
    short: str


FAR_BELOW = 0.5
WELL_ABOVE = 2.0
IMBALANCE_RATIO = 2.0
SIGNIFICANCE = 0.01
MAX_NAMED = 8

DESCRIPTIONS = {
    C.PRECISION: ("share of samples inside at least one real sample's k-NN ball (k={kpr}): "
                  "fidelity (Kynkäänniemi et al. 2019)",
                  "near the real baseline; low means samples lie off the real data"),
    C.RECALL: ("share of real samples inside at least one sample's k-NN ball (k={kpr}): "
               "diversity (Kynkäänniemi et al. 2019)",
               "near the real baseline; far below means parts of the data are never generated"),
    C.DENSITY: ("mean number of real k-NN balls (k={kdc}) holding a sample, divided by k "
                "(Naeem et al. 2020)",
                "about the real baseline (≈ 1); well below: samples sit in sparse regions"),
    C.COVERAGE: ("share of real samples whose k-NN ball (k={kdc}) holds at least one sample "
                 "(Naeem et al. 2020)",
                 "near the real baseline; low means real regions without samples (dropped modes)"),
    C.NDB_K: ("share of K-means bins of the real data whose share of samples differs "
              "significantly (two-proportion z-test, α={alpha:g}; Richardson & Weiss 2018)",
              "near α and the real baseline; high: samples pile up in or avoid regions"),
    C.NDB_JS: ("JS divergence (bits, 0 to 1) between the bin histograms of samples and real data",
               "near the real baseline"),
    C.DUPLICATE_FRACTION: ("share of samples with another sample within the near-duplicate "
                           "threshold (the {dq:g} quantile of real nearest-neighbour distances)",
                           "near the real baseline (≈ {dq:g}); high: the generator repeats itself"),
    C.SUPPORT_ESTIMATE: ("birthday-paradox test (Arora & Zhang 2017): s½(s½-1)/(2 ln 2), where "
                         "s½ is the smallest sample size at which half of random subsets hold a "
                         "pair closer than any two real samples (birthday_threshold); about K "
                         "for K equally likely outputs, a lower bound for unequal ones. It rests "
                         "on that threshold. null: no size tried reached half (no upper bound "
                         "on the support)",
                         "null (no duplicates), as for real data; a number: the generator "
                         "repeats itself, look at the closest pairs"),
    C.MEMORISED_FRACTION: ("share of samples closer to a training sample than the closest "
                           "{mq:g} of held-out real samples are",
                           "near the real baseline (≈ {mq:g}); high: copies of training data"),
}


def _fmt(text: str, o: Any) -> str:
    return text.format(kpr=o.k_precision_recall, kdc=o.k_density_coverage, alpha=o.ndb_alpha,
                       dq=o.duplicate_quantile, mq=o.memorisation_quantile)


def record_feature_metrics(section: ganlens.Section, comp: C.Comparison, o: Any) -> None:
    """Write each feature metric, its baseline, both intervals (with ``bootstrap`` > 0) and the
    birthday test into ``section``."""
    level = f"{o.confidence:.0%}"
    for key in C.FEATURE_METRICS:
        if key not in comp.values:
            continue
        desc, good = (_fmt(t, o) for t in DESCRIPTIONS[key])
        section.metric(key, comp.values[key], desc, good)
        section.metric(f"{key}_baseline", comp.baselines[key],
                       f"{key} of {comp.n} held-out real samples against the same real reference: "
                       "what a perfect generator scores at this sample size")
        if key in comp.cis:
            section.metric(f"{key}_ci", list(comp.cis[key]),
                           f"{level} bootstrap interval of {key} (per-sample values resampled)")
            section.metric(f"{key}_baseline_ci", list(comp.baseline_cis[key]),
                           f"{level} bootstrap interval of {key}_baseline")
    x = comp.extra
    if "ndb_bins" in x:
        section.metric("ndb_bins", x["ndb_bins"], "K, the K-means bins NDB used "
                       f"(at most {o.ndb_bins}, with at least {C.MIN_SAMPLES_PER_BIN} real samples per bin)")
    section.metric("duplicate_threshold", x["duplicate_threshold"],
                   "distance (in the feature space) under which two samples are near-duplicates")
    section.metric("memorisation_threshold", x["memorisation_threshold"],
                   "distance to the nearest training sample under which a sample counts as memorised")
    b = comp.birthday
    if b is not None:
        desc, good = DESCRIPTIONS[C.SUPPORT_ESTIMATE]
        section.metric(C.SUPPORT_ESTIMATE, b.support_estimate, desc, good)
        section.metric("birthday_sample_size", b.sample_size,
                       f"s½: the smallest size at which at least half of {b.rounds} random subsets "
                       "of the samples hold a pair within birthday_threshold (null: none up to "
                       "birthday_sizes_tried)")
        section.metric("birthday_threshold", b.threshold,
                       f"distance between the two closest of the {x['birthday_reference']} real "
                       "samples of reference and holdout: birthday-test duplicates are closer")
        section.metric("birthday_pairs", b.pairs,
                       f"pairs of samples within birthday_threshold among the {b.samples} examined")
        section.metric("birthday_sizes_tried", b.sizes_tried,
                       "the largest subset size tried (a third of the samples examined)")


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------


def _lower(value: float, n_v: int, base: float, n_b: int) -> bool:
    """``value`` is significantly below ``base`` (one-sided two-proportion z-test)."""
    return one_sided_greater(round(base * n_b), n_b, round(value * n_v), n_v) < SIGNIFICANCE


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def plural(kind: str) -> str:
    return "classes" if kind == "class" else f"{kind}s"


def _counted_findings(section: ganlens.Section, c: Counted, covered_key: str, imbalance_key: str) -> None:
    kind, kinds = c.kind, plural(c.kind)
    missing = [c.names[i] for i in np.flatnonzero(~c.covered & (c.reference > 0))]
    if c.covered_count < c.baseline_covered:
        section.finding(
            "alert",
            f"{c.covered_count} of {c.total} {kinds} covered; {c.n_baseline} real samples cover "
            f"{c.baseline_covered}. Missing {kinds}: {_names(missing)} ({covered_key} "
            f"{c.covered_count} < baseline {c.baseline_covered}; {c.rule})",
            metric=covered_key, value=c.covered_count, threshold=c.baseline_covered)
    elif c.covered_count < c.total:
        section.finding(
            "info",
            f"{c.total - c.covered_count} {kinds if c.total - c.covered_count > 1 else kind} uncovered ({_names(missing)}), but "
            f"{c.n_baseline} real samples also cover only {c.baseline_covered} of {c.total}: "
            f"more samples are needed to tell ({covered_key})",
            metric=covered_key, value=c.covered_count, threshold=c.baseline_covered)
    total_f, total_r = float(c.counts.sum()), float(c.reference.sum())
    if total_f <= 0 or total_r <= 0:
        return
    pf, pr = c.counts / total_f, c.reference / total_r
    _, p_value = two_proportion_z_test(pf, int(total_f), pr, int(total_r))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pr > 0, pf / np.where(pr > 0, pr, 1.0), np.nan)
    k = int((c.reference > 0).sum())
    strong = (ratio >= IMBALANCE_RATIO) | (ratio <= 1.0 / IMBALANCE_RATIO)
    flagged = np.flatnonzero(c.covered & strong & (p_value < SIGNIFICANCE / max(1, k)))
    if flagged.size:
        worst_first = flagged[np.argsort(-np.abs(np.log(ratio[flagged])))]
        parts = [f"{c.names[i]} at {ratio[i]:.2f}x" for i in worst_first]
        section.finding(
            "warning",
            f"{kind} imbalance, share of samples over real share: {_names(parts)} "
            f"({imbalance_key}; threshold: ratio ≥ {IMBALANCE_RATIO:g} or ≤ "
            f"{1 / IMBALANCE_RATIO:g} and z-test p < {SIGNIFICANCE:g}/{k})",
            metric=imbalance_key, value=int(flagged.size), threshold=IMBALANCE_RATIO)


def add_findings(section: ganlens.Section, modes: Counted | None, classes: Counted | None,
                 comp: C.Comparison | None, o: Any,
                 not_computed: list[NotComputed] | None = None) -> None:
    """Add every finding the metrics support (see the module docstring for the rules), and one
    for each family of tests in ``not_computed``, with its reason."""
    skipped = list(not_computed or [])
    for item in skipped:
        section.finding("info", f"{item.what} not computed: {item.reason}")
    if modes is not None:
        _counted_findings(section, modes, "modes_covered", "mode_histogram_js")
        hq, hq_base = modes.high_quality
        if hq <= FAR_BELOW * hq_base and _lower(hq, modes.n_fake, hq_base, modes.n_baseline):
            section.finding(
                "warning",
                f"only {hq:.1%} of samples lie within {o.quality_std:g} std of a mode (real "
                f"baseline {hq_base:.1%}; threshold: ≤ {FAR_BELOW:g} × baseline)",
                metric="high_quality_fraction", value=hq, threshold=FAR_BELOW * hq_base)
    if classes is not None:
        _counted_findings(section, classes, "classes_covered", "class_kl")
    if comp is not None:
        _feature_findings(section, comp, o)
    computed = [what for what, done in (("known modes", modes), ("classes", classes),
                                        ("feature space", comp)) if done is not None]
    if computed and not any(f.level in ("warning", "alert") for f in section.findings):
        scope = ", ".join(computed)
        missing = ("; not computed: " + ", ".join(f"{i.what} ({i.short})" for i in skipped)
                   if skipped else "")
        section.finding("info", f"no sign of mode collapse in the tests computed ({scope}): every "
                                "metric is within the range of held-out real data of the same "
                                f"size{missing}")


def _feature_findings(section: ganlens.Section, comp: C.Comparison, o: Any) -> None:
    v, b = comp.values, comp.baselines
    n = comp.n
    for key in (C.RECALL, C.COVERAGE):
        value, base = v[key], b[key]
        low, rule = _baseline_low(comp, key, o)
        if value <= FAR_BELOW * base and _lower(value, n, base, n):
            section.finding(
                "alert",
                f"{key} {value:.3f} is far below the real baseline {base:.3f} (threshold: ≤ "
                f"{FAR_BELOW:g} × baseline, z-test p < {SIGNIFICANCE:g}): much of the real data "
                "has no generated sample near it",
                metric=key, value=value, threshold=FAR_BELOW * base)
        elif value < low and _lower(value, n, base, n):
            section.finding(
                "warning",
                f"{key} {value:.3f} is below the real baseline {base:.3f} (threshold: under "
                f"{low:.3f}, the low end of {rule}, and z-test p < {SIGNIFICANCE:g}): part of "
                "the real data has no generated sample near it",
                metric=key, value=value, threshold=low)
    for key in (C.PRECISION, C.DENSITY):
        value, base = v[key], b[key]
        proportion_ok = key != C.PRECISION or _lower(value, n, base, n)
        if value <= FAR_BELOW * base and proportion_ok:
            section.finding(
                "warning",
                f"{key} {value:.3f} is at most half the real baseline {base:.3f} (threshold: ≤ "
                f"{FAR_BELOW:g} × baseline): many samples lie off the real data (quality, "
                "not diversity)",
                metric=key, value=value, threshold=FAR_BELOW * base)
    if C.NDB_K in v and comp.ndb_fake is not None:
        _ndb_finding(section, comp, o)
    n_base_mem = int(comp.extra.get("memorisation_baseline_n", n))
    # Each threshold is a quantile of real distances, so real data score about that quantile
    # by construction: "well above" is judged against max(baseline, quantile). Near-duplicate
    # flags come in pairs (both members of a pair are flagged), so that test counts pairs.
    for key, what, n_b, expected, cluster in (
        (C.DUPLICATE_FRACTION, "near-duplicates of other samples", n, o.duplicate_quantile, 2),
        (C.MEMORISED_FRACTION, "closer to a training sample than held-out real data are",
         n_base_mem, o.memorisation_quantile, 1),
    ):
        value, base = v[key], b[key]
        floor = WELL_ABOVE * max(base, expected)
        if value >= floor and value > 0 and one_sided_greater(
                round(value * n / cluster), max(1, n // cluster),
                round(base * n_b / cluster), max(1, n_b // cluster)) < SIGNIFICANCE:
            section.finding(
                "warning",
                f"{key} {value:.3f}: {value:.1%} of samples are {what} (real baseline "
                f"{base:.3f}; threshold: ≥ {floor:.3f} = {WELL_ABOVE:g} × max(baseline, "
                f"quantile {expected:g}), z-test p < {SIGNIFICANCE:g})",
                metric=key, value=value, threshold=floor)
    if comp.birthday is not None:
        _birthday_finding(section, comp, bool(comp.extra.get("is_image", False)))


def _baseline_low(comp: C.Comparison, key: str, o: Any) -> tuple[float, str]:
    """The low end of the baseline's interval, and which interval it is: the bootstrap one, or
    with ``bootstrap=0`` the normal-approximation interval of the baseline proportion."""
    level = f"{o.confidence:.0%}"
    ci = comp.baseline_cis.get(key)
    if ci is not None and np.isfinite(ci[0]):
        return float(ci[0]), f"the baseline's {level} bootstrap interval"
    low, _ = C.proportion_interval(comp.baselines[key], comp.n, o.confidence)
    return low, (f"the baseline's {level} normal-approximation interval, "
                 f"p ± z·√(p(1-p)/n) (no bootstrap: bootstrap=0)")


def _birthday_finding(section: ganlens.Section, comp: C.Comparison, is_image: bool) -> None:
    b = comp.birthday
    ref = comp.extra["birthday_reference"]
    rule = (f"a duplicate: two samples within {b.threshold:.3g}, closer than any two of the {ref} "
            "real samples of reference and holdout")
    examined = "" if b.samples == comp.n else f" (a random {b.samples} of the {comp.n} samples)"
    if b.sample_size is None:
        if b.pairs == 0:
            what = "no duplicates at any sample size tried"
        else:
            what = (f"duplicates in fewer than half of the random subsets at every sample size "
                    f"tried ({b.pairs} pair(s) among all {b.samples})")
        section.finding(
            "info",
            f"birthday test (Arora & Zhang 2017): {what}: no upper bound on the support (sizes "
            f"up to {b.sizes_tried}{examined}; {rule})", metric=C.SUPPORT_ESTIMATE, value=None)
        return
    if is_image:
        look = "judge the closest pairs in the figure 'Closest pairs of generated samples'"
    else:
        shown = ", ".join(f"{d:.3g}" for d in _closest_distances(comp, 5))
        look = f"the closest pairs are {shown} apart"
    section.finding(
        "warning",
        f"birthday test (Arora & Zhang 2017): half of {b.rounds} random subsets of "
        f"s½ = {b.sample_size} samples{examined} hold a duplicate ({rule}; {b.pairs} such pairs): "
        f"support_estimate {b.support_estimate:.3g} = s½(s½-1)/(2 ln 2), about the number of "
        "equally likely outputs that repeat that soon. The generator makes at least about this "
        "many distinct outputs at that resolution, most of its mass on about this many; the "
        f"number rests on the duplicate threshold: {look}",
        metric=C.SUPPORT_ESTIMATE, value=b.support_estimate, threshold=b.threshold)


def _closest_distances(comp: C.Comparison, k: int) -> list[float]:
    """The distances of the ``k`` closest pairs of samples (each pair once)."""
    dup = comp.duplicates
    seen: set[tuple[int, int]] = set()
    out = []
    for i in torch.argsort(dup.nearest_distance, stable=True).tolist():
        j = int(dup.nearest_index[i])
        if (min(i, j), max(i, j)) not in seen:
            seen.add((min(i, j), max(i, j)))
            out.append(float(dup.nearest_distance[i]))
        if len(out) == k:
            break
    return out


def _ndb_finding(section: ganlens.Section, comp: C.Comparison, o: Any) -> None:
    from scipy.stats import binom

    res = comp.ndb_fake
    floor = WELL_ABOVE * max(comp.baselines[C.NDB_K], o.ndb_alpha)
    chance = float(binom.sf(res.ndb - 1, res.bins, o.ndb_alpha))
    if res.ndb_k >= floor and chance < SIGNIFICANCE:
        section.finding(
            "warning",
            f"ndb_k {res.ndb_k:.2f}: {res.ndb} of {res.bins} bins hold a significantly different "
            f"share of samples (real baseline {comp.baselines[C.NDB_K]:.2f}; threshold: ≥ "
            f"{floor:.2f} = {WELL_ABOVE:g} × max(baseline, α) and binomial p {chance:.1e} < "
            f"{SIGNIFICANCE:g})",
            metric=C.NDB_K, value=res.ndb_k, threshold=floor)


def headline(modes: Counted | None, classes: Counted | None, comp: C.Comparison | None,
             not_computed: list[NotComputed] | None = None) -> str:
    """"N of M modes covered; recall X (real baseline Y)", with what is available; when nothing
    is, which tests were not computed and why."""
    parts = []
    for c in (modes, classes):
        if c is not None:
            parts.append(f"{c.covered_count} of {c.total} {plural(c.kind)} covered")
    if comp is not None:
        parts.append(f"recall {comp.values[C.RECALL]:.2f} (real baseline "
                     f"{comp.baselines[C.RECALL]:.2f})")
        parts.append(f"coverage {comp.values[C.COVERAGE]:.2f} (baseline "
                     f"{comp.baselines[C.COVERAGE]:.2f})")
    if parts:
        return "; ".join(parts)
    reasons = "; ".join(f"{i.what}: {i.short}" for i in not_computed or [])
    return "no mode-collapse metric computed" + (f" ({reasons})" if reasons else "")
