"""`--real-samples N` on IDX, .npy and .npz files: the rows chosen with a seed are read without
loading the file whole, equal the full read at those rows, and keep the full read's digest."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import ganlens
from ganlens import testing
from ganlens.builtin.fileformats import (
    _choose,
    load_array_dataset,
    load_idx_dataset,
    sample_idx_dataset,
    sample_npy,
    sample_npz,
)
from ganlens.errors import DatasetError

IDX_UBYTE = b"\x00\x00\x08"


def write_idx(path: Path, arr: np.ndarray, *, gz: bool = False) -> Path:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = IDX_UBYTE + bytes([arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + arr.tobytes()
    path.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    return path


def images(n: int = 500, shape=(6, 5), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def _check(sample, full, n: int, seed: int, *, labelled: bool):
    xs, ys, digest, total = sample
    xf, yf, digest_full = full
    rows = _choose(len(xf), n, seed)
    assert total == len(xf)
    assert len(xs) == min(n, len(xf))
    assert xs.dtype == xf.dtype and xs.shape == (len(rows), *xf.shape[1:])
    np.testing.assert_array_equal(xs, xf[rows])
    assert digest == digest_full
    if labelled:
        assert ys is not None and ys.dtype == np.int64
        np.testing.assert_array_equal(ys, yf[rows])
    else:
        assert ys is None and yf is None


@pytest.mark.parametrize("layout", ["NHW", "NHWC", "NCHW", "Nd", "fortran"])
def test_npy_sample_equals_the_full_read_at_the_chosen_rows(tmp_path, layout):
    base = images(500, (6, 5, 3))
    arr = {"NHW": base[..., 0], "NHWC": base, "NCHW": np.transpose(base, (0, 3, 1, 2)),
           "Nd": base.reshape(500, -1).astype(np.float32) / 7,
           "fortran": np.asfortranarray(base)}[layout]
    p = tmp_path / "a.npy"
    np.save(p, arr)
    _check(sample_npy(p, 37, 5), load_array_dataset(p), 37, 5, labelled=False)
    again = sample_npy(p, 37, 5)
    np.testing.assert_array_equal(again[0], sample_npy(p, 37, 5)[0])  # same seed, same rows
    assert not np.array_equal(sample_npy(p, 37, 6)[0], again[0])
    _check(sample_npy(p, 900, 1), load_array_dataset(p), 900, 1, labelled=False)  # all rows


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("labels", [None, "y", "labels"])
@pytest.mark.parametrize("fortran", [False, True])
def test_npz_sample_equals_the_full_read_with_labels(tmp_path, compressed, labels, fortran):
    x = images(500, (6, 5, 3), seed=1)
    if fortran:
        x = np.asfortranarray(x)
    arrays = {"x": x, "other": np.arange(3)}
    if labels:
        arrays[labels] = np.random.default_rng(2).integers(0, 10, (500, 1)).astype(np.uint8)
    p = tmp_path / "a.npz"
    (np.savez_compressed if compressed else np.savez)(p, **arrays)
    _check(sample_npz(p, 37, 11), load_array_dataset(p), 37, 11, labelled=bool(labels))


def test_npz_with_only_one_unnamed_array(tmp_path):
    p = tmp_path / "one.npz"
    np.savez_compressed(p, images(300, (4, 4)))
    _check(sample_npz(p, 20, 0), load_array_dataset(p), 20, 0, labelled=False)
    p2 = tmp_path / "two.npz"
    np.savez(p2, a=images(10), b=images(10))
    with pytest.raises(DatasetError, match="cannot tell which array"):
        sample_npz(p2, 5, 0)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("with_labels", [False, True])
def test_idx_sample_equals_the_full_read_with_labels(tmp_path, gz, with_labels):
    suffix = ".gz" if gz else ""
    img = write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images(500, (7, 7), 3), gz=gz)
    if with_labels:
        write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}",
                  np.random.default_rng(4).integers(0, 10, 500), gz=gz)
    _check(sample_idx_dataset(img, 37, 9), load_idx_dataset(img), 37, 9, labelled=with_labels)
    # the folder holding them reads the same
    _check(sample_idx_dataset(tmp_path, 37, 9), load_idx_dataset(img), 37, 9,
           labelled=with_labels)


@pytest.mark.parametrize("gz", [False, True])
def test_a_truncated_idx_file_is_refused_in_one_line(tmp_path, gz):
    arr = images(100, (4, 4))
    raw = IDX_UBYTE + b"\x03" + b"".join(d.to_bytes(4, "big") for d in (100, 4, 4)) + arr.tobytes()
    p = tmp_path / "cut-images-idx3-ubyte"
    cut = raw[:-50]
    p.write_bytes(gzip.compress(cut) if gz else cut)
    with pytest.raises(DatasetError) as err:
        sample_idx_dataset(p, 10, 0)
    msg = str(err.value)
    assert "\n" not in msg and str(p) in msg
    assert "truncated" in msg and "[100, 4, 4] (1600 bytes)" in msg and "found 1550 bytes" in msg
    p.write_bytes(gzip.compress(raw)[:-30] if gz else raw[:10])  # a cut stream, a cut header
    with pytest.raises(DatasetError, match=f"{p.name}.*(truncated|corrupt)"):
        sample_idx_dataset(p, 10, 0)


def test_labels_of_the_wrong_count_are_refused(tmp_path):
    img = write_idx(tmp_path / "t-images-idx3-ubyte", images(50, (4, 4)))
    write_idx(tmp_path / "t-labels-idx1-ubyte", np.zeros(49))
    with pytest.raises(DatasetError, match="49 labels for 50 images"):
        sample_idx_dataset(img, 10, 0)
    p = tmp_path / "a.npz"
    np.savez(p, x=images(50), y=np.zeros(49))
    with pytest.raises(DatasetError, match="49 labels for 50 samples"):
        sample_npz(p, 10, 0)


BIG_ROWS, BIG_SHAPE = 10_000, (64, 64)  # 40 MiB of uint8


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    # cheap to make and to compress, yet different row by row
    x = (np.arange(BIG_ROWS, dtype=np.uint32)[:, None, None] * 7
         + np.arange(BIG_SHAPE[1], dtype=np.uint32)).astype(np.uint8)
    x = np.broadcast_to(x, (BIG_ROWS, *BIG_SHAPE)).copy()
    y = (np.arange(BIG_ROWS) % 10).astype(np.uint8)
    np.save(d / "x.npy", x)
    np.savez(d / "stored.npz", x=x, y=y)
    np.savez_compressed(d / "packed.npz", x=x, y=y)
    write_idx(d / "big-images-idx3-ubyte", x)
    write_idx(d / "big-labels-idx1-ubyte", y)
    write_idx(d / "gz-images-idx3-ubyte.gz", x, gz=True)
    write_idx(d / "gz-labels-idx1-ubyte.gz", y, gz=True)
    return d, x, y


@pytest.mark.parametrize("name, reader", [
    ("x.npy", sample_npy), ("stored.npz", sample_npz), ("packed.npz", sample_npz),
    ("big-images-idx3-ubyte", sample_idx_dataset), ("gz-images-idx3-ubyte.gz", sample_idx_dataset),
])
def test_sampling_a_large_file_keeps_memory_bounded(big, name, reader):
    d, x, y = big
    path = d / name
    size = max(path.stat().st_size, x.nbytes)  # the compressed file holds 40 MiB of data
    out = []
    peak = _peak(lambda: out.append(reader(path, 10, 3)))
    assert peak < size / 4, f"{name}: peak {peak} bytes for {size} bytes of data"
    xs, ys, _digest, total = out[0]
    rows = _choose(BIG_ROWS, 10, 3)
    assert total == BIG_ROWS
    np.testing.assert_array_equal(xs, x[rows][:, None].astype(np.float32) / 255.0)
    if name != "x.npy":
        np.testing.assert_array_equal(ys, y[rows].astype(np.int64))


@pytest.mark.parametrize("kind", ["npy", "npz", "idx.gz"])
def test_analyze_records_what_was_sampled(tmp_path, kind):
    x = images(120, (8, 8), seed=7)
    if kind == "npy":
        path = tmp_path / "real.npy"
        np.save(path, x)
    elif kind == "npz":
        path = tmp_path / "real.npz"
        np.savez_compressed(path, x=x, y=np.arange(120) % 3)
    else:
        path = write_idx(tmp_path / "r-images-idx3-ubyte.gz", x, gz=True)
        write_idx(tmp_path / "r-labels-idx1-ubyte.gz", np.arange(120) % 3, gz=True)
    gan = testing.tiny_image_gan(side=8, channels=1)
    report = ganlens.analyze(gan, analyzers=["samples"], real=path, samples=4, progress=False,
                             real_samples=50, seed=2)
    real = report.metadata["real_data"]
    assert real["sampled"] == "50 of 120 items chosen with seed 2"
    assert real["num_samples"] == 50 and real["shape"] == [1, 8, 8]
    assert real["num_classes"] == (None if kind == "npy" else 3)
