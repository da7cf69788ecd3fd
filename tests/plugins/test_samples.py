"""The samples analyzer: its numbers against direct computation, its interpolation maths."""

from __future__ import annotations

import torch
from ganlens_samples import Samples

import ganlens
from ganlens import testing
from ganlens.maths import lerp, nearest, slerp


def test_slerp_and_lerp_end_points_and_norm():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(16, generator=g), torch.randn(16, generator=g)
    t = torch.linspace(0, 1, 5)
    for fn in (lerp, slerp):
        path = fn(z0[None], z1[None], t)[0]
        assert torch.allclose(path[0], z0, atol=1e-5)
        assert torch.allclose(path[-1], z1, atol=1e-5)
    # For equal-norm end points slerp stays on the sphere; lerp cuts inside it.
    z1 = z1 / z1.norm() * z0.norm()
    assert torch.allclose(slerp(z0[None], z1[None], t)[0].norm(dim=1), z0.norm().expand(5),
                          atol=1e-4)
    assert lerp(z0[None], z1[None], t)[0, 2].norm() < z0.norm()


def test_nearest_matches_brute_force():
    g = torch.Generator().manual_seed(1)
    q, pool = torch.randn(7, 3, generator=g), torch.randn(9000, 3, generator=g)
    d, i = nearest(q, pool, k=3)
    full = torch.cdist(q, pool)
    ref_d, ref_i = full.topk(3, largest=False)
    assert torch.equal(i, ref_i)
    assert torch.allclose(d, ref_d, atol=1e-5)


def test_scores_equal_direct_forward(image_gan):
    real = testing.random_images(100)
    section = Samples().run(image_gan, real=real, samples=50, seed=3)
    assert section.status == "ok"
    z = image_gan.latents(50, seed=3)
    with torch.no_grad():
        p_fake = torch.sigmoid(image_gan.score(image_gan.forward(z))).mean()
    assert abs(section.metrics["d_fake_mean"] - float(p_fake)) < 1e-6
    names = {f.name for f in section.figures}
    assert {"sample_grid", "interpolations", "d_scores", "nearest_real"} <= names
    # D on the reals it scored: the first 50 of the real data shuffled with the seed.
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(3))[:50]
    with torch.no_grad():
        p_real = torch.sigmoid(image_gan.score(real.x[perm])).mean()
    assert abs(section.metrics["d_real_mean"] - float(p_real)) < 1e-6
    assert abs(section.metrics["d_score_gap"] - float(p_real - p_fake)) < 1e-6


class Copy(torch.nn.Module):
    """A 'generator' that returns stored images, picked by the latent."""

    def __init__(self, images):
        super().__init__()
        self.register_buffer("images", images)

    def forward(self, z):
        idx = (z[:, 0].abs() * 1e4).long() % len(self.images)
        return self.images[idx]


def test_copied_training_images_give_a_ratio_near_zero(digits):
    gan = ganlens.GAN(Copy(digits.x), ganlens.LatentSpec((4,)), digits.spec)
    section = Samples().run(gan, real=digits, samples=200)
    assert section.metrics["nearest_real_ratio"] < 0.05


def test_fresh_samples_of_the_real_distribution_give_a_ratio_near_one(digits):
    """Samples drawn from the same distribution as the reals but not among them (the other half
    of the digits) are as far from the reals as reals are from each other."""
    train, other = digits.split(0.5, seed=0)
    gan = ganlens.GAN(Copy(other.x), ganlens.LatentSpec((4,)), digits.spec)
    section = Samples().run(gan, real=train, samples=400)
    assert 0.8 < section.metrics["nearest_real_ratio"] < 1.25


def test_vector_data_scatter(vector_gan):
    section = Samples().run(vector_gan, real="ring8", samples=100)
    assert section.status == "ok"
    assert [f.name for f in section.figures] == ["scatter", "d_scores"]
