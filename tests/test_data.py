"""Datasets: the bundled digits, the mixtures with known modes, and files (IDX, npy/npz, images)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

import ganlens
from ganlens.builtin.datasets import grid25_centres, ring8_centres
from ganlens.errors import DatasetError


def test_digits_is_scaled_to_minus_one_one_with_labels(digits):
    assert digits.x.shape == (1797, 1, 8, 8)
    assert digits.spec.kind == "image" and digits.spec.value_range == (-1.0, 1.0)
    assert float(digits.x.min()) == -1.0 and float(digits.x.max()) == 1.0
    assert digits.num_classes == 10 and len(digits.labels) == 1797
    assert len(digits.sha256) == 64


def test_digits_in_unit_range():
    ds = ganlens.load_dataset("digits", value_range=(0.0, 1.0))
    assert float(ds.x.min()) == 0.0 and float(ds.x.max()) == 1.0


@pytest.mark.parametrize(("name", "centres", "std"), [
    ("ring8", ring8_centres(), 0.01), ("grid25", grid25_centres(), 0.05)])
def test_mixtures_have_known_modes_and_std(name, centres, std):
    ds = ganlens.load_dataset(name, n=4000, seed=1)
    assert ds.has_modes and ds.mode_std == std
    assert torch.allclose(ds.modes, torch.from_numpy(centres).float())
    # Every point lies near a centre, and the spread around centres matches the std.
    d = torch.cdist(ds.x, ds.modes)
    nearest = d.argmin(1)
    resid = ds.x - ds.modes[nearest]
    assert abs(float(resid.std()) - std) < 0.1 * std
    # All modes are used, in roughly equal shares.
    counts = torch.bincount(nearest, minlength=len(centres)).float()
    assert counts.min() > 0.6 * counts.mean()


def test_mixture_options_are_configurable():
    ds = ganlens.load_dataset("ring8", n=123, std=0.2, seed=5)
    assert len(ds) == 123 and ds.mode_std == 0.2
    assert torch.equal(ds.x, ganlens.load_dataset("ring8", n=123, std=0.2, seed=5).x)


def _write_idx(path, images, labels=None, compress=True):
    n, h, w = images.shape
    raw = struct.pack(">BBBBIII", 0, 0, 8, 3, n, h, w) + images.astype(np.uint8).tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(raw)
    if labels is not None:
        lpath = str(path).replace("images-idx3", "labels-idx1")
        with opener(lpath, "wb") as f:
            f.write(struct.pack(">BBBBI", 0, 0, 8, 1, n) + labels.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [True, False])
def test_idx_files_with_labels(tmp_path, compress):
    imgs = np.arange(5 * 4 * 4).reshape(5, 4, 4) % 256
    name = "x-images-idx3-ubyte" + (".gz" if compress else "")
    _write_idx(tmp_path / name, imgs, np.array([3, 1, 4, 1, 5]), compress)
    ds = ganlens.load_dataset(tmp_path / name)
    assert ds.x.shape == (5, 1, 4, 4)
    assert torch.equal(ds.labels, torch.tensor([3, 1, 4, 1, 5]))
    # uint8 0..255 map linearly onto [-1, 1].
    expected = torch.from_numpy(imgs).float() / 255 * 2 - 1
    assert torch.allclose(ds.x[:, 0], expected)


def test_real_mnist_folder(shared_data):
    ds = ganlens.load_dataset(shared_data / "mnist")
    assert ds.x.shape == (10000, 1, 28, 28) and ds.num_classes == 10
    assert torch.bincount(ds.labels).tolist()[:3] == [980, 1135, 1032]  # the published counts


@pytest.mark.parametrize("layout", ["NHW", "NCHW", "NHWC"])
def test_npy_images(tmp_path, layout):
    base = np.random.default_rng(0).integers(0, 256, size=(6, 3, 5, 5), dtype=np.uint8)
    arr = {"NHW": base[:, 0], "NCHW": base, "NHWC": base.transpose(0, 2, 3, 1)}[layout]
    np.save(tmp_path / "a.npy", arr)
    ds = ganlens.load_dataset(tmp_path / "a.npy")
    assert ds.x.shape == ((6, 1, 5, 5) if layout == "NHW" else (6, 3, 5, 5))


def test_npz_vectors_with_labels(tmp_path):
    x = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    np.savez(tmp_path / "v.npz", x=x, y=np.arange(50) % 2)
    ds = ganlens.load_dataset(tmp_path / "v.npz")
    assert ds.spec.kind == "vector" and ds.x.shape == (50, 3)
    assert torch.allclose(ds.x, torch.from_numpy(x))
    assert ds.num_classes == 2


def test_image_folder_with_class_subfolders(tmp_path):
    from PIL import Image

    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(np.full((6, 6), 40 * i, dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    ds = ganlens.load_dataset(tmp_path)
    assert ds.x.shape == (6, 1, 6, 6)
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_image_size_resizes(digits):
    ds = ganlens.load_dataset("digits", image_size=16)
    assert ds.x.shape == (1797, 1, 16, 16) and ds.spec.shape == (1, 16, 16)


# -- bad input -------------------------------------------------------------------------------

def test_unknown_dataset_lists_known():
    with pytest.raises(DatasetError, match="unknown dataset 'mnistt'.*digits.*grid25.*ring8"):
        ganlens.load_dataset("mnistt")


def test_missing_path(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        ganlens.load_dataset(tmp_path / "nope.npy")


def test_folder_without_images(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DatasetError, match="no dataset format reads this folder"):
        ganlens.load_dataset(tmp_path)


def test_images_of_mixed_sizes(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((6, 6), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((7, 7), np.uint8)).save(tmp_path / "b.png")
    with pytest.raises(DatasetError, match="mixed sizes"):
        ganlens.load_dataset(tmp_path)


def test_unknown_file_format(tmp_path):
    (tmp_path / "data.bin").write_bytes(b"\x01\x02garbage" * 10)
    with pytest.raises(DatasetError, match="unknown dataset file"):
        ganlens.load_dataset(tmp_path / "data.bin")


def test_truncated_idx(tmp_path):
    _write_idx(tmp_path / "t-images-idx3-ubyte", np.zeros((4, 3, 3)), compress=False)
    p = tmp_path / "t-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(DatasetError, match="truncated"):
        ganlens.load_dataset(p)


def test_labels_that_do_not_match(tmp_path):
    np.savez(tmp_path / "v.npz", x=np.zeros((5, 2)), y=np.zeros(4))
    with pytest.raises(DatasetError, match="4 labels for 5 samples"):
        ganlens.load_dataset(tmp_path / "v.npz")


def test_nan_data(tmp_path):
    x = np.zeros((5, 2), np.float32)
    x[2, 1] = np.nan
    np.save(tmp_path / "n.npy", x)
    with pytest.raises(DatasetError, match="NaN"):
        ganlens.load_dataset(tmp_path / "n.npy")
