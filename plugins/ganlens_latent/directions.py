"""Interpretable directions: GANSpace (Härkönen et al. 2020) — PCA on G's first-layer
activations, mapped back to the latent space by least squares — and SeFa (Shen & Zhou 2021) —
the closed-form eigenvectors of AᵀA, where A is the first layer's linear map from the latent.

For a conditional GAN the latents come with labels drawn as the shared pass draws them: GANSpace
decomposes the first-layer activations over (z, y) and regresses z alone on them (directions of
z, averaged over classes), each strip keeps its base latent's label, and SeFa applies only when
the first layer receives z alone (not z joined with a class embedding).

The first layer is found by running G, not by name: the first linear or (transposed)
convolutional module called in a forward pass. Its linear map A is read by applying the module to
the latent basis vectors (minus its bias), so Linear, ConvTranspose and convolutions on a 1x1
input are handled alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

import ganlens
from ganlens.capture import ACTIVATION_LAYERS, UNIT_LAYERS
from ganlens.maths import pca

from . import keys
from .embedding import single_threaded
from .plots import image_rows, path_figure

ROOT = "(the generator itself)"
ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)


@dataclass
class FirstLayer:
    """The first unit layer G calls, what it receives, and the activation right after it."""

    name: str
    module: nn.Module
    input_shape: tuple[int, ...]
    takes_latent: bool
    activation: str | None
    activation_module: nn.Module | None = None
    activation_call: int = 0
    """Which call of the activation module in one forward pass (a module may be reused)."""


@dataclass
class Directions:
    """Unit latent directions (k, D), sorted by ``shares`` (variance or eigenvalue shares)."""

    vectors: torch.Tensor
    shares: torch.Tensor


def trace_first_layer(ctx: ganlens.AnalysisContext, z: torch.Tensor,
                      labels: torch.Tensor | None = None) -> FirstLayer | None:
    """Run G on ``z`` (a few latents, with their ``labels`` for a conditional G) and return its
    first unit layer, or None."""
    gen = ctx.gan.generator
    modules = [(n or ROOT, m) for n, m in gen.named_modules()
               if isinstance(m, UNIT_LAYERS + ACTIVATION_LAYERS)]
    calls: list[tuple[str, nn.Module, tuple[int, ...] | None, torch.Tensor | None]] = []

    def make(name: str) -> Any:
        def hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
            first = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
            shape = tuple(first.shape[1:]) if first is not None else None
            calls.append((name, module, shape, None if first is None else first.detach().clone()))
        return hook

    handles = [m.register_forward_pre_hook(make(n)) for n, m in modules]
    try:
        ctx.generate(z, labels=labels)
    finally:
        for h in handles:
            h.remove()
    units = [i for i, c in enumerate(calls) if isinstance(c[1], UNIT_LAYERS)]
    if not units:
        return None
    i = units[0]
    name, module, shape, seen = calls[i]
    d = z[0].numel()
    takes = (seen is not None and seen[0].numel() == d
             and torch.allclose(seen.reshape(len(seen), -1).cpu().float(),
                                z.reshape(len(z), -1).float(), atol=1e-6, rtol=1e-5))
    activation, act_module, occurrence = None, None, 0
    for j in range(i + 1, len(calls)):
        if isinstance(calls[j][1], UNIT_LAYERS):
            break
        if isinstance(calls[j][1], ACTIVATION_LAYERS):
            activation, act_module = calls[j][0], calls[j][1]
            occurrence = sum(1 for c in calls[:j] if c[1] is calls[j][1])
            break
    return FirstLayer(name, module, shape or (), bool(takes), activation, act_module,
                      occurrence)


def capture_module(ctx: ganlens.AnalysisContext, module: nn.Module, z: torch.Tensor,
                   call: int = 0, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Outputs (n, M) of the ``call``-th call of G's ``module`` in each forward pass, for
    latents ``z`` (and their ``labels``), through one counted pass."""
    gen = ctx.gan.generator
    outs: list[torch.Tensor] = []
    seen = [0]

    def reset(_m: nn.Module, _inputs: Any) -> None:
        seen[0] = 0

    def hook(_m: nn.Module, _inputs: Any, output: Any) -> None:
        seen[0] += 1
        if seen[0] - 1 != call:
            return
        out = output[0] if isinstance(output, (tuple, list)) else output
        outs.append(out.detach().reshape(len(out), -1).float().cpu().clone())

    handle = gen.register_forward_pre_hook(reset)
    try:
        with ctx.hooks({module: hook}):
            ctx.generate(z, labels=labels)
    finally:
        handle.remove()
    return torch.cat(outs)


def linear_map(layer: FirstLayer, device: torch.device) -> torch.Tensor:
    """The first layer's matrix A (M, D): the columns are layer(e_i) - layer(0)."""
    d = int(np.prod(layer.input_shape))
    basis = torch.eye(d, device=device).reshape(d, *layer.input_shape)
    with torch.no_grad():
        out = layer.module(torch.cat([basis, torch.zeros_like(basis[:1])]))
    out = out.reshape(d + 1, -1).double().cpu()
    return (out[:d] - out[d:]).T


def sefa(a: torch.Tensor, k: int) -> Directions:
    """SeFa: the top ``k`` eigenvectors of AᵀA (unit latent directions that change the first
    layer's output most), with their eigenvalue shares."""
    vals, vecs = torch.linalg.eigh(a.double().T @ a.double())
    vals, vecs = vals.flip(0).clamp_min(0), vecs.flip(1)
    total = vals.sum().clamp_min(1e-300)
    return Directions(vecs[:, :k].T.float(), (vals[:k] / total).float())


def ganspace(z: torch.Tensor, h: torch.Tensor, k: int) -> Directions:
    """GANSpace: PCA of activations ``h`` (n, M), then the latent direction of each component
    by least-squares regression of the latents ``z`` (n, D) on the PCA coordinates; with each
    component's explained-variance ratio."""
    fit = pca(h, k)
    zc = z.reshape(len(z), -1).double()
    zc = zc - zc.mean(0)
    coords, vals, total = fit.scores, fit.variances, fit.total
    u = torch.linalg.lstsq(coords, zc).solution  # (k, D): z ≈ coords @ u
    norms = u.norm(dim=1, keepdim=True).clamp_min(1e-300)
    return Directions((u / norms).float(), (vals / max(total, 1e-300)).float())


def cosine_table(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|cos| between every row of ``a`` and every row of ``b``."""
    an = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    bn = b / b.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return (an @ bn.T).abs()


def describe(v: torch.Tensor, top: int = 3, space: str = "z") -> str:
    """The largest coordinates of a direction, e.g. ``z[0] +0.99, z[4] -0.10`` (``space`` names
    the vector: ``z``, or ``w`` for W)."""
    order = v.abs().argsort(descending=True)[:top]
    return ", ".join(f"{space}[{int(i)}] {float(v[i]):+.2f}" for i in order)


def analyze_directions(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any) -> None:
    gan = ctx.gan
    n = max(opts.direction_samples, 2)
    z = ctx.latents_for(n, "latent/directions")
    y = ctx.labels_for(n, "latent/directions")
    first = trace_first_layer(ctx, z[:2], None if y is None else y[:2])
    if first is None:
        section.finding("info", "interpretable directions skipped: G calls no linear or "
                                "convolutional layer")
        return
    d = gan.latent.dim
    k = min(opts.directions, d)
    where = first.activation or first.name
    if first.activation_module is not None:
        h = capture_module(ctx, first.activation_module, z, first.activation_call, y)
    else:
        h = capture_module(ctx, first.module, z, labels=y)
    if y is not None:
        section.finding(
            "info", f"conditional GAN: the GANSpace and SeFa directions are directions of z alone; "
                    f"the {n} latents come with class labels drawn as in the shared pass (uniform "
                    "over the classes), GANSpace decomposes the first layer's activations over "
                    "both and regresses z on them (directions averaged over classes), and each "
                    "strip keeps its base latent's label")
    with single_threaded():
        gs = ganspace(z, h, k)
    found: dict[str, Directions] = {"GANSpace": gs}
    section.metric(
        keys.GANSPACE_VARIANCE, float(gs.shares.sum()),
        f"share of the variance of G's first-layer activations ('{where}', {h.shape[1]} values, "
        f"{n} latents) along its top {k} principal components (GANSpace)",
        "high (> 0.5): a few directions explain what the first layer does; low: no dominant "
        "directions",
    )
    if first.takes_latent:
        a = linear_map(first, ctx.device)
        with single_threaded():
            sf = sefa(a, k)
        found["SeFa"] = sf
        section.metric(
            keys.SEFA_SHARE, float(sf.shares.sum()),
            f"share of the eigenvalues of A^T A (A: the first layer '{first.name}''s linear map "
            f"from the latent) in its top {k} eigenvectors (SeFa)",
            "high: the first layer amplifies a few latent directions; about k/D: it treats all "
            "directions alike",
        )
        cos = cosine_table(gs.vectors, sf.vectors)
        section.metric(
            keys.DIRECTION_COSINE, float(cos.max(1).values.mean()),
            "mean over the GANSpace directions of the largest |cosine| with any SeFa direction",
            "near 1: both methods find the same directions; low: they disagree (the first "
            "layer's nonlinearity or normalisation reshapes the latent's directions)",
        )
        section.table(
            "direction_cosines", "GANSpace vs SeFa directions (|cosine|)",
            ["GANSpace \\ SeFa"] + [f"SeFa {j + 1}" for j in range(k)],
            [[f"GANSpace {i + 1}"] + [round(float(c), 3) for c in row] for i, row in enumerate(cos)],
            caption="The absolute cosine between each GANSpace direction (rows) and each SeFa "
                    "direction (columns) in the latent space. 1 means the same direction (up to "
                    "sign), 0 orthogonal. A bright diagonal means the two methods agree.",
        )
    else:
        how = "it is transformed before"
        if y is not None:
            how += ", or joined with the class label's encoding"
        section.finding("info", f"SeFa skipped: the first layer '{first.name}' does not receive "
                                f"the latent itself ({how}), so its weights do "
                                "not define latent directions")
    rows = []
    for method, dirs in found.items():
        share = "explained variance" if method == "GANSpace" else "eigenvalue share"
        for j in range(k):
            rows.append([method, j + 1, f"{share} {float(dirs.shares[j]):.3f}",
                         describe(dirs.vectors[j])])
    section.table("directions", "Interpretable latent directions",
                  ["method", "rank", "share", "largest latent coordinates"], rows,
                  caption="Each direction's share (GANSpace: of the first-layer activations' "
                          "variance; SeFa: of the eigenvalues of A^T A) and the latent coordinates "
                          "it moves most. A direction on one coordinate means that coordinate "
                          "alone controls a factor.")
    _strips(ctx, section, opts, found, z, first, where, y)


def _strips(ctx: ganlens.AnalysisContext, section: ganlens.Section, opts: Any,
            found: dict[str, Directions], z: torch.Tensor, first: FirstLayer, where: str,
            y: torch.Tensor | None = None) -> None:
    gan = ctx.gan
    bases = z[: max(1, opts.strips)].reshape(-1, gan.latent.dim)
    base_y = None if y is None else y[: len(bases)]
    prior = ctx.latents.reshape(len(ctx.latents), -1).float()
    alphas = torch.tensor(ALPHAS)
    batches, labels, classes = [], [], []
    for method, dirs in found.items():
        for j, v in enumerate(dirs.vectors):
            std = float((prior @ v).std()) if len(prior) > 1 else 1.0
            for b, base in enumerate(bases):
                batches.append(base + alphas[:, None] * std * v)
                labels.append((method, j, b))
                if base_y is not None:
                    classes.append(base_y[b].expand(len(alphas)))
    zz = torch.cat(batches)
    yy = torch.cat(classes) if classes else None
    x = ctx.generate(zz.reshape(len(zz), *gan.latent.shape), labels=yy)  # one batched pass
    cols = [f"{a:+g} sd" for a in ALPHAS]
    per = len(ALPHAS)
    for method in found:
        idx = [i for i, lab in enumerate(labels) if lab[0] == method]
        imgs = torch.cat([x[i * per : (i + 1) * per] for i in idx])
        names = [f"{method[:2]} {labels[i][1] + 1} / base {labels[i][2] + 1}" for i in idx]
        if base_y is not None and gan.data.is_image:
            names = [f"{name} (y={int(base_y[labels[i][2]])})" for name, i in zip(names, idx)]
        title = f"{method} directions: each row moves one base latent from -3 to +3 sd"
        if gan.data.is_image:
            fig = image_rows(imgs, gan.data.value_range, names, cols, title=title,
                             xlabel="step along the direction (in sd of the latents' projection)")
        else:
            fig = _vector_strips(ctx, imgs, names, per,
                                 f"{method} directions: paths from -3 sd (x) to +3 sd")
        how = ("PCA of the first-layer activations ('" + where + "'), mapped to the latent by "
               "least squares" if method == "GANSpace" else
               "eigenvectors of A^T A for the first layer '" + first.name + "'")
        section.figure(
            fig, f"directions_{method.lower()}", title=f"{method} directions (+-3 sd)",
            caption=f"Rows '{method[:2]} j / base b': direction j of {method} ({how}) applied to "
                    "base latent b, "
                    "in steps of one standard deviation of the latents' projection on it, from -3 "
                    "(left) to +3 (right); the middle column is the base sample. A direction that "
                    "changes one property (stroke, size, class) consistently across bases is "
                    "interpretable; one that changes nothing is inert.",
        )


def _vector_strips(ctx: ganlens.AnalysisContext, x: torch.Tensor, names: list[str], per: int,
                   title: str) -> Any:
    colours = [int(name.split()[1]) - 1 for name in names]
    labels = [name if name.endswith("/ base 1") else None for name in names]
    return path_figure(ctx.fakes, x, len(names), per, labels, colours, title=title)
