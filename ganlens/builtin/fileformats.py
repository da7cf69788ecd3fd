"""Readers for datasets on disk: MNIST-style IDX (gzipped or not), .npy/.npz arrays, image folders.

Every reader decides by content (magic bytes), not by the extension alone, and returns raw
arrays (images N×C×H×W as float in [0, 1], or vectors N×d) with labels where the file has them.
Normalisation to the model's range happens in :mod:`ganlens.engine.data`. Each reader is a
``ganlens_register_dataset_formats`` extension; a plugin adds a format the same way.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

from ..core.errors import DatasetError
from ..core.extensions import DatasetFormatInfo
from ..core.fileio import sha256_file, sha256_files
from ..markers import hookimpl

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GZIP_MAGIC = b"\x1f\x8b"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{path}: the gzip stream is corrupt or truncated ({exc})") from exc
    return raw


def is_idx(raw: bytes) -> bool:
    return len(raw) >= 4 and raw[0] == 0 and raw[1] == 0 and raw[2] in IDX_TYPES and 1 <= raw[3] <= 4


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (MNIST's format): big-endian magic, dimensions, then the data."""
    raw = _read_bytes(path)
    if not is_idx(raw):
        raise DatasetError(f"{path}: not an IDX file (expected magic 0x000008xx/0x00000Dxx)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(IDX_TYPES[raw[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - offset < expected:
        raise DatasetError(
            f"{path}: IDX file is truncated: header says {dims} ({expected} bytes), "
            f"found {len(raw) - offset} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, count=int(np.prod(dims)), offset=offset).reshape(dims)


def find_idx_labels(images_path: Path) -> Path | None:
    """The labels file next to an MNIST images file (``*-images-idx3-*`` → ``*-labels-idx1-*``)."""
    name = images_path.name
    for a, b in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1")):
        if a in name:
            cand = images_path.with_name(name.replace(a, b))
            if cand.exists():
                return cand
    return None


def load_idx_dataset(path: Path, labels: Path | None = None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Images as N×1×H×W floats in [0, 1] (or vectors), labels when found, and a digest."""
    arr = read_idx(path)
    labels_path = labels or find_idx_labels(path)
    y = None
    if labels_path is not None:
        y = read_idx(labels_path).astype(np.int64).reshape(-1)
        if len(y) != len(arr):
            raise DatasetError(
                f"{labels_path}: {len(y)} labels for {len(arr)} images in {path}; expected one each"
            )
    if arr.ndim == 3:
        arr = arr[:, None]
    x = _to_unit_float(arr, path)
    digest = sha256_file(path) if labels_path is None else sha256_files([path, labels_path], path.parent)
    return x, y, digest


def _to_unit_float(arr: np.ndarray, source: Path | str) -> np.ndarray:
    """uint8 images → [0, 1]; float images are kept (their range is handled by the caller)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float32)
    if not np.issubdtype(arr.dtype, np.floating):
        raise DatasetError(f"{source}: array of dtype {arr.dtype}; expected uint8 or float")
    return arr.astype(np.float32)


def load_array_dataset(path: Path) -> tuple[np.ndarray, np.ndarray | None, str]:
    """A .npy array, or a .npz with the data under ``x``/``images``/``data`` (or its only array)
    and optional labels under ``y``/``labels``. Images N×H×W or N×C×H×W, or vectors N×d."""
    head = path.read_bytes()[:8]
    try:
        if head.startswith(NPY_MAGIC):
            x, y = np.load(path, allow_pickle=False), None
        elif head.startswith(ZIP_MAGIC):
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                xkey = next((k for k in ("x", "images", "data", "X") if k in keys), None)
                if xkey is None:
                    if len(keys) != 1:
                        raise DatasetError(
                            f"{path}: cannot tell which array holds the data among {keys}; "
                            "name it 'x' (and the labels 'y')"
                        )
                    xkey = keys[0]
                x = z[xkey]
                ykey = next((k for k in ("y", "labels", "targets") if k in keys), None)
                y = z[ykey] if ykey else None
        else:
            raise DatasetError(f"{path}: not a .npy or .npz array file")
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read the array file ({exc})") from exc
    if x.ndim not in (2, 3, 4):
        raise DatasetError(
            f"{path}: array of shape {x.shape}; expected images N×H×W or N×C×H×W, or vectors N×d"
        )
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim == 4 and x.shape[1] not in (1, 3, 4) and x.shape[-1] in (1, 3, 4):
        x = np.transpose(x, (0, 3, 1, 2))  # N×H×W×C → N×C×H×W
    x = _to_unit_float(x, path)
    if y is not None:
        y = np.asarray(y).astype(np.int64).reshape(-1)
        if len(y) != len(x):
            raise DatasetError(f"{path}: {len(y)} labels for {len(x)} samples; expected one each")
    return x, y, sha256_file(path)


def sample_image_folder(path: Path, n: int, seed: int
                        ) -> tuple[np.ndarray | list[np.ndarray], np.ndarray | None, str, int]:
    """``n`` images of the folder chosen at random with ``seed`` (labels and digest of those),
    and how many the folder holds: a large folder is never read whole."""
    files = _image_files(path)
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(files), size=min(n, len(files)), replace=False).tolist())
    x, _y, digest = _read_images([files[i] for i in chosen], path)
    labels = _folder_labels(files, path)  # classes from the whole folder, not the sample
    return x, None if labels is None else labels[chosen], digest, len(files)


def _image_files(path: Path) -> list[Path]:
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DatasetError(f"{path}: the folder holds no PNG or JPEG images")
    return files


def load_image_folder(path: Path) -> tuple[np.ndarray | list[np.ndarray], np.ndarray | None, str]:
    """Every PNG/JPEG under ``path`` in [0, 1]; sub-folders name classes when all images are in
    them. Images of one size come as an (N, C, H, W) array, mixed ones as a list of (C, H, W)."""
    return _read_images(_image_files(path), path)


def _read_images(files: list[Path], path: Path
                 ) -> tuple[np.ndarray | list[np.ndarray], np.ndarray | None, str]:
    from PIL import Image, UnidentifiedImageError

    arrays, sizes = [], {}
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
                mode = "L" if im.mode in ("L", "1", "I", "I;16", "F") else "RGB"
                a = np.asarray(im.convert(mode))
        except (UnidentifiedImageError, OSError) as exc:
            raise DatasetError(f"{f}: not a readable image ({exc})") from exc
        sizes.setdefault(a.shape, f)
        arrays.append(a)
    if len(sizes) > 1:
        # Images as they come (sizes, grey and colour mixed): a list of (C, H, W) arrays, which
        # the engine converts to the generator's shape when asked (--real-resize) or refuses.
        images = [(a[None] if a.ndim == 2 else np.transpose(a, (2, 0, 1))).astype(np.float32)
                  / 255.0 for a in arrays]
        return images, _folder_labels(files, path), sha256_files(files, path)
    x = np.stack(arrays)
    x = x[:, None] if x.ndim == 3 else np.transpose(x, (0, 3, 1, 2))
    return x.astype(np.float32) / 255.0, _folder_labels(files, path), sha256_files(files, path)


def _folder_labels(files: list[Path], root: Path) -> np.ndarray | None:
    """Class indices from sub-folder names, when every image is in a sub-folder of ``root``."""
    parents = {f.parent for f in files}
    if len(parents) > 1 and all(p.parent == root for p in parents):
        classes = sorted(p.name for p in parents)
        return np.array([classes.index(f.parent.name) for f in files], dtype=np.int64)
    return None


def _idx_images_in(folder: Path) -> Path | None:
    """The images file of an MNIST-style folder (the one whose magic says 3 dimensions)."""
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        try:
            raw = _read_bytes(p)[:4] if p.stat().st_size < 200_000_000 else b""
        except DatasetError:
            continue
        if is_idx(raw) and raw[3] == 3:
            return p
    return None


def _head(path: Path, n: int = 8) -> bytes:
    if path.is_dir():
        return b""
    with open(path, "rb") as f:
        return f.read(n)


def _claims_folder(path: Path) -> bool:
    return path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.rglob("*"))


def _claims_idx(path: Path) -> bool:
    if path.is_dir():
        return _idx_images_in(path) is not None
    head = _head(path)
    if head[:2] == GZIP_MAGIC:
        with gzip.open(path, "rb") as f:
            try:
                inner = f.read(4)
            except (OSError, EOFError) as exc:
                raise DatasetError(f"{path}: corrupt gzip file ({exc})") from exc
        return is_idx(inner)
    return is_idx(head)


def _read_idx(path: Path) -> tuple[np.ndarray, np.ndarray | None, str]:
    return load_idx_dataset(_idx_images_in(path) if path.is_dir() else path)


@hookimpl
def ganlens_register_dataset_formats() -> list[DatasetFormatInfo]:
    return [
        DatasetFormatInfo("folder", _claims_folder, load_image_folder,
                          "a folder of PNG/JPEG images; sub-folders name the classes",
                          read_sample=sample_image_folder),
        DatasetFormatInfo("idx", _claims_idx, _read_idx,
                          "MNIST-style IDX files (gzipped or not), labels found beside the images; "
                          "or a folder holding them"),
        DatasetFormatInfo("npy", lambda p: _head(p).startswith(NPY_MAGIC), load_array_dataset,
                          "a .npy array: images N×H×W, N×C×H×W or N×H×W×C, or vectors N×d"),
        DatasetFormatInfo("npz", lambda p: _head(p).startswith(ZIP_MAGIC), load_array_dataset,
                          "a .npz archive of such an array, labels under 'y'"),
    ]
