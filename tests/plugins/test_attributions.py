"""The attributions analyzer against known answers: a linear discriminator (Saliency = |w|,
IG = w·(x - baseline), completeness), a generator that uses only its first k latent dimensions,
a discriminator that reads only the left half of the image, linear networks for conductance, and
captum / torch.autograd as reference implementations."""

from __future__ import annotations

import torch
from ganlens_attributions import Attributions
from ganlens_attributions import generator as g
from ganlens_attributions import methods as m
from ganlens_attributions.discriminator import DiscriminatorAttributions, DSettings
from torch import nn

import ganlens
from ganlens import testing


def parts_table(section: ganlens.Section) -> list[list]:
    return next(tb.rows for tb in section.tables if tb.name == "parts")


SMALL = {"map_samples": 16, "latent_samples": 8, "n_steps": 8, "smoothgrad_samples": 2,
         "display": 2, "targets": ["discriminator"]}


class LinearD(nn.Module):
    """D(x) = <w, x> + b."""

    def __init__(self, w: torch.Tensor, b: float = 0.3) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(b))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1) + self.b


class LeftHalfD(nn.Module):
    """A nonlinear D that reads only the left half of each image."""

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(channels, 4, 3, padding=1)
        self.head = nn.LazyLinear(1)

    def forward(self, x):
        left = x[..., : x.shape[-1] // 2]
        return self.head(nn.functional.leaky_relu(self.conv(left), 0.2).flatten(1))


class FirstK(nn.Module):
    """A generator whose output depends only on latent dimensions 0..k-1 (flat output)."""

    def __init__(self, k: int, out: int) -> None:
        super().__init__()
        torch.manual_seed(2)
        self.k = k
        self.mix = nn.Linear(k, 32)
        self.out = nn.Linear(32, out)

    def forward(self, z):
        return torch.tanh(self.out(torch.relu(self.mix(z.flatten(1)[:, : self.k]))))


def image_gan_with(d: nn.Module | None, side: int = 8, channels: int = 1) -> ganlens.GAN:
    gan = testing.tiny_image_gan(side=side, channels=channels)
    if d is not None:
        d(torch.zeros(1, channels, side, side))  # materialise lazy layers
    return ganlens.GAN(gan.generator, gan.latent, gan.data, d)


def explainer(gan: ganlens.GAN, mean_real: torch.Tensor | None = None,
              **settings) -> DiscriminatorAttributions:
    return DiscriminatorAttributions(gan, DSettings(**settings), torch.Generator().manual_seed(0),
                                     mean_real=mean_real)


# ---------------------------------------------------------------------------------------------
# A linear discriminator
# ---------------------------------------------------------------------------------------------


def test_linear_discriminator_saliency_and_ig_have_closed_forms():
    w = torch.randn(1, 8, 8, generator=torch.Generator().manual_seed(0))
    gan = image_gan_with(LinearD(w))
    x = testing.random_images(6).x
    ex = explainer(gan, n_steps=16, internal_batch_size=8)
    assert torch.allclose(ex.attribute("saliency", x), w.abs().expand_as(x), atol=1e-6)
    # SmoothGrad of a linear function is its gradient, whatever the noise.
    assert torch.allclose(ex.attribute("smoothgrad", x), w.abs().expand_as(x), atol=1e-6)
    ig = ex.attribute("integrated_gradients", x)
    black = torch.full_like(x, -1.0)
    assert torch.allclose(ig, w * (x - black), atol=1e-5)
    # Completeness: the attributions sum to D(x) - D(baseline).
    with torch.no_grad():
        change = gan.score(x) - gan.score(black)
    assert torch.allclose(ig.flatten(1).sum(1), change, atol=1e-4)
    assert ex.ig_relative_delta()[0] < 1e-5


def test_blurred_and_mean_real_baselines():
    w = torch.randn(1, 8, 8, generator=torch.Generator().manual_seed(3))
    gan = image_gan_with(LinearD(w))
    x = testing.random_images(4).x
    mean = testing.random_images(50, seed=1).x.mean(0)
    ig = explainer(gan, baseline="mean_real", mean_real=mean).attribute("integrated_gradients", x)
    assert torch.allclose(ig, w * (x - mean), atol=1e-5)
    blurred = m.gaussian_blur(x, 0.1 * 8)
    ig = explainer(gan, baseline="blurred").attribute("integrated_gradients", x)
    assert torch.allclose(ig, w * (x - blurred), atol=1e-5)
    # The blur keeps the mean of a constant image and smooths a single bright pixel.
    impulse = torch.zeros(1, 1, 9, 9)
    impulse[0, 0, 4, 4] = 1.0
    out = m.gaussian_blur(impulse, 1.0)
    assert abs(float(out.sum()) - 1.0) < 1e-5 and float(out.max()) < 0.2
    assert torch.allclose(m.gaussian_blur(torch.ones(2, 3, 5, 7), 2.0), torch.ones(2, 3, 5, 7))


def test_analyzer_on_a_linear_discriminator_counts_every_generator_pass():
    w = torch.randn(1, 8, 8, generator=torch.Generator().manual_seed(4))
    gan = image_gan_with(LinearD(w))
    with testing.count_forward_calls(gan.generator) as calls:
        report = ganlens.analyze(gan, analyzers=[Attributions(**SMALL)],
                                 real=testing.random_images(40), samples=16, progress=False)
    section = report.sections[0]
    assert section.status == "ok", section.error
    assert section.metrics["d.ig_delta_mean_abs"] < 1e-4
    assert section.metrics["d.ig_relative_delta"] < 1e-4
    assert {"overlays", "where_d_looks"} <= {f.name for f in section.figures}
    # Every generator pass of the analyzer went through ctx.generate, which counts it.
    counted = report.metadata["generator_calls"]
    assert counted["extra"] > 0
    assert calls[0] == counted["shared_pass"] + counted["extra"]


def test_batched_ig_equals_one_captum_call():
    from captum.attr import IntegratedGradients

    gan = testing.tiny_image_gan()
    x = testing.random_images(10).x
    ours = m.integrated_gradients(gan.score, x, -1.0, n_steps=12, internal_batch_size=8,
                                  freeze=(gan.discriminator,))
    ref, delta = IntegratedGradients(gan.score).attribute(x, baselines=-1.0, n_steps=12,
                                                          return_convergence_delta=True)
    assert torch.allclose(ours.attributions, ref, atol=1e-6)
    assert torch.allclose(ours.delta, delta, atol=1e-5)
    assert all(p.requires_grad for p in gan.discriminator.parameters())  # flags restored


# ---------------------------------------------------------------------------------------------
# A discriminator that reads only the left half
# ---------------------------------------------------------------------------------------------


def test_left_half_discriminator_puts_no_attribution_on_the_right_half():
    gan = image_gan_with(LeftHalfD())
    x = testing.random_images(12).x
    ex = explainer(gan, n_steps=8, smoothgrad_samples=4)
    for method in ("saliency", "integrated_gradients", "smoothgrad"):
        mean_map = ex.mean_map(method, x, chunk=5)
        assert mean_map.shape == (8, 8)
        assert float(mean_map[:, 4:].abs().max()) < 1e-7, method
        assert float(mean_map[:, :4].mean()) > 1e-4, method
    section = Attributions(**{**SMALL, "map_method": "saliency"}).run(
        gan, real=testing.random_images(40), samples=16)
    assert section.status == "ok", section.error
    for key in ("d.attention_centroid_fake", "d.attention_centroid_real"):
        row, col = section.metrics[key]
        assert col < 0.5 and 0.2 < row < 0.8


def test_gradcam_equals_relu_of_weighted_channels():
    """D(x) = sum_c v_c sum_hw A_c(x): Grad-CAM's channel weights are v_c, so the map is
    ReLU(sum_c v_c A_c), at the input size (the convolution keeps it)."""

    class ConvSum(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(5)
            self.conv = nn.Conv2d(1, 3, 3, padding=1)
            self.v = torch.tensor([1.0, -0.5, 2.0])

        def forward(self, x):
            return (self.conv(x) * self.v.view(1, 3, 1, 1)).flatten(1).sum(1)

    d = ConvSum()
    x = testing.random_images(4, side=6).x
    name, layer = m.last_spatial_conv(d, d, x)
    assert name == "conv"
    cam = m.gradcam(d, layer, x)
    with torch.no_grad():
        expected = torch.relu((d.conv(x) * d.v.view(1, 3, 1, 1)).sum(1))
    assert torch.allclose(cam, expected, atol=1e-5)


def test_gradcam_layer_is_the_last_conv_with_a_spatial_output():
    d = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1),
                      nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 7), nn.Flatten())
    name, _ = m.last_spatial_conv(d, d, torch.zeros(1, 1, 28, 28))
    assert name == "2"  # the 7x7 map, not the final 1x1 scoring convolution


# ---------------------------------------------------------------------------------------------
# Generator: latent importance, Jacobians, conductance
# ---------------------------------------------------------------------------------------------


def _first_k_gan(k: int, latent_shape: tuple[int, ...]) -> ganlens.GAN:
    d = testing.tiny_image_gan().discriminator
    return ganlens.GAN(FirstK(k, 64), ganlens.LatentSpec(latent_shape),
                       ganlens.DataSpec("image", (1, 8, 8)), d)


def test_only_the_used_latent_dimensions_rank_top():
    for shape in ((10,), (10, 1, 1)):
        k = 3
        options = {**SMALL, "methods": [], "map_method": "saliency", "display": 0}
        section = Attributions(**options).run(_first_k_gan(k, shape), samples=8)
        assert section.status == "ok", section.error
        effect = torch.tensor(section.metrics["latent.importance"])
        ig = torch.tensor(section.metrics["latent.importance.discriminator"])
        assert set(effect.topk(k).indices.tolist()) == set(range(k))
        assert set(ig.topk(k).indices.tolist()) == set(range(k))
        assert float(effect[k:].abs().max()) < 1e-7 and float(ig[k:].abs().max()) < 1e-7
        assert section.metrics["latent.inactive_dims"] == list(range(k, 10))
        assert section.metrics["latent.inactive_fraction"] == 0.7
        assert any(f.metric == "latent.inactive_fraction" and f.level == "warning"
                   for f in section.findings)


def test_jacobian_statistics_match_autograd():
    gan = testing.tiny_image_gan(latent_dim=5)
    z = gan.latents(3, seed=1)
    stats = g.latent_jacobian(gan.forward, z, generator=gan.generator, internal_batch_size=7)
    jac = torch.stack([torch.autograd.functional.jacobian(lambda v: gan.forward(v[None])[0], zi)
                       for zi in z])  # (N, C, H, W, d)
    flat = jac.reshape(3, -1, 5)
    assert torch.allclose(stats.latent_effect, flat.abs().mean(1).mean(0), atol=1e-6)
    assert torch.allclose(stats.sensitivity, flat.norm(dim=2).mean(0).reshape(1, 8, 8), atol=1e-6)
    # The Jacobian-vector products equal forward-mode AD's.
    v = torch.randn_like(z)
    assert torch.allclose(g._jvp(gan.forward, z, v), torch.func.jvp(gan.forward, (z,), (v,))[1],
                          atol=1e-6)


def test_conductance_of_a_linear_network_has_a_closed_form():
    torch.manual_seed(6)
    gen = nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 10))
    w = torch.randn(10)
    gan = ganlens.GAN(gen, ganlens.LatentSpec((4,)), ganlens.DataSpec("vector", (10,)),
                      LinearD(w, 0.1))
    z = gan.latents(5, seed=2)
    target = ganlens_target(gan)
    cond = g.unit_conductance(gan.forward, target, z, generator=gen, layer="0", n_steps=4,
                              internal_batch_size=4)
    with torch.no_grad():
        expected = (w @ gen[1].weight) * (z @ gen[0].weight.T)  # dD/dh_u * (h_u(z) - h_u(0))
    assert torch.allclose(cond.per_unit, expected, atol=1e-5)
    assert cond.delta.abs().max() < 1e-4
    assert g.choose_unit_layer(gen, gan.forward, z[:1]) == "0"


def ganlens_target(gan: ganlens.GAN):
    from ganlens_attributions.targets import Target

    return Target("discriminator", "D", gan.score, modules=(gan.discriminator,))


# ---------------------------------------------------------------------------------------------
# Whole runs
# ---------------------------------------------------------------------------------------------


def test_generator_without_discriminator_skips_d_parts_with_reasons(third_party_gan):
    opts = {**SMALL, "targets": ["discriminator", "region:0:0.5:0:1"]}
    section = Attributions(**opts).run(third_party_gan, samples=8)
    assert section.status == "ok", section.error
    rows = {r[0]: r for r in parts_table(section)}
    assert rows["discriminator attributions"][1:] == ["skipped", "this GAN has no discriminator"]
    assert rows["target discriminator"][1] == "skipped"
    assert len(section.metrics["latent.importance"]) == 64  # a (64, 1, 1) latent, flattened
    assert "latent.importance.region:0:0.5:0:1" in section.metrics
    assert section.metrics["generator.conductance_target"] == "region:0:0.5:0:1"
    assert {f.name for f in section.figures} == {"latent_importance", "pixel_sensitivity",
                                                  "unit_conductance"}
