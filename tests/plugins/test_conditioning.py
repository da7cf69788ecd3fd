"""The conditioning analyzer on conditional generators built for the test from the digits, whose
answer is known: G(z, y) returns a real digit of class y chosen by z, plus tiny noise; the faulty
one renders class 5 for class 3 and one fixed image for class 7."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from ganlens_conditioning import Conditioning, metrics
from ganlens_conditioning.verdict import duplicate_limit, support_estimate

import ganlens
from ganlens import testing
from ganlens.errors import OptionError


class PickByClass(torch.nn.Module):
    """G(z, y): image number floor(Φ(z₀) × |pool y|) of pool y, plus 0.01 × z[1:65]."""

    def __init__(self, pools: list[torch.Tensor], noise: float = 0.01) -> None:
        super().__init__()
        sizes = [len(p) for p in pools]
        self.register_buffer("images", torch.cat(pools))
        self.register_buffer("start", torch.tensor([0] + sizes[:-1]).cumsum(0))
        self.register_buffer("size", torch.tensor(sizes))
        self.noise = noise

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        u = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))
        n = self.size[y]
        idx = self.start[y] + torch.minimum((u * n).long(), n - 1)
        return self.images[idx] + self.noise * z[:, 1:65].reshape(-1, 1, 8, 8)


def digit_pools(digits, *, faulty: bool) -> list[torch.Tensor]:
    x, labels = digits.x, digits.labels
    pools = [x[labels == c] for c in range(10)]
    if faulty:
        pools[3] = x[labels == 5]  # class 3 renders fives
        sevens = x[labels == 7]
        typical = (sevens - sevens.mean(0, keepdim=True)).flatten(1).norm(dim=1).argmin()
        pools[7] = sevens[typical : typical + 1]  # class 7: one image, whatever z is
    return pools


def conditional_gan(digits, *, faulty: bool) -> ganlens.GAN:
    return ganlens.GAN(PickByClass(digit_pools(digits, faulty=faulty)), ganlens.LatentSpec((65,)),
                       ganlens.DataSpec("image", (1, 8, 8)), discriminator=None, num_classes=10,
                       conditional=True)


def named(section, levels=("warning", "alert")) -> dict[str, set[str]]:
    """Class → the kinds of warning/alert findings that name it."""
    out: dict[str, set[str]] = {}
    for f in section.findings:
        if f.level not in levels:
            continue
        m = re.match(r"class (\w+)( collapsed)?:", f.message)
        assert m, f"a finding that names no class first: {f.message}"
        out.setdefault(m.group(1), set()).add("collapsed" if m.group(2) else f.metric)
    return out


@pytest.fixture(scope="module")
def faulty_report(digits):
    return ganlens.analyze(conditional_gan(digits, faulty=True), analyzers=[Conditioning()],
                           real=digits, samples=200, progress=False)


@pytest.fixture(scope="module")
def correct_section(digits):
    return Conditioning().run(conditional_gan(digits, faulty=False), real=digits, samples=200)


# ---------------------------------------------------------------------------------------------
# known answers
# ---------------------------------------------------------------------------------------------


def test_class_3_is_mis_conditioned_and_class_7_collapsed_and_no_other_class(faulty_report):
    section = faulty_report.sections[0]
    assert section.status == "ok", section.error
    m = section.metrics
    assert m["conditioning_failures"] == ["3"]
    assert m["collapsed_classes"] == ["7"]
    assert m["weakly_conditioned_classes"] == [] and m["off_class_classes"] == []
    assert named(section) == {"3": {"conditioning_accuracy_per_class"}, "7": {"collapsed"}}
    three = next(f for f in section.findings if f.message.startswith("class 3:"))
    assert three.level == "alert"
    assert re.match(r"class 3: 9\d% of its samples look like class 5 ", three.message)
    seven = next(f for f in section.findings if f.message.startswith("class 7 collapsed"))
    assert seven.level == "alert" and "diversity" in seven.message.split("fired:")[1]
    assert section.summary.startswith("conditioning accuracy ")
    assert "mis-conditioned: 3" in section.summary and "collapsed: 7" in section.summary


def test_the_numbers_behind_the_verdict(faulty_report):
    m = faulty_report.sections[0].metrics
    acc, real = m["conditioning_accuracy_per_class"], m["real_accuracy_per_class"]
    assert acc[3] < 0.05 and m["conditioning_confusion"][3][5] > 0.9
    assert all(acc[c] > 0.9 for c in range(10) if c != 3)
    assert 0.9 < m["real_accuracy"] <= 1 and all(r > 0.9 for r in real)
    assert m["conditioning_accuracy"] == pytest.approx(np.mean(acc))
    ratio = m["diversity_ratio_per_class"]
    assert ratio[7] < 0.1 and m["diversity_ratio_ci_per_class"][7][1] < 0.1
    assert all(0.7 < ratio[c] < 1.4 for c in range(10) if c != 7)
    assert m["duplicate_fraction_per_class"][7] == 1.0
    assert m["coverage_per_class"][7] < 0.5 * m["coverage_baseline_per_class"][7]
    # Class 3's samples are fives: they cover almost nothing of the real threes, which is
    # reported as the conditioning failure, not as collapse.
    assert m["coverage_per_class"][3] < 0.2
    info = [f.message for f in faulty_report.sections[0].findings if f.level == "info"]
    assert any(s.startswith("class 3: its samples cover") and "class 5" in s for s in info)
    # 200 shared samples give about 20 per class: the rest came from one extra balanced pass
    assert m["samples_per_class"] == 100 and m["extra_samples"] == 1000 - 200
    assert faulty_report.metadata["generator_calls"]["extra"] >= 1
    table = faulty_report.sections[0].tables[0]
    assert table.name == "per_class" and len(table.rows) == 10


def test_figures_have_titles_axes_and_captions(faulty_report):
    section = faulty_report.sections[0]
    figs = {f.name: f for f in section.figures}
    assert set(figs) == {"confusion_matrix", "per_class_collapse", "samples_per_class"}
    for f in figs.values():
        assert f.png.startswith(b"\x89PNG") and f.title and len(f.caption) > 80
    assert "Row y" in figs["confusion_matrix"].caption


def test_a_correct_conditional_generator_gives_no_finding(correct_section):
    s = correct_section
    assert s.status == "ok", s.error
    assert s.findings == [], [f.message for f in s.findings]
    assert s.metrics["conditioning_failures"] == [] and s.metrics["collapsed_classes"] == []
    assert "no class collapsed (10 compared)" in s.summary
    assert all(0.8 < r < 1.25 for r in s.metrics["diversity_ratio_per_class"])


def test_without_a_classifier_collapse_is_still_judged_and_the_gap_is_said(digits):
    gan = conditional_gan(digits, faulty=True)
    ctx = ganlens.context(gan, real=digits, samples=200, progress=False)
    ctx._classifier, ctx.classifier_reason = None, "no classifier in this test"
    section = Conditioning(figures=False).analyze(ctx)
    assert section.metrics["collapsed_classes"] == ["7"]
    assert "conditioning_accuracy" not in section.metrics
    assert any(f.level == "info" and f.message == "conditioning accuracy not computed: no "
               "classifier: no classifier in this test" for f in section.findings)
    # Without labels for the samples, class 3's fives are off the real threes: a warning, not
    # a collapse.
    assert named(section) == {"3": {"coverage_per_class"}, "7": {"collapsed"}}
    assert section.metrics["off_class_classes"] == ["3"]


# ---------------------------------------------------------------------------------------------
# skips
# ---------------------------------------------------------------------------------------------


def test_an_unconditional_gan_is_skipped_with_the_reason():
    section = Conditioning().run(testing.tiny_image_gan(), real=testing.random_images(64),
                                 samples=16)
    assert section.status == "skipped"
    assert section.reason.startswith("the generator is unconditional")


def test_no_real_data_unlabelled_data_and_other_classes_are_skipped_with_the_reason(digits):
    gan = testing.tiny_conditional_gan()
    s = Conditioning().run(gan, samples=16)
    assert s.status == "skipped" and s.reason.startswith("no real data")
    assert "were not computed" in s.reason
    unlabelled = ganlens.Dataset("plain", digits.x[:200], digits.spec)
    s = Conditioning().run(gan, real=unlabelled, samples=16)
    assert s.status == "skipped"
    assert s.reason.startswith("the real data 'plain' have no labels: conditioning accuracy")
    keep = digits.labels < 3
    three = ganlens.Dataset("three", digits.x[keep], digits.spec, digits.labels[keep])
    s = Conditioning().run(gan, real=three, samples=16)
    assert s.status == "skipped"
    assert "have 3 classes but the generator has 10" in s.reason


def test_the_contract_on_a_tiny_conditional_gan():
    section = testing.check_analyzer_contract(
        Conditioning(per_class=10), testing.tiny_conditional_gan(),
        testing.random_images(200, classes=10), samples=48)
    # Random images train no usable classifier: the accuracy is not computed, and says why.
    if section.status == "skipped":
        assert "not computed" in section.reason
    else:
        assert any(f.message.startswith("conditioning accuracy not computed: no classifier: ")
                   for f in section.findings)
        assert section.metrics["compared_per_class"] == [10] * 10


# ---------------------------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "expected"), [
    ({"per_class": 5}, "option conditioning.per_class: expected an integer in [10, 10000], got 5"),
    ({"per_class": "many"}, "option conditioning.per_class: expected an integer, got 'many'"),
    ({"collapse_ratio": 1.5}, "option conditioning.collapse_ratio: expected a number in (0, 1), "
                              "got 1.5"),
    ({"significance": 0.7}, "option conditioning.significance: expected a number in (0, 0.5), "
                            "got 0.7"),
    ({"k": 0}, "option conditioning.k: expected an integer in [1, 100], got 0"),
    ({"features": ""}, "option conditioning.features: expected a feature space name or auto, "
                       "got ''"),
    ({"bins": 3}, "analyzer 'conditioning' has no option 'bins'"),
])
def test_bad_options_are_one_line_errors_naming_the_option(options, expected):
    with pytest.raises(OptionError) as err:
        Conditioning(**options)
    assert str(err.value).startswith(expected) and "\n" not in str(err.value)


def test_an_unknown_feature_space_is_refused_before_any_work():
    with pytest.raises(OptionError, match=r"option conditioning\.features: unknown feature "
                                          r"space 'nope'; known: auto, "):
        ganlens.analyze(testing.tiny_conditional_gan(), analyzers=["conditioning"],
                        options={"conditioning": {"features": "nope"}}, samples=8,
                        progress=False)


# ---------------------------------------------------------------------------------------------
# the metrics
# ---------------------------------------------------------------------------------------------


def test_diversity_and_its_jackknife_match_a_direct_computation():
    x = torch.randn(30, 4, generator=torch.Generator().manual_seed(0))
    d = torch.cdist(x.double(), x.double())
    pairs = d[torch.triu_indices(30, 30, 1).unbind()]
    div = metrics.diversity(x)
    assert div.mean == pytest.approx(float(pairs.mean()), rel=1e-5)
    loo = []
    for i in range(30):
        keep = [j for j in range(30) if j != i]
        sub = d[keep][:, keep]
        loo.append(float(sub[torch.triu_indices(29, 29, 1).unbind()].mean()))
    loo = np.array(loo)
    assert div.variance == pytest.approx(29 / 30 * ((loo - loo.mean()) ** 2).sum(), rel=1e-4)


def test_the_ratio_of_identical_points_is_zero_and_equal_sets_are_not_below():
    same = metrics.diversity(torch.zeros(10, 3))
    spread = metrics.diversity(torch.randn(10, 3, generator=torch.Generator().manual_seed(1)))
    r = metrics.diversity_ratio(same, spread)
    assert (r.value, r.interval, r.p_below) == (0.0, (0.0, 0.0), 0.0)
    r = metrics.diversity_ratio(spread, spread)
    assert r.value == 1.0 and r.p_below == 0.5 and r.interval[0] < 1 < r.interval[1]
    assert math.isnan(metrics.diversity_ratio(spread, same).value)


def test_the_tests_of_proportions():
    assert metrics.paired_below_p([0] * 10, [1] * 10) == pytest.approx(0.5**10)
    assert metrics.paired_below_p([1, 0], [1, 0]) == 1.0
    assert metrics.proportion_below_p(10, 100, 90, 100) < 1e-6
    assert metrics.proportion_below_p(50, 100, 50, 100) == pytest.approx(0.5)
    assert metrics.confusion([0, 1, 1], [0, 0, 1], 2).tolist() == [[1, 0], [1, 1]]


def test_the_duplicate_limit_is_the_share_of_n_samples_of_n_outputs():
    assert duplicate_limit(90) == pytest.approx(1 - (89 / 90) ** 89)
    assert 0.63 < duplicate_limit(1000) < 1 - 1 / math.e + 1e-3
    for k in (5.0, 50.0, 400.0):
        share = 1 - (1 - 1 / k) ** 89
        assert support_estimate(share, 90) == pytest.approx(k)
    assert support_estimate(0.0, 90) is None and support_estimate(1.0, 90) == 1.0
