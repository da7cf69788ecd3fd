"""Real data as it comes: image folders of other sizes, mixed sizes, grey, RGB and RGBA mixed,
converted to the generator's shape on request (--real-resize resize|crop), with known answers;
refused with what to do otherwise. The report says what was done."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import ganlens
from ganlens import testing
from ganlens.errors import DatasetError, InputError


def _save(path, array, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8), mode).save(path)


@pytest.fixture()
def mixed_folder(tmp_path):
    """Three classes in sub-folders; RGB 12x20, grey 16x16, RGBA 8x8."""
    rng = np.random.default_rng(0)
    for i in range(4):
        _save(tmp_path / "a" / f"{i}.png", rng.integers(0, 256, (12, 20, 3)), "RGB")
        _save(tmp_path / "b" / f"{i}.png", rng.integers(0, 256, (16, 16)), "L")
        _save(tmp_path / "c" / f"{i}.png", rng.integers(0, 256, (8, 8, 4)), "RGBA")
    return tmp_path


def test_mixed_images_are_refused_with_what_to_do(mixed_folder):
    with pytest.raises(DatasetError, match="images of mixed sizes or channels.*--real-resize"):
        ganlens.load_dataset(mixed_folder)
    gan = testing.tiny_image_gan(side=8, channels=1)
    with pytest.raises(DatasetError, match="--real-resize resize or crop"):
        ganlens.analyze(gan, analyzers=["samples"], real=mixed_folder, samples=8, progress=False)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("mode", ["resize", "crop"])
def test_mixed_images_are_fitted_to_the_generator(mixed_folder, channels, mode):
    gan = testing.tiny_image_gan(side=8, channels=channels)
    report = ganlens.analyze(gan, analyzers=["samples"], real=mixed_folder, samples=8,
                             progress=False, real_resize=mode)
    real = report.metadata["real_data"]
    assert real["shape"] == [channels, 8, 8] and real["num_samples"] == 12
    assert real["num_classes"] == 3
    verb = "centre-cropped" if mode == "crop" else "resized"
    assert real["prepared"].startswith("12 images of 3 shapes") and verb in real["prepared"]
    assert report["samples"].status == "ok"


def test_resize_and_crop_known_answers(tmp_path):
    """An 8x16 image, white in its middle 8x8 and black at the sides: crop keeps the white
    middle, resize squeezes the whole width (half white); a grey image repeated to RGB keeps
    its values in every channel."""
    img = np.zeros((8, 16), np.uint8)
    img[:, 4:12] = 255
    for i in range(3):
        _save(tmp_path / "wide" / f"{i}.png", img, "L")
    crop = ganlens.load_dataset(tmp_path / "wide", value_range=(0.0, 1.0))
    from ganlens.core.dataset import fit_images

    cropped, done = fit_images(crop.x, (1, 8, 8), "crop")
    assert torch.allclose(cropped, torch.ones_like(cropped), atol=1e-6), done
    squeezed, _ = fit_images(crop.x, (1, 8, 8), "resize")
    assert abs(float(squeezed.mean()) - 0.5) < 0.02
    rgb, done = fit_images(crop.x, (3, 8, 16), "resize")
    assert torch.equal(rgb[:, 0], rgb[:, 2]) and done == ["grey repeated to RGB"]
    colour = torch.rand(2, 3, 4, 4)
    grey, done = fit_images(colour, (1, 4, 4), "resize")
    want = 0.299 * colour[:, 0] + 0.587 * colour[:, 1] + 0.114 * colour[:, 2]
    assert torch.allclose(grey[:, 0], want) and done == ["RGB to grey (luminance)"]


def test_a_dataset_of_another_size_is_refused_or_resized(digits):
    gan = testing.tiny_image_gan(side=16, channels=1)
    with pytest.raises(InputError, match="have images of 8x8 but the generator makes 16x16.*"
                                         "--real-resize"):
        ganlens.analyze(gan, analyzers=["samples"], real="digits", samples=8, progress=False)
    report = ganlens.analyze(gan, analyzers=["samples"], real="digits", samples=8,
                             progress=False, real_resize="resize")
    assert report.metadata["real_data"]["shape"] == [1, 16, 16]
    assert report.metadata["real_data"]["prepared"] == "images of 1x8x8: 8x8 resized to 16x16"


def test_an_unknown_resize_mode_is_refused(digits):
    from ganlens.errors import OptionError

    gan = testing.tiny_image_gan(side=8, channels=1)  # the right size: still refused
    with pytest.raises(OptionError, match="real_resize 'stretch': expected one of resize, crop"):
        ganlens.analyze(gan, analyzers=["samples"], real="digits", samples=8, progress=False,
                        real_resize="stretch")


def test_a_large_folder_is_sampled_when_read_not_loaded_whole(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    for i in range(30):
        _save(tmp_path / f"{i:02d}.png", rng.integers(0, 256, (8, 8)), "L")
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda f, *a, **k: opened.append(f) or real_open(f, *a, **k))
    gan = testing.tiny_image_gan(side=8, channels=1)
    report = ganlens.analyze(gan, analyzers=["samples"], real=tmp_path, samples=4,
                             progress=False, real_samples=10, seed=3)
    real = report.metadata["real_data"]
    assert real["num_samples"] == 10 and len(opened) == 10
    assert real["sampled"] == "10 of 30 items chosen with seed 3"
    again = ganlens.analyze(gan, analyzers=["samples"], real=tmp_path, samples=4,
                            progress=False, real_samples=10, seed=3)
    assert again.metadata["real_data"] == real  # the same seed, the same sample
    whole = ganlens.analyze(gan, analyzers=["samples"], real=tmp_path, samples=4, progress=False)
    assert whole.metadata["real_data"]["num_samples"] == 30
    assert whole.metadata["real_data"]["sampled"] is None


def test_grey_conversion_keeps_white_white_and_sampled_labels_keep_their_classes(tmp_path):
    """A white RGB pixel stays 1 in grey (the weights sum to 1 only up to rounding), and a
    sample of a class folder keeps the class indices of the whole folder."""
    from ganlens.core.dataset import fit_images

    white = torch.ones(1, 3, 4, 4)
    grey, _ = fit_images(white, (1, 4, 4), "resize")
    assert float(grey.max()) <= 1.0 and float(grey.min()) == pytest.approx(1.0)
    from ganlens.builtin.fileformats import load_image_folder, sample_image_folder

    rng = np.random.default_rng(0)
    for cls, count in (("a", 5), ("b", 1), ("c", 5)):
        for i in range(count):
            _save(tmp_path / cls / f"{i}.png", rng.integers(0, 256, (4, 4)), "L")
    _x, y_all, _d = load_image_folder(tmp_path)
    missing_b = 0
    for seed in range(10):
        _x, y, _d, total = sample_image_folder(tmp_path, 4, seed)
        chosen = sorted(np.random.default_rng(seed).choice(11, size=4, replace=False).tolist())
        assert total == 11 and y.tolist() == y_all[chosen].tolist()  # the whole folder's classes
        missing_b += 1 not in y.tolist()
    assert missing_b > 0  # some samples lack class b, whose absence must not shift class c
    _x, y, _d, _t = sample_image_folder(tmp_path, 11, 0)
    assert y.tolist() == y_all.tolist()
