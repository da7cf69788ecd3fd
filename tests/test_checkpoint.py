"""Checkpoints: native round trip, atomic writes, and every kind of bad file."""

from __future__ import annotations

import pytest
import torch

import ganlens
from ganlens.core.checkpoint import FORMAT_TAG, FORMAT_VERSION, save_checkpoint
from ganlens.errors import CheckpointError


def test_native_round_trip(digits_run):
    gan = ganlens.load(digits_run.checkpoint)
    assert gan.discriminator is not None
    assert gan.latent.shape == (32,) and gan.data.shape == (1, 8, 8)
    assert gan.metadata["dataset"]["name"] == "digits"
    assert gan.history["epochs"]["epoch"] == [1, 2, 3]
    # The loaded generator is the trained one: same samples for the same latents.
    z = gan.latents(16, seed=4)
    assert torch.allclose(gan.decode(z), digits_run.gan.decode(z), atol=1e-6)
    assert not gan.generator.training  # eval mode


def test_native_checkpoint_loads_with_weights_only(digits_run):
    payload = torch.load(digits_run.checkpoint, weights_only=True)
    assert payload["format"] == FORMAT_TAG and payload["format_version"] == FORMAT_VERSION == 2
    assert "optimizers" in payload["training"]


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "c.pt"
    save_checkpoint({"a": torch.zeros(2)}, target)

    class Boom:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint({"a": Boom()}, target)
    assert torch.equal(torch.load(target, weights_only=True)["a"], torch.zeros(2))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        ganlens.load(tmp_path / "nope.pt")


def test_empty_file(tmp_path):
    (tmp_path / "e.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        ganlens.load(tmp_path / "e.pt")


def test_random_bytes(tmp_path):
    (tmp_path / "r.pt").write_bytes(bytes(range(256)) * 20)
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        ganlens.load(tmp_path / "r.pt")


def test_truncated_checkpoint(tmp_path, digits_run):
    data = digits_run.checkpoint.read_bytes()
    (tmp_path / "t.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        ganlens.load(tmp_path / "t.pt")


def test_nan_weights(tmp_path, digits_run):
    payload = torch.load(digits_run.checkpoint, weights_only=True)
    key = next(iter(payload["generator"]["state_dict"]))
    payload["generator"]["state_dict"][key][0] = float("nan")
    save_checkpoint(payload, tmp_path / "n.pt")
    with pytest.raises(CheckpointError, match=f"weight '{key}' holds 32 NaN"):
        ganlens.load(tmp_path / "n.pt")


def test_unknown_architecture_in_checkpoint(tmp_path, digits_run):
    payload = torch.load(digits_run.checkpoint, weights_only=True)
    payload["generator"]["arch"] = "stylegan9"
    save_checkpoint(payload, tmp_path / "u.pt")
    with pytest.raises(ganlens.errors.ArchitectureError, match="unknown architecture 'stylegan9'"):
        ganlens.load(tmp_path / "u.pt")


def test_state_that_does_not_fit(tmp_path, digits_run):
    payload = torch.load(digits_run.checkpoint, weights_only=True)
    sd = payload["generator"]["state_dict"]
    sd["extra.weight"] = torch.zeros(1)
    first = next(iter(sd))
    del sd[first]
    save_checkpoint(payload, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match=f"missing keys: {first}.*unexpected keys: extra.weight"):
        ganlens.load(tmp_path / "m.pt")


def test_newer_format_version(tmp_path, digits_run):
    payload = torch.load(digits_run.checkpoint, weights_only=True)
    payload["format_version"] = 99
    save_checkpoint(payload, tmp_path / "v.pt")
    with pytest.raises(CheckpointError, match="newer than this ganlens reads"):
        ganlens.load(tmp_path / "v.pt")
