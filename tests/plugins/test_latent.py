"""The latent analyzer on hand-built generators with known answers, and its contract."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from ganlens_latent import Latent, keys
from ganlens_latent.directions import linear_map, trace_first_layer
from ganlens_latent.embedding import embed
from ganlens_latent.interpolation import interpolate, ppl_from_features, step_ratios
from ganlens_latent.surrogate import linear_r2
from ganlens_latent.views import flat_latents, seed_for
from torch import nn

import ganlens
import ganlens.core.plotting
from ganlens import testing
from ganlens.errors import OptionError

# Small everything: these tests check numbers, not scale.
SMALL = dict(points=60, trust_points=40, epochs=30, paths=8, path_steps=8, strips=1,
             directions=2, direction_samples=64, encoder_steps=20, encoder_pairs=64,
             encoder_width=16, worst=2)



def vector_gan(generator: nn.Module, latent_shape: tuple[int, ...], out: int) -> ganlens.GAN:
    return ganlens.GAN(generator, ganlens.LatentSpec(latent_shape),
                       ganlens.DataSpec("vector", (out,)))


class TwoFactors(nn.Module):
    """Latent dims 0 and 1 drive two separate halves of the output through a first layer that
    amplifies them; the other dims barely matter."""

    def __init__(self, d: int = 6, conv: bool = False) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        gains = torch.zeros(8, d)
        gains[0:2, 0], gains[2:4, 0], gains[4:6, 1], gains[6:8, 1] = 3.0, -3.0, 2.5, -2.5
        noise = 0.05 * torch.randn(8, d, generator=gen)
        self.conv = conv
        if conv:  # z (B, d, 1, 1) → 8 channels x 4 x 4
            self.first = nn.ConvTranspose2d(d, 8, 4)
            with torch.no_grad():
                self.first.weight.copy_((gains + noise).T[:, :, None, None].expand(d, 8, 4, 4))
            self.second = nn.Conv2d(8, 2, 1)
        else:
            self.first = nn.Linear(d, 8)
            with torch.no_grad():
                self.first.weight.copy_(gains + noise)
            self.second = nn.Linear(8, 2)
        with torch.no_grad():
            w = torch.zeros(2, 8)
            w[0, 0:4], w[1, 4:8] = 1.0, 1.0  # output half 0 reads z0's units, half 1 z1's
            self.second.weight.copy_(w.reshape(self.second.weight.shape))
        self.act = nn.ReLU()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.second(self.act(self.first(z)))
        return h.reshape(len(z), -1)


def _top_coordinate(cell: str) -> tuple[int, float]:
    index, value = re.match(r"z\[(\d+)\] ([+-][\d.]+)", cell).groups()
    return int(index), float(value)


@pytest.mark.parametrize("conv", [False, True], ids=["linear-first", "convtranspose-first"])
def test_ganspace_and_sefa_find_the_two_known_factors(conv):
    shape = (6, 1, 1) if conv else (6,)
    gan = vector_gan(TwoFactors(conv=conv), shape, 32 if conv else 2)
    section = Latent(parts=["directions"], directions=2, direction_samples=500,
                     strips=1).run(gan, samples=50)
    assert section.status == "ok", section.error
    rows = section.tables[[t.name for t in section.tables].index("directions")].rows
    for method in ("GANSpace", "SeFa"):
        found = [_top_coordinate(r[3]) for r in rows if r[0] == method]
        # Unit directions: |cosine| with the basis vector e_i is |v[i]|.
        assert found[0][0] == 0 and abs(found[0][1]) > 0.9
        assert found[1][0] == 1 and abs(found[1][1]) > 0.9
    assert section.metrics[keys.DIRECTION_COSINE] > 0.9
    assert {"directions_ganspace", "directions_sefa"} <= {f.name for f in section.figures}


def test_first_layer_is_found_by_running_g_and_its_map_is_the_weight():
    gan = vector_gan(TwoFactors(conv=True), (6, 1, 1), 32)
    ctx = ganlens.context(gan, samples=4, progress=False)
    first = trace_first_layer(ctx, gan.latents(2))
    assert first.module is gan.generator.first and first.takes_latent
    assert first.activation == "act"
    a = linear_map(first, ctx.device)
    weight = gan.generator.first.weight.detach().double()  # (in, out, kH, kW)
    assert torch.allclose(a, weight.reshape(6, -1).T, atol=1e-6)


def test_third_party_first_layer(third_party_gan):
    ctx = ganlens.context(third_party_gan, samples=4, progress=False)
    first = trace_first_layer(ctx, third_party_gan.latents(2))
    assert isinstance(first.module, nn.ConvTranspose2d) and first.takes_latent
    assert first.input_shape == (64, 1, 1)
    a = linear_map(first, ctx.device)
    w = first.module.weight.detach().double()  # (64, 256, 3, 3): a 1x1 input yields the kernel
    assert torch.allclose(a, w.reshape(64, -1).T, atol=1e-4)


def test_linear_generator_has_surrogate_r2_one():
    g = nn.Linear(5, 12)
    section = Latent(parts=["surrogate"]).run(vector_gan(g, (5,), 12), samples=120)
    assert section.metrics[keys.SURROGATE_R2] > 1 - 1e-9
    relu = nn.Sequential(nn.Linear(5, 12), nn.ReLU())
    section = Latent(parts=["surrogate"]).run(vector_gan(relu, (5,), 12), samples=120)
    assert section.metrics[keys.SURROGATE_R2] < 0.9


def test_linear_r2_matches_scikit_learn():
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    gen = torch.Generator().manual_seed(4)
    z = torch.randn(200, 4, generator=gen)
    x = torch.tanh(z @ torch.randn(4, 6, generator=gen)) + 0.1 * torch.randn(200, 6, generator=gen)
    ours, per, _ = linear_r2(z[:150], x[:150], z[150:], x[150:])
    pred = LinearRegression().fit(z[:150].numpy(), x[:150].numpy()).predict(z[150:].numpy())
    ref = r2_score(x[150:].numpy(), pred, multioutput="variance_weighted")
    assert abs(ours - ref) < 1e-5
    assert np.allclose(per.numpy(), r2_score(x[150:].numpy(), pred, multioutput="raw_values"),
                       atol=1e-5)


def test_encoder_inverts_a_linear_generator_and_off_range_reals_reconstruct_worse():
    gen = torch.Generator().manual_seed(5)
    q = torch.linalg.qr(torch.randn(12, 12, generator=gen)).Q
    g = nn.Linear(4, 12)
    with torch.no_grad():
        g.weight.copy_(q[:, :4] * torch.tensor([1.0, 0.8, 0.6, 0.4]))
    z = torch.randn(300, 4, generator=gen)
    off = q[:, 4:] @ torch.randn(8, 300, generator=gen)  # orthogonal to G's range
    real = ganlens.Dataset("off-range", (g(z) + 0.3 * off.T).detach(),
                           ganlens.DataSpec("vector", (12,)))
    section = Latent(parts=["encoder"], encoder_steps=50, encoder_pairs=512,
                     encoder_width=32).run(vector_gan(g, (4,), 12), real=real, samples=100)
    m = section.metrics
    assert m[keys.LATENT_ERROR] < 0.05
    assert m[keys.REAL_RECON] > 10 * m[keys.FAKE_RECON]
    assert any(f.metric == keys.RECON_RATIO for f in section.findings)
    assert {"inversion_worst", "inversion_errors"} <= {f.name for f in section.figures}


def test_ppl_of_a_linear_generator_is_known():
    g = nn.Linear(3, 5, bias=False)
    gan = vector_gan(g, (3,), 5)
    an = Latent(parts=["interpolation"], interpolation="linear", features="pixels", paths=20,
                strips=1)
    ctx = ganlens.context(gan, samples=10, analyzers=[an], progress=False)
    section = an.analyze(ctx)
    ends = ctx.latents_for(40, "latent/interpolation")
    # Along a line, G(z(t + eps)) - G(z(t)) = eps W (z1 - z0): the statistic is |W (z1 - z0)|^2.
    exact = (g(ends[20:] - ends[:20]).detach().double() ** 2).sum(1).numpy()
    lo, hi = np.percentile(exact, 1, method="lower"), np.percentile(exact, 99, method="higher")
    expected = exact[(exact >= lo) & (exact <= hi)].mean()
    assert section.metrics[keys.PPL] == pytest.approx(expected, rel=2e-3)
    assert section.metrics[keys.JUMP_FRACTION] == 0.0


class SignSwitch(nn.Module):
    """Jumps by 20 where z0 changes sign; elsewhere moves slowly with z1."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.stack([10 * torch.sign(z[:, 0]), 0.1 * z[:, 1]], 1)


@pytest.mark.parametrize("kind", ["linear", "spherical"])
def test_jump_fraction_counts_paths_crossing_a_discontinuity(kind):
    gan = vector_gan(SignSwitch(), (3,), 2)
    an = Latent(parts=["interpolation"], interpolation=kind, features="pixels", paths=40,
                path_steps=8, strips=1)
    ctx = ganlens.context(gan, samples=10, analyzers=[an], progress=False)
    section = an.analyze(ctx)
    ends = ctx.latents_for(80, "latent/interpolation")
    crossing = (torch.sign(ends[:40, 0]) != torch.sign(ends[40:, 0])).float().mean()
    assert 0 < crossing < 1
    assert section.metrics[keys.JUMP_FRACTION] == pytest.approx(float(crossing))


def test_interpolation_maths():
    gen = torch.Generator().manual_seed(6)
    z0, z1 = torch.randn(5, 7, generator=gen), torch.randn(5, 7, generator=gen)
    t = torch.linspace(0, 1, 4).expand(5, -1)
    for kind in ("linear", "spherical"):
        path = interpolate(z0, z1, t, kind)
        assert torch.allclose(path[:, 0], z0, atol=1e-5)
        assert torch.allclose(path[:, -1], z1, atol=1e-5)
    z1 = z1 / z1.norm(dim=1, keepdim=True) * z0.norm(dim=1, keepdim=True)
    norms = interpolate(z0, z1, t, "spherical").norm(dim=2)
    assert torch.allclose(norms, z0.norm(dim=1, keepdim=True).expand(-1, 4), atol=1e-4)
    # 1-D latents: every pair is parallel or antiparallel; paths stay between the end points.
    ends = torch.tensor([[-2.0], [0.5]]), torch.tensor([[1.0], [-3.0]])
    path = interpolate(*ends, torch.linspace(0, 1, 9).expand(2, -1), "spherical")
    assert path[0].abs().max() <= 2 + 1e-5 and path[1].abs().max() <= 3 + 1e-5
    even = torch.linspace(0, 1, 9)[None, :, None].expand(2, 9, 3)
    assert np.allclose(step_ratios(even), 1.0)
    jump = even.clone()
    jump[1, 5:] += 10
    assert step_ratios(jump)[1] > 7  # 8 steps, nearly all the length in one
    value, values = ppl_from_features(torch.zeros(100, 2), torch.full((100, 2), 1e-4), 1e-4)
    assert value == pytest.approx(2.0) and values.shape == (100,)


def test_reported_trustworthiness_is_scikit_learns_on_the_embedded_data():
    from sklearn.manifold import trustworthiness as sk_trust

    gan = testing.tiny_vector_gan(dim=3, latent_dim=5)
    an = Latent(parts=["umap"], points=80, trust_points=50, epochs=40)
    ctx = ganlens.context(gan, samples=80, analyzers=[an], progress=False)
    section = an.analyze(ctx)
    z = flat_latents(ctx)[:80]
    emb = embed(z, random_state=seed_for(ctx, "umap/latent"), trust_points=50, n_epochs=40)
    idx = emb.trust_index
    assert len(idx) == 50
    expected = sk_trust(z.numpy()[idx], emb.coords[idx], n_neighbors=5)
    assert section.metrics[keys.trust_key("latent")] == expected
    assert keys.trust_key("features") in section.metrics
    assert {"umap_latent", "umap_features"} <= {f.name for f in section.figures}


def test_generator_passes_are_counted_and_batched(monkeypatch):
    monkeypatch.setattr(ganlens.core.plotting, "figure_png", lambda fig, dpi=100: b"")  # not tested here
    gan = testing.tiny_image_gan()
    an = Latent(**SMALL)
    ctx = ganlens.context(gan, samples=40, analyzers=[an], progress=False)
    with testing.count_forward_calls(gan.generator) as calls:
        an.analyze(ctx)
    logged = sum(p.calls for p in ctx.passes if p.network == "generator")
    samples = sum(p.samples for p in ctx.passes if p.network == "generator")
    assert calls[0] == logged  # every generator call goes through ctx.generate
    # Batched: one pass per part (the encoder's validation checks aside), never one per latent.
    assert samples > 300 and logged <= 20


def test_full_layer_outputs_and_a_named_layer():
    gan = testing.tiny_image_gan()
    section = Latent(parts=["umap"], layer="blocks.0.0", layer_reduction="none", points=40,
                     trust_points=30, epochs=20).run(gan, samples=40)
    assert section.status == "ok", section.error
    assert "blocks.0.0" in section.figures[1].title


@pytest.mark.parametrize("options, message", [
    ({"parts": "umap,clouds"}, "latent.parts"),
    ({"points": 1}, "latent.points"),
    ({"epsilon": 0}, "latent.epsilon"),
    ({"jump_factor": 0.5}, "latent.jump_factor"),
    ({"jump_factor": 20, "path_steps": 16}, "latent.jump_factor"),
    ({"interpolation": "curvy"}, "latent.interpolation"),
    ({"layer_reduction": "sum"}, "latent.layer_reduction"),
    ({"encoder_steps": "many"}, "latent.encoder_steps"),
])
def test_bad_options_are_clear_errors(options, message):
    with pytest.raises(OptionError, match=message):
        Latent(**options)


def test_unknown_layer_and_feature_space_name_what_is_expected(image_gan):
    with pytest.raises(OptionError, match="latent.layer.*project.0"):
        Latent(layer="nope").requests(image_gan)
    # An unknown feature space is refused before the run starts, listing the known ones.
    with pytest.raises(OptionError, match="option latent.features: unknown feature space 'nope'; "
                                          "known: auto, .*pixels"):
        Latent(parts=["interpolation"], features="nope").run(image_gan, samples=20)


GANS = {
    "image": lambda d: testing.tiny_image_gan(discriminator=d),
    "vector": lambda d: testing.tiny_vector_gan(discriminator=d),
}


@pytest.mark.parametrize("kind, with_d, with_real", [
    ("image", True, True), ("image", False, False), ("vector", True, False),
    ("vector", False, True),
])
def test_contract(kind, with_d, with_real):
    gan = GANS[kind](with_d)
    real = None
    if with_real:
        real = testing.random_images(80) if kind == "image" else testing.random_vectors(80)
    section = testing.check_analyzer_contract(Latent(**SMALL), gan, real=real, samples=48)
    assert section.status == "ok"
    m = section.metrics
    assert m[keys.trust_key("latent")] is not None
    assert (keys.REAL_RECON in m) == with_real
    for f in section.figures:
        assert f.png.startswith(b"\x89PNG")


def test_one_dimensional_latent_and_flat_image_outputs():
    """A 1-D latent (every latent pair is (anti)parallel) and a (4, 1, 1) uniform latent whose
    generator returns flat vectors that are 1x8x8 images."""
    g1 = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 3))
    section = Latent(**{**SMALL, "parts": ["interpolation", "directions"]}).run(
        vector_gan(g1, (1,), 3), samples=30)
    assert section.status == "ok", section.error
    assert section.metrics[keys.JUMP_FRACTION] == 0.0  # tanh of a line is smooth

    class Flat(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.up, self.act, self.out = nn.ConvTranspose2d(4, 8, 2), nn.LeakyReLU(), nn.Linear(32, 64)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return torch.tanh(self.out(self.act(self.up(z)).flatten(1)))

    gan = ganlens.GAN(Flat(), ganlens.LatentSpec((4, 1, 1), "uniform"),
                      ganlens.DataSpec("image", (1, 8, 8)))
    section = Latent(**{**SMALL, "parts": ["directions", "surrogate"]}).run(gan, samples=30)
    assert section.status == "ok", section.error
    assert keys.SEFA_SHARE in section.metrics and keys.SURROGATE_R2 in section.metrics


def test_real_data_the_generator_misses_are_reported():
    class Origin(nn.Module):  # generates one of the two real clusters only
        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return z[:, :2]

    gen = torch.Generator().manual_seed(7)
    real_x = torch.randn(200, 2, generator=gen)
    real_x[100:] += 50.0
    real = ganlens.Dataset("two-clusters", real_x, ganlens.DataSpec("vector", (2,)))
    an = Latent(parts=["umap"], features="pixels", points=200, trust_points=60, epochs=30)
    ctx = ganlens.context(vector_gan(Origin(), (3,), 2), real=real, samples=200, analyzers=[an],
                          progress=False)
    section = an.analyze(ctx)
    far = float((ctx.real.x[:100, 0] > 25).float().mean())  # the view's 100 reals (shuffled)
    assert 0.3 < far < 0.7
    assert abs(section.metrics[keys.UNCOVERED_REAL] - far) < 0.03
    assert section.metrics[keys.UNSUPPORTED_FAKE] < 0.1
    assert [f.metric for f in section.findings if f.level == "warning"] == [keys.UNCOVERED_REAL]
