"""The training analyzer: its rules on synthetic histories with known answers, its options,
malformed histories, and the analyzer contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ganlens_training import NotRun, Onset, Training, check_history, outcome, read_history

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
    """The checks that flagged trouble: rule -> Onset."""
    return {k: v for k, v in check_history(read_history(history), **options).items()
            if isinstance(v, Onset)}


def outcomes(history, **options):
    """Every check's outcome in words: rule -> passed, flagged or not run."""
    return {k: outcome(v) for k, v in check_history(read_history(history), **options).items()}


def checks_table(section):
    """The checks table as rule -> (result, level, from epoch, detail)."""
    return {row[0]: tuple(row[2:]) for row in section.tables[0].rows}


def wild_last_epoch(epochs: int = 3, steps: int = 10, *, seed: int = 0, keys=("g_loss", "d_loss"),
                    low: float = 0.1, high: float = 5.0) -> dict:
    """A calm history whose last epoch's per-step losses swing anywhere between ``low`` and
    ``high`` (uniformly), its per-epoch means recomputed from those steps."""
    h = make_history(epochs, steps, seed=seed)
    rng = np.random.default_rng(seed + 1)
    last = slice((epochs - 1) * steps, epochs * steps)
    for key in keys:
        h["steps"][key][last] = rng.uniform(low, high, steps).tolist()
        h["epochs"][key][-1] = float(np.mean(h["steps"][key][last]))
    return h


# -- known answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_stable_histories_give_no_finding(seed):
    # long enough for every check to run, and every one passes
    assert set(outcomes(make_history(seed=seed)).values()) == {"passed"}


def test_stable_history_through_the_analyzer():
    h = make_history()
    section = Training().run(history_gan(h), samples=2)
    assert section.status == "ok"
    assert section.findings == []
    assert section.summary == "30 epochs; stable by every check"
    assert section.metrics["instability_epoch"] is None
    assert section.metrics["checks_not_run"] == []
    assert all(row[2] == "passed" for row in section.tables[0].rows)
    assert "swings" in checks_table(section)
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
    checks = checks_table(section)
    for rule in ("oscillation", "swings"):
        result, level, epoch, reason = checks[rule]
        assert (result, level, epoch) == ("not run", "", None)
        assert "needs per-step losses" in reason
    assert checks["discriminator_wins"][:3] == ("flagged", "warning", 9)
    assert section.metrics["checks_not_run"] == ["oscillation", "swings"]
    assert "2 not run (oscillation, swings: not recorded)" in section.summary


def test_an_epoch_only_history_whose_loss_is_all_nan_is_flagged_not_skipped():
    h = make_history(epochs=5)
    del h["steps"]
    h["epochs"]["g_loss"] = [math.nan] * 5
    found = onsets(h)
    assert found["nan"].epoch == 1


# -- short histories: a check that cannot run says so, and is never counted as passed -------


@pytest.mark.parametrize("seed", range(8))
def test_a_short_history_whose_last_epoch_swings_wildly_is_not_stable(seed):
    # 3 epochs of 10 steps; in the last, the per-step losses swing between 0.1 and 5.0
    h = wild_last_epoch(seed=seed)
    section = Training().run(history_gan(h), samples=2)
    assert "stable" not in section.summary
    assert section.metrics["instability_epoch"] == 3
    assert section.metrics["swings_epoch"] == 3
    checks = checks_table(section)
    assert checks["swings"][:3] == ("flagged", "warning", 3)
    # oscillation needs 4 windows: it is reported as not run with its reason, never as passed
    result, _level, epoch, reason = checks["oscillation"]
    assert (result, epoch) == ("not run", None)
    assert "needs at least 4 windows" in reason and "the history has 3" in reason
    assert section.metrics["checks_not_run"] == ["oscillation"]
    assert section.summary.startswith("3 epochs; trouble from epoch 3")
    assert section.summary.endswith("1 not run (oscillation: too short a history)")
    levels = {f.metric: f.level for f in section.findings}
    assert levels == {"swings_epoch": "warning", "oscillation_epoch": "info"}


@pytest.mark.parametrize("key", ["g_loss", "d_loss"])
def test_one_wild_loss_in_the_last_epoch_is_enough(key):
    found = onsets(wild_last_epoch(keys=(key,)))
    assert list(found) == ["swings"] and found["swings"].epoch == 3
    assert found["swings"].quantity.endswith("loss within the epoch")


def test_a_calm_short_history_is_not_called_stable_by_every_check():
    section = Training().run(history_gan(make_history(epochs=3)), samples=2)
    assert section.metrics["instability_epoch"] is None
    assert section.summary == ("3 epochs; no instability found by 5 of 6 checks; 1 not run "
                               "(oscillation: too short a history)")
    checks = checks_table(section)
    assert [r for r, row in checks.items() if row[0] == "passed"] == [
        "nan", "divergence", "discriminator_wins", "swings", "diversity_drop"]
    assert checks["oscillation"][0] == "not run"
    (finding,) = section.findings
    assert finding.level == "info" and finding.metric == "oscillation_epoch"
    assert "did not run" in finding.message and "not passed" in finding.message
    assert "needs at least 4 windows" in finding.message


def test_a_single_epoch_runs_only_the_nan_check():
    results = check_history(read_history(make_history(epochs=1)))
    assert outcome(results["nan"]) == "passed"
    not_run = {k: v for k, v in results.items() if isinstance(v, NotRun)}
    assert set(not_run) == {"divergence", "discriminator_wins", "oscillation", "swings",
                            "diversity_drop"}
    assert "needs at least 2 epochs" in not_run["divergence"].reason
    assert "the history has 1" in not_run["divergence"].reason
    assert "needs at least 3 epochs" in not_run["swings"].reason
    section = Training().run(history_gan(make_history(epochs=1)), samples=2)
    assert section.summary == ("1 epoch; no instability found by 1 of 6 checks; 5 not run "
                               "(divergence, discriminator_wins, oscillation, swings, "
                               "diversity_drop: too short a history)")
    assert sum(f.level == "info" for f in section.findings) == 5


def test_swings_needs_enough_steps_per_epoch():
    # 4 steps per epoch: an epoch's variance from 2 degrees of freedom means nothing
    h = wild_last_epoch(epochs=6, steps=4)
    result = check_history(read_history(h))["swings"]
    assert isinstance(result, NotRun) and result.short == "too few steps per epoch"
    assert "the history's epochs have at most 4" in result.reason


def test_the_swings_threshold_follows_the_number_of_steps():
    # the same ninefold variance in the last epoch: beyond chance with 200 steps per epoch,
    # within what 10 steps per epoch can show by chance
    def last_epoch_noisier(steps):
        return make_history(epochs=3, steps=steps,
                            noise=lambda e: 0.01 if e == 1 else (0.3 if e == 3 else 0.1))
    many, few = onsets(last_epoch_noisier(200)), onsets(last_epoch_noisier(10))
    assert list(many) == ["swings"] and many["swings"].epoch == 3
    assert few == {}
    assert outcomes(last_epoch_noisier(10))["swings"] == "passed"


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
    ({"d_fake_floor": 1.5}, r"option training.d_fake_floor: expected a number in \(0, 1\), got 1.5"),
    ({"diversity_drop": "0"}, r"expected a number in \(0, 1\), got 0"),
    ({"patience": 0}, "option training.patience: expected an integer >= 1, got 0"),
    ({"variance_growth": 0.5}, "expected a number > 1, got 0.5"),
    ({"divergence_factor": "inf"}, "expected a number > 1, got inf"),
    ({"divergence_factor": "ten"}, "expected a number"),
    ({"smoothing": -1}, "option training.smoothing: expected an integer >= 0, got -1"),
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
    return ganlens.train(data, epochs=3, batch_size=16, width=4, latent_dim=4, holdout=0.0,
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
