"""The GAN container and its specs, and a light `import ganlens`."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import ganlens
from ganlens import testing
from ganlens.errors import InputError


def test_latents_are_seeded_and_device_independent():
    spec = ganlens.LatentSpec((4, 1, 1))
    assert torch.equal(spec.sample(3, seed=1), spec.sample(3, seed=1))
    assert spec.sample(3, seed=1).shape == (3, 4, 1, 1) and spec.dim == 4
    u = ganlens.LatentSpec((1000,), "uniform").sample(1, seed=0)
    assert u.min() >= -1 and u.max() <= 1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"shape": (0,)}, "positive"), ({"shape": (3,), "distribution": "cauchy"}, "cauchy")])
def test_bad_latent_spec(kwargs, match):
    with pytest.raises(InputError, match=match):
        ganlens.LatentSpec(**kwargs)


@pytest.mark.parametrize(("args", "match"), [
    (("pixels", (1, 2, 2)), "kind"), (("image", (4, 4)), r"\(C, H, W\)"),
    (("vector", (2, 2)), r"\(d,\)"), (("image", (1, 2, 2), (1, 1)), "low < high")])
def test_bad_data_spec(args, match):
    with pytest.raises(InputError, match=match):
        ganlens.DataSpec(*args)


def test_decode_batches_and_reshapes_flat_outputs():
    gan = testing.tiny_vector_gan(dim=36)
    gan = ganlens.GAN(gan.generator, gan.latent, ganlens.DataSpec("image", (1, 6, 6)))
    z = gan.latents(10, seed=0)
    with torch.no_grad():
        direct = gan.generator(z).reshape(10, 1, 6, 6)
    assert torch.allclose(gan.decode(z, batch_size=3), direct, atol=1e-6)


def test_probability_discriminators_are_converted_to_logits():
    gan = testing.tiny_image_gan()
    logits = gan.discriminate(gan.sample(5))
    prob_d = torch.nn.Sequential(gan.discriminator, torch.nn.Sigmoid())
    gan2 = ganlens.GAN(gan.generator, gan.latent, gan.data, prob_d, d_output="probability")
    assert torch.allclose(gan2.discriminate(gan.sample(5)), logits, atol=1e-4)


def test_import_is_light():
    code = ("import sys, ganlens; heavy = [m for m in ('umap', 'captum', 'matplotlib.pyplot', "
            "'matplotlib', 'sklearn', 'scipy', 'jinja2') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
