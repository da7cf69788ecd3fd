"""The UMAP views: latent codes, G's intermediate features, and real and fake together in a
feature space; each with its trustworthiness, so a reader knows how faithful the picture is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import ganlens
from ganlens.errors import FeatureUnavailable, OptionError

from . import keys
from .embedding import Embedding, embed, exact_knn, single_threaded
from .plots import panels, scatter_panel

FULL_OUTPUT_BUDGET = 256 * 2**20
"""Bytes the features view may keep of full layer outputs (float16); beyond, channel means."""
COVER_NEIGHBORS = 10
"""Neighbours inspected to decide whether a real point is covered by fakes (and vice versa)."""
COVER_WARNING = 0.25
"""Uncovered or unsupported fractions above this are reported (perfect mixing: about 0.001)."""


@dataclass
class Colouring:
    """Values to colour points by: ``kind`` is continuous, categorical or none."""

    label: str
    values: np.ndarray | None
    kind: str
    names: list[str] | None = None


def seed_for(ctx: ganlens.AnalysisContext, salt: str) -> int:
    """A random_state for umap and subsamples, reproducible for (run seed, salt)."""
    return int(torch.randint(0, 2**31 - 1, (1,), generator=ctx.rng(f"latent/{salt}")))


def flat_latents(ctx: ganlens.AnalysisContext) -> torch.Tensor:
    return ctx.latents.reshape(len(ctx.latents), -1).float()


def generated_colourings(ctx: ganlens.AnalysisContext, n: int) -> list[Colouring]:
    """The class label G was given (a conditional GAN), D's score and the classifier's
    predicted class of the first ``n`` samples, when there are a discriminator and a
    classifier; else the latent norm."""
    out = []
    if ctx.labels is not None:
        out.append(Colouring("class label y given to G", ctx.labels[:n].numpy(), "categorical",
                             class_names(ctx)))
    if ctx.d_fake is not None:
        out.append(Colouring("sigmoid(D(G(z)))", torch.sigmoid(ctx.d_fake[:n]).numpy(),
                             "continuous"))
    clf = ctx.classifier
    if clf is not None:
        out.append(Colouring("predicted class", clf.predict(ctx.fakes[:n]).numpy(), "categorical",
                             list(clf.class_names)))
    if not out:
        out.append(Colouring("latent norm |z|", flat_latents(ctx)[:n].norm(dim=1).numpy(),
                             "continuous"))
    return out


def class_names(ctx: ganlens.AnalysisContext) -> list[str] | None:
    """The real data's class names when they name G's classes, else None (indices)."""
    names = ctx.real.class_names if ctx.real is not None else None
    k = ctx.gan.num_classes
    return list(names) if names and k is not None and len(names) == int(k) else None


def colouring_note(ctx: ganlens.AnalysisContext) -> str:
    parts = []
    if ctx.labels is not None:
        parts.append("the GAN is conditional: the class label y is an input of G beside z, so "
                     "the latent view shows no class regions (z and y are drawn independently) "
                     "while G's features may separate classes")
    if ctx.d_fake is None:
        parts.append("no discriminator, so no D colouring")
    if ctx.classifier is None:
        parts.append(f"no class colouring ({ctx.classifier_reason or 'no classifier'})")
    return ("; ".join(parts) + ".") if parts else ""


TRUST_NOTE = 0.8


def record_embedding(section: ganlens.Section, view: str, space: str, emb: Embedding,
                     n: int) -> None:
    if emb.trustworthiness is not None and emb.trustworthiness < TRUST_NOTE:
        why = (" (expected for the codes of an isotropic prior, which no 2-D map preserves)"
               if view == "latent" else "")
        section.finding(
            "info", f"the UMAP view '{view}' is not faithful ({keys.trust_key(view)} = "
                    f"{emb.trustworthiness:.2f} < {TRUST_NOTE}): its neighbourhoods may not be "
                    f"neighbourhoods in the data{why}", metric=keys.trust_key(view),
            value=emb.trustworthiness, threshold=TRUST_NOTE)
    section.metric(
        keys.trust_key(view), emb.trustworthiness,
        f"scikit-learn's trustworthiness of the 2-D UMAP of {space} against the data before "
        f"projection ({emb.trust_neighbors} neighbours, on {len(emb.trust_index)} of the {n} "
        "points): how many of the picture's near neighbours are near neighbours in the data",
        "1 is perfect; >= 0.9 the picture's clusters and neighbours can be trusted; below 0.8 read "
        "it with care (random 2-D placement scores about 0.5)",
    )


def run_embedding(ctx: ganlens.AnalysisContext, opts: Any, view: str, x: torch.Tensor) -> Embedding:
    return embed(x, random_state=seed_for(ctx, f"umap/{view}"), trust_points=opts.trust_points,
                 n_neighbors=opts.neighbors, n_epochs=opts.epochs, pca_dims=opts.pca_dims)


def _trust_text(emb: Embedding) -> str:
    t = emb.trustworthiness
    return "n/a" if t is None else f"{t:.3f}"


def latent_view(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any) -> None:
    n = min(opts.points, ctx.n_samples)
    z = flat_latents(ctx)[:n]
    emb = run_embedding(ctx, opts, "latent", z)
    record_embedding(section, "latent", f"the latent codes z ({z.shape[1]} dimensions)", emb, n)
    colourings = generated_colourings(ctx, n)
    fig, axes = panels(len(colourings))
    for ax, col in zip(axes, colourings, strict=True):
        scatter_panel(ax, emb.coords, col.values, kind=col.kind, label=col.label, names=col.names,
                      title=f"coloured by {col.label}")
    fig.suptitle(f"UMAP of {n} latent codes (trustworthiness {_trust_text(emb)})", fontsize=10)
    section.figure(
        fig, "umap_latent", title="Latent codes, embedded with UMAP",
        caption="Each point is a latent code z of the shared pass, placed by UMAP so that codes "
                "close in latent space stay close. A Gaussian prior gives one round blob; what "
                "matters is the colour: smooth gradients or contiguous class regions mean that "
                "nearby codes make similar samples (an organised latent space); salt-and-pepper "
                "colours mean the property changes abruptly between neighbouring codes. "
                + colouring_note(ctx),
    )


def default_layer(gan: ganlens.GAN) -> str | None:
    """The middle linear or convolutional layer of G (registration order), or None."""
    from ganlens.capture import layer_names

    names = layer_names(gan.generator)
    return names[len(names) // 2] if names else None


def resolve_layer(gan: ganlens.GAN, layer: str) -> str | None:
    if layer == "auto":
        return default_layer(gan)
    if layer == "none":
        return None
    modules = dict(gan.generator.named_modules())
    if layer not in modules or not layer:
        from ganlens.capture import layer_names

        known = ", ".join(layer_names(gan.generator)[:30]) or "none"
        raise OptionError(f"option latent.layer: the generator has no module {layer!r}; expected "
                          f"auto, none or one of its layers: {known}")
    return layer


def feature_reduction(gan: ganlens.GAN, layer: str, option: str, points: int) -> str:
    """The capture reduction for the features view: the option, or for ``auto`` the full
    outputs when ``points`` of them surely fit in FULL_OUTPUT_BUDGET (a linear layer's width, or
    a convolution's channels times the data's size, which bounds its spatial size), else the
    per-channel spatial means."""
    if option != "auto":
        return option
    module = dict(gan.generator.named_modules())[layer]
    spatial = gan.data.shape[1] * gan.data.shape[2] if gan.data.is_image else gan.data.numel
    if isinstance(module, torch.nn.Linear):
        size = module.out_features
    elif hasattr(module, "out_channels"):
        size = module.out_channels * spatial
    else:
        return "mean"
    return "none" if size * 2 * points <= FULL_OUTPUT_BUDGET else "mean"


def features_view(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any) -> None:
    layer = resolve_layer(ctx.gan, opts.layer)
    if layer is None:
        section.finding("info", "UMAP of G's features skipped: the generator has no linear or "
                                "convolutional layer (or latent.layer=none)")
        return
    reduction = feature_reduction(ctx.gan, layer, opts.layer_reduction, opts.points)
    acts = ctx.activations("generator", layer, reduction)
    n = min(opts.points, len(acts))
    x = acts[:n].reshape(n, -1)
    emb = run_embedding(ctx, opts, "features", x)
    module = dict(ctx.gan.generator.named_modules())[layer]
    spatial = not isinstance(module, torch.nn.Linear) and reduction == "mean"
    what = "channel means" if spatial else "outputs"
    record_embedding(section, "features", f"G's layer {layer!r} ({what}, {x.shape[1]} values)",
                     emb, n)
    colourings = generated_colourings(ctx, n)
    fig, axes = panels(len(colourings))
    for ax, col in zip(axes, colourings, strict=True):
        scatter_panel(ax, emb.coords, col.values, kind=col.kind, label=col.label, names=col.names,
                      title=f"coloured by {col.label}")
    fig.suptitle(f"UMAP of G's layer {layer} for {n} samples "
                 f"(trustworthiness {_trust_text(emb)})", fontsize=10)
    section.figure(
        fig, "umap_features", title=f"G's intermediate features ({layer}), embedded with UMAP",
        caption=f"Each point is one generated sample, placed by the {x.shape[1]} {what} of the "
                f"generator's layer '{layer}'. Clusters here are what G separates half-way through: "
                "compare with the latent view; classes that form clusters here but not in the "
                "latent view are made by the layers before this one. " + colouring_note(ctx),
    )


def coverage(fake: torch.Tensor, real: torch.Tensor, k: int = COVER_NEIGHBORS) -> tuple[np.ndarray, np.ndarray]:
    """For equal numbers of fake and real feature vectors: which reals have no fake among
    their ``k`` nearest neighbours (uncovered), and which fakes have no real (unsupported)."""
    m = len(fake)
    both = torch.cat([fake, real]).reshape(2 * m, -1).float().numpy()
    k = max(1, min(k, 2 * m - 1))
    with single_threaded():
        idx, _ = exact_knn(np.ascontiguousarray(both), k + 1)
    neighbours_fake = idx[:, 1:] < m
    uncovered = ~neighbours_fake[m:].any(1)
    unsupported = neighbours_fake[:m].all(1)
    return uncovered, unsupported


def real_fake_view(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any) -> None:
    if ctx.real is None:
        section.finding("info", f"UMAP of real and fake skipped: {ctx.real_reason or 'no real data'}")
        return
    fs = feature_set(ctx, section, opts.features, "UMAP of real and fake")
    if fs is None:
        return
    m = min(opts.points // 2, len(fs.fake), len(fs.real))
    x = torch.cat([fs.fake[:m], fs.real[:m]])
    emb = run_embedding(ctx, opts, "real_fake", x)
    record_embedding(section, "real_fake", f"fakes and reals in the '{fs.name}' feature space",
                     emb, 2 * m)
    uncovered, unsupported = coverage(fs.fake[:m], fs.real[:m])
    chance = 0.5**COVER_NEIGHBORS
    section.metric(
        keys.UNCOVERED_REAL, float(uncovered.mean()),
        f"fraction of real samples with no generated sample among their {COVER_NEIGHBORS} nearest "
        f"neighbours in the '{fs.name}' feature space ({m} real and {m} fake)",
        f"near 0 (about {chance:.3f} when fakes and reals are perfectly mixed); high: parts of the "
        "data the generator does not cover",
    )
    section.metric(
        keys.UNSUPPORTED_FAKE, float(unsupported.mean()),
        f"fraction of generated samples with no real sample among their {COVER_NEIGHBORS} nearest "
        f"neighbours in the '{fs.name}' feature space",
        f"near 0 (about {chance:.3f} when perfectly mixed); high: fakes pile up where there are no "
        "real data",
    )
    for key, value, what in ((keys.UNCOVERED_REAL, uncovered.mean(), "real samples have no "
                              "generated sample near them: G misses parts of the data"),
                             (keys.UNSUPPORTED_FAKE, unsupported.mean(), "generated samples have "
                              "no real sample near them: G makes things unlike the data")):
        if value > COVER_WARNING:
            section.finding("warning", f"{value:.0%} of {what} ({key} > {COVER_WARNING} in the "
                                       f"'{fs.name}' space)", metric=key, value=float(value),
                            threshold=COVER_WARNING)
    c = emb.coords
    fig, (ax1, ax2) = panels(2)
    ax1.scatter(c[m:, 0], c[m:, 1], s=5, color="grey", alpha=0.5, linewidths=0, label="real")
    ax1.scatter(c[:m, 0], c[:m, 1], s=5, color="tab:blue", alpha=0.5, linewidths=0,
                label="generated")
    ax1.set_title("real (grey) and generated (blue)", fontsize=9)
    ax2.scatter(c[:, 0], c[:, 1], s=4, color="lightgrey", linewidths=0)
    ax2.scatter(c[m:][uncovered, 0], c[m:][uncovered, 1], s=10, color="tab:red", linewidths=0,
                label=f"uncovered real ({uncovered.mean():.0%})")
    ax2.scatter(c[:m][unsupported, 0], c[:m][unsupported, 1], s=10, color="tab:orange",
                linewidths=0, label=f"unsupported fake ({unsupported.mean():.0%})")
    ax2.set_title(f"points with no other-kind point among {COVER_NEIGHBORS} neighbours", fontsize=9)
    for ax in (ax1, ax2):
        ax.set_xlabel("UMAP 1")
        ax.set_ylabel("UMAP 2")
        ax.legend(fontsize=7, markerscale=2, loc="best")
    fig.suptitle(f"UMAP of real and generated samples in the '{fs.name}' space "
                 f"(trustworthiness {_trust_text(emb)})", fontsize=10)
    section.figure(
        fig, "umap_real_fake", title=f"Real and generated samples together ('{fs.name}' features)",
        caption=f"{m} generated and {m} real samples embedded together from the '{fs.name}' "
                f"feature space ({fs.description}). Left: grey regions without blue are data the "
                "generator misses; blue regions without grey are fakes unlike any real sample. "
                f"Right: the same, decided in the full feature space rather than by eye: red reals "
                f"have no fake among their {COVER_NEIGHBORS} nearest neighbours, orange fakes no "
                "real.",
    )


def feature_set(ctx: ganlens.AnalysisContext, section: ganlens.Section, name: str,
                what: str) -> Any:
    """The run's features in space ``name`` (``auto``: the run's shared space), or None with an
    info finding when that space does not apply; an unknown name is an OptionError."""
    known = ctx.feature_space_names()
    if name != "auto" and known and name not in known:
        raise OptionError(f"option latent.features: unknown feature space {name!r}; expected auto "
                          f"or one of {', '.join(known)}")
    try:
        return ctx.features(name)
    except FeatureUnavailable as exc:
        section.finding("info", f"{what} skipped: feature space {name!r} is unavailable ({exc})")
        return None
