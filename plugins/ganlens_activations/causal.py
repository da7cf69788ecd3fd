"""The interventions part of the activations section: ablate the units of one generator layer
(batched, see :mod:`ganlens_activations.intervene`) and report the ranking by causal effect —
metrics, the effect bars, before/after images, the per-unit table and a finding."""

from __future__ import annotations

from typing import Any

from . import figures, views
from .intervene import InterventionResult, ablate_units
from .layers import LayerInfo
from .stats import LayerStats

INTERVENTION_LAYER = "intervention.layer"
INTERVENTION_TOP_UNITS = "intervention.top_units"
INTERVENTION_EFFECT = "intervention.effect"
INTERVENTION_D_CHANGE = "intervention.d_change"
TOP_UNITS_REPORTED = 5
UNIT_TABLE_ROWS = 64


def intervene(section: Any, ctx: Any, layer: LayerInfo, st: LayerStats, o: Any) -> InterventionResult:
    """Ablate the top units of ``layer``; record the metrics, figures, table and finding."""
    magnitude = (st.mean**2 + st.std**2).sqrt()
    units = sorted(range(st.units), key=lambda u: (-float(magnitude[u]), u))[: o.ablate]
    k = min(o.intervention_samples, ctx.n_samples)
    values = [float(st.mean[u]) for u in units] if o.ablation == "mean" else None
    module = dict(ctx.gan.generator.named_modules())[layer.name]
    d_base = None if ctx.d_fake is None else ctx.d_fake[:k]
    keep = 3 if ctx.gan.data.is_image else k
    labels = None if ctx.labels is None else ctx.labels[:k]  # those of the baseline latents
    result = ablate_units(ctx, layer.name, module, units, ctx.latents[:k], ctx.fakes[:k],
                          values=values, d_baseline=d_base, keep=keep, labels=labels)
    order = result.ranking(o.rank_by)
    top = order[:TOP_UNITS_REPORTED]
    section.metric(INTERVENTION_LAYER, layer.name, "the generator layer whose units were ablated")
    section.metric(INTERVENTION_TOP_UNITS, [result.units[i] for i in top],
                   f"units of G:{layer.name} with the largest causal effect, strongest first "
                   f"(ranked by {o.rank_by})", "a few units standing out = units with a role")
    section.metric(INTERVENTION_EFFECT, [float(result.pixel_effect[i]) for i in top],
                   f"for those units: mean |change| per data value of the output when the unit "
                   f"is set to {o.ablation} ({k} latents; value range "
                   f"{ctx.gan.data.value_range[0]:g} to {ctx.gan.data.value_range[1]:g})",
                   "no single good value; large = the unit controls visible content")
    if result.d_change is not None:
        section.metric(INTERVENTION_D_CHANGE, [float(result.d_change[i]) for i in top],
                       "for those units: mean change of D's logit when the unit is ablated"
                       + (" (D, conditional, given each sample's class label)"
                          if ctx.gan.d_conditional else ""),
                       "below 0: without the unit fakes look less real to D (it helps)")
    _views(section, ctx, result, order, st, k, o)
    return result

def _views(section: Any, ctx: Any, result: InterventionResult, order: list[int], st: LayerStats,
       k: int, o: Any) -> None:
    how = (f"{len(result.units)} ablations on {k} latents in {result.passes} batched "
           f"generator pass(es) ({result.method})")
    if ctx.conditional:
        how += ", each latent with its class label from the shared pass"
    d_part = " Right: the mean change of D's logit." if result.d_change is not None else ""
    views.add_figure(
        section, o, lambda: figures.effects_figure(result, order), "intervention_effects",
        title=f"Causal effect of the units of G:{result.layer}",
        caption=f"Each unit of G:{result.layer} set to {o.ablation} in turn ({how}); bars: the "
                f"mean absolute change of the output per data value, largest first.{d_part} "
                "A few tall bars mean a few units control much of what G draws.",
    )
    if ctx.gan.data.is_image:
        def make():
            return figures.before_after_figure(result, order, ctx.fakes[:k],
                                               ctx.gan.data.value_range)
        what = ("each pair of images is one sample before and after the ablation; the last "
                "column maps where the output changes, averaged over the latents")
    else:
        def make():
            return figures.before_after_vectors_figure(result, order, ctx.fakes[:k], ctx.fakes)
        what = "grey points are samples before the ablation, red after, joined by lines"
    views.add_figure(section, o, make, "intervention_before_after",
                     title="Before and after ablating the top units",
                     caption=f"Rows or panels: the units of G:{result.layer} with the largest "
                             f"effect; {what}. What disappears is what the unit draws.")
    rows = []
    for rank, i in enumerate(order[:UNIT_TABLE_ROWS]):
        u = result.units[i]
        row = [rank + 1, u, round(float(st.mean[u]), 4), round(float(st.std[u]), 4),
               None if st.dead is None else bool(st.dead[u]), bool(st.near_constant[u]),
               None if st.negative_regime is None else bool(st.negative_regime[u]),
               round(float(result.pixel_effect[i]), 5)]
        row.append(None if result.d_change is None else round(float(result.d_change[i]), 4))
        rows.append(row)
    section.table("intervention_units", f"Units of G:{result.layer} by causal effect",
                  ["rank", "unit", "mean", "std", "dead", "near-constant", "negative-regime",
                   "output change", "D logit change"], rows,
                  caption=f"{how}; at most {UNIT_TABLE_ROWS} rows, strongest first. Dead (never "
                          "above zero, so exactly zero) is shown for true rectifiers only, "
                          "negative-regime (never on the positive side, still varying) for "
                          "leaky activations only; n/a elsewhere.")
    best = order[0]
    section.finding(
        "info", f"Ablating unit {result.units[best]} of G:{result.layer} changes the output "
                f"most: {float(result.pixel_effect[best]):.3g} per data value on average",
        metric=INTERVENTION_EFFECT, value=float(result.pixel_effect[best]),
    )
