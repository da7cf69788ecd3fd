"""Readers for datasets on disk: MNIST-style IDX (gzipped or not), .npy/.npz arrays, image folders.

Every reader decides by content (magic bytes), not by the extension alone, and returns raw
arrays (images N×C×H×W as float in [0, 1], or vectors N×d) with labels where the file has them.
Normalisation to the model's range happens in :mod:`ganlens.engine.data`. Each reader is a
``ganlens_register_dataset_formats`` extension; a plugin adds a format the same way.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from collections.abc import Callable
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
        except (OSError, EOFError, zlib.error) as exc:
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
                xkey, ykey = _data_keys(path, list(z.keys()))
                x = z[xkey]
                y = z[ykey] if ykey else None
        else:
            raise DatasetError(f"{path}: not a .npy or .npz array file")
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read the array file ({exc})") from exc
    _check_array_shape(x.shape, path)
    x = _shape_array(x, path)
    if y is not None:
        y = np.asarray(y).astype(np.int64).reshape(-1)
        if len(y) != len(x):
            raise DatasetError(f"{path}: {len(y)} labels for {len(x)} samples; expected one each")
    return x, y, sha256_file(path)


def _check_array_shape(shape: tuple[int, ...], path: Path) -> None:
    if len(shape) not in (2, 3, 4):
        raise DatasetError(
            f"{path}: array of shape {tuple(shape)}; expected images N×H×W or N×C×H×W, "
            "or vectors N×d"
        )


def _shape_array(x: np.ndarray, path: Path) -> np.ndarray:
    """An array file's rows as the reader returns them: N×C×H×W images in [0, 1] or N×d.
    Works row by row, so it gives the same rows for a sample as for the whole array."""
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim == 4 and x.shape[1] not in (1, 3, 4) and x.shape[-1] in (1, 3, 4):
        x = np.transpose(x, (0, 3, 1, 2))  # N×H×W×C → N×C×H×W
    return _to_unit_float(x, path)


def sample_image_folder(path: Path, n: int, seed: int
                        ) -> tuple[np.ndarray | list[np.ndarray], np.ndarray | None, str, int]:
    """``n`` images of the folder chosen at random with ``seed`` (labels and digest of those),
    and how many the folder holds: a large folder is never read whole."""
    files = _image_files(path)
    chosen = _choose(len(files), n, seed).tolist()
    x, _y, digest = _read_images([files[i] for i in chosen], path)
    labels = _folder_labels(files, path)  # classes from the whole folder, not the sample
    return x, None if labels is None else labels[chosen], digest, len(files)


def _with_rows(sampler: Callable[..., tuple]) -> Callable[[Path, int, int], tuple]:
    """``sampler``'s result with the source rows of the sample appended (every sampler here
    chooses them with :func:`_choose`)."""
    def read_sample(path: Path, n: int, seed: int) -> tuple:
        x, y, digest, total = sampler(path, n, seed)
        return x, y, digest, total, _choose(total, n, seed)
    return read_sample


def _choose(total: int, n: int, seed: int) -> np.ndarray:
    """The sorted indices of ``n`` of ``total`` items chosen with ``seed`` (all when fewer):
    every format's ``read_sample`` chooses this way, so a seed picks the same rows."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=min(max(int(n), 0), total), replace=False)
                   ).astype(np.int64)


# --- reading sampled rows without loading the whole file --------------------------------------

CHUNK = 1 << 20  # bytes read at a time when streaming through a file


class _Short(Exception):
    """The stream ended early; ``found`` bytes of data were there."""

    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


class _Forward:
    """Reads fixed-size records at sorted indices from a stream, forward only, one block at a
    time: memory is bounded by the block and the records kept. ``seekable`` streams (a plain
    file) jump over the records not kept; others (gzip, a compressed zip member) are read
    through and discarded."""

    def __init__(self, f, seekable: bool = False):
        self.f, self.seekable, self.pos = f, seekable, 0  # pos: bytes of data consumed

    def skip(self, nbytes: int) -> None:
        if nbytes <= 0:
            return
        if self.seekable:
            self.f.seek(nbytes, 1)
            self.pos += nbytes
            return
        while nbytes > 0:
            chunk = self.f.read(min(nbytes, CHUNK))
            if not chunk:
                raise _Short(self.pos)
            nbytes -= len(chunk)
            self.pos += len(chunk)

    def read_exact(self, nbytes: int) -> np.ndarray:
        buf = np.empty(nbytes, dtype=np.uint8)
        view, got = memoryview(buf), 0
        while got < nbytes:
            k = self.f.readinto(view[got:got + min(nbytes - got, CHUNK)])
            if not k:
                raise _Short(self.pos + got)
            got += k
        self.pos += nbytes
        return buf

    def records(self, picks: np.ndarray, rec_bytes: int, start: int = 0) -> np.ndarray:
        """The records ``picks`` (sorted, counted from byte ``start`` of the data) as a
        (len(picks), rec_bytes) uint8 array."""
        out = np.empty((len(picks), rec_bytes), dtype=np.uint8)
        if rec_bytes == 0:
            return out
        per_block = max(1, CHUNK // rec_bytes)
        k = 0
        while k < len(picks):
            first = int(picks[k])
            j = int(np.searchsorted(picks, first + per_block, side="left"))
            nrec = int(picks[j - 1]) - first + 1
            self.skip(start + first * rec_bytes - self.pos)
            block = self.read_exact(nrec * rec_bytes).reshape(nrec, rec_bytes)
            out[k:j] = block[picks[k:j] - first]
            k = j
        return out


def _gzip_error(path: Path, exc: BaseException) -> DatasetError:
    return DatasetError(f"{path}: the gzip stream is corrupt or truncated ({exc})")


def _idx_header(f, path: Path) -> tuple[list[int], np.dtype, int]:
    """(dims, dtype, header bytes) of the IDX stream ``f``, positioned after the header."""
    magic = f.read(4)
    if not is_idx(magic):
        raise DatasetError(f"{path}: not an IDX file (expected magic 0x000008xx/0x00000Dxx)")
    ndim = magic[3]
    raw = f.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise DatasetError(
            f"{path}: IDX file is truncated: its header names {ndim} dimensions "
            f"({4 * ndim} bytes), found {len(raw)} bytes"
        )
    dims = [int.from_bytes(raw[4 * i: 4 * i + 4], "big") for i in range(ndim)]
    return dims, np.dtype(IDX_TYPES[magic[2]]), 4 + 4 * ndim


def _idx_count(path: Path) -> int:
    """How many elements an IDX file's header announces (its labels, for a labels file)."""
    gz = _head(path, 2) == GZIP_MAGIC
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            dims, _dtype, _offset = _idx_header(f, path)
    except (OSError, EOFError, zlib.error) as exc:
        raise _gzip_error(path, exc) if gz else DatasetError(
            f"{path}: cannot read the IDX file ({exc})") from exc
    return int(np.prod(dims))


def _sample_idx_rows(path: Path, rows: np.ndarray | None, n: int, seed: int,
                     flat: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows of an IDX file (``rows``, or ``n`` chosen with ``seed`` when None) and the rows
    chosen and the row count; ``flat`` counts single elements as rows (a labels file). Checks
    the file is as long as its header says, as the full read does."""
    gz = _head(path, 2) == GZIP_MAGIC
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            dims, dtype, offset = _idx_header(f, path)
            total = int(np.prod(dims)) if flat else (dims[0] if dims else 0)
            count = int(np.prod(dims))
            expected = count * dtype.itemsize
            row_shape = () if flat else tuple(dims[1:])
            rec = int(np.prod(row_shape)) * dtype.itemsize
            truncated = (f"{path}: IDX file is truncated: header says {dims} "
                         f"({expected} bytes), found {{}} bytes")
            if not gz:
                size = path.stat().st_size - offset
                if size < expected:
                    raise DatasetError(truncated.format(size))
            if rows is None:
                rows = _choose(total, n, seed)
            reader = _Forward(f, seekable=not gz)
            try:
                data = reader.records(rows, rec)
                if gz:  # read through to the end: a truncated stream is refused as in full
                    reader.skip(expected - reader.pos)
            except _Short as short:
                raise DatasetError(truncated.format(short.found)) from None
    except (OSError, EOFError, zlib.error) as exc:
        if gz:
            raise _gzip_error(path, exc) from exc
        raise DatasetError(f"{path}: cannot read the IDX file ({exc})") from exc
    x = data.view(dtype).reshape((len(rows),) + row_shape)
    return x, rows, total


def sample_idx_dataset(path: Path, n: int, seed: int, labels: Path | None = None
                       ) -> tuple[np.ndarray, np.ndarray | None, str, int]:
    """``n`` rows of an IDX images file (or the images file of a folder) chosen with ``seed``,
    their labels when a labels file is beside it, the digest the full read gives, and the row
    count: the file is never held whole (a plain file is read at the rows chosen, a gzipped
    one streamed through)."""
    if path.is_dir():
        found = _idx_images_in(path)
        if found is None:
            raise DatasetError(f"{path}: the folder holds no IDX images file")
        path = found
    arr, rows, total = _sample_idx_rows(path, None, n, seed)
    labels_path = labels or find_idx_labels(path)
    y = None
    if labels_path is not None:
        count = _idx_count(labels_path)
        if count != total:
            raise DatasetError(
                f"{labels_path}: {count} labels for {total} images in {path}; expected one each"
            )
        y, _r, _c = _sample_idx_rows(labels_path, rows, 0, 0, flat=True)
        y = y.astype(np.int64).reshape(-1)
    if arr.ndim == 3:
        arr = arr[:, None]
    x = _to_unit_float(arr, path)
    digest = (sha256_file(path) if labels_path is None
              else sha256_files([path, labels_path], path.parent))  # as the full read gives
    return x, y, digest, total


def _sample_idx(path: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None, str, int]:
    return sample_idx_dataset(path, n, seed)


def _npy_header(f, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    from numpy.lib import format as npformat

    version = npformat.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = npformat.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = npformat.read_array_header_2_0(f)
    else:
        reader = getattr(npformat, "_read_array_header", None)
        if reader is None:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, fortran, dtype = reader(f, version)
    if dtype.hasobject:
        raise ValueError(f"{where} holds Python objects; expected a numeric array")
    return tuple(shape), bool(fortran), dtype


def _stream_rows(f, shape: tuple[int, ...], fortran: bool, dtype: np.dtype,
                 rows: np.ndarray, flat: bool = False) -> np.ndarray:
    """The rows ``rows`` of the .npy data streamed from ``f`` (positioned after the header),
    reading through to the end so that a damaged member is noticed. ``flat`` takes elements
    in C order (labels) instead of rows."""
    reader = _Forward(f)
    count = int(np.prod(shape))
    item = dtype.itemsize
    if flat:
        if fortran and len(shape) > 1:  # element i in C order is stored elsewhere
            pos = np.ravel_multi_index(np.unravel_index(rows, shape), shape, order="F")
            order = np.argsort(pos)
            got = reader.records(pos[order], item)
            data = np.empty_like(got)
            data[order] = got
        else:
            data = reader.records(rows, item)
        out = data.view(dtype).reshape(-1)
    elif fortran and len(shape) > 1:  # column-major: a row's elements lie N apart
        total, width = shape[0], count // max(shape[0], 1)
        cols = np.empty((width, len(rows)), dtype=dtype)
        for c in range(width):
            cols[c] = reader.records(rows + c * total, item).view(dtype).reshape(-1)
        out = cols.T.reshape((len(rows),) + shape[1:], order="F")
    else:
        rec = (count // max(shape[0], 1)) * item if shape else item
        out = reader.records(rows, rec).view(dtype).reshape((len(rows),) + shape[1:])
    reader.skip(count * item - reader.pos)
    return np.ascontiguousarray(out)


def sample_npy(path: Path, n: int, seed: int) -> tuple[np.ndarray, None, str, int]:
    """``n`` rows of a .npy file chosen with ``seed`` (memory-mapped: only those rows are
    read), the file's digest and the row count."""
    try:
        mm = np.load(path, mmap_mode="r", allow_pickle=False)
        if not isinstance(mm, np.ndarray) or mm.dtype.hasobject:
            raise DatasetError(f"{path}: not a numeric .npy array")
        _check_array_shape(mm.shape, path)
        total = int(mm.shape[0])
        x = np.asarray(mm[_choose(total, n, seed)]).view(np.ndarray)
        del mm
    except (ValueError, OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot read the array file ({exc})") from exc
    return _shape_array(x, path), None, sha256_file(path), total


def _npz_member_data_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes begin in the archive (after its local header)."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
    if len(local) < 30 or local[:4] != ZIP_MAGIC:
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len = int.from_bytes(local[26:28], "little")
    extra_len = int.from_bytes(local[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len


def _npz_rows(path: Path, zf: zipfile.ZipFile, name: str, rows_for, flat: bool = False
              ) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Rows of one .npz member: memory-mapped when stored, streamed when compressed.
    ``rows_for(shape)`` gives the rows to read once the member's shape is known."""
    info = zf.getinfo(name)
    where = f"member {name!r}"
    if info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1:
        start = _npz_member_data_offset(path, info)
        with open(path, "rb") as f:
            f.seek(start)
            if f.read(6) != NPY_MAGIC:
                raise DatasetError(f"{path}: {where} is not a .npy array")
            f.seek(start)
            shape, fortran, dtype = _npy_header(f, where)
            data_start = f.tell()
        rows = rows_for(shape)
        if data_start - start + int(np.prod(shape)) * dtype.itemsize > info.file_size:
            raise DatasetError(f"{path}: {where} is shorter than its header says ({shape})")
        if int(np.prod(shape)) == 0:
            out = np.empty((len(rows),) if flat else (len(rows),) + shape[1:], dtype=dtype)
            return out, rows, shape
        mm = np.memmap(path, dtype=dtype, mode="r", offset=data_start, shape=shape,
                       order="F" if fortran else "C")
        out = np.ascontiguousarray(mm.reshape(-1, order="C")[rows] if flat else mm[rows])
        del mm
        return out.view(np.ndarray), rows, shape
    with zf.open(name) as f:
        if f.read(6) != NPY_MAGIC:
            raise DatasetError(f"{path}: {where} is not a .npy array")
    with zf.open(name) as f:
        shape, fortran, dtype = _npy_header(f, where)
        rows = rows_for(shape)
        try:
            out = _stream_rows(f, shape, fortran, dtype, rows, flat=flat)
        except _Short as short:
            raise DatasetError(
                f"{path}: {where} is truncated: header says {shape}, found "
                f"{short.found} bytes of data") from None
    return out, rows, shape


def _data_keys(path: Path, keys: list[str]) -> tuple[str, str | None]:
    """Which arrays of an .npz hold the data (``x``, ``images``, ``data``, ``X``, or the only
    one) and the labels (``y``, ``labels``, ``targets``, or none)."""
    xkey = next((k for k in ("x", "images", "data", "X") if k in keys), None)
    if xkey is None:
        if len(keys) != 1:
            raise DatasetError(
                f"{path}: cannot tell which array holds the data among {keys}; "
                "name it 'x' (and the labels 'y')"
            )
        xkey = keys[0]
    ykey = next((k for k in ("y", "labels", "targets") if k in keys), None)
    return xkey, ykey


def _npz_keys(path: Path, names: list[str]) -> tuple[str, str | None]:
    """The members holding the data and the labels, chosen as the full read chooses them."""
    files = {name.removesuffix(".npy"): name for name in names}
    xkey, ykey = _data_keys(path, list(files))
    return files[xkey], None if ykey is None else files[ykey]


def sample_npz(path: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None, str, int]:
    """``n`` rows of a .npz archive's data chosen with ``seed``, the same rows of its labels,
    the file's digest and the row count. A stored member (``np.savez``) is memory-mapped; a
    compressed one (``np.savez_compressed``) is streamed through, keeping the rows chosen."""
    def chosen(shape: tuple[int, ...]) -> np.ndarray:
        _check_array_shape(shape, path)
        return _choose(shape[0], n, seed)

    try:
        with zipfile.ZipFile(path) as zf:
            xname, yname = _npz_keys(path, zf.namelist())
            x, rows, shape = _npz_rows(path, zf, xname, chosen)
            y = None
            if yname is not None:
                def same_rows(yshape: tuple[int, ...]) -> np.ndarray:
                    count = int(np.prod(yshape))
                    if count != shape[0]:
                        raise DatasetError(
                            f"{path}: {count} labels for {shape[0]} samples; expected one each")
                    return rows

                y, _rows, _shape = _npz_rows(path, zf, yname, same_rows, flat=True)
                y = y.astype(np.int64).reshape(-1)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: cannot read the array file ({exc})") from exc
    return _shape_array(x, path), y, sha256_file(path), int(shape[0])


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
        raw = _idx_magic(p)
        if is_idx(raw) and raw[3] == 3:
            return p
    return None


def _idx_magic(path: Path) -> bytes:
    """The first 4 bytes of a file's content (decompressed when gzipped), b"" when unreadable."""
    try:
        if _head(path, 2) == GZIP_MAGIC:
            with gzip.open(path, "rb") as f:
                return f.read(4)
        return _head(path, 4)
    except (OSError, EOFError, zlib.error):
        return b""


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
                          read_sample=_with_rows(sample_image_folder)),
        DatasetFormatInfo("idx", _claims_idx, _read_idx,
                          "MNIST-style IDX files (gzipped or not), labels found beside the images; "
                          "or a folder holding them",
                          read_sample=_with_rows(_sample_idx)),
        DatasetFormatInfo("npy", lambda p: _head(p).startswith(NPY_MAGIC), load_array_dataset,
                          "a .npy array: images N×H×W, N×C×H×W or N×H×W×C, or vectors N×d",
                          read_sample=_with_rows(sample_npy)),
        DatasetFormatInfo("npz", lambda p: _head(p).startswith(ZIP_MAGIC), load_array_dataset,
                          "a .npz archive of such an array, labels under 'y'",
                          read_sample=_with_rows(sample_npz)),
    ]
