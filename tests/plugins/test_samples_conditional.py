"""The samples analyzer on conditional GANs: every extra pass gets the right labels, the
per-class grid and its numbers against known answers, and bad input."""

from __future__ import annotations

import pytest
import torch
from ganlens_samples import Samples
from torch import nn

import ganlens
from ganlens import testing
from ganlens.errors import InputError

SIDE = 8


def table(section, name):
    t = next(t for t in section.tables if t.name == name)
    return [dict(zip(t.columns, row)) for row in t.rows]


class ClassOnly(nn.Module):
    """G(z, y) = a constant image per class: z is ignored, so every class 'collapses'."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.register_buffer("levels", torch.linspace(-0.9, 0.9, classes))

    def forward(self, z, y):
        return self.levels[y].reshape(-1, 1, 1, 1).expand(-1, 1, SIDE, SIDE) + 0 * z[:, :1, None, None]


class LatentOnly(nn.Module):
    """G(z, y) depends on z only: the label is ignored, so conditioning fails."""

    def forward(self, z, y):
        return torch.tanh(z[:, :1, None, None]).expand(-1, 1, SIDE, SIDE) + 0 * y[:, None, None, None]


class Affine(nn.Module):
    """G(z, y) = a flat image of value 0.1 * z[0] + offset[y]: within a class two images differ
    by |0.1 Δz0| everywhere, and two classes by |offset[a] - offset[b]| at any z."""

    def __init__(self, offsets) -> None:
        super().__init__()
        self.register_buffer("offsets", torch.tensor(offsets))

    def forward(self, z, y):
        v = 0.1 * z[:, 0] + self.offsets[y]
        return v.reshape(-1, 1, 1, 1).expand(-1, 1, SIDE, SIDE)


class Recording(nn.Module):
    """A tiny z- and y-dependent G that records the labels of every call."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(classes, 4)
        self.fc = nn.Linear(8, SIDE * SIDE)
        self.calls: list[torch.Tensor] = []

    def forward(self, z, y):
        self.calls.append(y.detach().cpu().clone())
        return torch.tanh(self.fc(torch.cat([z, self.embed(y)], 1))).view(-1, 1, SIDE, SIDE)


def conditional(g: nn.Module, classes: int, *, latent: int = 4, num_classes="same") -> ganlens.GAN:
    return ganlens.GAN(g, ganlens.LatentSpec((latent,)), ganlens.DataSpec("image", (1, SIDE, SIDE)),
                       conditional=True,
                       num_classes=classes if num_classes == "same" else num_classes)


# -- the contract ----------------------------------------------------------------------------
@pytest.mark.parametrize("with_real", [True, False])
def test_contract_on_a_tiny_conditional_gan(with_real):
    gan = testing.tiny_conditional_gan()
    real = testing.random_images(200, classes=10) if with_real else None
    section = testing.check_analyzer_contract(Samples, gan, real)
    assert section.status == "ok"
    names = [f.name for f in section.figures]
    assert "class_grid" in names and "interpolations" in names and "d_scores" in names
    assert section.metrics["class_grid_classes"] == list(range(10))
    assert len(section.metrics["class_diversity"]) == 10
    assert len(table(section, "class_grid")) == 10
    assert all(v > 0 for v in section.metrics["class_diversity"])  # z matters in a random G
    assert section.metrics["label_effect"] > 0
    assert "conditional on 10 classes" in section.summary


def test_the_per_class_grid_exists_only_for_conditional_gans(image_gan):
    section = Samples().run(image_gan, real=testing.random_images(100), samples=32)
    assert section.status == "ok"
    assert "class_grid" not in {f.name for f in section.figures}
    assert "class_grid" not in {t.name for t in section.tables}
    assert not any(k.startswith(("class_", "label_", "closest_")) for k in section.metrics)
    d_caption = next(f.caption for f in section.figures if f.name == "d_scores")
    assert "conditional" not in d_caption


# -- known answers ---------------------------------------------------------------------------
def test_a_generator_that_ignores_z_gives_constant_rows():
    gan = conditional(ClassOnly(5), 5)
    section = Samples().run(gan, samples=32)
    assert section.status == "ok"
    assert section.metrics["class_grid_classes"] == [0, 1, 2, 3, 4]
    assert section.metrics["class_diversity"] == [0.0] * 5
    assert section.metrics["class_diversity_min"] == 0.0
    # Neighbouring levels are 0.45 apart: the label effect is their mean absolute difference.
    levels = torch.linspace(-0.9, 0.9, 5).double()
    expected = (levels[:, None] - levels[None]).abs().sum() / (5 * 4)
    assert section.metrics["label_effect"] == pytest.approx(float(expected), rel=1e-5)
    assert any("Every class shown collapsed" in f.message for f in section.findings)
    assert "class_grid" in {f.name for f in section.figures}


def test_a_generator_that_ignores_the_label_gives_identical_rows():
    gan = conditional(LatentOnly(), 4)
    section = Samples().run(gan, samples=32)
    assert section.metrics["label_effect"] == 0.0
    assert section.metrics["closest_class_distance"] == 0.0
    assert min(section.metrics["class_diversity"]) > 0.05
    assert any("conditioning failed" in f.message for f in section.findings)
    assert not any("collapsed" in f.message for f in section.findings)


def test_diversity_and_label_effect_equal_their_definitions():
    offsets = [0.0, 0.5, -0.3]
    gan = conditional(Affine(offsets), 3)
    cols = 6
    section = Samples(class_columns=cols).run(gan, samples=40, seed=2)
    z0 = gan.latents(40, seed=2)[:cols, 0].double()
    pair = (0.1 * (z0[:, None] - z0[None])).abs()
    iu = torch.triu_indices(cols, cols, 1)
    expected = float(pair[iu[0], iu[1]].mean())
    for value in section.metrics["class_diversity"]:
        assert value == pytest.approx(expected, rel=1e-5)
    o = torch.tensor(offsets, dtype=torch.float64)
    effect = float((o[:, None] - o[None]).abs().sum() / 6)
    assert section.metrics["label_effect"] == pytest.approx(effect, rel=1e-5)
    assert section.metrics["closest_classes"] == [0, 2]  # 0.3 apart, the closest pair
    assert section.metrics["closest_class_distance"] == pytest.approx(0.3, rel=1e-5)
    rows = table(section, "class_grid")
    assert [r["closest class"] for r in rows] == [2, 0, 0]


def test_classes_are_capped_and_the_caption_says_so():
    gan = conditional(ClassOnly(30), 30)
    section = Samples().run(gan, samples=16)
    shown = section.metrics["class_grid_classes"]
    assert len(shown) == 20 and shown[0] == 0 and shown[-1] == 29
    assert len(table(section, "class_grid")) == 20
    caption = next(f.caption for f in section.figures if f.name == "class_grid")
    assert "20 of the 30 classes" in caption
    assert "conditioning failed" in caption and "collapsed" in caption
    section = Samples(classes_shown=4).run(gan, samples=16)
    assert section.metrics["class_grid_classes"] == [0, 10, 19, 29]


# -- the labels of every extra pass ----------------------------------------------------------
def test_interpolations_keep_one_class_per_pair_and_the_grid_every_class():
    g = Recording(6)
    gan = conditional(g, 6)
    pairs, steps, cols = 3, 5, 4
    section = Samples(pairs=pairs, steps=steps, class_columns=cols).run(gan, samples=20)
    assert section.status == "ok"
    calls = torch.cat(g.calls)
    # Calls: the shared pass (20), the interpolations (2 * pairs * steps), the class grid (6 * cols).
    sizes = [len(c) for c in g.calls]
    assert sum(sizes) == 20 + 2 * pairs * steps + 6 * cols
    interp = calls[20 : 20 + 2 * pairs * steps].reshape(2, pairs, steps)
    assert (interp == interp[..., :1]).all()  # one class along each strip
    assert torch.equal(interp[0], interp[1])  # the same class on its linear and spherical path
    grid = calls[20 + 2 * pairs * steps :]
    assert torch.equal(grid, torch.arange(6).repeat_interleave(cols))


def test_conditional_d_scores_are_those_of_the_sample_class():
    gan = testing.tiny_conditional_gan()
    real = testing.random_images(100, classes=10)
    section = Samples().run(gan, real=real, samples=50, seed=3)
    z, y = gan.latents(50, seed=3), gan.labels(50, seed=3)
    with torch.no_grad():
        p_fake = torch.sigmoid(gan.score(gan.forward(z, y), y)).mean()
    assert section.metrics["d_fake_mean"] == pytest.approx(float(p_fake), abs=1e-6)
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(3))[:50]
    with torch.no_grad():
        p_real = torch.sigmoid(gan.score(real.x[perm], real.labels[perm])).mean()
    assert section.metrics["d_real_mean"] == pytest.approx(float(p_real), abs=1e-6)
    caption = next(f.caption for f in section.figures if f.name == "d_scores")
    assert "given each sample's class" in caption
    assert "class" in section.metric_info["d_fake_mean"].description


# -- bad input -------------------------------------------------------------------------------
def test_a_conditional_gan_without_its_class_count_is_a_one_line_error():
    gan = conditional(ClassOnly(4), 4, num_classes=None)
    with pytest.raises(InputError, match="--num-classes") as err:
        Samples().run(gan, samples=8)
    assert "\n" not in str(err.value)


class VectorAffine(nn.Module):
    """Vectors: G(z, y) = (0.1 z0 + y, 0.1 z1)."""

    def forward(self, z, y):
        return torch.stack([0.1 * z[:, 0] + y.float(), 0.1 * z[:, 1]], 1)


def test_vector_data_get_the_per_class_numbers_without_the_grid():
    gan = ganlens.GAN(VectorAffine(), ganlens.LatentSpec((2,)),
                      ganlens.DataSpec("vector", (2,), (-1.0, 1.0)), conditional=True, num_classes=3)
    section = Samples().run(gan, samples=32)
    assert section.status == "ok"
    assert [f.name for f in section.figures] == ["scatter"]
    assert section.metrics["class_grid_classes"] == [0, 1, 2]
    # Between classes a and b the vectors differ by |a - b| in one of two values: RMS |a-b|/sqrt 2.
    assert section.metrics["label_effect"] == pytest.approx((4 / 3) / 2**0.5, rel=1e-5)
