"""The verdict: the feature metrics written into the section, the findings, the headline.

Every finding names its metric and the threshold that fired. The thresholds compare the fakes
with the real baseline (held-out real data of the same size), never with a fixed number alone,
and they ask for an effect that is both strong and statistically significant:

- ALERT, missing modes or classes: fewer covered than a real sample of the same size covers.
- ALERT, recall or coverage far below the baseline: at most ``FAR_BELOW`` (½) of it, and lower
  by a one-sided two-proportion z-test at ``SIGNIFICANCE`` (1%).
- WARNING, recall or coverage below the baseline's interval and significantly lower; precision,
  density or the high-quality fraction at most ½ of the baseline (sample quality).
- WARNING, imbalance: a covered mode or class holds at least ``IMBALANCE_RATIO`` (2×) or at most
  ½ of its real share, significant by a two-proportion z-test at 1% / K (Bonferroni); NDB/K at
  least twice max(baseline, α) and unlikely under chance (binomial tail < 1%).
- WARNING, duplicates or memorisation at least ``WELL_ABOVE`` (2×) max(baseline, the quantile
  that sets their threshold), and significantly above the baseline.
- INFO otherwise: everything within the baseline's range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import compare as C
from .stats import one_sided_greater, two_proportion_z_test

if TYPE_CHECKING:
    import ganlens

    from .modes import Counted

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
    C.SUPPORT_ESTIMATE: ("birthday-paradox estimate of how many distinct samples the generator "
                         "makes: n(n-1)/2 ÷ near-duplicate pairs (Arora & Zhang 2017); with no "
                         "pair it is a lower bound",
                         "large, like the real baseline; small: few distinct outputs"),
    C.MEMORISED_FRACTION: ("share of samples closer to a training sample than the closest "
                           "{mq:g} of held-out real samples are",
                           "near the real baseline (≈ {mq:g}); high: copies of training data"),
}


def _fmt(text: str, o: Any) -> str:
    return text.format(kpr=o.k_precision_recall, kdc=o.k_density_coverage, alpha=o.ndb_alpha,
                       dq=o.duplicate_quantile, mq=o.memorisation_quantile)


def record_feature_metrics(section: ganlens.Section, comp: C.Comparison, o: Any) -> None:
    """Write each feature metric, its baseline and both intervals into ``section``."""
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
    section.metric("support_is_lower_bound", x["support_is_lower_bound"],
                   "true when no near-duplicate pair was found, so support_estimate is a lower bound")
    section.metric("memorisation_threshold", x["memorisation_threshold"],
                   "distance to the nearest training sample under which a sample counts as memorised")


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
                 comp: C.Comparison | None, o: Any) -> None:
    """Add every finding the metrics support (see the module docstring for the rules)."""
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
    if not any(f.level in ("warning", "alert") for f in section.findings):
        section.finding("info", "no sign of mode collapse: every metric is within the range of "
                                "held-out real data of the same size")


def _feature_findings(section: ganlens.Section, comp: C.Comparison, o: Any) -> None:
    v, b, ci = comp.values, comp.baselines, comp.baseline_cis
    n = comp.n
    for key in (C.RECALL, C.COVERAGE):
        value, base = v[key], b[key]
        if value <= FAR_BELOW * base and _lower(value, n, base, n):
            section.finding(
                "alert",
                f"{key} {value:.3f} is far below the real baseline {base:.3f} (threshold: ≤ "
                f"{FAR_BELOW:g} × baseline, z-test p < {SIGNIFICANCE:g}): much of the real data "
                "has no generated sample near it",
                metric=key, value=value, threshold=FAR_BELOW * base)
        elif value < ci.get(key, (base, base))[0] and _lower(value, n, base, n):
            section.finding(
                "warning",
                f"{key} {value:.3f} is below the real baseline {base:.3f} (threshold: under the "
                f"baseline's interval low {ci[key][0]:.3f}, z-test p < {SIGNIFICANCE:g})",
                metric=key, value=value, threshold=ci[key][0])
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


def headline(modes: Counted | None, classes: Counted | None, comp: C.Comparison | None) -> str:
    """"N of M modes covered; recall X (real baseline Y)", with what is available."""
    parts = []
    for c in (modes, classes):
        if c is not None:
            parts.append(f"{c.covered_count} of {c.total} {plural(c.kind)} covered")
    if comp is not None:
        parts.append(f"recall {comp.values[C.RECALL]:.2f} (real baseline "
                     f"{comp.baselines[C.RECALL]:.2f})")
        parts.append(f"coverage {comp.values[C.COVERAGE]:.2f} (baseline "
                     f"{comp.baselines[C.COVERAGE]:.2f})")
    return "; ".join(parts) if parts else "no mode-collapse metric applies to these data"
