"""Dead, near-constant and negative-regime units, against known answers.

"Dead" (never above zero) is only meaningful for true rectifiers, whose output is then exactly
zero. A leaky unit (LeakyReLU, ELU, GELU, SiLU, ...) whose input is always negative still passes
a signal: it is "negative-regime", and ablating it changes the output. A unit whose output is the
same on every sample is near-constant whatever its activation.
"""

from __future__ import annotations

import math

import pytest
import torch
from ganlens_activations import Activations, UnitAccumulator, ablate_units
from ganlens_activations.layers import kind_of, output_at_zero
from torch import nn

import ganlens

SIDE = 8
UNITS = 6
CONSTANT = 5  # the unit with zero weights: the same output on every sample


class Forced(nn.Module):
    """z (B, 4) → 1×8×8. ``fc`` (4 → 6) has weights of about 3 and a bias of -100, so every
    pre-activation is below -60 on any plausible latent (|w·z| is about 6 per standard deviation);
    unit 5 has zero weights (pre-activation exactly -100 on every sample). ``act`` is the
    activation under test; ``draw`` maps the 6 units to the pixels."""

    def __init__(self, act: nn.Module, bias: float = -100.0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.fc = nn.Linear(4, UNITS)
        self.act = act
        self.draw = nn.Linear(UNITS, SIDE * SIDE)
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(UNITS, 4, generator=gen) * 3)
            self.fc.weight[CONSTANT] = 0.0
            self.fc.bias.fill_(bias)
            self.draw.weight.copy_(torch.randn(SIDE * SIDE, UNITS, generator=gen) * 0.5)
            self.draw.bias.zero_()

    def forward(self, z):
        return torch.tanh(self.draw(self.act(self.fc(z)))).view(-1, 1, SIDE, SIDE)


def forced_gan(act: nn.Module, bias: float = -100.0) -> ganlens.GAN:
    return ganlens.GAN(Forced(act, bias), ganlens.LatentSpec((4,)),
                       ganlens.DataSpec("image", (1, SIDE, SIDE)))


def run(gan, analyzer=None, samples=128):
    analyzer = analyzer or Activations(figures=False)
    ctx = ganlens.context(gan, analyzers=[analyzer], samples=samples, seed=0, progress=False)
    return analyzer.analyze(ctx), ctx


def table(section, name):
    t = next(t for t in section.tables if t.name == name)
    return [dict(zip(t.columns, row)) for row in t.rows]


def pre_activations(gan, ctx):
    with torch.no_grad():
        return gan.generator.fc(ctx.latents)


# -- which activation is which -------------------------------------------------------------------
RECTIFIER_MODULES = [nn.ReLU(), nn.ReLU6(), nn.Hardtanh(0.0, 1.0), nn.Hardsigmoid(),
                     nn.Threshold(0.0, 0.0), nn.LeakyReLU(0.0), nn.ELU(alpha=0.0)]
LEAKY_MODULES = [nn.LeakyReLU(), nn.LeakyReLU(0.2), nn.PReLU(), nn.RReLU(), nn.ELU(), nn.CELU(),
                 nn.SELU(), nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(), nn.Mish(),
                 nn.Hardswish(), nn.Softplus(), nn.Softplus(beta=2.0)]
OTHER_MODULES = [nn.Tanh(), nn.Sigmoid(), nn.Hardtanh(), nn.LeakyReLU(-0.5),
                 nn.Threshold(-1.0, 0.0)]
X = torch.linspace(-8, 8, 1601)  # includes 0


@pytest.mark.parametrize("module", RECTIFIER_MODULES, ids=repr)
def test_true_rectifiers_are_exactly_zero_wherever_not_above_zero(module):
    """What "dead" relies on: never above zero means exactly zero (a constant)."""
    assert kind_of(module) == "rectifier"
    with torch.no_grad():
        y = module.eval()(X)
    assert bool((y >= 0).all())
    assert bool((y[y <= 0] == 0).all())
    assert bool((y > 0).any())


@pytest.mark.parametrize("module", LEAKY_MODULES, ids=repr)
def test_leaky_activations_are_below_their_zero_value_exactly_for_negative_inputs(module):
    """What "negative-regime" relies on: the output is at most its value at zero input exactly
    when the input is not positive, and it still varies with the input there."""
    assert kind_of(module) == "leaky"
    at_zero = output_at_zero(module)
    with torch.no_grad():
        y = module.eval()(X).double()
        assert float(module(torch.zeros(1))) == pytest.approx(at_zero, abs=1e-6)
    off = X.abs() > 1e-3  # float rounding right at the kink
    assert torch.equal((y > at_zero + 1e-7)[off], (X > 0)[off])
    negative = y[(X < -0.1) & (X > -1.0)]
    assert float(negative.max() - negative.min()) > 1e-3  # not constant on the negative side


@pytest.mark.parametrize("module", OTHER_MODULES, ids=repr)
def test_other_activations_have_no_sign_statistics(module):
    assert kind_of(module) == "activation"


def test_prelu_kind_follows_its_weights():
    prelu = nn.PReLU(3)
    with torch.no_grad():
        prelu.weight.zero_()
        assert kind_of(prelu) == "rectifier"
        prelu.weight.copy_(torch.tensor([0.0, 0.1, 0.3]))
        assert kind_of(prelu) == "leaky"
        prelu.weight[0] = -0.2
        assert kind_of(prelu) == "activation"
    assert output_at_zero(nn.Softplus(beta=2.0)) == pytest.approx(math.log(2) / 2)


def test_accumulator_negative_regime_is_never_above_the_zero_value():
    peaks = torch.tensor([[-1.0, 0.5, 0.7, -2.0], [-0.5, 0.69, 0.2, -3.0]])
    acc = UnitAccumulator(4, rectifier=False, leaky_at=math.log(2))
    acc.update(peaks - 5, peaks)
    st = acc.finalize(0.01)
    assert st.dead is None and st.sparsity is None and st.dead_fraction is None
    assert st.negative_regime_units == [0, 1, 3]  # 0.7 > log 2 = 0.693 on one sample: unit 2
    assert st.negative_regime_fraction == pytest.approx(0.75)
    rect = UnitAccumulator(4, rectifier=True)
    rect.update(peaks)
    assert rect.finalize(0.01).negative_regime is None
    with pytest.raises(ValueError, match="either a rectifier or leaky"):
        UnitAccumulator(4, rectifier=True, leaky_at=0.0)


# -- the analyzer: forced negative inputs ------------------------------------------------------
def test_leaky_relu_with_negative_inputs_is_negative_regime_not_dead():
    gan = forced_gan(nn.LeakyReLU(0.01))
    section, ctx = run(gan)
    m = section.metrics
    assert float(pre_activations(gan, ctx).max()) < -50  # the inputs really are all negative
    # 0 dead units: "dead" is not a statistic of a leaky layer, so nothing is called dead
    assert not any(k.endswith(("dead_fraction", "dead_units", "sparsity")) for k in m)
    assert not any("dead" in f.message for f in section.findings if f.level == "warning")
    assert "dead" not in section.summary and "6 negative-regime units" in section.summary
    # 100% negative-regime units
    assert m["generator.act.negative_regime_fraction"] == 1.0
    assert m["generator.act.negative_regime_units"] == list(range(UNITS))
    assert m["generator.negative_regime_fraction"] == 1.0
    info = [f for f in section.findings if f.metric == "generator.act.negative_regime_fraction"]
    assert len(info) == 1 and info[0].level == "info"
    assert "5 of them still vary with the input" in info[0].message
    assert "1 is near-constant" in info[0].message
    # the unit with the same output on every sample is constant, the others are not
    assert m["generator.act.near_constant_units"] == [CONSTANT]
    assert m["generator.fc.near_constant_units"] == [CONSTANT]
    layers = {row["layer"]: row for row in table(section, "layers")}
    assert layers["G:act"]["dead fraction"] is None
    assert layers["G:act"]["negative-regime fraction"] == 1.0
    # ablating a negative-regime unit changes the output: the analyzer's numbers ...
    assert m["intervention.layer"] == "act"
    rows = {row["unit"]: row for row in table(section, "intervention_units")}
    assert set(rows) == set(range(UNITS))
    for unit, row in rows.items():
        assert row["dead"] is None and row["negative-regime"] is True
        assert row["near-constant"] is (unit == CONSTANT)
        assert row["output change"] > 0.01
    assert min(m["intervention.effect"]) > 0.01
    # ... and directly, by setting each unit to zero in a plain forward pass
    z = ctx.latents[:64]  # the analyzer's intervention_samples
    with torch.no_grad():
        base = gan.generator(z)
        for unit in range(UNITS):
            handle = gan.generator.act.register_forward_hook(
                lambda _m, _i, out, unit=unit: out.index_fill(1, torch.tensor([unit]), 0.0))
            try:
                change = float((gan.generator(z) - base).abs().mean())
            finally:
                handle.remove()
            assert change == pytest.approx(rows[unit]["output change"], rel=1e-3)
            assert change > 0.01


def test_the_same_net_with_relu_is_all_dead_and_constant():
    gan = forced_gan(nn.ReLU())
    section, _ctx = run(gan)
    m = section.metrics
    assert m["generator.act.dead_fraction"] == 1.0
    assert m["generator.act.dead_units"] == list(range(UNITS))
    assert m["generator.dead_fraction"] == 1.0
    # dead = a constant zero: every unit, the zero-weight one included, is near-constant
    assert m["generator.act.near_constant_units"] == list(range(UNITS))
    assert m["generator.act.near_constant_fraction"] == 1.0
    assert not any("negative_regime" in k for k in m)
    assert any(f.level == "warning" and f.metric == "generator.act.dead_fraction"
               for f in section.findings)
    rows = table(section, "intervention_units")
    assert all(r["dead"] is True and r["negative-regime"] is None for r in rows)
    assert all(r["output change"] == 0.0 for r in rows)  # nothing there to switch off


@pytest.mark.parametrize("act", [nn.ReLU(), nn.LeakyReLU(0.2), nn.Tanh(), nn.Identity()],
                         ids=repr)
def test_a_unit_with_the_same_output_on_every_sample_is_near_constant(act):
    """Unbiased inputs: only the zero-weight unit (pre-activation 0.5 on every sample) is
    constant; it is positive, so neither dead nor negative-regime."""
    gan = forced_gan(act, bias=0.0)
    with torch.no_grad():
        gan.generator.fc.bias[CONSTANT] = 0.5
    layers = ["G:fc"] if isinstance(act, nn.Identity) else ["G:fc", "G:act"]
    section, _ = run(gan, Activations(layers=layers, figures=False,
                                      intervention_layer=layers[-1][2:]))
    m = section.metrics
    for layer in layers:
        key = f"generator.{layer[2:]}"
        assert m[f"{key}.near_constant_units"] == [CONSTANT]
        assert m[f"{key}.near_constant_fraction"] == pytest.approx(1 / UNITS)
        assert m.get(f"{key}.dead_units", []) == []
        assert m.get(f"{key}.negative_regime_units", []) == []
    rows = {row["unit"]: row for row in table(section, "intervention_units")}
    assert rows[CONSTANT]["near-constant"] is True
    assert all(not r["near-constant"] for u, r in rows.items() if u != CONSTANT)


class Squashed(nn.Module):
    """z (B, 4) → 16 values. Every pre-activation of ``act`` lies in (-0.5, -0.1) by
    construction (-0.1 - 0.4 * sigmoid(fc(z))), so no unit ever sees a positive input, on any
    latent; there every leaky activation still has a slope of 0.25 or more."""

    def __init__(self, act: nn.Module) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(1)
        self.fc = nn.Linear(4, UNITS)
        self.act = act
        self.draw = nn.Linear(UNITS, 16)
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(UNITS, 4, generator=gen))
            self.fc.bias.zero_()
            self.draw.weight.copy_(torch.randn(16, UNITS, generator=gen))

    def forward(self, z):
        return torch.tanh(self.draw(self.act(-0.1 - 0.4 * torch.sigmoid(self.fc(z)))))


@pytest.mark.parametrize("act", [nn.LeakyReLU(0.2), nn.PReLU(), nn.ELU(), nn.CELU(), nn.SELU(),
                                 nn.GELU(), nn.SiLU(), nn.Mish(), nn.Hardswish(), nn.Softplus()],
                         ids=repr)
def test_every_leaky_activation_on_negative_inputs_is_negative_regime_and_matters(act):
    gan = ganlens.GAN(Squashed(act), ganlens.LatentSpec((4,)), ganlens.DataSpec("vector", (16,)))
    analyzer = Activations(layers=["G:act"], intervention_layer="act", figures=False)
    section, ctx = run(gan, analyzer, samples=96)
    m = section.metrics
    assert "generator.act.dead_fraction" not in m
    assert m["generator.act.negative_regime_fraction"] == 1.0
    assert m["generator.act.near_constant_fraction"] == 0.0  # they all follow their input
    assert "generator.act.near_constant_units" not in m
    info = next(f for f in section.findings if f.metric == "generator.act.negative_regime_fraction")
    assert info.level == "info" and "all of them still vary" in info.message
    assert not [f for f in section.findings if f.level != "info"]
    res = ablate_units(ctx, "act", gan.generator.act, list(range(UNITS)), ctx.latents[:32],
                       ctx.fakes[:32])
    assert float(res.pixel_effect.min()) > 0.01


def test_the_negative_regime_threshold_is_an_option():
    from ganlens.errors import OptionError

    with pytest.raises(OptionError, match="negative_regime_info: expected a number in \\[0, 1\\]"):
        Activations(negative_regime_info=1.5)
    section, _ = run(forced_gan(nn.LeakyReLU(0.01)),
                     Activations(negative_regime_info=1.0, figures=False))
    assert any(f.metric == "generator.act.negative_regime_fraction" for f in section.findings)
    gan = forced_gan(nn.LeakyReLU(0.01), bias=0.0)  # unbiased: no unit always negative
    with torch.no_grad():
        gan.generator.fc.bias[CONSTANT] = 0.5
    section, _ = run(gan)
    assert section.metrics["generator.act.negative_regime_fraction"] == 0.0
    assert not any("negative_regime" in (f.metric or "") for f in section.findings)
