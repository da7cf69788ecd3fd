"""Checkpoint files: what a loader is given, weight helpers, and the native format's writer.

A native checkpoint is one ``torch.save`` file holding only tensors and plain Python values, so
``torch.load(path, weights_only=True)`` reads it. The loaders themselves (native, plain
state_dicts, ``torch.export`` archives, pickled modules) are built-in extensions in
:mod:`ganlens.builtin.loaders`; :func:`ganlens.engine.checkpoint.load` asks them in turn.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._version import __version__
from .errors import CheckpointError
from .fileio import atomic_path
from .gan import GAN

FORMAT_TAG = "ganlens-checkpoint"
FORMAT_VERSION = 2  # 2: the file carries its sha256 in the zip comment (see write_digest)
DIGEST_PREFIX = b"ganlens-sha256:"
_EOCD = b"PK\x05\x06"  # the zip end-of-central-directory signature
_EOCD_SIZE = 22


@dataclass
class LoadOptions:
    """What a user can tell the loaders (the CLI flags every command shares).

    Args:
        arch: ``MODULE:CALLABLE`` returning the generator (MODULE an importable name or a .py
            path), or a registered architecture name.
        latent_dim: the latent size, for ``(B, d)`` latents.
        latent_shape: the latent shape without the batch, e.g. ``(64, 1, 1)``.
        latent_distribution: ``normal`` or ``uniform``.
        output_shape: the data shape, e.g. ``(1, 28, 28)`` for a generator with flat outputs.
        output_range: the generator's value range, e.g. ``(-1, 1)``.
        discriminator: a discriminator state_dict file; needs ``discriminator_arch``.
        discriminator_arch: ``MODULE:CALLABLE`` returning the discriminator.
        d_output: ``auto`` (inferred from D's last module and output width; the report says
            what was inferred), ``logit``, ``probability``, ``score`` (an unbounded critic) or
            ``two-class``.
        d_real_index: for a two-class D, the column that means real (default 1).
        trust_pickle: allow unpickling whole modules (runs code from the file).
        device: ``auto``, ``cpu`` or ``cuda``.
        num_classes: the number of classes of the training data, when known.
        expected_sha256: the file's sha256 as its publisher gives it (``--sha256``); loading
            refuses a file that does not match.
        output_index: which output of a generator returning a tuple is the data.
        output_key: which entry of a generator returning a dict is the data.
        d_train_mode: run the discriminator in train mode (dropout, batch statistics).
        output_layout: ``auto``, ``nchw`` or ``nhwc`` (channels last; ``auto`` infers it when the
            last dimension is 1, 3 or 4 and the first is not).
        conditional: the generator takes ``(z, y)``; None: decided from its ``forward``
            signature (two required arguments). A discriminator whose ``forward`` takes two is
            conditional too.
        label_format: ``auto`` (found by probing: class indices, else one-hot), ``index`` or
            ``onehot``.
        mapping: the dotted name of the generator's mapping network (z → w), for a
            StyleGAN-like generator whose submodules are not called ``mapping``/``synthesis``.
    """

    arch: str | None = None
    latent_dim: int | None = None
    latent_shape: tuple[int, ...] | None = None
    latent_distribution: str = "normal"
    output_shape: tuple[int, ...] | None = None
    output_range: tuple[float, float] | None = None
    discriminator: str | Path | None = None
    discriminator_arch: str | None = None
    d_output: str = "auto"
    d_real_index: int | None = None
    expected_sha256: str | None = None
    output_index: int | None = None
    output_key: str | None = None
    output_layout: str = "auto"
    d_train_mode: bool = False
    trust_pickle: bool = False
    device: str | None = None
    num_classes: int | None = None
    conditional: bool | None = None
    label_format: str = "auto"
    mapping: str | None = None


class CheckpointSource:
    """A file to load, with its first bytes and a cached weights-only ``torch.load``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise CheckpointError(f"checkpoint not found: {self.path}")
        if self.path.is_dir():
            raise CheckpointError(f"{self.path} is a folder; expected a checkpoint file")
        self.size = self.path.stat().st_size
        with open(self.path, "rb") as f:
            self.head = f.read(64)
        self._payload: Any = None
        self._error: BaseException | None = None
        self._loaded = False
        self._names: list[str] | None = None
        self._digest: str | None = None

    @property
    def is_zip(self) -> bool:
        return self.head.startswith(b"PK\x03\x04")

    def zip_names(self) -> list[str]:
        if self._names is None:
            try:
                with zipfile.ZipFile(self.path) as z:
                    self._names = z.namelist()
            except Exception:  # a damaged directory raises many types (UnicodeDecodeError, ...)
                self._names = []
        return self._names

    @property
    def is_export_archive(self) -> bool:
        return self.is_zip and any(
            n.endswith("/archive_format") or n.endswith("models/model.json")
            for n in self.zip_names()
        )

    @property
    def digest_status(self) -> str:
        """``verified`` (the file carries a ganlens digest and matches it), ``absent`` (it
        carries none); a digest that does not match raises :class:`CheckpointError`."""
        if self._digest is None:
            self._digest = verify_digest(self.path)
        return self._digest

    @property
    def is_safetensors(self) -> bool:
        """A safetensors file: an 8-byte little-endian header length, then a JSON header."""
        if len(self.head) < 9 or self.head[8:9] != b"{":
            return False
        n = int.from_bytes(self.head[:8], "little")
        return 2 <= n <= self.size - 8

    @property
    def is_torchscript(self) -> bool:
        """A ``torch.jit.save`` archive: a zip with compiled code (``code/``) and constants."""
        names = self.zip_names() if self.is_zip else []
        return any("/code/" in n for n in names) and any(
            n.endswith("/constants.pkl") or n.endswith("/data.pkl") for n in names
        ) and not self.is_export_archive

    def payload(self) -> Any:
        """``torch.load(path, weights_only=True, map_location='cpu')``, once; errors are kept.

        A zip file is checked first: against the ganlens digest it carries, else against the
        CRC-32 of every entry, so that damaged bytes are an error rather than wrong weights."""
        if not self._loaded:
            self._loaded = True
            try:
                if self.is_safetensors:
                    self._payload = _load_safetensors(self.path)
                    return self._payload
                if self.is_zip and self.digest_status == "absent":
                    check_zip_crc(self.path)
                if self.is_torchscript:
                    raise CheckpointError(
                        f"{self.path}: it is a TorchScript archive (torch.jit.save), whose "
                        "layers ganlens cannot hook; save the model's state_dict() and load it "
                        "with --arch MODULE:CALLABLE, or export it with torch.export (a .pt2 "
                        "archive with a dynamic batch dimension)")
                self._payload = torch.load(self.path, weights_only=True, map_location="cpu")
            except Exception as exc:  # torch raises many types for bad files
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._payload

    def try_payload(self) -> tuple[Any, BaseException | None]:
        try:
            return self.payload(), None
        except Exception as exc:
            return None, exc

    def needs_pickle(self) -> bool:
        """True when the file is a pickle of Python objects (e.g. a whole module) that
        weights-only loading refuses; random bytes fail differently."""
        _, err = self.try_payload()
        msg = str(err) if err is not None else ""
        return "Weights only load failed" in msg and "Unsupported global" in msg

    def describe_failure(self) -> str:
        """One line on why no loader took the file."""
        if self.size == 0:
            return "the file is empty"
        _, err = self.try_payload()
        if err is None:
            return f"it holds a {type(self._payload).__name__} that no loader recognises"
        msg = str(err).split("\n")[0]
        if isinstance(err, CheckpointError):
            return msg.removeprefix(f"{self.path}: ")
        if self.is_safetensors:
            return f"a safetensors file that cannot be read ({type(err).__name__}: {msg[:160]})"
        if "central directory" in msg or "zip archive" in msg:
            return "the file is truncated or corrupt (its zip archive is incomplete)"
        if isinstance(err, (KeyError, EOFError)) or "pickle" in msg.lower() or "magic" in msg \
                or "Weights only load failed" in msg:
            return "the file is not a PyTorch checkpoint (random or foreign bytes, or truncated)"
        return f"torch.load failed: {type(err).__name__}: {msg[:200]}"


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors (an optional dependency: ``pip install ganlens[safetensors]``)."""
    try:
        from safetensors.torch import load_file
    except ImportError as exc:
        raise CheckpointError(f"{path}: a safetensors file, and the safetensors package is not "
                              "installed; pip install 'ganlens[safetensors]'") from exc
    return load_file(str(path), device="cpu")


# ---------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------

WRAPPER_KEYS = (
    "state_dict", "model_state_dict", "model", "generator", "netG", "G", "gen", "g_state_dict",
    "generator_state_dict", "ema", "g_ema", "params",
)


def strip_prefix(state: dict[str, Any], prefix: str = "module.") -> dict[str, Any]:
    """Remove a DataParallel/DDP ``module.`` prefix present on every key."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return state


def is_state_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    )


def unwrap_state_dict(obj: Any) -> tuple[dict[str, torch.Tensor] | None, str | None]:
    """Find the state_dict in ``obj``: itself, or under a common key. Returns (state, key)."""
    if is_state_dict(obj):
        return obj, None
    if isinstance(obj, dict):
        for key in WRAPPER_KEYS:
            if key in obj and is_state_dict(obj[key]):
                return obj[key], key
        nested = [(k, v) for k, v in obj.items() if is_state_dict(v)]
        if len(nested) == 1:
            return nested[0][1], nested[0][0]
    return None, None


def check_finite(state: dict[str, torch.Tensor], what: str) -> None:
    for k, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            bad = int((~torch.isfinite(v)).sum())
            raise CheckpointError(f"{what}: weight {k!r} holds {bad} NaN or infinite values")


def load_weights(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Strict loading with an error that lists missing and unexpected keys and bad shapes."""
    state = strip_prefix(dict(state))
    check_finite(state, what)
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or mismatched:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected),
                             ("shape mismatch", mismatched)):
            if items:
                shown = ", ".join(items[:8]) + (f", ... ({len(items)} in all)" if len(items) > 8 else "")
                parts.append(f"{label} keys: {shown}")
        raise CheckpointError(f"{what}: the weights do not fit the architecture; " + "; ".join(parts))
    module.load_state_dict(state, strict=True)


# ---------------------------------------------------------------------------------------------
# The native format
# ---------------------------------------------------------------------------------------------


def _net_record(module: nn.Module, arch: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "arch": arch,
        "kwargs": dict(kwargs),
        "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
    }


def checkpoint_dict(
    gan: GAN,
    *,
    arch: str,
    g_kwargs: dict[str, Any],
    d_kwargs: dict[str, Any] | None,
    training: dict[str, Any] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The native checkpoint as a dict of tensors and plain values."""
    return {
        "format": FORMAT_TAG,
        "format_version": FORMAT_VERSION,
        "ganlens_version": __version__,
        "generator": _net_record(gan.generator, arch, g_kwargs),
        "discriminator": (
            _net_record(gan.discriminator, arch, d_kwargs or {}) if gan.discriminator else None
        ),
        "latent": gan.latent.to_dict(),
        "data": gan.data.to_dict(),
        "d_output": gan.d_output,
        "num_classes": gan.num_classes,
        "conditional": {"generator": gan.conditional, "discriminator": gan.d_conditional,
                        "label_format": gan.label_format},
        "dataset": gan.metadata.get("dataset"),
        "training": training,
        "seed": seed,
    }


def save_checkpoint(payload: dict[str, Any], path: str | Path) -> Path:
    """Write ``payload`` with ``torch.save`` atomically (temporary file, then rename), with the
    file's sha256 in its zip comment (:func:`write_digest`)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
        write_digest(tmp)
    return path


# ---------------------------------------------------------------------------------------------
# Integrity
# ---------------------------------------------------------------------------------------------


def _sha256_prefix(path: Path, length: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = length
        while left > 0:
            chunk = f.read(min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


def write_digest(path: Path) -> None:
    """Append the sha256 of every byte before it to the zip file ``path`` as its comment.

    ``torch.save`` writes a zip without a comment: its last 22 bytes are the end record, whose
    last two bytes (the comment length) are 0. The digest covers the file up to those two bytes;
    the comment length and the comment are checked by parsing them, so every byte is covered."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size - _EOCD_SIZE)
        end = f.read(_EOCD_SIZE)
        if len(end) != _EOCD_SIZE or not end.startswith(_EOCD) or end[-2:] != b"\0\0":
            raise CheckpointError(f"{path}: torch.save wrote no plain zip end record; cannot "
                                  "add a digest")
        comment = DIGEST_PREFIX + _sha256_prefix(path, size - 2).encode("ascii")
        f.seek(size - 2)
        f.write(len(comment).to_bytes(2, "little") + comment)


def read_digest(path: Path) -> tuple[str, int] | None:
    """The digest a ganlens checkpoint carries and how many leading bytes it covers, or None
    when the file has no ganlens digest comment."""
    size = path.stat().st_size
    tail_len = min(size, _EOCD_SIZE + 0xFFFF)
    with open(path, "rb") as f:
        f.seek(size - tail_len)
        tail = f.read(tail_len)
    pos = tail.rfind(_EOCD)
    while pos >= 0:
        length = int.from_bytes(tail[pos + 20 : pos + 22], "little")
        comment = tail[pos + 22 : pos + 22 + length]
        if pos + 22 + length == len(tail) and comment.startswith(DIGEST_PREFIX):
            hexdigest = comment[len(DIGEST_PREFIX) :].decode("ascii", "replace")
            return hexdigest, size - tail_len + pos + 20
        pos = tail.rfind(_EOCD, 0, pos)
    return None


def verify_digest(path: Path) -> str:
    """``verified`` or ``absent`` (see :attr:`CheckpointSource.digest_status`)."""
    found = read_digest(path)
    if found is None:
        return "absent"
    expected, covered = found
    actual = _sha256_prefix(path, covered)
    if actual != expected:
        raise CheckpointError(
            f"{path}: the checkpoint is corrupted: its content does not match the sha256 it "
            f"carries (recorded {expected[:16]}..., computed {actual[:16]}...)"
        )
    return "verified"


def check_zip_crc(path: Path) -> None:
    """Raise :class:`CheckpointError` when an entry of the zip file ``path`` fails its CRC-32
    check or the archive cannot be read."""
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except Exception as exc:  # a damaged archive raises many types
        raise CheckpointError(f"{path}: the file is truncated or corrupt: its zip archive cannot "
                              f"be read ({type(exc).__name__}: {str(exc)[:120]})") from exc
    if bad is not None:
        raise CheckpointError(f"{path}: the file is corrupt: entry {bad!r} fails its CRC-32 "
                              "check")


def check_sha256(path: Path, expected: str) -> None:
    """Raise :class:`CheckpointError` unless the file's sha256 is ``expected`` (64 hex digits)."""
    want = expected.strip().lower()
    if len(want) != 64 or any(c not in "0123456789abcdef" for c in want):
        raise CheckpointError(f"--sha256 {expected!r}: expected 64 hexadecimal digits")
    actual = _sha256_prefix(path, path.stat().st_size)
    if actual != want:
        raise CheckpointError(f"{path}: sha256 {actual} does not match the expected {want}; "
                              "the file is damaged or not the one published")


def is_native(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("format") == FORMAT_TAG


def check_outputs_finite(gan: GAN, where: str) -> None:
    """Generate a few samples; NaN or infinite outputs are a clear error, not a silent report."""
    x = gan.sample(4, seed=0)
    if not torch.isfinite(x).all():
        raise CheckpointError(f"{where}: the generator produces NaN or infinite outputs")


