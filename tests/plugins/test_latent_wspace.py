"""The latent analyzer in W, the space of a StyleGAN-like generator's mapping network: views
that exist only with a mapping network, and known answers for path length, GANSpace and the
truncation sweep."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ganlens_latent import Latent, keys
from ganlens_latent.wspace import mean_pairwise_distance, w_ganspace
from torch import nn

import ganlens
from ganlens import testing
from ganlens.builtin.architectures import StyleGenerator
from ganlens.errors import OptionError

W_PARTS = ["interpolation", "directions", "truncation"]
SMALL = dict(paths=8, path_steps=8, strips=1, directions=2, direction_samples=64,
             truncation_samples=16)
W_FIGURES = {"w_interpolation_strips", "w_interpolation_smoothness", "w_directions_ganspace",
             "truncation_tradeoff", "truncation_samples"}


class Style(nn.Module):
    """``synthesis(mapping(z))`` with both given: found as a mapping network by their names."""

    def __init__(self, mapping: nn.Module, synthesis: nn.Module) -> None:
        super().__init__()
        self.mapping = mapping
        self.synthesis = synthesis

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.synthesis(self.mapping(z))


def linear(d_in: int, d_out: int, weight: torch.Tensor | None = None, seed: int = 0) -> nn.Linear:
    layer = nn.Linear(d_in, d_out, bias=False)
    with torch.no_grad():
        if weight is None:
            weight = torch.randn(d_out, d_in, generator=torch.Generator().manual_seed(seed))
        layer.weight.copy_(weight)
    return layer


def vector_gan(g: nn.Module, d: int, out: int, **kw) -> ganlens.GAN:
    return ganlens.GAN(g, ganlens.LatentSpec((d,)), ganlens.DataSpec("vector", (out,)), **kw)


def style_gan(**kw) -> ganlens.GAN:
    torch.manual_seed(0)
    d = nn.Sequential(nn.Flatten(), nn.Linear(64, 1))
    return ganlens.GAN(StyleGenerator(8, 1, 8, width=8), ganlens.LatentSpec((8,)),
                       ganlens.DataSpec("image", (1, 8, 8)), d, **kw)


def w_keys(section: ganlens.Section) -> set[str]:
    return {k for k in section.metrics if k.startswith(("w.", "truncation."))}


def test_the_w_views_exist_only_for_a_generator_with_a_mapping_network():
    plain = testing.tiny_image_gan()
    section = Latent(parts=W_PARTS, **SMALL).run(plain, samples=24)
    assert section.status == "ok", section.error
    assert not w_keys(section)
    assert not W_FIGURES & {f.name for f in section.figures}
    assert not {t.name for t in section.tables} & {"w_directions", "truncation_sweep"}
    # Asked for by name, the sweep says why it did nothing; the default parts stay silent.
    assert any("truncation sweep skipped" in f.message for f in section.findings)
    quiet = Latent(parts=["interpolation"], **SMALL).run(plain, samples=24)
    assert not any("mapping" in f.message for f in quiet.findings)

    gan = style_gan()
    assert gan.has_mapping
    section = testing.check_analyzer_contract(Latent(parts=W_PARTS, **SMALL), gan, samples=24)
    m = section.metrics
    for key in (keys.W_DIM, keys.W_TRUNCATION, keys.W_OFFSET_NORM, keys.W_MEAN_NORM, keys.W_PPL,
                keys.W_JUMP_FRACTION, keys.W_PPL_RATIO, keys.W_GANSPACE_VARIANCE,
                keys.diversity_key(1.0), keys.diversity_key(0.5), keys.d_score_key(0.7),
                keys.TRUNCATION_DIVERSITY_RATIO):
        assert m[key] is not None, key
    assert m[keys.W_DIM] == 8 and m[keys.W_TRUNCATION] == 1.0
    assert m[keys.W_PPL_RATIO] == pytest.approx(m[keys.W_PPL] / m[keys.PPL])
    # The z-space statistics are still there, under their own names.
    assert m[keys.PPL] is not None and m[keys.GANSPACE_VARIANCE] is not None
    figures = {f.name: f for f in section.figures}
    assert set(figures) >= W_FIGURES
    for name in ("w_interpolation_strips", "w_interpolation_smoothness", "w_directions_ganspace"):
        assert " W" in figures[name].title and " W" in figures[name].caption
    ratio = [f for f in section.findings if f.metric == keys.W_PPL_RATIO]
    assert len(ratio) == 1 and "in W is" in ratio[0].message and "that in z" in ratio[0].message


def test_w_passes_are_counted():
    gan = style_gan()
    an = Latent(parts=W_PARTS, **SMALL)
    ctx = ganlens.context(gan, samples=24, analyzers=[an], progress=False)
    with testing.count_forward_calls(gan.generator) as calls:
        an.analyze(ctx)
    assert calls[0] == sum(p.calls for p in ctx.passes if p.network == "generator")


def test_identity_mapping_gives_the_z_space_linear_path_length():
    """W = z: the path length in W (straight lines) is the z-space one along straight lines,
    |S (z1 - z0)|^2 for a linear synthesis S, computed directly."""
    synthesis = linear(4, 6)
    gan = vector_gan(Style(nn.Identity(), synthesis), 4, 6)
    an = Latent(parts=["interpolation"], interpolation="linear", features="pixels", paths=40,
                strips=1)
    ctx = ganlens.context(gan, samples=16, analyzers=[an], progress=False)
    section = an.analyze(ctx)
    ends = ctx.latents_for(80, "latent/interpolation")
    exact = (synthesis(ends[40:] - ends[:40]).detach().double() ** 2).sum(1).numpy()
    lo, hi = np.percentile(exact, 1, method="lower"), np.percentile(exact, 99, method="higher")
    expected = exact[(exact >= lo) & (exact <= hi)].mean()
    m = section.metrics
    assert m[keys.W_PPL] == pytest.approx(expected, rel=2e-3)
    assert m[keys.W_PPL] == pytest.approx(m[keys.PPL], rel=1e-4)
    assert m[keys.W_PPL_RATIO] == pytest.approx(1.0, abs=1e-4)
    assert m[keys.W_JUMP_FRACTION] == 0.0


def test_ganspace_in_w_recovers_the_axes_of_a_known_linear_mapping():
    scales = torch.tensor([4.0, 2.0, 1.0, 0.5])
    axes = [2, 0, 3, 1]  # w[axes[i]] = scales[i] z[i]
    weight = torch.zeros(4, 4)
    for i, a in enumerate(axes):
        weight[a, i] = scales[i]
    gan = vector_gan(Style(linear(4, 4, weight), linear(4, 3)), 4, 3)
    section = Latent(parts=["directions"], directions=4, direction_samples=4000,
                     strips=1).run(gan, samples=16)
    assert section.status == "ok", section.error
    known = (scales**2 / (scales**2).sum()).tolist()  # 0.753, 0.188, 0.047, 0.012
    rows = section.tables[[t.name for t in section.tables].index("w_directions")].rows
    for i, row in enumerate(rows):
        assert row[1] == pytest.approx(known[i], abs=0.02)
        assert row[2] == pytest.approx(float(scales[i]), rel=0.05)  # sd of w along it
        assert row[3].startswith(f"w[{axes[i]}] ")  # the direction is that axis
    assert section.metrics[keys.W_GANSPACE_TOP] == pytest.approx(known[0], abs=0.02)
    assert section.metrics[keys.W_GANSPACE_VARIANCE] == pytest.approx(1.0, abs=1e-6)

    # Rotated axes: the directions are the rotated axes, whatever the basis.
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(3)))
    z = torch.randn(4000, 4, generator=torch.Generator().manual_seed(4))
    vectors, shares, _sds = w_ganspace(z * scales @ q.T, 3)
    cos = (vectors.double() @ q.double()).abs()  # [j, i]: direction j against axis i
    assert torch.all(cos.diagonal() > 0.99)
    assert shares.tolist() == pytest.approx(known[:3], abs=0.02)


def test_truncation_to_zero_leaves_no_diversity():
    synthesis = linear(4, 5)
    gan = vector_gan(Style(linear(4, 4, seed=1), synthesis), 4, 5)
    psis = [1.0, 0.5, 0.1, 1e-3, 0.0]
    section = Latent(parts=["truncation"], features="pixels", truncation_psis=psis,
                     truncation_samples=64).run(gan, samples=16)
    assert section.status == "ok", section.error
    m = section.metrics
    full = m[keys.diversity_key(1.0)]
    assert full > 0.1
    # A linear synthesis: every sample's offset from G(w_bar) scales with psi, so does diversity.
    for psi in psis:
        assert m[keys.diversity_key(psi)] == pytest.approx(psi * full, rel=1e-4, abs=1e-6)
    assert m[keys.diversity_key(0.0)] < 1e-6 * full
    assert m[keys.TRUNCATION_DIVERSITY_RATIO] < 1e-6
    assert mean_pairwise_distance(torch.zeros(5, 3)) == 0.0


def test_the_gans_own_truncation_is_recorded_and_swept():
    gan = style_gan(truncation=0.6)
    section = Latent(parts=["truncation"], truncation_samples=16).run(gan, samples=16)
    assert section.status == "ok", section.error
    assert section.metrics[keys.W_TRUNCATION] == 0.6
    rows = section.tables[[t.name for t in section.tables].index("truncation_sweep")].rows
    assert [r[0] for r in rows] == ["1", "0.7", "0.6 (in use)", "0.5"]
    diversity = [r[1] for r in rows]
    assert diversity == sorted(diversity, reverse=True)


class ConditionalStyle(nn.Module):
    """w = mapping(z) + an embedding of y; the image linear in w."""

    def __init__(self) -> None:
        super().__init__()
        self.mapping = linear(4, 4, seed=5)
        self.embed = nn.Embedding(3, 4)
        self.synthesis = linear(4, 6, seed=6)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.synthesis(self.mapping(z) + self.embed(y))


def test_a_conditional_generator_with_a_mapping_network():
    gan = vector_gan(ConditionalStyle(), 4, 6, conditional=True, num_classes=3)
    section = Latent(parts=W_PARTS, **SMALL).run(gan, samples=16)
    assert section.status == "ok", section.error
    assert {f.name for f in section.figures} >= W_FIGURES


def test_bad_truncation_psis_are_clear_errors():
    for bad in ("1.5", "-0.1", ""):
        with pytest.raises(OptionError, match="latent.truncation_psis"):
            Latent(truncation_psis=bad)
