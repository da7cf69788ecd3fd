"""Feature spaces fitted on real data leave the reals they were fitted on out of the real set that
baselines are computed from, so reals and fakes are both samples the space never saw."""

from __future__ import annotations

import torch

import ganlens
from ganlens.builtin import classifier as C
from ganlens.testing import tiny_image_gan


def _rows(x: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in x.reshape(len(x), -1)}


def test_the_classifier_space_holds_only_reals_its_embedding_never_trained_on(digits):
    gan = tiny_image_gan(8, 1, 8)
    ctx = ganlens.context(gan, real=digits, samples=64, seed=0, progress=False)
    fs = ctx.features("classifier")
    folds = C.fold_of(ctx.real.x)
    assert torch.equal(fs.real_index, torch.nonzero(folds == 1).reshape(-1))
    assert torch.equal(fs.real_fitted_index, torch.nonzero(folds == 0).reshape(-1))
    assert len(fs.real) + len(fs.real_fitted) == len(ctx.real) == 1797
    # The embedding is the classifier trained on fold 0 alone: fold-1 reals are unseen by it.
    fold0 = ctx.classifier._fold_models()[0][0]
    with torch.no_grad():
        expected = fold0.features(ctx.real.x[fs.real_index[:20]])
    assert torch.allclose(fs.real[:20], expected, atol=1e-6)
    assert "left out" in fs.real_note and str(len(fs.real_fitted)) in fs.real_note


def test_spaces_not_fitted_on_reals_keep_every_real(digits):
    gan = tiny_image_gan(8, 1, 8)
    ctx = ganlens.context(gan, real=digits, samples=64, seed=0, progress=False)
    fs = ctx.features("random-conv")
    assert fs.real_index is None and fs.real_fitted is None and fs.real_note is None
    assert len(fs.real) == len(ctx.real)
