"""The analyzer contract on tiny image and vector GANs, with and without a discriminator and
real data: a section or a clean skip, no hooks left behind, the same numbers for the same seed."""

from __future__ import annotations

import pytest
from ganlens_modecollapse import ModeCollapse

import ganlens
from ganlens import make_host as get_host
from ganlens import testing


def test_registered_through_the_entry_point():
    host = get_host()
    assert host.analyzers["mode_collapse"].obj is ModeCollapse


@pytest.mark.parametrize("kind", ["image", "vector"])
@pytest.mark.parametrize("discriminator", [True, False])
@pytest.mark.parametrize("with_real", [True, False])
def test_contract(kind, discriminator, with_real):
    if kind == "image":
        gan = testing.tiny_image_gan(discriminator=discriminator)
        real = testing.random_images(160) if with_real else None
    else:
        gan = testing.tiny_vector_gan(discriminator=discriminator)
        real = ganlens.load_dataset("ring8", n=300) if with_real else None
    section = testing.check_analyzer_contract(ModeCollapse(bootstrap=50), gan, real, samples=48)
    if with_real:
        assert section.status == "ok"
        assert {"precision", "recall", "density", "coverage", "ndb_k", "duplicate_fraction",
                "memorised_fraction", "precision_baseline", "recall_ci"} <= set(section.metrics)
        assert section.findings and section.summary
    else:
        assert section.status == "skipped" and "real data" in section.reason
