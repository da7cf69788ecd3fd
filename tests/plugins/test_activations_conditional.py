"""The activations analyzer on conditional GANs: it runs (every extra pass with the right
labels), says that the GAN is conditional and which labels it used, measures each unit's
selectivity for the conditioning label against known answers, and fails cleanly on bad input."""

from __future__ import annotations

import pytest
import torch
from ganlens_activations import Activations, ablate_units, ablate_units_naive
from ganlens_activations.intervene import SHARED_PREFIX
from torch import nn

import ganlens
from ganlens import testing
from ganlens.errors import InputError

SIDE = 8
CLASSES = 4
LEVELS = (3.0, -1.0, 0.5, 2.0)  # unit 0 of fc for each class: its preferred class is 0


class LabelUnit(nn.Module):
    """G(z, y): ``fc`` has 2 units, unit 0 = LEVELS[y] (the label alone, eta squared 1) and
    unit 1 = z[0] (the latent alone, eta squared about 0); ``act`` (Tanh) and ``out`` follow."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4 + CLASSES, 2)
        self.act = nn.Tanh()
        self.out = nn.Linear(2, SIDE * SIDE)
        with torch.no_grad():
            self.fc.weight.zero_()
            self.fc.bias.zero_()
            self.fc.weight[0, 4:] = torch.tensor(LEVELS)
            self.fc.weight[1, 0] = 1.0

    def forward(self, z, y):
        h = self.fc(torch.cat([z, nn.functional.one_hot(y, CLASSES).float()], 1))
        return torch.tanh(self.out(self.act(h))).view(-1, 1, SIDE, SIDE)


def label_gan(num_classes="same") -> ganlens.GAN:
    torch.manual_seed(0)
    return ganlens.GAN(LabelUnit(), ganlens.LatentSpec((4,)),
                       ganlens.DataSpec("image", (1, SIDE, SIDE)), conditional=True,
                       num_classes=CLASSES if num_classes == "same" else num_classes)


def run(gan, analyzer=None, samples=128, seed=0, real=None):
    analyzer = analyzer or Activations(figures=False)
    ctx = ganlens.context(gan, analyzers=[analyzer], samples=samples, seed=seed, real=real,
                          progress=False)
    return analyzer.analyze(ctx), ctx


def table(section, name):
    t = next(t for t in section.tables if t.name == name)
    return [dict(zip(t.columns, row)) for row in t.rows]


# -- the contract ----------------------------------------------------------------------------
def test_contract_on_a_tiny_conditional_gan():
    gan = testing.tiny_conditional_gan()
    section = testing.check_analyzer_contract(Activations, gan, testing.random_images(200, classes=10))
    assert section.status == "ok"
    names = {f.name for f in section.figures}
    assert {"label_selectivity", "intervention_effects", "top_samples_discriminator"} <= names
    assert section.metrics["conditioning.classes"] == 10
    assert "intervention.d_change" in section.metrics


def test_contract_without_real_data():
    gan = testing.tiny_conditional_gan()
    section = testing.check_analyzer_contract(Activations(figures=False), gan)
    assert section.status == "ok"
    assert section.metrics["conditioning.classes"] == 10


def test_without_a_discriminator():
    gan = testing.tiny_conditional_gan(discriminator=False)
    section = testing.check_analyzer_contract(Activations(figures=False), gan)
    assert section.status == "ok"
    assert "intervention.d_change" not in section.metrics


def test_it_says_the_gan_is_conditional_and_which_labels_it_used():
    gan = testing.tiny_conditional_gan()
    section, ctx = run(gan, samples=96)
    counts = torch.bincount(ctx.labels, minlength=10).tolist()
    assert section.metrics["conditioning.label_counts"] == counts
    assert sum(counts) == 96
    finding = next(f for f in section.findings if "conditional" in f.message)
    assert finding.level == "info"
    assert "10 classes" in finding.message and "96 latents" in finding.message
    assert f"{min(counts)} to {max(counts)} latents per class" in finding.message
    top = table(section, "top_samples_generator")
    for row in top:
        assert row["their conditioning classes"] == ctx.labels[row["top 6 sample indices"]].tolist()


def test_unconditional_gans_have_no_conditioning_parts(image_gan):
    section, _ = run(image_gan, samples=64)
    assert not any("label_selectivity" in k or k.startswith("conditioning.")
                   for k in section.metrics)
    assert "label_selectivity" not in {t.name for t in section.tables}
    assert not any("conditional" in f.message for f in section.findings)
    assert "their conditioning classes" not in table(section, "top_samples_generator")[0]


# -- known answers ---------------------------------------------------------------------------
def test_a_unit_that_codes_the_label_has_label_selectivity_one():
    gan = label_gan()
    section, ctx = run(gan, Activations(figures=False, layers=["G:fc", "G:act"]), samples=400)
    rows = {r["layer"]: r for r in table(section, "label_selectivity")}
    for layer in ("G:fc", "G:act"):  # Tanh is monotonic: unit 0 still depends on y alone
        assert rows[layer]["most selective unit"] == 0
        assert rows[layer]["its eta squared"] == pytest.approx(1.0, abs=1e-6)
        assert rows[layer]["its preferred class"] == "0"  # the highest level, 3.0
    # Unit 1 is z[0]: eta squared is the between-class share of its variance, recomputed here.
    z0, y = ctx.latents[:, 0].double(), ctx.labels
    means = torch.stack([z0[y == c].mean() for c in range(CLASSES)])
    counts = torch.bincount(y, minlength=CLASSES).double()
    eta_z = float((counts * (means - z0.mean()) ** 2).sum() / ((z0 - z0.mean()) ** 2).sum())
    assert eta_z < 0.05
    assert section.metrics["generator.fc.label_selectivity"] == pytest.approx((1 + eta_z) / 2,
                                                                               rel=1e-6)


def test_ablations_with_labels_equal_the_direct_computation():
    gan = testing.tiny_conditional_gan()
    section, ctx = run(gan, samples=48)
    layer = section.metrics["intervention.layer"]
    module = dict(gan.generator.named_modules())[layer]
    k = 16
    z, y = ctx.latents[:k], ctx.labels[:k]
    base, d_base = ctx.fakes[:k], ctx.d_fake[:k]
    units = [0, 1, 3]
    batched = ablate_units(ctx, layer, module, units, z, base, d_baseline=d_base, labels=y)
    naive = ablate_units_naive(ctx, layer, module, units, z, base, d_baseline=d_base, labels=y)
    assert batched.method == SHARED_PREFIX  # the labels are the baseline's: no fallback
    assert torch.allclose(batched.pixel_effect, naive.pixel_effect, atol=1e-6)
    assert torch.allclose(batched.d_change, naive.d_change, atol=1e-5)
    # Unit 3 by hand: zero it, run G on (z, y) and D on (G, y).
    def zero(_m, _i, out):
        out = out.clone()
        out[:, 3] = 0
        return out
    handle = module.register_forward_hook(zero)
    try:
        with torch.no_grad():
            x = gan.forward(z, y)
            d = gan.score(x, y)
    finally:
        handle.remove()
    assert float(batched.pixel_effect[2]) == pytest.approx(float((x - base).abs().mean()), abs=1e-6)
    assert float(batched.d_change[2]) == pytest.approx(float((d - d_base).mean()), abs=1e-5)


def test_it_runs_when_the_context_was_built_for_another_instance():
    """The plan is then made with ctx.generate / ctx.discriminate: the probe needs labels too."""
    gan = testing.tiny_conditional_gan()
    first = Activations(figures=False)
    ctx = ganlens.context(gan, analyzers=[first], samples=32, progress=False)
    section = Activations(figures=False).analyze(ctx)
    assert section.metrics["conditioning.classes"] == 10
    probes = [p for p in ctx.passes if p.samples == 2]
    assert {p.network for p in probes} == {"generator", "discriminator"}


# -- bad input -------------------------------------------------------------------------------
def test_a_conditional_gan_without_its_class_count_is_a_one_line_error():
    gan = label_gan(num_classes=None)
    with pytest.raises(InputError, match="--num-classes") as err:
        Activations().requests(gan)
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="--num-classes") as err:
        Activations().run(gan, samples=8)
    assert "\n" not in str(err.value)
