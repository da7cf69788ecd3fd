"""The contract, for every registered analyzer (built-in or installed), timm-style: on tiny GANs
(image and vector data, with and without a discriminator, with and without real data) each returns
a Section or a clean skip, leaves no hooks behind, and gives the same numbers for the same seed."""

from __future__ import annotations

import pytest

from ganlens import make_host as get_host
from ganlens import testing

ANALYZERS = sorted(get_host().analyzers)

CASES = {
    "image+D+real": lambda: (testing.tiny_image_gan(), testing.random_images(96, classes=3)),
    "image-alone": lambda: (testing.tiny_image_gan(discriminator=False), None),
    "vector+D+real": lambda: (testing.tiny_vector_gan(), testing.random_vectors(96)),
    "vector-alone": lambda: (testing.tiny_vector_gan(discriminator=False), None),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", ANALYZERS)
def test_contract(name, case):
    gan, real = CASES[case]()
    analyzer = get_host().analyzers[name].obj
    section = testing.check_analyzer_contract(analyzer, gan, real, samples=48)
    assert section.name == name
    if section.status == "ok":
        for fig in section.figures:
            assert fig.png.startswith(b"\x89PNG")
