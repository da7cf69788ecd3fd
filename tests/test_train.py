"""Training: it learns, it is deterministic on the CPU, and resuming equals never stopping."""

from __future__ import annotations

import pytest
import torch

import ganlens
from ganlens.errors import DeviceError, InputError


def _state(path):
    payload = torch.load(path, weights_only=True)
    return payload["generator"]["state_dict"], payload["discriminator"]["state_dict"]


def test_resume_gives_the_same_weights_as_one_run(tmp_path):
    kw = {"epochs": 2, "seed": 3, "progress": False, "batch_size": 128}
    ganlens.train("digits", out_dir=tmp_path / "a", **kw)
    ganlens.train("digits", out_dir=tmp_path / "a", resume=True, **kw)
    ganlens.train("digits", out_dir=tmp_path / "b", **{**kw, "epochs": 4})
    (ga, da), (gb, db) = _state(tmp_path / "a" / "checkpoint.pt"), _state(tmp_path / "b" / "checkpoint.pt")
    for a, b in ((ga, gb), (da, db)):
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), k
    hist = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)["training"]
    assert hist["epochs_done"] == 4 and hist["history"]["epochs"]["epoch"] == [1, 2, 3, 4]


def test_training_on_ring8_moves_samples_onto_the_modes(tmp_path):
    data = ganlens.load_dataset("ring8", n=2000)
    before = ganlens.train(data, epochs=0, seed=0, progress=False).gan
    after = ganlens.train(data, epochs=20, seed=0, progress=False, batch_size=100, lr=1e-3).gan

    def distances(gan):
        return torch.cdist(gan.sample(500, seed=1), data.modes).min(1).values

    d0, d1 = distances(before), distances(after)
    # 400 steps: the untrained generator sits near the origin, ~0.9 from every mode; the trained
    # one has moved most of the way, and a good share of its samples sit close to a mode.
    assert d1.mean() < 0.5 * d0.mean(), (d0.mean(), d1.mean())
    assert (d0 < 0.25).float().mean() == 0 and (d1 < 0.25).float().mean() > 0.2


def test_outputs_history_figures_and_checkpoint(digits_run):
    out = digits_run.out_dir
    assert (out / "checkpoint.pt").exists() and (out / "losses.png").exists()
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "epoch_001.png", "epoch_002.png", "epoch_003.png"]
    steps = digits_run.history["steps"]
    n = len(steps["g_loss"])
    assert n == 3 * ((1797 - 180) // 64)  # 10% (180) held out of training
    for key in ("d_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm"):
        assert len(steps[key]) == n
    assert min(steps["d_fake"]) >= 0 and max(steps["d_real"]) <= 1
    assert len(digits_run.history["epochs"]["diversity"]) == 3


def test_hinge_loss_trains(tmp_path):
    result = ganlens.train("ring8", epochs=1, loss="hinge", progress=False)
    assert result.gan.metadata["training"]["config"]["loss"] == "hinge"
    assert all(torch.isfinite(torch.tensor(result.history["steps"]["d_loss"])))


def test_same_seed_same_weights():
    a = ganlens.train("ring8", epochs=1, seed=7, progress=False).gan
    b = ganlens.train("ring8", epochs=1, seed=7, progress=False).gan
    for (k, va), vb in zip(a.generator.state_dict().items(), b.generator.state_dict().values()):
        assert torch.equal(va, vb), k


def test_bad_training_input(tmp_path):
    with pytest.raises(InputError, match="loss 'wgan' is unknown"):
        ganlens.train("ring8", epochs=1, loss="wgan", progress=False)
    with pytest.raises(InputError, match="cannot model"):
        ganlens.train("ring8", arch="dcgan", epochs=1, progress=False)
    with pytest.raises(InputError, match="learning rate"):
        ganlens.train("ring8", epochs=1, lr=0, progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(DeviceError, match="CUDA is not available"):
        ganlens.train("ring8", epochs=1, device="cuda", progress=False)
