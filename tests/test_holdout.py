"""The held-out split: training never sees it, the checkpoint records it, and an analysis scores D
on those reals (or on held-out data given), and says which it used."""

from __future__ import annotations

import pytest
import torch

import ganlens
from ganlens.engine.train import held_out_rows
from ganlens.errors import InputError


def _rows(x: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in x.reshape(len(x), -1)}


@pytest.fixture(scope="module")
def ring():
    return ganlens.load_dataset("ring8", n=400, seed=3)


@pytest.fixture(scope="module")
def ring_run(ring, tmp_path_factory):
    out = tmp_path_factory.mktemp("ring-holdout")
    return ganlens.train(ring, epochs=2, seed=5, batch_size=50, holdout=0.25, out_dir=out,
                         progress=False)


def test_held_out_rows_are_a_seeded_fraction():
    a, b = held_out_rows(1000, 0.1, 0), held_out_rows(1000, 0.1, 1)
    assert len(a) == 100 and torch.equal(a, held_out_rows(1000, 0.1, 0))
    assert torch.equal(a, torch.sort(a).values) and len(set(a.tolist())) == 100
    assert not torch.equal(a, b)
    assert len(held_out_rows(1000, 0.0, 0)) == 0 and len(held_out_rows(5, 0.01, 0)) == 1


def test_training_with_a_holdout_equals_training_on_the_rest(ring, ring_run):
    held = held_out_rows(len(ring), 0.25, 5)
    keep = torch.ones(len(ring), dtype=torch.bool)
    keep[held] = False
    rest = ring.subset(torch.nonzero(keep).reshape(-1))
    plain = ganlens.train(rest, epochs=2, seed=5, batch_size=50, holdout=0.0, progress=False)
    for a, b in zip(ring_run.gan.generator.state_dict().values(),
                    plain.gan.generator.state_dict().values()):
        assert torch.equal(a, b)
    record = ring_run.gan.metadata["dataset"]["held_out"]
    assert record["indices"] == held.tolist() and record["count"] == 100
    assert "held_out" not in plain.gan.metadata["dataset"]


def test_analysis_scores_d_on_the_recorded_held_out_reals(ring, ring_run):
    ctx = ganlens.context(ring_run.checkpoint, real=ring, samples=200, seed=1, progress=False)
    held = ring.x[held_out_rows(len(ring), 0.25, 5)]
    assert _rows(ctx.real_held_out.x) == _rows(held)
    assert _rows(ctx.real_for_d) <= _rows(held) and len(ctx.real_for_d) == 100
    assert not (_rows(ctx.real_train.x) & _rows(held))
    assert len(ctx.real_train) == 300 and "held out" in ctx.held_out_note


def test_the_report_says_whether_d_saw_its_reals(ring, ring_run, tmp_path):
    report = ganlens.analyze(ring_run.checkpoint, real=ring, analyzers=["samples"], samples=100,
                             progress=False)
    held = report.metadata["real_data"]["held_out"]
    assert held["available"] and held["num_samples"] == 100
    other = ganlens.load_dataset("ring8", n=400, seed=4)  # not the training data
    report = ganlens.analyze(ring_run.checkpoint, real=other, analyzers=["samples"], samples=100,
                             progress=False)
    held = report.metadata["real_data"]["held_out"]
    assert not held["available"] and "not the dataset the checkpoint records" in held["note"]


def test_held_out_data_given_are_what_d_scores(ring, ring_run):
    test_split = ganlens.load_dataset("ring8", n=120, seed=9)
    ctx = ganlens.context(ring_run.checkpoint, real=ring, held_out=test_split, samples=200,
                          seed=1, progress=False)
    assert _rows(ctx.real_for_d) == _rows(test_split.x)
    assert "held-out data given" in ctx.held_out_note and len(ctx.real_train) == 400


def test_a_bad_holdout_fraction_is_refused(ring):
    for bad in (-0.1, 0.6):
        with pytest.raises(InputError, match="holdout must be a fraction from 0 to 0.5"):
            ganlens.train(ring, epochs=0, holdout=bad, progress=False)


def test_held_out_data_of_another_shape_are_refused(ring_run):
    with pytest.raises(ganlens.errors.DatasetError, match="held-out data"):
        ganlens.context(ring_run.checkpoint, held_out="digits", samples=50, progress=False)


def test_a_sample_of_the_training_file_keeps_the_held_out_rows_it_holds(tmp_path):
    """--real-samples reads a sample of a large file; the split names rows of the whole file,
    and the sample keeps those it holds as held out."""
    import numpy as np

    from ganlens.engine.runner import resolve_real

    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(300, 1, 8, 8, generator=gen) * 255).to(torch.uint8).numpy()
    np.save(tmp_path / "imgs.npy", x)
    run = ganlens.train(tmp_path / "imgs.npy", epochs=1, seed=2, batch_size=100, holdout=0.2,
                        out_dir=tmp_path / "run", progress=False)
    full = ganlens.load_dataset(tmp_path / "imgs.npy")
    held = _rows(full.x[held_out_rows(300, 0.2, 2)])
    gan = ganlens.load(run.checkpoint)
    rd = resolve_real(gan, tmp_path / "imgs.npy", seed=3, samples=40, real_samples=120,
                      host=ganlens.make_host())
    assert rd.full.options["sampled"] and len(rd.full) == 120
    assert rd.held_out is not None and _rows(rd.held_out.x) <= held
    assert not (_rows(rd.train.x) & held)
    assert 5 < len(rd.held_out) < 45  # about 20% of the 120 sampled rows
    report = ganlens.analyze(run.checkpoint, real=tmp_path / "imgs.npy",
                             analyzers=["samples", "image_stats"], samples=40, seed=3,
                             real_samples=120, progress=False)
    assert report.metadata["real_data"]["held_out"]["num_samples"] == len(rd.held_out)
    assert report["image_stats"].metrics["d_real_held_out"] is True
    other = ganlens.analyze(run.checkpoint, real=ganlens.testing.random_images(60),
                            analyzers=["image_stats"], samples=40, progress=False)
    assert other["image_stats"].metrics["d_real_held_out"] is False
