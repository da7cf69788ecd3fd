"""The runner: selection, isolation, skips, options, the shared pass and its counted extra passes."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch

import ganlens
from ganlens import testing
from ganlens.errors import OptionError, PluginError, SkipAnalysis


class Boom(ganlens.Analyzer):
    name = "boom"

    def analyze(self, ctx):
        raise RuntimeError("kaboom")


class Leaky(ganlens.Analyzer):
    name = "leaky"

    def analyze(self, ctx):
        ctx.gan.generator.register_forward_hook(lambda *a: None)
        return self.new_section()


class Skipper(ganlens.Analyzer):
    name = "skipper"

    def analyze(self, ctx):
        raise SkipAnalysis("nothing to do here")


class Typed(ganlens.Analyzer):
    name = "typed"

    @dataclass
    class Options:
        k: int = 3
        ratio: float = 0.5
        names: list[str] | None = None
        flag: bool = False

    def analyze(self, ctx):
        s = self.new_section()
        s.metric("k", self.options.k)
        return s


class NeedsD(ganlens.Analyzer):
    name = "needs_d"
    needs_discriminator = True

    def analyze(self, ctx):
        return self.new_section()


def test_one_failing_analyzer_does_not_stop_the_others(image_gan):
    report = ganlens.analyze(image_gan, analyzers=[Boom(), "samples", Skipper()], samples=16,
                             progress=False)
    boom, samples, skipper = report.sections
    assert boom.status == "failed" and "kaboom" in boom.reason and "Traceback" in boom.error
    assert samples.status == "ok"
    assert skipper.status == "skipped" and skipper.reason == "nothing to do here"
    assert report.exit_code() == 3


def test_leaked_hooks_are_removed_and_reported(image_gan):
    report = ganlens.analyze(image_gan, analyzers=[Leaky()], samples=8, progress=False)
    assert testing.hook_count(image_gan) == 0
    assert "left 1 hook(s)" in report.sections[0].findings[0].message


def test_requirements_skip_with_the_reason():
    gan = testing.tiny_image_gan(discriminator=False)
    report = ganlens.analyze(gan, analyzers=[NeedsD()], samples=8, progress=False)
    assert report.sections[0].status == "skipped"
    assert report.sections[0].reason == "this GAN has no discriminator"


def test_options_are_typed_from_strings(image_gan):
    report = ganlens.analyze(image_gan, analyzers=[Typed], samples=8, progress=False,
                             options={"typed": {"k": "7", "names": "a,b", "flag": "yes"}})
    assert report.sections[0].metrics["k"] == 7
    assert report.metadata["options"]["typed"] == {"k": 7, "ratio": 0.5, "names": ["a", "b"],
                                                    "flag": True}


@pytest.mark.parametrize(("options", "match"), [
    ({"k": "seven"}, "option typed.k: expected an integer, got 'seven'"),
    ({"ratio": "half"}, "expected a number"),
    ({"flag": "maybe"}, "expected true or false"),
    ({"depth": 3}, "has no option 'depth'; its options: flag, k, names, ratio"),
])
def test_bad_options(options, match):
    with pytest.raises(OptionError, match=match):
        Typed(**options)


def test_selection_and_skip(image_gan):
    report = ganlens.analyze(image_gan, analyzers=["samples", Typed()], skip=["samples"],
                             samples=8, progress=False)
    assert [s.name for s in report.sections] == ["typed"]
    with pytest.raises(PluginError, match="unknown analyzer 'sampels'; known: .*samples"):
        ganlens.analyze(image_gan, analyzers=["sampels"], samples=8, progress=False)
    with pytest.raises(OptionError, match="--option for unknown analyzer 'nope'"):
        ganlens.analyze(image_gan, analyzers=["samples"], options={"nope": {}}, samples=8)


def test_real_data_of_the_wrong_shape_is_a_clear_error(image_gan):
    with pytest.raises(ganlens.errors.DatasetError, match=r"shape \(2,\).*generator makes \(1, 8, 8\)"):
        ganlens.analyze(image_gan, analyzers=["samples"], real="ring8", samples=8, progress=False)


def test_recorded_dataset_is_the_default_real_data(digits_gan):
    report = ganlens.analyze(digits_gan, analyzers=["samples"], samples=16, progress=False)
    assert report.metadata["real_data"]["name"] == "digits"
    assert report.metadata["real_data"]["num_samples"] == 1797


def test_single_analyzer_on_a_context(digits_gan):
    samples_cls = ganlens.available_analyzers()["samples"]
    analyzer = samples_cls(grid=16)
    ctx = ganlens.context(digits_gan, real="digits", samples=32, analyzers=[analyzer])
    section = analyzer.analyze(ctx)
    assert section.metrics["samples"] == 32
    # The context is reusable, and its features are computed once.
    assert ctx.features("pixels") is ctx.features("pixels")
    assert torch.equal(ctx.features("pixels").fake, ctx.fakes.flatten(1))


def test_analysis_hooks_are_called(image_gan):
    seen = []

    class Listener:
        @ganlens.hookimpl
        def ganlens_analysis_started(self, context):
            seen.append(("started", context.n_samples))

        @ganlens.hookimpl
        def ganlens_analysis_finished(self, report):
            seen.append(("finished", len(report.sections)))

    host = ganlens.make_host(plugins=[("listener", lambda: Listener())])
    assert host.record_for("listener").status == "loaded"
    ganlens.analyze(image_gan, analyzers=["samples"], samples=8, progress=False, host=host)
    assert seen == [("started", 8), ("finished", 1)]


# Options that keep every built-in analyzer small for the whole-run tests below.
FAST = {
    "latent": {},
    "attributions": {},
    "activations": {},
    "mode_collapse": {"bootstrap": 100},
    "scores": {"bootstrap": 5, "kid_subsets": 10},
}


def _fast_options():
    known = ganlens.available_analyzers()
    out = {}
    for name, opts in FAST.items():
        if name in known:
            fields = known[name].option_fields()
            out[name] = {k: v for k, v in opts.items() if k in fields}
    return out


def test_all_analyzers_one_shared_pass_counted_extra_passes_and_determinism(digits_gan):
    """Every built-in analyzer together: the generator runs the shared pass once, every other
    call is an extra pass an analyzer asked for through the context, no analyzer fails, and the
    same seed gives the same report.json (timings aside)."""
    builtin = [n for n, r in ganlens.make_host().analyzers.items() if r.distribution == "ganlens"]
    runs = []
    for _ in range(2):
        with testing.count_forward_calls(digits_gan.generator) as calls:
            report = ganlens.analyze(digits_gan, analyzers=builtin, real="digits", samples=120,
                                     seed=5, options=_fast_options(), progress=False)
        runs.append((report, calls[0]))
    report, n_calls = runs[0]
    failed = {s.name: s.reason for s in report.sections if s.status == "failed"}
    assert not failed, failed
    counted = report.metadata["generator_calls"]
    assert counted["shared_pass"] == 1  # 120 samples, batch size 256
    assert n_calls == counted["shared_pass"] + counted["extra"]
    assert testing.hook_count(digits_gan) == 0
    a, b = (json.dumps(r.to_dict(with_timing=False), sort_keys=True) for r, _ in runs)
    assert a == b
