"""The attributions analyzer's options, targets and plugin extension point, and the analyzer
contract on tiny image and vector GANs, with and without a discriminator and real data."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from ganlens_attributions import Attributions, Target
from ganlens_attributions import targets as t
from torch import nn

import ganlens
from ganlens import testing
from ganlens.builtin.classifier import Classifier
from ganlens.errors import FeatureUnavailable, OptionError


def parts_table(section: ganlens.Section) -> list[list]:
    return next(tb.rows for tb in section.tables if tb.name == "parts")


SMALL = {"map_samples": 12, "latent_samples": 6, "n_steps": 4, "smoothgrad_samples": 2,
         "display": 1, "targets": ["discriminator"]}


def test_importing_the_plugin_does_not_import_captum():
    code = "import sys, ganlens_attributions; print('captum' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "message"), [
    ({"n_steps": 0}, "option attributions.n_steps: expected an integer >= 1, got 0"),
    ({"n_steps": "many"}, "option attributions.n_steps: expected an integer"),
    ({"display": -1}, "option attributions.display: expected an integer >= 0"),
    ({"internal_batch_size": 1}, "option attributions.internal_batch_size: expected an integer >= 2"),
    ({"smoothgrad_noise": -0.1}, "option attributions.smoothgrad_noise: expected a number >= 0"),
    ({"blur_sigma": 0}, "option attributions.blur_sigma: expected a number > 0"),
    ({"inactive_fraction": 2}, "option attributions.inactive_fraction: expected a number in [0, 1]"),
    ({"baseline": "white"}, "option attributions.baseline: expected one of 'black', 'blurred'"),
    ({"methods": "saliency,lime"}, "option attributions.methods: expected one of 'saliency'"),
    ({"map_method": "deeplift"}, "option attributions.map_method: expected one of"),
    ({"targets": "region:0.5:0.2"}, "expected region:TOP:BOTTOM:LEFT:RIGHT (images) or "
                                    "region:START:STOP"),
    ({"targets": "region:0:2:0:1"}, "fractions 0 <= start < stop <= 1"),
    ({"colour": "red"}, "analyzer 'attributions' has no option 'colour'"),
])
def test_bad_options_are_refused_with_what_was_expected(options, message):
    with pytest.raises(OptionError, match=None) as info:
        Attributions(**options)
    assert message in str(info.value)


def test_an_unknown_target_is_refused_before_any_work():
    """Target names are checked against the host's registry when the run is set up."""
    analyzer = Attributions(targets="entropy")
    with pytest.raises(OptionError, match="unknown target 'entropy'; expected one of "
                                          "classifier, discriminator, region"):
        analyzer.validate(ganlens.make_host())
    with pytest.raises(OptionError, match="unknown target 'entropy'"):
        ganlens.analyze(testing.tiny_image_gan(), analyzers=[analyzer], samples=4,
                        progress=False)


def test_cli_strings_are_converted():
    a = Attributions(n_steps="16", methods="saliency,gradcam", targets="discriminator,region:0:1")
    assert a.options.n_steps == 16
    assert a.options.methods == ["saliency", "gradcam"]
    assert a.options.targets == ["discriminator", "region:0:1"]


def test_options_that_do_not_fit_the_gan_fail_with_a_clear_reason():
    vector = testing.tiny_vector_gan()
    section = Attributions(**SMALL, baseline="blurred").run(vector, samples=8)
    assert section.status == "failed"
    assert "baseline='blurred' needs image data" in section.reason
    image = testing.tiny_image_gan()
    section = Attributions(**SMALL, gradcam_layer="nope").run(image, samples=8)
    assert section.status == "failed"
    assert "gradcam_layer='nope'" in section.reason and "features.0" in section.reason
    section = Attributions(**SMALL, generator_layer="nope", methods=[]).run(image, samples=8)
    assert section.status == "failed"
    assert "generator_layer='nope'" in section.reason and "project.0" in section.reason
    section = Attributions(**{**SMALL, "targets": ["region:0:0.5:0:1"]}).run(vector, samples=8)
    assert section.status == "failed" and "region:START:STOP" in section.reason


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------


def test_region_target_sums_the_box():
    x = torch.arange(2 * 1 * 4 * 6, dtype=torch.float32).reshape(2, 1, 4, 6)
    fn = t.region_sum(t.parse_region("0:0.5:0.5:1", 3))
    assert torch.equal(fn(x), x[:, :, :2, 3:].flatten(1).sum(1))
    v = torch.arange(20, dtype=torch.float32).reshape(2, 10)
    assert torch.equal(t.region_sum(t.parse_region("0.2:0.5", 1))(v), v[:, 2:5].sum(1))


class _Logits(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(7)
        self.lin = nn.Linear(64, 3)

    def forward(self, x):
        return self.lin(x.flatten(1))


def _ctx_with_classifier(classifier):
    gan = testing.tiny_image_gan()
    return SimpleNamespace(gan=gan, classifier=classifier, classifier_reason="no labels")


def test_classifier_targets():
    model = _Logits()
    clf = Classifier(model, 0.99, 3, ["zero", "one", "two"], torch.device("cpu"))
    ctx = _ctx_with_classifier(clf)
    x = testing.random_images(5).x
    one = t.classifier_target(ctx, "one")
    assert torch.allclose(one(x), model(x)[:, 1])
    assert torch.allclose(t.classifier_target(ctx, "2")(x), model(x)[:, 2])
    predicted = t.classifier_target(ctx, None)
    assert torch.equal(predicted.indices(x), model(x).argmax(1))
    with pytest.raises(OptionError, match="expected a class index 0..2 or a class name"):
        t.classifier_target(ctx, "seven")
    with pytest.raises(FeatureUnavailable, match="no classifier: no labels"):
        t.classifier_target(_ctx_with_classifier(None), None)


def test_latent_ig_with_a_per_sample_target_is_complete():
    from ganlens_attributions import generator as g

    gan = testing.tiny_image_gan()
    clf = Classifier(_Logits(), 0.99, 3, ["a", "b", "c"], torch.device("cpu"))
    target = t.classifier_target(_ctx_with_classifier(clf), None)
    z = gan.latents(6, seed=4)
    res = g.latent_attributions(gan.forward, target, z, generator=gan.generator, n_steps=64)
    with torch.no_grad():
        k = clf.model(gan.forward(z)).argmax(1)
        end = clf.model(gan.forward(z)).gather(1, k[:, None])[:, 0]
        start = clf.model(gan.forward(torch.zeros_like(z))).gather(1, k[:, None])[:, 0]
    assert torch.allclose(res.output_change, end - start, atol=1e-4)


def _target_plugin(name: str):
    """A plugin object that registers one attribution target through the hook."""

    def build(ctx, arg):
        return Target(name, "the mean value of the generated sample",
                      lambda x: x.flatten(1).mean(1))

    class Plugin:
        @ganlens.hookimpl
        def ganlens_register_attribution_targets(self):
            return [ganlens.AttributionTargetInfo(name, build, "mean brightness")]

    return Plugin()


def test_a_plugin_target_is_used_by_the_analyzer():
    host = ganlens.make_host(plugins=[("bright", lambda: _target_plugin("brightness")),
                                      ("bright2", lambda: _target_plugin("brightness")),
                                      ("badname", lambda: _target_plugin("bad:name"))])
    assert host.attribution_targets["brightness"].plugin == "bright"
    assert host.attribution_targets["discriminator"].plugin == "attributions"
    assert "registered twice" in host.record_for("bright2").error
    assert "expected a word" in host.record_for("badname").error
    assert "bad:name" not in host.attribution_targets
    gan = testing.tiny_image_gan(discriminator=False)
    with pytest.raises(OptionError, match="unknown target 'brightness'"):
        Attributions(**{**SMALL, "targets": ["brightness"]}).run(gan, samples=8)
    gan = testing.tiny_image_gan(discriminator=False)
    section = Attributions(**{**SMALL, "targets": ["brightness"]}).run(gan, samples=8,
                                                                        host=host)
    assert section.status == "ok", section.error
    assert len(section.metrics["latent.importance.brightness"]) == 8
    assert section.metrics["generator.conductance_target"] == "brightness"
    # Four integration steps are too few for this tanh generator: the finding says so.
    rel = section.metrics["latent.ig_relative_delta.brightness"]
    warned = [f for f in section.findings if f.metric == "latent.ig_relative_delta.brightness"]
    assert (rel > 0.05) == bool(warned) and rel > 0.05


# ---------------------------------------------------------------------------------------------
# The analyzer contract
# ---------------------------------------------------------------------------------------------


def _flat_rectangular_gan(discriminator: bool) -> ganlens.GAN:
    """A generator with flat outputs that are 3x6x10 colour images, and an MLP D (no conv)."""
    from ganlens.builtin.architectures import MLPDiscriminator, MLPGenerator

    torch.manual_seed(0)
    shape = (3, 6, 10)
    d = MLPDiscriminator(list(shape), width=8) if discriminator else None
    return ganlens.GAN(MLPGenerator(4, [180], width=8), ganlens.LatentSpec((4, 1, 1)),
                       ganlens.DataSpec("image", shape), d)


CASES = {
    "colour image+D+real": (lambda: testing.tiny_image_gan(channels=3),
                            lambda: testing.random_images(30, channels=3)),
    "image, no D, no real": (lambda: testing.tiny_image_gan(discriminator=False), lambda: None),
    "vector+D+real": (lambda: testing.tiny_vector_gan(), lambda: testing.random_vectors(30)),
    "vector, no D, no real": (lambda: testing.tiny_vector_gan(discriminator=False), lambda: None),
    "flat 3x6x10+MLP D, no real, mean_real baseline": (lambda: _flat_rectangular_gan(True),
                                                       lambda: None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_contract(case):
    make_gan, make_real = CASES[case]
    gan = make_gan()
    options = {**SMALL, "baseline": "mean_real"} if "mean_real" in case else SMALL
    section = testing.check_analyzer_contract(Attributions(**options), gan, make_real(), samples=12)
    assert section.status == "ok"
    assert "latent.importance" in section.metrics
    parts = {r[0]: r[1] for r in parts_table(section)}
    if gan.discriminator is None:
        assert parts["discriminator attributions"] == "skipped"
    else:
        assert "d.ig_relative_delta" in section.metrics
    if "mean_real" in case:  # no real data: the black baseline is used, with a warning
        assert any("mean_real" in f.message and f.level == "warning" for f in section.findings)
    if case.startswith("flat"):
        assert parts["Grad-CAM"] == "skipped"  # an MLP discriminator has no spatial layer
        assert len(section.metrics["d.attention_centroid_fake"]) == 2
