"""The activations analyzer against known answers: planted dead and painting units, statistics
recomputed with a plain forward pass, batched ablations against the one-at-a-time loop."""

from __future__ import annotations

import pytest
import torch
from ganlens_activations import (
    Activations,
    UnitAccumulator,
    ablate_units,
    ablate_units_naive,
)
from ganlens_activations.intervene import REPLICATED, SHARED_PREFIX
from torch import nn

import ganlens
from ganlens import testing

SIDE = 8
REGION = (slice(0, 4), slice(0, 4))  # the top-left quadrant unit 1 paints


class Planted(nn.Module):
    """z (B, 4) → 1×8×8. ``act`` (ReLU, 6 maps of 8×8): unit 0 is dead (weights 0, bias -1);
    unit 1 alone paints the top-left 4×4 quadrant (bias +2 there, -1 elsewhere, a little z[0]);
    units 2-5 are weak random features. ``mix`` is a 3×3 convolution whose kernel for unit 1
    is mostly its centre."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.fc = nn.Linear(4, 6 * SIDE * SIDE)
        self.act = nn.ReLU()
        self.mix = nn.Conv2d(6, 1, 3, padding=1)
        self.out = nn.Tanh()
        with torch.no_grad():
            w = torch.randn(6, SIDE, SIDE, 4, generator=gen) * 0.3
            b = torch.zeros(6, SIDE, SIDE)
            w[0], b[0] = 0.0, -1.0
            w[1], b[1] = 0.0, -1.0
            w[1][REGION][..., 0] = 0.3
            b[1][REGION] = 2.0
            self.fc.weight.copy_(w.reshape(-1, 4))
            self.fc.bias.copy_(b.reshape(-1))
            k = torch.randn(1, 6, 3, 3, generator=gen) * 0.1
            k[0, 1] = 0.02
            k[0, 1, 1, 1] = 1.0
            self.mix.weight.copy_(k)
            self.mix.bias.fill_(-0.5)

    def forward(self, z):
        h = self.fc(z).view(z.shape[0], 6, SIDE, SIDE)
        return self.out(self.mix(self.act(h)))



def planted_gan(discriminator: bool = True) -> ganlens.GAN:
    torch.manual_seed(0)
    d = nn.Sequential(nn.Flatten(), nn.Linear(SIDE * SIDE, 8), nn.LeakyReLU(0.2),
                      nn.Linear(8, 1)) if discriminator else None
    return ganlens.GAN(Planted(), ganlens.LatentSpec((4,)),
                       ganlens.DataSpec("image", (1, SIDE, SIDE)), d)


def run(gan, analyzer=None, samples=128, seed=0, real=None):
    analyzer = analyzer or Activations(figures=False)  # figures are tested in test_contract
    ctx = ganlens.context(gan, analyzers=[analyzer], samples=samples, seed=seed, real=real,
                          progress=False)
    return analyzer.analyze(ctx), ctx


def table(section, name):
    t = next(t for t in section.tables if t.name == name)
    return [dict(zip(t.columns, row)) for row in t.rows]


# -- known answers -------------------------------------------------------------------------------
def test_planted_dead_unit_and_painting_unit():
    gan = planted_gan()
    before = testing.hook_count(gan)
    section, ctx = run(gan)
    m = section.metrics
    assert section.status == "ok"
    assert m["generator.act.dead_units"] == [0]
    assert m["generator.act.dead_fraction"] == pytest.approx(1 / 6)
    assert m["intervention.layer"] == "act"
    assert m["intervention.top_units"][0] == 1
    assert m["intervention.effect"][0] > 2 * m["intervention.effect"][1]
    units = {row["unit"]: row for row in table(section, "intervention_units")}
    assert units[0]["dead"] is True and units[0]["near-constant"] is True
    assert units[0]["output change"] == 0.0  # ablating a dead unit to zero changes nothing
    assert units[1]["dead"] is False and units[1]["near-constant"] is False
    assert testing.hook_count(gan) == before


def test_planted_unit_effect_is_concentrated_in_its_region():
    gan = planted_gan()
    _section, ctx = run(gan)
    z, base = ctx.latents[:32], ctx.fakes[:32]
    res = ablate_units(ctx, "act", gan.generator.act, [1, 2], z, base)
    emap = res.effect_maps[0]
    inside = emap[REGION].sum() / emap.sum()
    ring = torch.zeros(SIDE, SIDE, dtype=torch.bool)
    ring[:5, :5] = True  # the region and the one-pixel border the 3x3 kernel reaches
    assert float(inside) > 0.85
    assert float(emap[ring].sum() / emap.sum()) > 0.999
    assert float(emap[REGION].min()) > 10 * float(emap[~ring].max()) + 1e-6


def test_statistics_equal_a_direct_forward_pass():
    gan = testing.tiny_image_gan(seed=3)
    n, seed = 96, 5
    section, _ctx = run(gan, samples=n, seed=seed)
    z = gan.latents(n, seed)
    outs = {}
    names = ["project.0", "project.2", "blocks.0.0", "blocks.0.2"]
    modules = dict(gan.generator.named_modules())
    handles = [modules[k].register_forward_hook(lambda _m, _i, o, k=k: outs.__setitem__(k, o.clone()))
               for k in names]
    with torch.no_grad():
        fakes = gan.forward(z)
        d_out = {}
        dm = dict(gan.discriminator.named_modules())
        handles += [dm[k].register_forward_hook(lambda _m, _i, o, k=k: d_out.__setitem__(k, o.clone()))
                    for k in ("features.1", "features.4")]
        gan.score(fakes)
    for h in handles:
        h.remove()
    m = section.metrics
    for net, acts in (("generator", outs), ("discriminator", d_out)):
        for name, out in acts.items():
            flat = out.flatten(2) if out.ndim > 2 else out[..., None]
            peak, mean = flat.amax(2), flat.mean(2)
            key = f"{net}.{name}"
            never_positive = float((peak.amax(0) <= 0).float().mean())
            if isinstance(gan_module(gan, net, name), nn.ReLU):
                assert m[f"{key}.dead_fraction"] == pytest.approx(never_positive)
                assert m[f"{key}.sparsity"] == pytest.approx(float((peak <= 0).float().mean()), abs=1e-6)
                assert f"{key}.negative_regime_fraction" not in m
            elif isinstance(gan_module(gan, net, name), nn.LeakyReLU):  # leaky: never "dead"
                assert m[f"{key}.negative_regime_fraction"] == pytest.approx(never_positive)
                assert f"{key}.dead_fraction" not in m and f"{key}.sparsity" not in m
            else:
                assert f"{key}.dead_fraction" not in m
                assert f"{key}.negative_regime_fraction" not in m
            std, rms = mean.std(0), mean.pow(2).mean().sqrt()
            pstd, prms = peak.std(0), peak.pow(2).mean().sqrt()
            near = ((std <= 0.01 * rms) & (pstd <= 0.01 * prms)).float().mean()
            assert m[f"{key}.near_constant_fraction"] == pytest.approx(float(near))
    layer = m["intervention.layer"]
    ref = outs[layer].flatten(2).mean(2) if outs[layer].ndim > 2 else outs[layer]
    for row in table(section, "intervention_units"):
        assert row["mean"] == pytest.approx(float(ref[:, row["unit"]].mean()), abs=1e-4)
        assert row["std"] == pytest.approx(float(ref[:, row["unit"]].std()), abs=1e-4)


def gan_module(gan, net, name):
    return dict((gan.generator if net == "generator" else gan.discriminator).named_modules())[name]


def test_accumulator_merges_shards_exactly_and_selectivity_matches_anova():
    gen = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (300,), generator=gen)
    x = torch.randn(300, 4, generator=gen) * 0.5
    x[:, 0] += labels.float() * 2  # unit 0 codes the class
    x[:, 3] = 1.5  # a constant unit
    one = UnitAccumulator(4, rectifier=True, num_classes=3)
    one.update(x, labels=labels)
    parts = [UnitAccumulator(4, rectifier=True, num_classes=3) for _ in range(3)]
    for p, idx in zip(parts, torch.arange(300).split(100)):
        p.update(x[idx], labels=labels[idx])
    parts[0].merge(parts[1])
    parts[0].merge(parts[2])
    a, b = one.finalize(0.01), parts[0].finalize(0.01)
    assert torch.allclose(a.mean, b.mean) and torch.allclose(a.std, b.std)
    assert torch.allclose(a.mean, x.double().mean(0)) and torch.allclose(a.std, x.double().std(0))
    xd = x.double()
    for u in range(3):
        total = ((xd[:, u] - xd[:, u].mean()) ** 2).sum()
        between = sum((labels == k).sum() * (xd[labels == k, u].mean() - xd[:, u].mean()) ** 2
                      for k in range(3))
        assert float(a.selectivity[u]) == pytest.approx(float(between / total))
    assert torch.allclose(a.selectivity[:3], b.selectivity[:3])
    assert torch.isnan(a.selectivity[3])
    assert int(a.preferred[0]) == 2 and a.near_constant.tolist() == [False, False, False, True]


def test_class_selective_units_get_their_class():
    """G draws a left bar when z[0] > 0 and a right bar otherwise; unit 0 of ``act`` fires only
    for the left bar (class 0), unit 1 only for the right bar (class 1)."""
    gen = torch.Generator().manual_seed(0)
    left = torch.full((1, SIDE, SIDE), -1.0)
    left[:, :, :3] = 1.0
    right = left.flip(-1)
    labels = torch.arange(60) % 2
    x = torch.where(labels[:, None, None, None] == 0, left, right)
    x = (x + 0.1 * torch.randn(x.shape, generator=gen)).clamp(-1, 1)
    real = ganlens.Dataset("bars", x, ganlens.DataSpec("image", (1, SIDE, SIDE)), labels, "test")

    class Bars(nn.Module):
        def __init__(self):
            super().__init__()
            self.pick = nn.Linear(2, 2)
            self.act = nn.ReLU()
            self.draw = nn.Linear(2, SIDE * SIDE)
            with torch.no_grad():
                self.pick.weight.copy_(torch.tensor([[5.0, 0.0], [-5.0, 0.0]]))
                self.pick.bias.zero_()
                self.draw.weight.copy_(torch.stack([left.flatten() + 1, right.flatten() + 1], 1) * 3)
                self.draw.bias.fill_(-1.0)

        def forward(self, z):
            return torch.tanh(self.draw(self.act(self.pick(z))))

    gan = ganlens.GAN(Bars(), ganlens.LatentSpec((2,)), ganlens.DataSpec("image", (1, SIDE, SIDE)))
    section, ctx = run(gan, samples=100, real=real)
    assert ctx.classifier is not None
    pred = ctx.classifier.predict(ctx.fakes)
    # the classifier labels the fakes by the bar they show, which z[0]'s sign decides
    assert torch.equal(pred, (ctx.latents[:, 0] <= 0).long())
    act = torch.relu(ctx.latents @ torch.tensor([[5.0, -5.0], [0.0, 0.0]])).double()
    ref = []
    for u in range(2):
        mu = act[:, u].mean()
        between = sum((pred == k).sum() * (act[pred == k, u].mean() - mu) ** 2 for k in range(2))
        ref.append(float(between / ((act[:, u] - mu) ** 2).sum()))
    assert min(ref) > 0.3  # a half-normal code of the class: about 0.47 in theory
    assert section.metrics["generator.act.class_selectivity"] == pytest.approx(sum(ref) / 2, rel=1e-5)


# -- interventions --------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, method", [("blocks.0.2", SHARED_PREFIX), ("project.2", REPLICATED)])
def test_batched_ablations_equal_the_one_at_a_time_loop(layer, method):
    """After ``project.2`` the DCGAN reshapes with the latent batch size, so the shared prefix
    must fall back to replicated latents there; both give the naive loop's numbers."""
    gan = testing.tiny_image_gan(seed=1)
    _section, ctx = run(gan, samples=40)
    module = dict(gan.generator.named_modules())[layer]
    z, base, d = ctx.latents[:20], ctx.fakes[:20], ctx.d_fake[:20]
    units = [0, 1, 2, 3] if layer == "blocks.0.2" else [0, 3, 5, 6, 7]
    calls = ctx.extra_generator_calls
    batched = ablate_units(ctx, layer, module, units, z, base, d_baseline=d, units_per_pass=3)
    used = ctx.extra_generator_calls - calls
    naive = ablate_units_naive(ctx, layer, module, units, z, base, d_baseline=d)
    assert batched.method == method
    assert used == (2 if method == SHARED_PREFIX else 3)  # 2 chunks (+1 failed try)
    assert batched.units == naive.units == units
    assert naive.passes == len(units)
    assert torch.allclose(batched.pixel_effect, naive.pixel_effect, atol=1e-6)
    assert torch.allclose(batched.effect_maps, naive.effect_maps, atol=1e-6)
    assert torch.allclose(batched.d_change, naive.d_change, atol=1e-5)
    assert testing.hook_count(gan) == 0


def test_mean_ablation_and_ranking_by_discriminator():
    gan = planted_gan()
    section, _ = run(gan, Activations(ablation="mean", rank_by="discriminator", figures=False))
    rows = table(section, "intervention_units")
    changes = [abs(r["D logit change"]) for r in rows]
    assert changes == sorted(changes, reverse=True)
    dead = next(r for r in rows if r["unit"] == 0)
    assert dead["output change"] == 0.0  # a dead unit's mean is 0: the same as zero ablation


# -- works on ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["image", "vector"])
@pytest.mark.parametrize("with_d", [True, False])
@pytest.mark.parametrize("with_real", [True, False])
def test_contract(kind, with_d, with_real):
    gan, real = tiny(kind, with_d, with_real)
    section = testing.check_analyzer_contract(
        Activations(ablate=8, intervention_samples=16, figures=False), gan, real, samples=48)
    assert section.status == "ok"
    # D's activations are LeakyReLU: negative-regime units, never "dead"
    assert ("discriminator.negative_regime_fraction" in section.metrics) == with_d
    assert "discriminator.dead_fraction" not in section.metrics
    assert ("intervention.d_change" in section.metrics) == with_d
    assert not section.figures


def tiny(kind, with_d, with_real):
    if kind == "image":
        gan = testing.tiny_image_gan(discriminator=with_d)
        real = testing.random_images(64) if with_real else None
    else:
        gan = testing.tiny_vector_gan(discriminator=with_d)
        real = testing.random_vectors(64) if with_real else None
    return gan, real


@pytest.mark.parametrize("kind, with_d", [("image", True), ("vector", False)])
def test_figures(kind, with_d):
    """Rendering is slow on a shared CPU: once per data kind, not in every contract case."""
    gan, real = tiny(kind, with_d, True)
    section, _ = run(gan, Activations(ablate=8, intervention_samples=16), samples=48, real=real)
    figs = {f.name for f in section.figures}
    expected = {"layer_stats", "top_samples_generator", "intervention_effects",
                "intervention_before_after"}
    if kind == "image":
        expected |= {"feature_maps_generator", "feature_maps_discriminator", "unit_overlays",
                     "top_samples_discriminator"}
    assert figs == expected
    for fig in section.figures:
        assert fig.png.startswith(b"\x89PNG") and fig.title and len(fig.caption) > 80


def test_mlp_generator_with_flat_image_outputs():
    from ganlens.builtin.architectures import MLPDiscriminator, MLPGenerator

    torch.manual_seed(0)
    g = MLPGenerator(8, [1, SIDE, SIDE], width=16, value_range=(-1.0, 1.0))
    gan = ganlens.GAN(g, ganlens.LatentSpec((8,)), ganlens.DataSpec("image", (1, SIDE, SIDE)),
                      MLPDiscriminator([1, SIDE, SIDE], width=16))
    section, _ = run(gan, Activations(ablate=8, intervention_samples=16, figures=False),
                     samples=48)
    assert section.status == "ok"
    assert section.metrics["intervention.layer"] in ("net.1", "net.3")
    parts = {r["part"]: r["reason"] for r in table(section, "not_computed")}
    assert "has no 2-D maps" in parts["unit maps over the image"]
    assert len(table(section, "intervention_units")) == 8


def test_third_party_dcgan_without_discriminator(third_party_gan):
    before = testing.hook_count(third_party_gan)
    section, ctx = run(third_party_gan, Activations(ablate=8, intervention_samples=8,
                                                   figures=False), samples=32)
    assert section.status == "ok", section.reason
    assert not any(k.startswith("discriminator") for k in section.metrics)
    assert "intervention.d_change" not in section.metrics
    parts = {r["part"]: r["reason"] for r in table(section, "not_computed")}
    assert parts["discriminator layers and D's score"] == "this GAN has no discriminator"
    assert section.metrics["intervention.layer"].startswith("gen.")
    assert ctx.extra_generator_calls == 2  # the probe, one shared-prefix ablation pass
    assert testing.hook_count(third_party_gan) == before
