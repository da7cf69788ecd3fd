"""Damaged checkpoints never load as wrong weights and never crash with a stray exception.

Two hundred damaged copies each of a native checkpoint and of a plain state_dict (truncations,
byte flips, zeroed blocks, appended bytes, bytes changed inside one zip entry): each copy either
loads to exactly the original weights or raises a GanlensError. A native checkpoint carries its
sha256, so every copy damaged in the middle is refused.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections import Counter

import pytest
import torch
from torch import nn

import ganlens
from ganlens.errors import CheckpointError, GanlensError

PER_KIND = {"truncated": 40, "flipped": 50, "zeroed": 40, "appended": 20, "entry": 50}
MIDDLE = {"flipped", "zeroed", "entry"}

ARCH = '''
from torch import nn

def G():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
'''


def _entry_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each zip entry's stored bytes."""
    spans = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            off = info.header_offset
            name_len = int.from_bytes(data[off + 26 : off + 28], "little")
            extra_len = int.from_bytes(data[off + 28 : off + 30], "little")
            start = off + 30 + name_len + extra_len
            if info.compress_size:
                spans.append((start, start + info.compress_size))
    return spans


def variants(data: bytes, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    n = len(data)
    spans = _entry_spans(data)
    out = []
    for _ in range(PER_KIND["truncated"]):
        out.append(("truncated", data[: rng.randrange(0, n)]))
    for _ in range(PER_KIND["flipped"]):
        b = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        out.append(("flipped", bytes(b)))
    block = max(64, min(4096, n // 16))
    for _ in range(PER_KIND["zeroed"]):
        b = bytearray(data)
        start = rng.randrange(0, n - block)
        if not any(b[start : start + block]):
            start = 0
        b[start : start + block] = bytes(block)
        out.append(("zeroed", bytes(b)))
    for _ in range(PER_KIND["appended"]):
        out.append(("appended", data + bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))))
    for _ in range(PER_KIND["entry"]):
        lo, hi = rng.choice(spans)
        b = bytearray(data)
        i = rng.randrange(lo, hi)
        b[i] = (b[i] + rng.randint(1, 255)) % 256
        out.append(("entry", bytes(b)))
    assert len(out) == sum(PER_KIND.values()) >= 200
    return out


def _weights(gan: ganlens.GAN) -> dict[str, torch.Tensor]:
    out = {f"G.{k}": v.cpu() for k, v in gan.generator.state_dict().items()}
    if gan.discriminator is not None:
        out.update({f"D.{k}": v.cpu() for k, v in gan.discriminator.state_dict().items()})
    return out


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _try_all(path, original: bytes, load) -> tuple[Counter, list[str]]:
    """Load every damaged copy; count outcomes per kind; list the copies that broke the rule."""
    ref = _weights(load(path))
    outcomes: Counter = Counter()
    broken = []
    damaged = path.with_name("damaged" + path.suffix)
    for i, (kind, data) in enumerate(variants(original, seed=len(original))):
        damaged.write_bytes(data)
        try:
            gan = load(damaged)
        except GanlensError:
            outcomes[(kind, "refused")] += 1
            continue
        except Exception as exc:  # the rule: no other exception type
            broken.append(f"#{i} {kind}: {type(exc).__name__}: {str(exc)[:100]}")
            continue
        if _same(_weights(gan), ref):
            outcomes[(kind, "identical")] += 1
        else:
            broken.append(f"#{i} {kind}: loaded with different weights")
    return outcomes, broken


@pytest.fixture(scope="module")
def host():
    return ganlens.make_host(progress=False)


def test_damaged_native_checkpoints_are_refused(tmp_path_factory, host):
    out = tmp_path_factory.mktemp("native")
    result = ganlens.train(ganlens.load_dataset("ring8", n=64, host=host), arch="mlp", width=8,
                           epochs=1, batch_size=32, out_dir=out, progress=False, host=host)
    original = result.checkpoint.read_bytes()
    outcomes, broken = _try_all(result.checkpoint, original,
                                lambda p: ganlens.load(p, host=host))
    assert broken == []
    # Every copy damaged in the middle is detected; none loads, not even to the same weights.
    for kind in MIDDLE:
        assert outcomes[(kind, "refused")] == PER_KIND[kind], (kind, outcomes)


def test_damaged_state_dicts_load_exactly_or_are_refused(tmp_path, host):
    arch = tmp_path / "arch.py"
    arch.write_text(ARCH)
    torch.manual_seed(0)
    g = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    path = tmp_path / "g.pth"
    torch.save(g.state_dict(), path)
    outcomes, broken = _try_all(path, path.read_bytes(),
                                lambda p: ganlens.load(p, host=host, arch=f"{arch}:G"))
    assert broken == []
    # The zip's CRC-32 catches every change inside an entry's bytes.
    assert outcomes[("entry", "refused")] == PER_KIND["entry"], outcomes


def test_a_digest_mismatch_says_so(tmp_path, digits_run):
    data = bytearray(digits_run.checkpoint.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "bad.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted: its content does not match the sha256"):
        ganlens.load(path)


def test_expected_sha256_is_checked(tmp_path, digits_run):
    import hashlib

    good = hashlib.sha256(digits_run.checkpoint.read_bytes()).hexdigest()
    assert ganlens.load(digits_run.checkpoint, expected_sha256=good.upper()) is not None
    with pytest.raises(CheckpointError, match="does not match the expected 0000"):
        ganlens.load(digits_run.checkpoint, expected_sha256="0" * 64)
    with pytest.raises(CheckpointError, match="expected 64 hexadecimal digits"):
        ganlens.load(digits_run.checkpoint, expected_sha256="abc")


def test_a_torchscript_file_says_what_it_is_and_what_to_do(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Linear(4, 8), nn.Tanh())), path)
    with pytest.raises(CheckpointError, match=r"it is a TorchScript archive \(torch.jit.save\).*"
                                              "state_dict.*torch.export"):
        ganlens.load(path)


def test_the_integrity_the_loader_reports(tmp_path, digits_run):
    """A native checkpoint of today says its sha256 was verified; one of format 1 (before the
    digest) still loads, and says there was none to verify."""
    assert ganlens.load(digits_run.checkpoint).metadata["integrity"] == "sha256 verified"
    payload = torch.load(digits_run.checkpoint, weights_only=True, map_location="cpu")
    payload["format_version"] = 1
    old = tmp_path / "old.pt"
    torch.save(payload, old)  # torch.save alone: no digest in the zip comment
    assert ganlens.load(old).metadata["integrity"] == "format 1: no digest to verify"
    payload["format_version"] = 2  # a format-2 file without its digest is refused
    torch.save(payload, old)
    with pytest.raises(CheckpointError, match="format 2 carries its sha256, and this one does not"):
        ganlens.load(old)
