"""The attributions analyzer on conditional GANs: every pass gets the labels of the samples it
explains, with known answers (a D whose weights depend on the class, a D that reads only the
label, a generator linear in z per class), the per-class maps exist only for conditional GANs,
and the analyzer's contract holds on ``tiny_conditional_gan``."""

from __future__ import annotations

import torch
from ganlens_attributions import Attributions, keys
from ganlens_attributions import generator as g
from ganlens_attributions.discriminator import DiscriminatorAttributions, DSettings
from ganlens_attributions.targets import LabelledTarget, evaluate
from torch import nn

import ganlens
from ganlens import testing

K, SIDE, D = 4, 8, 3
SMALL = {"map_samples": 16, "latent_samples": 6, "n_steps": 8, "smoothgrad_samples": 2,
         "display": 2, "targets": ["discriminator"]}


class ClassLinearD(nn.Module):
    """D(x, y) = <w_y, x> + b_y: the weights depend on the class."""

    def __init__(self, k: int = K, side: int = SIDE, zero_image: bool = False) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(4)
        w = torch.zeros(k, 1, side, side) if zero_image else torch.randn(k, 1, side, side,
                                                                         generator=gen)
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(torch.randn(k, generator=gen))

    def forward(self, x, y):
        return (x * self.w[y]).flatten(1).sum(1) + self.b[y]


class ClassLinearG(nn.Module):
    """G(z, y) = A_y z, reshaped to an image: linear in z for each class."""

    def __init__(self, k: int = K, d: int = D, side: int = SIDE) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.randn(k, side * side, d,
                                          generator=torch.Generator().manual_seed(5)) * 0.3)
        self.side = side

    def forward(self, z, y):
        out = torch.einsum("bpd,bd->bp", self.a[y], z.flatten(1))
        return out.reshape(len(z), 1, self.side, self.side)


def conditional_gan(d: nn.Module | None = None, g_net: nn.Module | None = None) -> ganlens.GAN:
    return ganlens.GAN(g_net or ClassLinearG(), ganlens.LatentSpec((D,)),
                       ganlens.DataSpec("image", (1, SIDE, SIDE)), d if d is not None else
                       ClassLinearD(), num_classes=K, conditional=True,
                       d_conditional=True)


def real_images(n: int = 24, classes: int | None = K) -> ganlens.Dataset:
    return testing.random_images(n, side=SIDE, classes=classes)


def test_each_sample_is_explained_at_its_own_label():
    gan = conditional_gan()
    w = gan.discriminator.w.detach()
    x = real_images(10).x
    y = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0, 1, 2])
    ex = DiscriminatorAttributions(gan, DSettings(n_steps=8, internal_batch_size=8),
                                   torch.Generator().manual_seed(0))
    # Chunks of 2 samples: the labels must follow their samples through captum's expansion.
    assert torch.allclose(ex.attribute("saliency", x, labels=y), w[y].abs(), atol=1e-6)
    assert torch.allclose(ex.attribute("smoothgrad", x, labels=y), w[y].abs(), atol=1e-6)
    ig = ex.attribute("integrated_gradients", x, labels=y)
    assert torch.allclose(ig, w[y] * (x + 1.0), atol=1e-5)  # black baseline: -1
    assert ex.ig_relative_delta()[0] < 1e-5
    maps, counts, overall = ex.class_maps("saliency", x, y, K, chunk=3, labels=y)
    assert counts.tolist() == [2, 3, 3, 2]
    assert torch.allclose(maps, w.abs().sum(1), atol=1e-6)  # |w_c| summed over channels
    assert torch.allclose(overall, ex.mean_map("saliency", x, chunk=4, labels=y), atol=1e-6)


def test_generator_side_holds_each_latent_label_fixed():
    gan = conditional_gan()
    z = gan.latents(5, seed=1)
    y = torch.tensor([3, 0, 2, 1, 3])
    a = gan.generator.a.detach()
    stats = g.latent_jacobian(gan.forward, z, generator=gan.generator, internal_batch_size=4,
                              labels=y)
    assert torch.allclose(stats.latent_effect, a[y].abs().mean(1).mean(0), atol=1e-6)
    target = LabelledTarget("discriminator", "D(x, y)", gan.score,
                            modules=(gan.discriminator,), labelled=gan.score)
    res = g.latent_attributions(gan.forward, target, z, generator=gan.generator, n_steps=4,
                                internal_batch_size=8, labels=y)
    w = gan.discriminator.w.detach().reshape(K, -1)
    # D(G(z, y), y) = (w_y^T A_y) z + b_y is linear in z: IG from 0 is z * (w_y^T A_y).
    expected = z * torch.einsum("bp,bpd->bd", w[y], a[y])
    assert torch.allclose(res.attributions, expected, atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(evaluate(target, gan.forward(z, y), y), gan.score(gan.forward(z, y), y))


def network_g() -> nn.Module:
    """A conditional DCGAN generator (it has hidden layers, for unit conductance)."""
    return testing.tiny_conditional_gan(side=SIDE, latent_dim=D, num_classes=K).generator


def test_a_discriminator_that_reads_only_the_label_gets_zero_maps():
    gan = conditional_gan(ClassLinearD(zero_image=True), network_g())
    section = Attributions(**{**SMALL, "methods": ["saliency", "integrated_gradients"]}).run(
        gan, real=real_images(), samples=24)
    assert section.status == "ok", section.error
    m = section.metrics
    present = [v for v in m[keys.D_CLASS_MASS] if v is not None]
    assert present and all(v == 0.0 for v in present)
    assert all(v == 0.0 for v in m[keys.D_CLASS_MASS_REAL] if v is not None)
    assert sum(m[keys.D_CLASS_COUNTS]) == 16
    assert m[keys.D_CLASS_SPREAD] == 0.0 and m[keys.D_ATTENTION_DISTANCE] == 0.0
    assert "where_d_looks_by_class" in {f.name for f in section.figures}


def test_conditional_d_without_real_labels_skips_real_attributions():
    gan = conditional_gan(g_net=network_g())
    section = Attributions(**SMALL).run(gan, real=real_images(classes=None), samples=24)
    assert section.status == "ok", section.error
    rows = {r[0]: r for r in next(t.rows for t in section.tables if t.name == "parts")}
    assert "no labels" in rows["attributions on real data"][2]
    assert keys.D_CLASS_MASS in section.metrics and keys.D_CLASS_MASS_REAL not in section.metrics


def test_contract_on_a_tiny_conditional_gan_and_figures_only_there():
    gan = testing.tiny_conditional_gan(num_classes=5)
    real = testing.random_images(40, classes=5)
    section = testing.check_analyzer_contract(Attributions(**SMALL), gan, real, samples=24)
    assert section.status == "ok"
    names = {f.name for f in section.figures}
    assert {"overlays", "where_d_looks", "where_d_looks_by_class", "unit_conductance"} <= names
    plain = Attributions(**SMALL).run(testing.tiny_image_gan(), real=testing.random_images(40),
                                      samples=24)
    assert plain.status == "ok", plain.error
    assert "where_d_looks_by_class" not in {f.name for f in plain.figures}
    assert not any(k.startswith("d.class_") for k in plain.metrics)


class OffsetG(nn.Module):
    """G(z, y) = W2 (W1 z + e_y): z reaches the output only through layer ``first``."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(7)
        self.first = nn.Linear(D, 5)
        self.embed = nn.Embedding(K, 5)
        self.second = nn.Linear(5, SIDE * SIDE)

    def forward(self, z, y):
        return self.second(self.first(z) + self.embed(y)).reshape(len(z), 1, SIDE, SIDE)


def test_unit_conductance_is_complete_at_each_latent_label():
    gan = conditional_gan(g_net=OffsetG())
    z = gan.latents(6, seed=3)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    target = LabelledTarget("discriminator", "D(x, y)", gan.score,
                            modules=(gan.discriminator,), labelled=gan.score)
    cond = g.unit_conductance(gan.forward, target, z, generator=gan.generator, layer="first",
                              n_steps=4, internal_batch_size=4, labels=y)
    with torch.no_grad():
        change = gan.score(gan.forward(z, y), y) - gan.score(gan.forward(0 * z, y), y)
    assert torch.allclose(cond.per_unit.sum(1), change, atol=1e-4)
    assert cond.delta.abs().max() < 1e-4
    assert g.choose_unit_layer(gan.generator, gan.forward, z[:1], labels=y[:1]) == "first"


class VectorG(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(8)
        self.first, self.embed, self.second = nn.Linear(D, 8), nn.Embedding(K, 8), nn.Linear(8, 5)

    def forward(self, z, y):
        return self.second(torch.relu(self.first(z) + self.embed(y)))


class VectorD(nn.Module):
    """A projection discriminator on vectors: D(x, y) = h(x) . (v + e_y)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(9)
        self.features, self.head, self.embed = nn.Linear(5, 6), nn.Linear(6, 1), nn.Embedding(K, 6)

    def forward(self, x, y):
        h = torch.relu(self.features(x))
        return self.head(h)[:, 0] + (self.embed(y) * h).sum(1)


def test_vector_data_get_per_class_maps_too():
    gan = ganlens.GAN(VectorG(), ganlens.LatentSpec((D,)), ganlens.DataSpec("vector", (5,)),
                      VectorD(), num_classes=K, conditional=True, d_conditional=True)
    real = ganlens.Dataset("vectors", torch.randn(40, 5), ganlens.DataSpec("vector", (5,)),
                           torch.arange(40) % K, "test")
    section = Attributions(**SMALL).run(gan, real=real, samples=24)
    assert section.status == "ok", section.error
    assert "where_d_looks_by_class" in {f.name for f in section.figures}
    assert len(section.metrics[keys.D_CLASS_MASS_REAL]) == K
    assert sum(section.metrics[keys.D_CLASS_COUNTS]) == 16
