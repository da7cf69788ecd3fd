"""The latent analyzer on conditional GANs: every extra pass gets labels (one per path), the
within-class and between-class views have known answers on hand-built generators, they exist
only for conditional GANs, and the analyzer's contract holds on ``tiny_conditional_gan``."""

from __future__ import annotations

import math

import pytest
import torch
from ganlens_latent import Latent, keys
from torch import nn

import ganlens
from ganlens import testing

K, D = 4, 3
SMALL = dict(points=40, trust_points=30, epochs=20, paths=8, path_steps=8, strips=2,
             directions=2, direction_samples=48, encoder_steps=10, encoder_pairs=48,
             encoder_width=8, worst=2)
CONDITIONAL_FIGURES = {"conditional_within_class", "conditional_between_classes"}


def conditional_gan(generator: nn.Module, kind: str = "image",
                    label_format: str = "index") -> ganlens.GAN:
    data = ganlens.DataSpec("image", (1, 4, 4)) if kind == "image" else \
        ganlens.DataSpec("vector", (16,))
    return ganlens.GAN(generator, ganlens.LatentSpec((D,)), data, num_classes=K,
                       conditional=True, label_format=label_format)


class LabelOnlyG(nn.Module):
    """G(z, y) = t_y: the output depends only on the class."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(K, 16, generator=torch.Generator().manual_seed(1)))

    def forward(self, z, y):
        return self.table[y]


class LatentOnlyG(nn.Module):
    """G(z, y) = A z: the label is ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(D, 16)

    def forward(self, z, y):
        return self.a(z.flatten(1))


class OneHotLinearG(nn.Module):
    """G(z, e_y) = A z + B e_y, taking one-hot labels: linear in both."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(2)
        self.a = nn.Linear(D, 16)
        self.b = nn.Linear(K, 16, bias=False)

    def forward(self, z, y):
        assert y.is_floating_point() and y.shape == (len(z), K)
        return self.a(z.flatten(1)) + self.b(y)


def run(gan: ganlens.GAN, parts: list[str], **options) -> ganlens.Section:
    section = Latent(**{**SMALL, "parts": parts, "features": "pixels", **options}).run(
        gan, samples=32)
    assert section.status == "ok", section.error
    return section


def test_a_generator_that_ignores_z_changes_only_between_classes():
    section = run(conditional_gan(LabelOnlyG()), ["interpolation"])
    m = section.metrics
    assert m[keys.COND_WITHIN_STEP] == 0.0 and m[keys.COND_WITHIN] == 0.0
    assert m[keys.COND_BETWEEN] > 0.5 and m[keys.COND_BETWEEN_STEP] == m[keys.COND_BETWEEN]
    assert math.isinf(m[keys.COND_RATIO])
    assert any(f.metric == keys.COND_RATIO and f.level == "warning" for f in section.findings)
    # Each PPL pair and each path keeps one label: nothing moves along them.
    assert m[keys.PPL] == 0.0 and m[keys.JUMP_FRACTION] == 0.0
    assert {f.name for f in section.figures} >= CONDITIONAL_FIGURES


def test_a_generator_that_ignores_the_label_changes_only_within_a_class():
    section = run(conditional_gan(LatentOnlyG(), kind="vector"), ["interpolation"])
    m = section.metrics
    assert m[keys.COND_BETWEEN] == 0.0 and m[keys.COND_RATIO] == 0.0
    assert m[keys.COND_WITHIN] > 0.1 and m[keys.COND_WITHIN_STEP] > 0.01
    assert any(f.metric == keys.COND_RATIO and "label" in f.message for f in section.findings)
    assert {f.name for f in section.figures} >= CONDITIONAL_FIGURES


@pytest.mark.parametrize("kind", ["image", "vector"])
def test_one_hot_labels_are_interpolated_linearly(kind):
    section = run(conditional_gan(OneHotLinearG(), kind, "onehot"), ["interpolation", "surrogate"])
    m = section.metrics
    # Linear in the one-hot label: 8 equal steps from class a to class b.
    assert m[keys.COND_BETWEEN_STEP] == pytest.approx(m[keys.COND_BETWEEN] / 8, rel=1e-4)
    assert m[keys.COND_LABEL_STEP_RATIO] == pytest.approx(1.0, abs=1e-3)
    assert "conditional_label_interpolation" in {f.name for f in section.figures}
    # Linear in z with one offset per class: the surrogate (z and one-hot y) explains it all.
    assert m[keys.SURROGATE_R2] == pytest.approx(1.0, abs=1e-4)


def test_reals_without_labels_are_reconstructed_at_the_shared_labels_and_say_so():
    gan = testing.tiny_conditional_gan(num_classes=K)
    unlabelled = run_encoder(gan, testing.random_images(40))
    notes = [f for f in unlabelled.findings if "shared pass's labels" in f.message]
    assert notes and notes[0].level == "info"
    assert not any(f.level == "warning" and f.metric == keys.RECON_RATIO
                   for f in unlabelled.findings)
    labelled = run_encoder(gan, testing.random_images(40, classes=K))
    assert not any("shared pass's labels" in f.message for f in labelled.findings)


def run_encoder(gan: ganlens.GAN, real: ganlens.Dataset) -> ganlens.Section:
    section = Latent(**{**SMALL, "parts": ["encoder"]}).run(gan, real=real, samples=32)
    assert section.status == "ok", section.error
    assert keys.REAL_RECON in section.metrics
    return section


def test_contract_on_a_tiny_conditional_gan_and_views_only_there():
    gan = testing.tiny_conditional_gan(num_classes=K)
    section = testing.check_analyzer_contract(Latent(**SMALL), gan,
                                              testing.random_images(48, classes=K), samples=48)
    assert section.status == "ok"
    assert {f.name for f in section.figures} >= CONDITIONAL_FIGURES
    assert keys.COND_RATIO in section.metrics
    plain = Latent(**{**SMALL, "parts": ["interpolation"]}).run(testing.tiny_image_gan(),
                                                                samples=32)
    assert plain.status == "ok", plain.error
    assert not CONDITIONAL_FIGURES & {f.name for f in plain.figures}
    assert not any(k.startswith("conditional.") for k in plain.metrics)
