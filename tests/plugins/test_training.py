"""The training analyzer: its rules on synthetic histories with known answers, its options,
malformed histories, and the analyzer contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ganlens_training import Training, check_history, read_history

import ganlens
from ganlens import testing
from ganlens.errors import AnalyzerError, OptionError

REAL_DIVERSITY = 6.0


def make_history(epochs: int = 30, steps: int = 10, *, seed: int = 0, g_loss=None, d_loss=None,
                 d_fake=None, d_real=None, noise=None, diversity=None) -> dict:
    """A history in the layout ``ganlens train`` records. Each argument after ``seed`` maps an
    epoch number (1-based) to that epoch's level; steps scatter around it with Gaussian noise of
    std ``noise(epoch)`` (losses) and a quarter of it (D outputs). The defaults are a healthy run:
    a short start-up transient, then steady losses, D(x) 0.65, D(G(z)) 0.35, and diversity that
    grows to the real data's level."""
    rng = np.random.default_rng(seed)
    g_loss = g_loss or (lambda e: 1.0)
    d_loss = d_loss or (lambda e: 1.2)
    d_fake = d_fake or (lambda e: 0.35)
    d_real = d_real or (lambda e: 0.65)
    noise = noise or (lambda e: 0.01 if e == 1 else 0.1)  # epoch 1: near-constant outputs
    diversity = diversity or (lambda e: REAL_DIVERSITY * min(1.0, 0.4 + 0.15 * e))
    st = {k: [] for k in ("epoch", "g_loss", "d_loss", "d_real", "d_fake", "g_grad_norm",
                          "d_grad_norm")}
    ep = {k: [] for k in ("epoch", "g_loss", "d_loss", "d_real", "d_fake", "diversity",
                          "seconds")}
    for e in range(1, epochs + 1):
        s = noise(e)
        rows = {
            "g_loss": g_loss(e) + s * rng.standard_normal(steps),
            "d_loss": d_loss(e) + s * rng.standard_normal(steps),
            "d_real": np.clip(d_real(e) + s / 4 * rng.standard_normal(steps), 0, 1),
            "d_fake": np.clip(d_fake(e) + s / 4 * rng.standard_normal(steps), 0, 1),
            "g_grad_norm": np.abs(2 + 0.3 * rng.standard_normal(steps)),
            "d_grad_norm": np.abs(1 + 0.2 * rng.standard_normal(steps)),
        }
        st["epoch"] += [e] * steps
        for k, v in rows.items():
            st[k] += v.tolist()
        ep["epoch"].append(e)
        for k in ("g_loss", "d_loss", "d_real", "d_fake"):
            ep[k].append(float(np.mean(rows[k])))
        ep["diversity"].append(diversity(e) * (1 + 0.02 * rng.standard_normal()))
        ep["seconds"].append(0.1)
    return {"steps": st, "epochs": ep, "real_diversity": REAL_DIVERSITY}


def history_gan(history) -> ganlens.GAN:
    gan = testing.tiny_vector_gan()
    gan.metadata["training"] = {"history": history}
    return gan


def onsets(history, **options):
    return {k: v for k, v in check_history(read_history(history), **options).items() if v}


# -- known answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_stable_histories_give_no_finding(seed):
    assert onsets(make_history(seed=seed)) == {}


def test_stable_history_through_the_analyzer():
    h = make_history()
    section = Training().run(history_gan(h), samples=2)
    assert section.status == "ok"
    assert section.findings == []
    assert section.metrics["instability_epoch"] is None
    assert all(row[2] == "passed" for row in section.tables[0].rows)
    assert {f.name for f in section.figures} == {"curves", "stability", "diversity"}
    assert section.metrics["final_d_real"] == pytest.approx(h["epochs"]["d_real"][-1])
    assert section.metrics["final_d_fake"] == pytest.approx(h["epochs"]["d_fake"][-1])
    assert section.metrics["final_diversity_ratio"] == pytest.approx(
        h["epochs"]["diversity"][-1] / REAL_DIVERSITY)


def test_discriminator_winning_from_a_known_epoch():
    start = 12
    h = make_history(d_fake=lambda e: 0.35 if e < start else 0.01,
                     g_loss=lambda e: 1.0 if e < start else 4.0 + 0.2 * (e - start))
    found = onsets(h)
    assert list(found) == ["discriminator_wins"]
    assert found["discriminator_wins"].epoch == start
    section = Training().run(history_gan(h), samples=2)
    assert section.metrics["instability_epoch"] == start
    assert section.metrics["discriminator_wins_epoch"] == start
    (finding,) = section.findings
    assert finding.level == "warning" and f"epoch {start}" in finding.message
    assert "0.05" in finding.message  # the threshold is named
    assert finding.metric == "discriminator_wins_epoch" and finding.value == start


def test_low_d_fake_without_a_climbing_generator_loss_is_not_a_win():
    h = make_history(d_fake=lambda e: 0.35 if e < 12 else 0.01)  # G loss stays flat
    assert "discriminator_wins" not in onsets(h)


def test_nan_names_the_epoch_of_the_first_bad_step():
    h = make_history()
    h["steps"]["d_loss"][6 * 10 + 3] = math.nan  # epoch 7, step 4
    h["epochs"]["d_loss"][6] = math.nan
    assert onsets(h)["nan"].epoch == 7
    h["steps"]["g_grad_norm"][3] = math.inf  # epoch 1
    assert onsets(h)["nan"].epoch == 1


def test_several_troubles_each_named_with_its_epoch_and_level():
    h = make_history(diversity=lambda e: REAL_DIVERSITY * (1.0 if e < 20 else 0.2))
    h["steps"]["g_loss"][24 * 10] = math.nan  # epoch 25
    h["epochs"]["g_loss"][24] = math.nan
    found = onsets(h)
    assert {k: v.epoch for k, v in found.items()} == {"diversity_drop": 20, "nan": 25}
    section = Training().run(history_gan(h), samples=2)
    assert section.metrics["instability_epoch"] == 20
    assert section.metrics["diversity_drop_epoch"] == 20
    assert section.metrics["nan_epoch"] == 25
    assert section.metrics["final_diversity_ratio"] == pytest.approx(0.2, abs=0.02)
    messages = {f.metric: (f.level, f.message) for f in section.findings}
    assert messages["diversity_drop_epoch"][0] == "alert"
    assert "epoch 20" in messages["diversity_drop_epoch"][1]
    assert "0.5 x the reference" in messages["diversity_drop_epoch"][1]
    assert messages["nan_epoch"][0] == "alert" and "epoch 25" in messages["nan_epoch"][1]


def test_divergence_from_a_known_epoch():
    h = make_history(d_loss=lambda e: 1.2 if e < 15 else 1.2 * 3 ** (e - 13))
    found = onsets(h)
    # 1.2 * 3 ** (e - 13) first exceeds 10 x the early scale (1.2) at e = 16 (14.0 > 12)
    assert found["divergence"].epoch == 16
    assert found["divergence"].threshold == pytest.approx(12.0, rel=0.05)


def test_oscillation_from_a_known_epoch():
    h = make_history(noise=lambda e: 0.01 if e == 1 else (0.1 if e < 18 else 0.4))
    found = onsets(h)
    assert list(found) == ["oscillation"]
    assert found["oscillation"].epoch == 18


def test_a_single_wild_epoch_is_not_oscillation():
    h = make_history(noise=lambda e: 0.01 if e == 1 else (0.5 if e == 10 else 0.1))
    assert onsets(h) == {}


def test_diversity_drop_names_the_collapse_epoch():
    h = make_history(diversity=lambda e: REAL_DIVERSITY * (1.0 if e < 20 else 0.2))
    found = onsets(h)
    assert list(found) == ["diversity_drop"]
    assert found["diversity_drop"].epoch == 20


def test_noisy_early_generator_settling_to_real_diversity_is_not_collapse():
    # Untrained generators make noise, far more 'diverse' than the data; settling is learning.
    h = make_history(diversity=lambda e: REAL_DIVERSITY * max(1.0, 3.0 - 0.5 * e))
    assert onsets(h) == {}


def test_epoch_only_history_and_an_option_given_as_a_string():
    h = make_history(d_fake=lambda e: 0.35 if e < 9 else 0.08,
                     g_loss=lambda e: 1.0 if e < 9 else 3.0)
    del h["steps"]
    assert onsets(h) == {}  # 0.08 is above the default floor of 0.05
    section = Training(d_fake_floor="0.1").run(history_gan(h), samples=2)
    assert section.metrics["discriminator_wins_epoch"] == 9
    assert section.metrics["steps"] == 0
    checks = {row[0]: row[2] for row in section.tables[0].rows}
    assert checks["oscillation"] == "not recorded"
    assert checks["discriminator_wins"] == "warning"


# -- bad input ---------------------------------------------------------------------------------


def test_no_history_is_a_clean_skip():
    section = Training().run(testing.tiny_vector_gan(), samples=2)
    assert section.status == "skipped" and "no training history" in section.reason


@pytest.mark.parametrize("history, message", [
    ([1, 2, 3], "expected a dict"),
    ({"steps": {"epoch": [1, 1], "g_loss": [1.0]}}, "differ in length"),
    ({"steps": {"g_loss": [1.0, 2.0]}}, "no 'epoch'"),
    ({"epochs": {"epoch": [1], "g_loss": ["a"]}}, "expected numbers"),
])
def test_malformed_histories_are_clear_errors(history, message):
    with pytest.raises(AnalyzerError, match=message):
        read_history(history)
    section = Training().run(history_gan(history), samples=2)
    assert section.status == "failed" and message in section.reason


@pytest.mark.parametrize("options, message", [
    ({"d_fake_floor": 1.5}, "between 0 and 1"),
    ({"diversity_drop": "0"}, "between 0 and 1"),
    ({"patience": 0}, "at least 1"),
    ({"variance_growth": 0.5}, "above 1"),
    ({"divergence_factor": "ten"}, "expected a number"),
    ({"smoothing": -1}, "smoothing"),
    ({"window": 3}, "no option 'window'"),
])
def test_bad_options_are_option_errors(options, message):
    with pytest.raises(OptionError, match=message):
        Training(**options)


# -- a real history, and the contract ----------------------------------------------------------


@pytest.fixture(scope="module")
def trained_gan():
    """A GAN trained by ``ganlens.train`` for a few steps on 64 tiny images."""
    data = testing.random_images(64, side=8)
    return ganlens.train(data, epochs=3, batch_size=16, width=4, latent_dim=4,
                         progress=False).gan


@pytest.mark.parametrize("kind, with_d, real", [
    ("image", True, True), ("image", False, False), ("vector", True, False),
    ("vector", False, True), ("trained", True, False),
])
def test_contract(kind, with_d, real, trained_gan):
    if kind == "trained":
        gan = trained_gan
    elif kind == "image":
        gan = testing.tiny_image_gan(discriminator=with_d)
    else:
        gan = testing.tiny_vector_gan(discriminator=with_d)
    data = None
    if real:
        data = testing.random_images(64) if kind == "image" else testing.random_vectors(64)
    with testing.count_forward_calls(gan.generator) as calls:
        section = testing.check_analyzer_contract(Training, gan, data, samples=500)
    # no sampling: each of the contract's two runs makes only the runner's minimal 2-sample pass
    assert calls[0] <= 2
    assert torch.is_grad_enabled()
    if kind != "trained":
        assert section.status == "skipped" and "no training history" in section.reason
        return
    assert section.status == "ok"
    history = trained_gan.history
    assert section.metrics["epochs"] == 3 and section.metrics["steps"] == 12
    assert section.metrics["final_d_fake"] == pytest.approx(history["epochs"]["d_fake"][-1])
    assert section.metrics["final_d_real"] == pytest.approx(history["epochs"]["d_real"][-1])
