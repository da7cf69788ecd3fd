"""The Activations analyzer: its metadata, options and ``analyze``; see the package's README."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

import ganlens
from ganlens.errors import AnalyzerError, OptionError

from . import conditioning, figures, views
from .causal import (
    intervene,
)
from .intervene import InterventionResult
from .layers import DISCRIMINATOR, GENERATOR, PREFIXES, LayerInfo, NetworkPlan, plan_network
from .stats import LayerStats, UnitAccumulator, label_selectivity

PROBE_SAMPLES = 2
STATS_CHUNK = 4096



@dataclass
class Plan:
    """The layers chosen for one GAN, kept between ``requests`` and ``analyze``."""

    generator: Any
    discriminator: Any
    nets: dict[str, NetworkPlan]
    intervention: str | None
    probe_uncounted: bool
    image: bool
    used: bool = False

    @property
    def layers(self) -> list[LayerInfo]:
        return [layer for p in self.nets.values() for layer in p.layers]


class Activations(ganlens.Analyzer):
    """Unit statistics, feature maps, top-activating samples, class selectivity and batched
    ablations of generator units ranked by causal effect."""

    name = "activations"
    title = "Activations and units"
    description = ("What each layer and unit of the generator and discriminator computes, which "
                   "units are dead or constant, which work only on the negative side of a leaky "
                   "activation, and which generator units cause what (ablation).")

    @dataclass
    class Options:
        layers: list[str] | None = None
        """Layers to analyse instead of the automatic choice, e.g. ``G:blocks.0.2,D:features.1``
        (``G:``/``D:`` prefixes; a bare name is looked up in both networks)."""
        max_layers: int = ganlens.option(12, ge=1)
        """At most this many automatically chosen layers per network (evenly spaced)."""
        near_constant: float = ganlens.option(0.01, ge=0, le=1)
        """A unit is near-constant when its std across samples is at most this fraction of the
        layer's root-mean-square activation."""
        dead_warning: float = ganlens.option(0.25, ge=0, le=1)
        """Warn when a rectifier layer's dead fraction reaches this."""
        near_constant_warning: float = ganlens.option(0.5, ge=0, le=1)
        """Warn when a layer's near-constant fraction reaches this."""
        negative_regime_info: float = ganlens.option(0.25, ge=0, le=1)
        """Note (an info finding) when a leaky layer's negative-regime fraction reaches this."""
        display_samples: int = ganlens.option(3, ge=1)
        """Fixed samples whose full feature maps are kept for the figures."""
        layers_shown: int = ganlens.option(4, ge=1)
        """Convolutional layers per network in the feature-map grids."""
        maps_per_layer: int = ganlens.option(8, ge=1)
        """Units (the most variable) per layer in the feature-map grids."""
        units_shown: int = ganlens.option(6, ge=1)
        """Units in the overlay and top-activating-sample views."""
        top_samples: int = ganlens.option(6, ge=1)
        """Top-activating samples shown per unit."""
        interventions: bool = True
        """Ablate generator units and rank them by causal effect."""
        intervention_layer: str | None = None
        """The generator layer to ablate (default: the most variable analysed layer, preferring
        rectifier and leaky activations whose output at zero input is 0, then layers with 2-D
        maps for image data)."""
        ablate: int = ganlens.option(32, ge=1)
        """Ablate the units with the largest mean activation magnitude, at most this many."""
        intervention_samples: int = ganlens.option(64, ge=1)
        """Latents (the first of the shared pass) each ablation is measured on."""
        ablation: Literal["zero", "mean"] = "zero"
        """Replace the unit's output by zero or by its mean over the samples."""
        rank_by: Literal["pixels", "discriminator"] = "pixels"
        """Rank units by the output change or by the absolute change of D's score."""
        figures: bool = True
        """Draw the figures; false gives the numbers and tables only (faster, e.g. in a
        training loop)."""


    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options  # numeric ranges are declared on the fields
        if o.layers is not None and not o.layers:
            raise OptionError("option activations.layers: expected at least one layer name "
                              "(leave it unset for the automatic choice)")
        if o.intervention_layer is not None and not o.intervention_layer.strip():
            raise OptionError("option activations.intervention_layer: expected a generator "
                              "module name, got an empty string")
        self._plan: Plan | None = None

    # -- what to capture ---------------------------------------------------------------------
    def requests(self, gan: ganlens.GAN) -> list[ganlens.CaptureRequest]:
        """Spatial means and maxima of every analysed layer; full maps of the first
        ``display_samples`` samples for layers with 2-D maps. Chooses the layers with a probe
        pass of two samples (recorded as an extra pass in ``analyze``)."""
        self._plan = self._make_plan(gan, gan.forward, gan.score, uncounted=True)
        reqs = []
        for layer in self._plan.layers:
            reqs.append(ganlens.CaptureRequest(layer.network, layer.name, "mean"))
            if len(layer.out_shape) > 1:
                reqs.append(ganlens.CaptureRequest(layer.network, layer.name, "max"))
            if layer.spatial and layer.maps_ok:
                reqs.append(ganlens.CaptureRequest(layer.network, layer.name, "none",
                                                   limit=self.options.display_samples))
        return reqs

    def _make_plan(self, gan: ganlens.GAN, run_g: Any, run_d: Any, *, uncounted: bool) -> Plan:
        from .layers import parse_layer_names, resolve_bare

        o = self.options
        nets = {GENERATOR: gan.generator, DISCRIMINATOR: gan.discriminator}
        explicit = None
        if o.layers is not None:
            explicit = parse_layer_names(o.layers, gan.discriminator is not None)
            resolve_bare(explicit.pop(""), nets, explicit)
        iv = self._intervention_name()
        z = gan.latent.sample(PROBE_SAMPLES, 0)
        # A conditional GAN: the probe's latents get class labels too (given to a conditional D
        # with the probe's fakes); None for an unconditional one.
        y = gan.labels(PROBE_SAMPLES, 0)
        y_d = y if gan.d_conditional else None
        fakes: list[torch.Tensor] = []
        g_plan = plan_network(GENERATOR, gan.generator, lambda: fakes.append(run_g(z, y)),
                              explicit=None if explicit is None else explicit[GENERATOR],
                              max_layers=o.max_layers, required=[iv] if iv else [],
                              option="intervention_layer")
        plans = {GENERATOR: g_plan}
        if gan.discriminator is not None and (explicit is None or explicit[DISCRIMINATOR]):
            plans[DISCRIMINATOR] = plan_network(
                DISCRIMINATOR, gan.discriminator, lambda: run_d(fakes[0], y_d),
                explicit=None if explicit is None else explicit[DISCRIMINATOR],
                max_layers=o.max_layers)
        return Plan(gan.generator, gan.discriminator, plans, iv, uncounted, gan.data.is_image)

    def _intervention_name(self) -> str | None:
        name = self.options.intervention_layer
        if name is None:
            return None
        prefix, sep, rest = name.partition(":")
        if sep and prefix.strip().lower() in PREFIXES:
            if PREFIXES[prefix.strip().lower()] != GENERATOR:
                raise OptionError(f"option activations.intervention_layer: {name!r} is a "
                                  "discriminator layer; interventions ablate generator units")
            return rest.strip()
        return name.strip()

    def _take_plan(self, ctx: ganlens.AnalysisContext) -> Plan:
        plan = self._plan
        gan = ctx.gan
        if plan is None or plan.used or plan.generator is not gan.generator \
                or plan.discriminator is not gan.discriminator:
            plan = self._make_plan(gan, lambda z, y: ctx.generate(z, labels=y),
                                   lambda x, y: ctx.discriminate(x, labels=y), uncounted=False)
        elif plan.probe_uncounted:
            from ganlens import PassRecord

            ctx.passes.append(PassRecord(self.name, GENERATOR, 1, PROBE_SAMPLES, False))
            if DISCRIMINATOR in plan.nets:
                ctx.passes.append(PassRecord(self.name, DISCRIMINATOR, 1, PROBE_SAMPLES, False))
        plan.used = True
        return plan

    # -- the verb ----------------------------------------------------------------------------
    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        o = self.options
        plan = self._take_plan(ctx)
        section = self.new_section()
        notes: list[list[str]] = [[f"{p.network} layers", note] for p in plan.nets.values()
                                  for note in p.notes]
        if ctx.gan.discriminator is None:
            notes.append(["discriminator layers and D's score", "this GAN has no discriminator"])
        labels, class_names = self._labels(ctx, notes)
        stats = {layer.key: (layer, self._layer_stats(ctx, layer, labels, len(class_names)))
                 for layer in plan.layers}
        if not stats:
            raise ganlens.errors.SkipAnalysis("no layer of the generator or discriminator can be "
                                              "analysed: " + "; ".join(n[1] for n in notes))
        views.layer_metrics(section, stats, ctx.n_samples, o)
        if ctx.conditional:
            conditioning.report(section, ctx, stats)
        grouped = views.by_network(stats)
        views.add_figure(
            section, o, lambda: figures.layer_stats_figure(grouped), "layer_stats",
            title="Dead, near-constant, negative-regime and silent units",
            caption="Per analysed layer (x, forward order), the fraction of units that are dead "
                    "(red circles: true rectifiers such as ReLU only, never above zero over all "
                    "samples, so exactly zero), near-constant (orange squares, every layer: the "
                    "output hardly changes with the sample; dead units count), negative-regime "
                    "(purple diamonds: leaky activations such as LeakyReLU, ELU, GELU or SiLU "
                    "only, never on the positive side; not dead, since their output still follows "
                    "the input, unless they are near-constant too) and silent on a typical sample (blue triangles: sparsity, true "
                    "rectifiers only). A layer without a marker of a colour does not have that "
                    "statistic. Red or orange above 0 is capacity that ignores the input; purple "
                    "above 0 are units that only pass a scaled-down (leaky) signal.",
        )
        for net, items in grouped.items():
            if items and o.figures:
                why = views.feature_maps(section, ctx, net, items, o)
                if why:
                    notes.append([f"{net} feature maps", why])
        focus = self._focus(plan, stats)
        if focus is not None:
            self._unit_views(section, ctx, focus, stats[focus.key][1], class_names, notes)
        d_items = grouped[DISCRIMINATOR]
        if d_items:
            d_layer, d_st = max(d_items, key=lambda item: (item[1].variability, item[0].order))
            views.top_samples(section, ctx, d_layer, d_st, o)
        result = None
        if not o.interventions:
            notes.append(["interventions", "turned off (option interventions=false)"])
        elif focus is None:
            notes.append(["interventions", "no analysed generator layer with two or more units"])
        else:
            result = intervene(section, ctx, focus, stats[focus.key][1], o)
        if notes:
            section.table("not_computed", "Parts not computed", ["part", "reason"], notes,
                          caption="What this section leaves out for this GAN, and why.")
        section.summary = self._summary(stats, result, o.rank_by)
        return section

    # -- pieces ------------------------------------------------------------------------------
    def _labels(self, ctx: ganlens.AnalysisContext, notes: list) -> tuple[torch.Tensor | None, list[str]]:
        clf = ctx.classifier
        if clf is None:
            notes.append(["class selectivity", ctx.classifier_reason or "no classifier"])
            return None, []
        return clf.predict(ctx.fakes), list(clf.class_names)

    def _layer_stats(self, ctx: ganlens.AnalysisContext, layer: LayerInfo,
                     labels: torch.Tensor | None, num_classes: int) -> LayerStats:
        try:
            mean = ctx.activations(layer.network, layer.name, "mean")
            maxv = (ctx.activations(layer.network, layer.name, "max")
                    if len(layer.out_shape) > 1 else None)
        except KeyError as exc:
            raise AnalyzerError(f"{exc.args[0]}; build the context with this analyzer, e.g. "
                                "ganlens.context(gan, analyzers=[analyzer])") from exc
        mean = mean.reshape(mean.shape[0], -1)
        if mean.shape[1] != layer.units:
            raise AnalyzerError(f"{layer.label}: captured {mean.shape[1]} units, the probe saw "
                                f"{layer.units}")
        acc = UnitAccumulator(layer.units, rectifier=layer.kind == "rectifier",
                              leaky_at=layer.at_zero if layer.kind == "leaky" else None,
                              num_classes=num_classes if labels is not None else None)
        for start in range(0, mean.shape[0], STATS_CHUNK):
            sl = slice(start, start + STATS_CHUNK)
            acc.update(mean[sl], None if maxv is None else maxv[sl].reshape(-1, layer.units),
                       None if labels is None else labels[sl])
        stats = acc.finalize(self.options.near_constant)
        if ctx.conditional:  # each unit's selectivity for the class each sample was made with
            label_selectivity(stats, mean, ctx.labels, ctx.gan.require_classes(), STATS_CHUNK)
        return stats

    def _focus(self, plan: Plan, stats: dict) -> LayerInfo | None:
        """The generator layer to ablate: the option's, else the most variable analysed layer
        with two or more units, rectifiers and leaky activations with value 0 at zero input first
        (zero is "off" for a rectifier, the output at zero input for a leaky unit), then, for
        images, layers with 2-D maps (units that draw somewhere, as in GAN Dissection)."""
        g = [(layer, st) for layer, st in stats.values() if layer.network == GENERATOR]
        if plan.intervention is not None:
            found = [layer for layer, _ in g if layer.name == plan.intervention]
            if found and found[0].units >= 2:
                return found[0]
            raise OptionError(f"option activations.intervention_layer: G:{plan.intervention} has "
                              "fewer than two units to compare")
        g = [(layer, st) for layer, st in g if layer.units >= 2]
        if not g:
            return None
        image = plan.image
        return max(g, key=lambda item: (_zero_at_rest(item[0]),
                                        image and item[0].spatial and item[0].maps_ok,
                                        item[1].variability, item[0].order))[0]

    def _unit_views(self, section, ctx, layer: LayerInfo, st: LayerStats, class_names, notes) -> None:
        if ctx.gan.data.is_image and layer.spatial and layer.maps_ok:
            if self.options.figures:
                views.overlays(section, ctx, layer, st, self.options)
        else:
            notes.append(["unit maps over the image",
                          f"G:{layer.name} has no 2-D maps" if ctx.gan.data.is_image
                          else "the data are vectors, not images"])
        views.top_samples(section, ctx, layer, st, self.options)
        if st.selectivity is not None and self.options.figures:
            views.selectivity(section, layer, st, class_names)
        if st.label_selectivity is not None and self.options.figures:
            why = conditioning.figure(section, ctx, layer, st)
            if why:
                notes.append(["conditioning-label selectivity figure", why])

    @staticmethod
    def _summary(stats: dict, result: InterventionResult | None, rank_by: str) -> str:
        parts = []
        for net in (GENERATOR, DISCRIMINATOR):
            items = [(layer, st) for layer, st in stats.values() if layer.network == net]
            if not items:
                continue
            part = f"{net[0].upper()}: {len(items)} layers"
            if any(st.dead is not None for _, st in items):
                part += f", {sum(len(st.dead_units) for _, st in items)} dead units"
            negative = sum(len(st.negative_regime_units) for _, st in items)
            if negative:
                part += f", {negative} negative-regime units"
            parts.append(part)
        if result is not None:
            i = result.ranking(rank_by)[0]
            parts.append(f"top causal unit G:{result.layer}#{result.units[i]} "
                         f"(mean |change| {float(result.pixel_effect[i]):.3g})")
        return "; ".join(parts)


def _zero_at_rest(layer: LayerInfo) -> bool:
    """Whether setting a unit of ``layer`` to zero means "off" (a rectifier) or "the output at
    zero input" (a leaky activation whose value there is 0, not Softplus)."""
    return layer.kind == "rectifier" or (layer.kind == "leaky" and layer.at_zero == 0.0)
