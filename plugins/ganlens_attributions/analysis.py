"""The analyzer's body: runs the discriminator and generator parts and fills the Section."""

from __future__ import annotations

from typing import Any

import torch

import ganlens
from ganlens.errors import FeatureUnavailable, OptionError

from . import figures
from . import generator as g
from .discriminator import (
    METHOD_TITLES,
    DiscriminatorAttributions,
    DSettings,
    attention_distance,
    centroid,
    class_spread,
    strongest_difference,
)
from .keys import (
    ATTENTION_DISTANCE_INFO,
    CONDUCTANCE_BOTTOM_UNITS,
    CONDUCTANCE_LAYER,
    CONDUCTANCE_RELATIVE_DELTA,
    CONDUCTANCE_TARGET,
    CONDUCTANCE_TOP_UNITS,
    D_ATTENTION_DISTANCE,
    D_CENTROID_FAKE,
    D_CENTROID_REAL,
    D_CLASS_COUNTS,
    D_CLASS_MASS,
    D_CLASS_MASS_REAL,
    D_CLASS_SPREAD,
    D_CLASS_SPREAD_REAL,
    D_GRADCAM_LAYER,
    D_IG_DELTA,
    D_IG_RELATIVE_DELTA,
    FIXED_OUTPUT_FRACTION,
    FIXED_OUTPUT_LEVEL,
    INACTIVE_WARNING,
    LATENT_IG_RELATIVE_DELTA,
    LATENT_IMPORTANCE,
    LATENT_INACTIVE_DIMS,
    LATENT_INACTIVE_FRACTION,
    LATENT_TARGET_IMPORTANCE,
    PIXEL_SENSITIVITY_MEAN,
    RELATIVE_DELTA_INFO,
    RELATIVE_DELTA_WARNING,
)
from .targets import Target, build_target

PARTS = "parts"
MAX_CLASS_PANELS = 10
"""At most this many classes in the per-class figure (those with the most samples)."""


def run(o: Any, section: ganlens.Section, ctx: ganlens.AnalysisContext) -> ganlens.Section:
    """Fill the analyzer's empty ``section`` for ``ctx``, with the options ``o``
    (``Attributions.Options``)."""
    gan = ctx.gan
    if o.baseline == "blurred" and not gan.data.is_image:
        raise OptionError(f"option attributions.baseline='blurred' needs image data; these data are "
                          f"vectors of shape {gan.data.shape}: use 'black' or 'mean_real'")
    parts: list[list[str]] = []
    summary: list[str] = []
    if gan.discriminator is None:
        parts.append(["discriminator attributions", "skipped", "this GAN has no discriminator"])
        summary.append("no discriminator: D parts skipped")
    else:
        summary += _discriminator(ctx, o, section, parts)
    summary += _generator(ctx, o, section, parts)
    section.table(PARTS, "What was computed", ["part", "status", "detail"], parts,
                  caption="Each part of the analysis, and why a part was skipped.")
    section.summary = "; ".join(s for s in summary if s)
    return section


# ---------------------------------------------------------------------------------------------
# Discriminator
# ---------------------------------------------------------------------------------------------


def _discriminator(ctx: ganlens.AnalysisContext, o, section: ganlens.Section,
                   parts: list[list[str]]) -> list[str]:
    gan = ctx.gan
    real = ctx.real.x if ctx.real is not None else None
    baseline = o.baseline
    if baseline == "mean_real" and real is None:
        section.finding("warning", "the mean_real IG baseline needs real data "
                                   f"({ctx.real_reason}); the black baseline was used instead")
        baseline = "black"
    settings = DSettings(o.n_steps, baseline, o.blur_sigma, o.smoothgrad_samples,
                         o.smoothgrad_noise, o.internal_batch_size, o.gradcam_layer)
    explainer = DiscriminatorAttributions(
        gan, settings, ctx.rng("attributions/smoothgrad"),
        mean_real=real.float().mean(0) if real is not None else None,
    )
    fakes = ctx.fakes[: o.map_samples]
    reals = real[: o.map_samples] if real is not None else None
    if real is None:
        parts.append(["attributions on real data", "skipped", ctx.real_reason or "no real data"])
    # Class labels: of the fakes, those G was given; of the reals, the dataset's. A conditional
    # D is explained at each sample's own label.
    classes = num_classes(gan)
    fake_classes = ctx.labels[: o.map_samples] if ctx.labels is not None else None
    real_classes, why_not = real_labels(ctx, classes, o.map_samples) if reals is not None \
        else (None, None)
    if gan.d_conditional and reals is not None and real_classes is None:
        parts.append(["attributions on real data", "skipped",
                      f"the discriminator is conditional and {why_not}"])
        reals = None
    fake_y = fake_classes if gan.d_conditional else None
    real_y = real_classes if gan.d_conditional else None
    if gan.d_conditional:
        parts.append(["conditioning of D", "ok", "each sample explained at its own label: D(x, y) "
                      "with y the label G was given (fakes) or the data's label (reals)"])

    wants_gradcam = "gradcam" in o.methods or o.map_method == "gradcam"
    gradcam_reason = explainer.gradcam_unavailable(fakes, fake_y) if wants_gradcam \
        else "not requested"
    if gradcam_reason is None:
        layer_name = explainer.gradcam_layer(fakes, fake_y)[0]
        section.metric(D_GRADCAM_LAYER, layer_name, "the discriminator layer Grad-CAM explains "
                       "(the last convolution with a spatial output unless chosen)")
    methods = [m for m in o.methods if m != "gradcam" or gradcam_reason is None]
    if "gradcam" in o.methods and gradcam_reason is not None:
        parts.append(["Grad-CAM", "skipped", gradcam_reason])

    # Per-sample overlays.
    if gan.data.is_image and o.display > 0 and methods:
        shown = [fakes[: o.display]] if reals is None else [reals[: o.display], fakes[: o.display]]
        x = torch.cat(shown)
        y = None
        if gan.d_conditional:
            y = torch.cat(([] if reals is None else [real_y[: o.display]]) + [fake_y[: o.display]])
        scores = ctx.discriminate(x, labels=y)
        tag = [""] * len(x) if y is None else [f" (y={class_name(ctx, int(c))})" for c in y]
        labels = ([f"real {i + 1}{tag[i]}\nD={float(scores[i]):.2f}" for i in range(len(shown[0]))]
                  if reals is not None else [])
        offset = len(labels)
        labels += [f"fake {i + 1}{tag[offset + i]}\nD={float(scores[offset + i]):.2f}"
                   for i in range(len(shown[-1]))]
        maps = {m: explainer.attribute_map(m, x, labels=y) for m in methods}
        section.figure(
            figures.overlay_figure(x, labels, maps, gan.data.value_range), "overlays",
            title="Discriminator attributions per sample",
            caption="Each row is a real or generated sample with D's logit (higher: judged more "
                    "real)" + ("; y is the label the conditional D was given" if y is not None
                               else "") + "; each column lays one method's attribution map "
                    "over it, bright where "
                    "D's score depends most on the pixel (|attribution| summed over channels, "
                    "scaled to the map's 99th percentile). Saliency is the raw gradient, "
                    "Integrated Gradients integrates it from the "
                    f"{baseline.replace('_', ' ')} baseline, SmoothGrad averages it over noisy "
                    "copies, Grad-CAM weighs the last spatial layer's channels. Methods that "
                    "agree are more trustworthy than any single one.",
        )
        parts.append(["per-sample overlays", "ok", ", ".join(METHOD_TITLES[m] for m in methods)])
    elif not gan.data.is_image:
        parts.append(["per-sample overlays", "skipped", "vector data: see where D looks"])

    # Mean maps ("where D looks"), and for a conditional GAN the same per class.
    method = o.map_method
    out: list[str] = []
    if method == "gradcam" and gradcam_reason is not None:
        parts.append(["where D looks", "skipped", f"map_method=gradcam: {gradcam_reason}"])
    else:
        by_class = fake_classes is not None and classes is not None
        if by_class:
            fake_cls, fake_counts, fake_map = explainer.class_maps(
                method, fakes, fake_classes, classes, chunk=ctx.batch_size, labels=fake_y)
            real_cls = real_counts = real_map = None
            if reals is not None and real_classes is not None:
                real_cls, real_counts, real_map = explainer.class_maps(
                    method, reals, real_classes, classes, chunk=ctx.batch_size, labels=real_y)
            elif reals is not None:
                real_map = explainer.mean_map(method, reals, chunk=ctx.batch_size)
        else:
            fake_map = explainer.mean_map(method, fakes, chunk=ctx.batch_size)
            real_map = explainer.mean_map(method, reals, chunk=ctx.batch_size) if reals is not None else None
        n_fake, n_real = len(fakes), (len(reals) if reals is not None else 0)
        if fake_map.ndim == 2:
            fig = figures.where_d_looks_figure(fake_map, real_map, method, n_fake, n_real)
            section.metric(D_CENTROID_FAKE, centroid(fake_map),
                           "the attention-weighted centre of D's mean map on generated images, "
                           "(row, column) as fractions (0 = top/left)",
                           "near the real-data centroid; far from it: D judges fakes elsewhere")
            if real_map is not None:
                section.metric(D_CENTROID_REAL, centroid(real_map),
                               "the attention-weighted centre of D's mean map on real images",
                               "where the content of the real images is")
        else:
            fig = figures.where_d_looks_vector_figure(fake_map, real_map, method)
        section.figure(
            fig, "where_d_looks", title="Where the discriminator looks: real vs generated",
            caption=f"Mean |{METHOD_TITLES[method]}| of D's logit per "
                    + ("pixel (summed over channels)" if fake_map.ndim == 2 else "coordinate")
                    + f" over {n_fake} generated" + (f" and {n_real} real" if n_real else "")
                    + " samples, on one colour scale. Bright regions are what D bases its "
                      "verdict on. In the difference panel red marks where generated samples draw "
                      "more of D's attention than real ones (often artefacts), blue where they "
                      "draw less (content the generator fails to produce).",
        )
        parts.append(["where D looks", "ok", f"{METHOD_TITLES[method]} on {n_fake} generated"
                      + (f" and {n_real} real samples" if n_real else " samples")])
        if by_class:
            out += _class_maps(ctx, section, parts, method, fake_cls, fake_counts, fake_map,
                               real_cls, real_counts, real_map)
        if real_map is not None:
            dist = section.metric(
                D_ATTENTION_DISTANCE, attention_distance(real_map, fake_map),
                "total-variation distance between D's mean attribution maps on real and on "
                "generated samples, each normalised to sum 1 (0 = same places, 1 = disjoint)",
                "low (below 0.25): D weighs the same places on both; high: fakes draw its "
                "attention to other places",
            )
            where = strongest_difference(real_map, fake_map) if fake_map.ndim == 2 else None
            if dist >= ATTENTION_DISTANCE_INFO:
                section.finding(
                    "info", f"D looks at generated samples differently from real ones "
                            f"({D_ATTENTION_DISTANCE} = {dist:.2f} >= {ATTENTION_DISTANCE_INFO})"
                            + (f"; fakes draw more attention in the {where}" if where else ""),
                    metric=D_ATTENTION_DISTANCE, value=dist, threshold=ATTENTION_DISTANCE_INFO)
            out.append(f"D attention real vs fake distance {dist:.2f}")

    ig = explainer.ig_relative_delta()
    if ig is not None:
        section.metric(D_IG_DELTA, ig[0], "mean |convergence delta| of Integrated Gradients on D "
                       "(sum of attributions minus D(x) - D(baseline)), logit units",
                       "near 0; large values mean too few integration steps")
        rel = section.metric(D_IG_RELATIVE_DELTA, ig[1], "mean |convergence delta| divided by the "
                             "mean |D(x) - D(baseline)|", f"below {RELATIVE_DELTA_INFO}")
        _convergence_finding(section, D_IG_RELATIVE_DELTA, rel, "Integrated Gradients on D")
    return out


# ---------------------------------------------------------------------------------------------
# Conditional GANs: labels, class names, per-class maps
# ---------------------------------------------------------------------------------------------


def num_classes(gan: ganlens.GAN) -> int | None:
    """The class count of a conditional G or D, else None."""
    if not (gan.conditional or gan.d_conditional) or gan.num_classes is None:
        return None
    return int(gan.num_classes)


def real_labels(ctx: ganlens.AnalysisContext, classes: int | None,
                n: int) -> tuple[torch.Tensor | None, str | None]:
    """The labels of the first ``n`` real samples as class indices of the GAN, or None and why."""
    if classes is None:
        return None, "the GAN is not conditional"
    y = ctx.real.labels if ctx.real is not None else None
    if y is None:
        return None, "the real data have no labels"
    y = y[:n].long()
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= classes):
        return None, (f"the real data's labels ({int(y.min())} to {int(y.max())}) are not class "
                      f"indices of this GAN (0 to {classes - 1})")
    return y, None


def class_name(ctx: ganlens.AnalysisContext, k: int) -> str:
    """The real data's name of class ``k`` when it has one, else the index."""
    names = ctx.real.class_names if ctx.real is not None else None
    if names and ctx.gan.num_classes is not None and len(names) == int(ctx.gan.num_classes):
        return str(names[k])
    return str(k)


def _mass(maps: torch.Tensor, counts: torch.Tensor) -> list[float | None]:
    return [float(maps[k].sum()) if int(counts[k]) > 0 else None for k in range(len(counts))]


def _class_maps(ctx: ganlens.AnalysisContext, section: ganlens.Section, parts: list[list[str]],
                method: str, fake_cls: torch.Tensor, fake_counts: torch.Tensor,
                fake_map: torch.Tensor, real_cls: torch.Tensor | None,
                real_counts: torch.Tensor | None, real_map: torch.Tensor | None) -> list[str]:
    """Per-class mean maps of D's attributions: metrics, a figure and a parts row."""
    gan = ctx.gan
    d_form = "D(x, y)" if gan.d_conditional else "D(x)"
    how = ("each sample explained at its own label y" if gan.d_conditional else
           "the discriminator is unconditional: samples grouped by their class, D(x) explained")
    spread = section.metric(
        D_CLASS_SPREAD, class_spread(fake_cls, fake_counts, fake_map),
        f"mean over classes of the total-variation distance between D's mean |{METHOD_TITLES[method]}| "
        f"map on the generated samples of that class ({d_form}, {how}) and the map of all "
        "generated samples (0: D looks at the same places whatever the class)",
        "depends on the data: digits of different classes differ in where their strokes are; "
        "near 0 on such data means D ignores class-specific content")
    section.metric(
        D_CLASS_MASS, _mass(fake_cls, fake_counts),
        f"per conditioning class, the total of D's mean |{METHOD_TITLES[method]}| map on the "
        f"generated samples of that class ({d_form}); None for a class without samples",
        "0 for a class means D's score on it does not depend on the image at all (only on the "
        "label)")
    section.metric(D_CLASS_COUNTS, [int(c) for c in fake_counts],
                   "generated samples per conditioning class in those maps")
    if real_cls is not None:
        section.metric(D_CLASS_SPREAD_REAL, class_spread(real_cls, real_counts, real_map),
                       f"as {D_CLASS_SPREAD}, on the real samples grouped by their label")
        section.metric(D_CLASS_MASS_REAL, _mass(real_cls, real_counts),
                       f"as {D_CLASS_MASS}, on the real samples of each class")
    present = torch.nonzero(fake_counts > 0).flatten()
    order = present[torch.argsort(fake_counts[present], descending=True, stable=True)]
    shown = sorted(int(k) for k in order[:MAX_CLASS_PANELS])
    k_all = len(fake_counts)
    names = [class_name(ctx, k) for k in shown]
    fig = figures.class_maps_figure(
        fake_cls[shown], [int(fake_counts[k]) for k in shown],
        None if real_cls is None else real_cls[shown],
        None if real_counts is None else [int(real_counts[k]) for k in shown],
        names, method, d_form)
    which = (f"all {k_all} classes" if len(shown) == k_all else
             f"the {len(shown)} classes with the most generated samples, of {k_all}")
    section.figure(
        fig, "where_d_looks_by_class", title=f"Where the discriminator looks, per class ({d_form})",
        caption=f"Mean |{METHOD_TITLES[method]}| of {d_form} per "
                + ("pixel (summed over channels)" if fake_map.ndim == 2 else "coordinate")
                + f" for the samples of each conditioning class ({which}, one "
                + ("column" if fake_map.ndim == 2 else "row") + " each), " + how + "; the real row uses the real samples of each class with their "
                "labels. All panels share one colour scale, so a dark panel is a class whose "
                "score D barely bases on the image (an all-dark panel: D judges that class by its "
                "label alone). Compare a class's real and generated panels: bright places on "
                "fakes only are what gives that class's fakes away.",
    )
    parts.append(["where D looks per class", "ok", f"{len(present)} classes with generated "
                  "samples" + ("" if real_cls is None else "; reals by their labels")])
    return [] if spread is None else [f"D per-class attention spread {spread:.2f}"]


def _convergence_finding(section: ganlens.Section, key: str, rel: float, what: str) -> None:
    """An info finding above 5% integration error, a warning above 20%."""
    if rel > RELATIVE_DELTA_WARNING:
        level, threshold, meaning = "warning", RELATIVE_DELTA_WARNING, "its ranking may be unreliable"
    elif rel > RELATIVE_DELTA_INFO:
        level, threshold, meaning = "info", RELATIVE_DELTA_INFO, "its values are approximate"
    else:
        return
    section.finding(level, f"{what} is not converged ({key} = {rel:.3f} > {threshold}): "
                           f"{meaning}; raise attributions.n_steps",
                    metric=key, value=rel, threshold=threshold)


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------


def _targets(ctx: ganlens.AnalysisContext, specs: list[str], parts: list[list[str]]) -> list[Target]:
    out = []
    for spec in specs:
        try:
            out.append(build_target(ctx, spec))
        except FeatureUnavailable as exc:
            parts.append([f"target {spec}", "skipped", str(exc)])
    return out


def _generator(ctx: ganlens.AnalysisContext, o, section: ganlens.Section,
               parts: list[list[str]]) -> list[str]:
    gan = ctx.gan
    net = gan.generator
    latents = ctx.latents_for(o.latent_samples, "attributions/latents")
    # A conditional G is explained at a fixed label per latent (drawn uniformly, as the shared
    # pass draws them): attributions to z at a given class.
    labels = ctx.labels_for(o.latent_samples, "attributions/latents")

    def generate(z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return ctx.generate(z, labels=y, grad=True)

    if labels is not None:
        parts.append(["conditioning of G", "ok", f"{len(latents)} latents, each with a label drawn "
                      f"uniformly from the {gan.require_classes()} classes and held fixed: the "
                      "generator-side attributions are to z at a given class"])
    out: list[str] = []
    stats = g.latent_jacobian(generate, latents, generator=net,
                              internal_batch_size=o.internal_batch_size, labels=labels)
    effect = stats.latent_effect
    inactive = g.inactive_dims(effect, o.inactive_fraction)
    d = effect.numel()
    section.metric(LATENT_IMPORTANCE, effect,
                   "per latent dimension (flattened), the mean |dx/dz_i| over output values and "
                   f"{stats.samples} latents: how much the output moves per unit of z_i",
                   "spread over many dimensions; near-zero dimensions are unused")
    section.metric(LATENT_INACTIVE_DIMS, inactive,
                   f"latent dimensions whose effect is below {o.inactive_fraction} of the average "
                   "dimension's", "empty or few")
    frac = section.metric(LATENT_INACTIVE_FRACTION, len(inactive) / d,
                          "the fraction of latent dimensions that are inactive",
                          f"low (below {INACTIVE_WARNING})")
    if inactive:
        level = "warning" if frac >= INACTIVE_WARNING else "info"
        section.finding(level, f"{len(inactive)} of {d} latent dimensions barely change the output "
                        f"({LATENT_INACTIVE_FRACTION} = {frac:.2f}; warning at {INACTIVE_WARNING})",
                        metric=LATENT_INACTIVE_FRACTION, value=frac, threshold=INACTIVE_WARNING)
    out.append(f"{len(inactive)}/{d} latent dims inactive")

    targets = _targets(ctx, list(o.targets), parts)
    ig: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for target in targets:
        res = g.latent_attributions(generate, target, latents, generator=net, n_steps=o.n_steps,
                                    internal_batch_size=o.internal_batch_size, labels=labels)
        flat = res.attributions.flatten(1)
        ig[target.name] = (flat.abs().mean(0), flat.mean(0))
        section.metric(LATENT_TARGET_IMPORTANCE + target.name, flat.abs().mean(0),
                       f"per latent dimension, the mean |Integrated Gradients| on z (from z = 0) "
                       f"of {target.description}",
                       "the dimensions that matter most for this target rank first")
        rel = float(res.delta.abs().mean() / res.output_change.abs().mean().clamp_min(1e-12))
        section.metric(LATENT_IG_RELATIVE_DELTA + target.name, rel,
                       "mean |convergence delta| / mean |f(G(z)) - f(G(0))| of that IG",
                       f"below {RELATIVE_DELTA_INFO}")
        _convergence_finding(section, LATENT_IG_RELATIVE_DELTA + target.name, rel,
                             f"latent Integrated Gradients for {target.name}")
        top = g.rank(flat.abs().mean(0), 3)
        out.append(f"top latent dims for {target.name}: {', '.join(map(str, top))}")
        parts.append([f"latent IG for {target.name}", "ok", f"{len(latents)} latents"])
    thr = o.inactive_fraction * float(effect.mean())
    section.figure(
        figures.latent_importance_figure(effect, inactive, thr, ig), "latent_importance",
        title="Latent importance",
        caption="Top panel: each latent dimension's mean absolute effect on the output values "
                "(Jacobian column), ranked; grey bars under the dotted line are inactive "
                "dimensions. Further panels: Integrated Gradients on z (from z = 0) of each "
                "target, ranked by mean |attribution|; green bars raise the target on average "
                "(e.g. make fakes look more real to D), red bars lower it.",
    )

    smap = stats.sensitivity_map()
    section.metric(PIXEL_SENSITIVITY_MEAN, float(smap.mean()),
                   "the mean over output values of ||dx_p/dz|| (data units per unit z)",
                   "no universal value; compare runs of one GAN")
    fixed = float((smap < FIXED_OUTPUT_LEVEL * smap.max()).float().mean()) if smap.max() > 0 else 1.0
    section.metric(FIXED_OUTPUT_FRACTION, fixed,
                   f"the fraction of output {'pixels' if smap.ndim == 2 else 'coordinates'} whose "
                   f"sensitivity is below {FIXED_OUTPUT_LEVEL} of the most sensitive one's",
                   "the share of constant background in the data (e.g. MNIST borders); "
                   "1.0 means the output ignores z")
    section.figure(
        figures.sensitivity_figure(smap, ctx.fakes.float().mean(0), gan.data.value_range),
        "pixel_sensitivity", title="Pixel sensitivity to the latent",
        caption=f"For each output {'pixel' if smap.ndim == 2 else 'coordinate'}, the norm of its "
                f"gradient with respect to the whole latent, averaged over {stats.samples} "
                "latents (channels combined). Bright values are what the latent controls; dark "
                "ones stay fixed whatever z is (background, or parts the generator always draws "
                "the same way).",
    )
    parts.append(["latent effect and pixel sensitivity", "ok", f"{stats.samples} latents"])
    if not targets:
        parts.append(["unit conductance", "skipped", "no target applies (see the targets above)"])
        return out
    target = targets[0]
    layer = g.choose_unit_layer(net, generate, latents[:2], o.generator_layer,
                                labels=None if labels is None else labels[:2])
    cond = g.unit_conductance(generate, target, latents, generator=net, layer=layer,
                              n_steps=o.n_steps, internal_batch_size=o.internal_batch_size,
                              labels=labels)
    mean = cond.mean
    section.metric(CONDUCTANCE_LAYER, layer, "the generator layer whose units' conductance is shown")
    section.metric(CONDUCTANCE_TARGET, target.name, "the target the conductance explains")
    k = max(1, min(5, mean.numel() // 2))
    section.metric(CONDUCTANCE_TOP_UNITS, g.rank(mean, k),
                   f"the {k} units of {layer} with the highest mean conductance for {target.name}",
                   "units that raise the target (for D: make fakes look real)")
    section.metric(CONDUCTANCE_BOTTOM_UNITS, g.rank(mean, k, largest=False),
                   f"the {k} units of {layer} with the lowest mean conductance for {target.name}",
                   "units that lower the target (for D: give fakes away)")
    rel = float(cond.delta.abs().mean() / cond.output_change.abs().mean().clamp_min(1e-12))
    section.metric(CONDUCTANCE_RELATIVE_DELTA, rel,
                   "mean |sum of unit conductances - (f(G(z)) - f(G(0)))| / mean |f(G(z)) - f(G(0))|",
                   f"below {RELATIVE_DELTA_INFO} when every path from z to the output crosses "
                   "the layer (more with skip connections around it)")
    section.figure(
        figures.conductance_figure(mean, layer, target.name), "unit_conductance",
        title=f"Unit conductance of {layer}",
        caption=f"LayerConductance of each unit (channel) of {layer} for {target.description}, "
                f"from z = 0 to {len(latents)} latents, summed over positions and averaged. Green "
                "units carry the increase of the target, red units work against it; units near "
                "zero contribute little.",
    )
    units = list(dict.fromkeys([*g.rank(mean, k), *g.rank(mean, k, largest=False)]))
    section.table("conductance_units", f"Strongest units of {layer} for {target.name}",
                  ["unit", "mean conductance"], [[u, float(mean[u])] for u in units],
                  caption=f"The {k} highest, then the {k} lowest mean conductances.")
    parts.append([f"unit conductance for {target.name}", "ok", layer])
    return out
