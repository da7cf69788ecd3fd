"""What the section says: the metrics (each with what it measures and what good looks like), the
"numbers to report" table, the findings and the headline."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .compute import Settings, SpaceScores

if TYPE_CHECKING:
    import ganlens

TABLE = "numbers_to_report"
COLUMNS = ["metric", "feature space", "value", "baseline", "interval", "what good looks like"]


def key(metric: str, space: str) -> str:
    """The metric key of ``metric`` in ``space``: ``fd/classifier``, ``kid/random-conv``..."""
    return f"{metric}/{space}"


def _g(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


def _subsets(k) -> str:
    if len(k.values) == 1:
        return f"on the whole sets of {k.subset_size} (every subset would be all of them)"
    return f"mean over {len(k.values)} random subsets of {k.subset_size}"


def _ci(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def record_metrics(section: ganlens.Section, sc: SpaceScores, s: Settings,
                   threshold: float) -> None:
    sp = sc.space
    where = f"in the {sp} feature space"
    if not sc.computed:
        why = f"not computed {where}: {sc.reason}"
        for metric in ("fd", "fd_baseline", "kid", "kid_baseline", "vendi_fake", "vendi_real",
                       "ct_statistic"):
            section.metric(key(metric, sp), None, why)
        return
    sizes = f"{sc.n} samples against a real reference of {sc.n_reference}"
    level = f"{s.confidence:.0%}"
    form = ("d × d covariance form" if sc.fd_form == "covariance"
            else "n × n Gram form, as there are fewer samples than dimensions")
    section.metric(key("fd", sp), sc.fd,
                   f"Fréchet distance of the generated samples {where} ({sizes}; float64, "
                   f"{form}); not FID: the features are ganlens's {sp} space, not Inception's",
                   f"near the real baseline {_g(sc.fd_baseline)}; lower is better")
    section.metric(key("fd_baseline", sp), sc.fd_baseline,
                   f"Fréchet distance of {sc.n} held-out real samples to the same reference: "
                   "what a perfect generator scores at this sample size",
                   "the reference point for fd: falls as n grows")
    if sc.fd_ci is not None:
        section.metric(key("fd_ci", sp), _ci(sc.fd_ci),
                       f"{level} bootstrap interval of fd ({s.bootstrap} resamples of the "
                       "generated samples against the fixed reference, re-centred on fd)",
                       "overlapping fd_baseline_ci: no difference from real data detectable")
        section.metric(key("fd_baseline_ci", sp), _ci(sc.fd_baseline_ci),
                       f"{level} bootstrap interval of fd_baseline",
                       "the spread a perfect generator's fd would have")
    if sc.fd_inf is not None:
        section.metric(key("fd_infinity", sp), sc.fd_inf.value,
                       "FD∞ (Chong & Forsyth 2020): FD extrapolated to infinitely many generated "
                       f"samples from subsets of {min(sc.fd_inf.sizes)} to {max(sc.fd_inf.sizes)}",
                       f"near the real baseline's {_g(sc.fd_inf_baseline.value)}; lower is better")
        section.metric(key("fd_infinity_baseline", sp), sc.fd_inf_baseline.value,
                       "FD∞ of the held-out real samples against the same reference",
                       "near 0 (what FD∞ of real data approaches)")
    elif sc.fd_inf_reason:
        section.metric(key("fd_infinity", sp), None, f"not computed: {sc.fd_inf_reason}")
    if sc.kid is not None:
        kb = sc.kid_baseline
        section.metric(key("kid", sp), sc.kid.mean,
                       f"KID {where}: unbiased MMD² with the kernel (xᵀy/d + 1)³, "
                       + _subsets(sc.kid),
                       f"near 0, like the real baseline {_g(kb.mean, 3)} ± {_g(kb.std, 2)}; "
                       "lower is better")
        section.metric(key("kid_std", sp), sc.kid.std, "std of kid over the subsets",
                       "small beside kid (0 when one subset is the whole sets)")
        section.metric(key("kid_baseline", sp), kb.mean,
                       "KID of the held-out real samples against the same reference",
                       "near 0 (it is unbiased)")
        section.metric(key("kid_baseline_std", sp), kb.std, "std of kid_baseline over the subsets",
                       "how far from 0 a perfect generator's kid may fall by chance")
    else:
        section.metric(key("kid", sp), None, f"not computed {where}: {sc.kid_reason}")
    section.metric(key("vendi_fake", sp), sc.vendi_fake,
                   f"Vendi score of the {sc.n_vendi_fake} generated samples {where} (cosine "
                   "kernel): the effective number of distinct samples",
                   f"near vendi_real ({_g(sc.vendi_real)}); lower means less diverse than the "
                   "data, a collapse")
    section.metric(key("vendi_real", sp), sc.vendi_real,
                   f"Vendi score of {sc.n_vendi_real} real samples",
                   "the target for vendi_fake")
    if sc.copying is not None and sc.copying_reason is None:
        cp = sc.copying
        section.metric(key("ct_statistic", sp), cp.statistic,
                       f"data-copying test C_T {where} (Meehan et al. 2020): cell-weighted "
                       "Mann-Whitney z-score of generated vs held-out distances to the nearest "
                       f"training sample, over {int(cp.included.sum())} of {cp.cells} k-means cells",
                       f"about 0 (within ±{abs(threshold):g}); ≪ {threshold:g} means the generator "
                       "copies training samples, ≫ 0 that it underfits")
        section.metric(key("ct_cells", sp), int(cp.included.sum()),
                       f"cells in C_T (at least {cp.min_samples} generated and held-out samples)",
                       f"most of the {cp.cells}: few cells the generator leaves (almost) empty")
    else:
        section.metric(key("ct_statistic", sp), None, f"not computed {where}: {sc.copying_reason}")


def table_rows(scores: list[SpaceScores], s: Settings, threshold: float) -> list[list]:
    level = f"{s.confidence:.0%}"
    rows: list[list] = []
    for sc in scores:
        sp = sc.space
        if not sc.computed:
            rows.append(["all", sp, f"not computed ({sc.reason})", None, "", ""])
            continue
        fd_int = (f"{level} [{_g(sc.fd_ci[0])}, {_g(sc.fd_ci[1])}]; baseline "
                  f"[{_g(sc.fd_baseline_ci[0])}, {_g(sc.fd_baseline_ci[1])}]"
                  if sc.fd_ci is not None else "none (bootstrap = 0)")
        rows.append(["FD", sp, sc.fd, sc.fd_baseline, fd_int,
                     "near the baseline; lower is better"])
        if sc.fd_inf is not None:
            rows.append(["FD∞", sp, sc.fd_inf.value, sc.fd_inf_baseline.value, "",
                         "near the baseline; lower is better"])
        if sc.kid is not None:
            rows.append(["KID", sp, sc.kid.mean, sc.kid_baseline.mean,
                         f"± {_g(sc.kid.std, 2)} (std over {len(sc.kid.values)} subset(s) of "
                         f"{sc.kid.subset_size}); baseline ± {_g(sc.kid_baseline.std, 2)}",
                         "near 0, like the baseline; lower is better"])
        else:
            rows.append(["KID", sp, f"not computed ({sc.kid_reason})", None, "", ""])
        rows.append(["Vendi", sp, sc.vendi_fake, sc.vendi_real, "",
                     "near the real value; lower is less diverse"])
        if sc.copying is not None and sc.copying_reason is None:
            rows.append(["C_T", sp, sc.copying.statistic, None,
                         f"{int(sc.copying.included.sum())} of {sc.copying.cells} cells",
                         f"about 0; below {threshold:g} is data copying"])
        else:
            rows.append(["C_T", sp, f"not computed ({sc.copying_reason})", None, "", ""])
    return rows


def add_table(section: ganlens.Section, scores: list[SpaceScores], s: Settings,
              threshold: float) -> None:
    section.table(
        TABLE, "Numbers to report", COLUMNS, table_rows(scores, s, threshold),
        caption=("Each score in each feature space ganlens could compute. 'baseline' is the "
                 "same score for held-out real data of the generated set's size against the same "
                 "reference (FD, KID), or the real data's own Vendi score: what a perfect "
                 "generator gets. Name the feature space when you report a number: a Fréchet "
                 "distance in these spaces is not FID (FID uses Inception-v3 features)."),
        featured=True)


def add_findings(section: ganlens.Section, scores: list[SpaceScores], threshold: float) -> None:
    for sc in scores:
        sp = sc.space
        if not sc.computed:
            section.finding("info", f"scores not computed in the {sp} space: {sc.reason}")
            continue
        if sc.kid is None:
            section.finding("info", f"KID not computed in the {sp} space: {sc.kid_reason}")
        if sc.fd_inf_reason:
            section.finding("info", f"FD∞ not computed in the {sp} space: {sc.fd_inf_reason}")
        cp = sc.copying
        if cp is None or sc.copying_reason is not None:
            section.finding("info", f"data-copying test not computed in the {sp} space: "
                                    f"{sc.copying_reason}")
            continue
        if cp.statistic < threshold:
            cells = cp.copying_cells(threshold)
            named = ", ".join(f"{c} (Z = {cp.z[c]:.1f}, {int(cp.generated_counts[c])} samples)"
                              for c in cells[:8])
            more = f" and {len(cells) - 8} more" if len(cells) > 8 else ""
            section.finding(
                "alert",
                f"data copying in the {sp} space: C_T = {cp.statistic:.2f} (below {threshold:g}, "
                f"over {int(cp.included.sum())} of {cp.cells} cells): generated samples lie "
                "closer to training samples than held-out data do"
                + (f"; the cells that copy: {named}{more}" if cells else ""),
                metric=key("ct_statistic", sp), value=cp.statistic, threshold=threshold)
        elif cp.statistic > -threshold:
            section.finding(
                "info",
                f"the generator underfits in the {sp} space: C_T = {cp.statistic:.2f} (above "
                f"{-threshold:g}): generated samples lie farther from training samples than "
                "held-out data do", metric=key("ct_statistic", sp), value=cp.statistic,
                threshold=-threshold)
    sources: dict[str, list[str]] = {}
    for sc in scores:
        if sc.copying_source:
            sources.setdefault(sc.copying_source, []).append(sc.space)
    for src, spaces in sources.items():
        where = "" if len(sources) == 1 else f" in the {', '.join(spaces)} space" + (
            "s" if len(spaces) > 1 else "")
        section.finding("info", f"the data-copying test{where} used {src}")


def headline(scores: list[SpaceScores], preferred: str | None) -> str:
    done = [sc for sc in scores if sc.computed]
    if not done:
        reasons = "; ".join(f"{sc.space}: {sc.reason}" for sc in scores)
        return f"no score computed ({reasons})"
    sc = next((x for x in done if x.space == preferred), done[0])
    parts = [f"{sc.space} space: FD {_g(sc.fd)} (real baseline {_g(sc.fd_baseline)})"]
    if sc.kid is not None:
        parts.append(f"KID {_g(sc.kid.mean, 3)} ± {_g(sc.kid.std, 2)}")
    parts.append(f"Vendi {_g(sc.vendi_fake, 3)} (real {_g(sc.vendi_real, 3)})")
    if sc.copying is not None and sc.copying_reason is None:
        parts.append(f"C_T {sc.copying.statistic:.2f}")
    return "; ".join(parts)
