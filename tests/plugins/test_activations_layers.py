"""The activations analyzer's layer choice on unusual networks, and its option errors."""

from __future__ import annotations

import re

import pytest
import torch
from ganlens_activations import Activations
from ganlens_activations.layers import kind_of
from torch import nn

import ganlens
from ganlens import testing
from ganlens.errors import OptionError


def plan_names(analyzer, gan):
    analyzer.requests(gan)
    return {net: [layer.name for layer in p.layers] for net, p in analyzer._plan.nets.items()}


def notes(analyzer):
    return [n for p in analyzer._plan.nets.values() for n in p.notes]


class Block(nn.Module):
    """A custom container: its name must not matter, its children are the layers."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)
        self.norm = nn.BatchNorm2d(c_out)
        self.fire = nn.LeakyReLU(0.1)

    def forward(self, x):
        return self.fire(self.norm(self.conv(x)))


class OddGenerator(nn.Module):
    """4-D latents (B, 6, 1, 1); a reused activation; an unused layer; a linear layer followed
    by an in-place ReLU; a convolution followed by an in-place ReLU; spectral norm."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(6, 8 * 2 * 2)
        self.stem_act = nn.ReLU(inplace=True)  # modifies stem's output in place
        self.up_a = Block(8, 6)
        self.up_b = Block(6, 4)
        self.shared = nn.SiLU()  # used twice
        self.refine = nn.utils.parametrizations.spectral_norm(nn.Conv2d(4, 4, 3, padding=1))
        self.refine_act = nn.ReLU(inplace=True)  # modifies refine's output in place
        self.unused = nn.Linear(3, 3)
        self.head = nn.Conv2d(4, 1, 3, padding=1)

    def forward(self, z):
        h = self.stem_act(self.stem(z.flatten(1))).view(z.shape[0], 8, 2, 2)
        h = self.shared(self.up_a(h))
        h = self.shared(self.up_b(h))
        h = self.refine_act(self.refine(h))
        return torch.tanh(self.head(h))


def odd_gan():
    torch.manual_seed(0)
    return ganlens.GAN(OddGenerator(), ganlens.LatentSpec((6, 1, 1)),
                       ganlens.DataSpec("image", (1, 8, 8)))


def test_automatic_choice_on_an_unusual_generator():
    gan = odd_gan()
    a = Activations()
    names = plan_names(a, gan)
    # containers (up_a, up_b) are skipped, their layers kept; the head (output layer) is left
    # out; stem is left out (in place), shared (twice) and unused (never) too
    assert names == {"generator": ["stem_act", "up_a.conv", "up_a.fire", "up_b.conv", "up_b.fire",
                                   "refine", "refine_act"]}
    text = " ".join(notes(a))
    assert "G:stem left out: has its output modified in place" in text
    assert "G:shared left out: is called 2 times" in text
    assert "G:unused left out: is not called" in text
    refine = next(layer for layer in a._plan.layers if layer.name == "refine")
    assert not refine.maps_ok  # its 2-D maps would be captured after the in-place ReLU
    assert kind_of(gan.generator.refine) == "unit"  # a parametrized (spectral norm) conv


def test_unusual_generator_analyzes_with_correct_numbers():
    gan = odd_gan()
    a = Activations(figures=False, ablate=4, intervention_samples=8)
    ctx = ganlens.context(gan, analyzers=[a], samples=40, progress=False)
    section = a.analyze(ctx)
    assert section.status == "ok"
    assert testing.hook_count(gan) == 0
    # the captured spatial means of `refine` are taken before the in-place ReLU: negative values
    outs = {}

    def keep(_m, _i, o):  # returns None: the module's output is left alone
        outs["r"] = o.clone()

    h = gan.generator.refine.register_forward_hook(keep)
    with torch.no_grad():
        gan.forward(gan.latents(40, 0))
    h.remove()
    ref = outs["r"].mean((2, 3))
    assert torch.allclose(ctx.activations("generator", "refine"), ref, atol=1e-6)
    assert float(ref.min()) < 0
    parts = {r[0] for r in next(t for t in section.tables if t.name == "not_computed").rows}
    assert "generator layers" in parts


def test_explicit_layers_with_prefixes():
    gan = testing.tiny_vector_gan()  # G and D both have net.0 ...
    a = Activations(layers=["G:net.1", "discriminator:net.2", "D:net.1"])
    assert plan_names(a, gan) == {"generator": ["net.1"], "discriminator": ["net.1", "net.2"]}
    # the output layer may be analysed when asked for
    a = Activations(layers=["G:net.4"], interventions=False)
    assert plan_names(a, gan) == {"generator": ["net.4"]}


def test_intervention_layer_is_analysed_even_when_not_chosen():
    gan = testing.tiny_image_gan()
    a = Activations(max_layers=1, intervention_layer="G:project.0", figures=False, ablate=4,
                    intervention_samples=8)
    assert "project.0" in plan_names(a, gan)["generator"]
    section = a.run(gan, samples=24)
    assert section.metrics["intervention.layer"] == "project.0"


@pytest.mark.parametrize("options, message", [
    ({"layers": 5}, "option activations.layers: expected a comma-separated list of str values (or none), got 5"),
    ({"layers": []}, "at least one layer name"),
    ({"ablate": "many"}, "expected an integer"),
    ({"ablate": 0}, "expected an integer >= 1"),
    ({"near_constant": 1.5}, "expected a number in [0, 1], got 1.5"),
    ({"near_constant": "small"}, "expected a number"),
    ({"ablation": "noise"}, "expected one of 'zero', 'mean'"),
    ({"interventions": "maybe"}, "expected true or false"),
    ({"intervention_layer": " "}, "expected a generator module name"),
    ({"colour": "red"}, "has no option 'colour'"),
])
def test_bad_options_are_refused_when_built(options, message):
    with pytest.raises(OptionError, match=re.escape(message)):
        Activations(**options)


def test_cli_strings_are_converted():
    a = Activations(layers="G:net.1, D:net.2", ablate="4", interventions="false")
    assert a.options.layers == ["G:net.1", "D:net.2"] and a.options.ablate == 4
    assert a.options.interventions is False


@pytest.mark.parametrize("options, message", [
    ({"layers": ["nope"]}, r"no module named 'nope' in the generator or the discriminator"),
    ({"layers": ["net.1"]}, r"in both the generator and the discriminator; write G:net.1"),
    ({"layers": ["G:net.9"]}, r"no module named 'net.9' in the generator"),
    ({"layers": ["G:nett.1"]}, r"option activations.layers: .*\(did you mean net.1,"),
    ({"intervention_layer": "D:net.1"}, r"discriminator layer; interventions ablate generator"),
    ({"intervention_layer": "blocks.7"}, r"activations.intervention_layer: no module named"),
])
def test_bad_layer_names_name_what_exists(options, message):
    with pytest.raises(OptionError, match=message):
        Activations(**options).requests(testing.tiny_vector_gan())


def test_layer_errors_that_need_the_network():
    with pytest.raises(OptionError, match="names a discriminator layer but this GAN has no"):
        Activations(layers=["D:net.1"]).requests(testing.tiny_vector_gan(discriminator=False))
    with pytest.raises(OptionError, match="is called 2 times per forward pass"):
        Activations(layers=["G:shared"]).requests(odd_gan())
    with pytest.raises(OptionError, match="modified in place by a later operation"):
        Activations(layers=["stem"]).requests(odd_gan())


def test_a_bad_layer_name_fails_the_section_with_the_message():
    report = ganlens.analyze(testing.tiny_vector_gan(), analyzers=["activations"], samples=16,
                             options={"activations": {"layers": "G:nope"}}, progress=False)
    section = report.sections[0]
    assert section.status == "failed"
    assert "OptionError" in section.reason and "'nope'" in section.reason


def test_generator_without_hidden_layers_is_skipped_with_the_reason():
    gan = ganlens.GAN(nn.Sequential(nn.Linear(4, 2), nn.Tanh()), ganlens.LatentSpec((4,)),
                      ganlens.DataSpec("vector", (2,)))
    section = Activations(figures=False).run(gan, samples=16)
    assert section.status == "skipped"
    assert "no hidden linear, convolutional or activation layer" in section.reason


def test_extra_passes_are_counted():
    gan = testing.tiny_image_gan()
    a = Activations(figures=False, ablate=4, intervention_samples=8)
    with testing.count_forward_calls(gan.generator) as calls:
        report = ganlens.analyze(gan, analyzers=[a], samples=20, progress=False)
    counted = report.metadata["generator_calls"]
    assert counted["shared_pass"] + counted["extra"] == calls[0]
