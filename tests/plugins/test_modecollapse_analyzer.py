"""The mode_collapse analyzer on generators built for the test, whose answer is known."""

from __future__ import annotations

import math
import re

import pytest
import torch
from ganlens_modecollapse import ModeCollapse

import ganlens
from ganlens import testing
from ganlens.builtin.datasets import grid25_centres, ring8_centres
from ganlens.errors import OptionError

FAST = {"bootstrap": 200, "figures": False}


class RingModes(torch.nn.Module):
    """Samples the ring8 mixture restricted to ``modes``, equally weighted, std 0.01."""

    def __init__(self, modes: list[int], std: float = 0.01) -> None:
        super().__init__()
        self.register_buffer("centres", torch.tensor(ring8_centres(), dtype=torch.float32)[modes])
        self.std = std

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))  # uniform in [0, 1)
        idx = (u * len(self.centres)).long().clamp(max=len(self.centres) - 1)
        return self.centres[idx] + self.std * z[:, 1:3]


class Pick(torch.nn.Module):
    """Returns one of ``images``, chosen by the latent."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("images", images)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))
        return self.images[(u * len(self.images)).long().clamp(max=len(self.images) - 1)]


def ring_gan(modes: list[int]) -> ganlens.GAN:
    return ganlens.GAN(RingModes(modes), ganlens.LatentSpec((3,)),
                       ganlens.DataSpec("vector", (2,), (-1.0, 1.0)))


def image_gan(images: torch.Tensor, spec: ganlens.DataSpec) -> ganlens.GAN:
    return ganlens.GAN(Pick(images), ganlens.LatentSpec((4,)), spec)


def levels(section, level: str) -> list:
    return [f for f in section.findings if f.level == level]



@pytest.fixture(scope="module")
def ring8():
    return ganlens.load_dataset("ring8", n=2000)


# ---------------------------------------------------------------------------------------------
# known modes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3, 6])
def test_k_of_8_ring_modes_are_exactly_k_covered_with_an_alert(ring8, k):
    section = ModeCollapse(**FAST).run(ring_gan(list(range(k))), real=ring8, samples=300)
    assert section.status == "ok", section.error
    assert section.metrics["modes_covered"] == k
    assert section.metrics["modes_total"] == 8
    assert section.metrics["modes_covered_baseline"] == 8
    alerts = levels(section, "alert")
    assert any(f.metric == "modes_covered" and f.value == k and f.threshold == 8 for f in alerts)
    assert section.summary.startswith(f"{k} of 8 modes covered; recall ")
    assert section.metrics["recall"] < section.metrics["recall_baseline"]


class Mixture(torch.nn.Module):
    """Samples an equal-weight Gaussian mixture: the perfect generator for ring8 or grid25."""

    def __init__(self, centres, std: float) -> None:
        super().__init__()
        self.register_buffer("centres", torch.as_tensor(centres, dtype=torch.float32))
        self.std = std

    forward = RingModes.forward


@pytest.mark.parametrize(("name", "centres", "std"), [
    ("ring8", ring8_centres(), 0.01), ("grid25", grid25_centres(), 0.05),
])
def test_the_true_mixture_covers_every_mode_without_alerts_and_ndb_near_alpha(name, centres, std):
    real = ganlens.load_dataset(name, n=4000, seed=1)
    gan = ganlens.GAN(Mixture(centres, std), ganlens.LatentSpec((3,)),
                      ganlens.DataSpec("vector", (2,), (-5.0, 5.0)))
    section = ModeCollapse(bootstrap=200, figures=False).run(gan, real=real, samples=1000)
    m = section.metrics
    assert m["modes_covered"] == m["modes_total"] == len(centres)
    assert m["high_quality_fraction"] > 0.97
    # 98.9% of a 2-D Gaussian lies within 3 std: the high-quality share of a perfect generator.
    assert abs(m["high_quality_fraction"] - (1 - math.exp(-4.5))) < 0.01
    assert not levels(section, "alert") and not levels(section, "warning")
    assert any("no sign of mode collapse" in f.message for f in levels(section, "info"))
    # NDB/K of a perfect generator is about α: its sd over K = 50 independent bins is
    # sqrt(α(1-α)/K) = 0.031, so 3 sd is a tolerance that fails by chance about 0.1% of the time.
    alpha, bins = 0.05, m["ndb_bins"]
    assert bins == 50
    assert abs(m["ndb_k"] - alpha) <= 3 * math.sqrt(alpha * (1 - alpha) / bins)
    # Every feature metric sits close to its real baseline.
    for key in ("precision", "recall", "coverage"):
        assert abs(m[key] - m[f"{key}_baseline"]) < 0.05, key


def test_mode_figures_and_headline(ring8):
    section = ModeCollapse(bootstrap=100).run(ring_gan([0, 2, 4, 6]), real=ring8, samples=200)
    names = [f.name for f in section.figures]
    assert names == ["mode_histogram", "mode_scatter", "metric_bars", "ndb_bins"]
    assert all(f.title and len(f.caption) > 80 and f.png.startswith(b"\x89PNG") for f in section.figures)
    assert re.fullmatch(r"4 of 8 modes covered; recall \d\.\d\d \(real baseline \d\.\d\d\); "
                        r"coverage \d\.\d\d \(baseline \d\.\d\d\)", section.summary)
    for key, value in section.metrics.items():  # every metric says what it is
        if not key.endswith("_ci"):
            assert key in section.metric_info and section.metric_info[key].description, key
        assert value is None or isinstance(value, (int, float, str, list, bool))


# ---------------------------------------------------------------------------------------------
# labelled data
# ---------------------------------------------------------------------------------------------


def test_real_digits_of_three_classes_cover_3_of_10_with_an_alert(digits):
    images = digits.x[digits.labels < 3]
    section = ModeCollapse(**FAST).run(image_gan(images, digits.spec), real=digits, samples=300)
    assert section.status == "ok", section.error
    m = section.metrics
    assert m["classes_covered"] == 3 and m["classes_total"] == 10
    assert m["classes_covered_baseline"] == 10
    assert m["classifier_accuracy"] >= 0.9
    assert any(f.metric == "classes_covered" and f.value == 3 for f in levels(section, "alert"))
    assert m["class_kl"] > 1.0 > m["class_kl_baseline"]  # about log2(10/3) = 1.74 bits
    assert m["feature_space"] == "classifier"
    assert section.summary.startswith("3 of 10 classes covered")


def test_exact_training_images_give_a_memorisation_warning(digits):
    section = ModeCollapse(**FAST).run(image_gan(digits.x, digits.spec), real=digits, samples=300)
    m = section.metrics
    assert m["memorised_fraction"] > 0.8 > m["memorised_fraction_baseline"] + 0.5
    assert any(f.metric == "memorised_fraction" for f in levels(section, "warning"))
    assert m["classes_covered"] == 10


def test_one_image_per_class_gives_a_duplicates_warning_with_every_class_covered(digits):
    import os
    from pathlib import Path

    from ganlens.builtin.classifier import train_classifier

    # One image per class that the run's cross-fitted labels read right (the same classifier
    # the analyzer trains on these data, from the cache), so that every class is present.
    clf = train_classifier(digits, cache_dir=Path(os.environ["GANLENS_CACHE_DIR"]))
    right = clf.predict_unseen(digits.x) == digits.labels
    first = torch.stack([torch.nonzero((digits.labels == c) & right)[0, 0] for c in range(10)])
    section = ModeCollapse(**FAST).run(image_gan(digits.x[first], digits.spec), real=digits,
                                       samples=300)
    m = section.metrics
    assert m["classes_covered"] == 10
    assert not any(f.metric == "classes_covered" for f in section.findings if f.level == "alert")
    assert m["duplicate_fraction"] == 1.0
    assert any(f.metric == "duplicate_fraction" for f in levels(section, "warning"))
    # Ten distinct outputs: the birthday estimate is within a factor 1.5 of 10.
    assert 10 / 1.5 <= m["support_estimate"] <= 10 * 1.5
    assert any(f.metric == "support_estimate" and "Closest pairs" in f.message
               for f in levels(section, "warning"))
    assert m["recall"] < 0.5 * m["recall_baseline"]
    assert any(f.metric == "recall" for f in levels(section, "alert"))


def test_image_figures_show_duplicates_and_memorised_samples(digits):
    section = ModeCollapse(bootstrap=50).run(image_gan(digits.x[:20], digits.spec), real=digits,
                                             samples=100)
    names = {f.name for f in section.figures}
    assert {"class_histogram", "metric_bars", "ndb_bins", "duplicate_pairs",
            "memorised_samples"} <= names


def test_a_refused_classifier_is_reported_and_class_metrics_left_out():
    real = testing.random_images(200, classes=2)  # random labels: no classifier reaches 90%
    gan = testing.tiny_image_gan()
    section = ModeCollapse(**FAST).run(gan, real=real, samples=64)
    assert section.status == "ok", section.error
    assert "classes_covered" not in section.metrics
    assert any("class metrics not computed" in f.message and "accuracy" in f.message
               for f in levels(section, "info"))
    assert section.metrics["feature_space"] == "random-conv"


# ---------------------------------------------------------------------------------------------
# options and errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "match"), [
    ({"k": 3}, "has no option 'k'"),
    ({"k_precision_recall": "three"}, "expected an integer"),
    ({"k_precision_recall": 0}, "k_precision_recall: expected an integer >= 1, got 0"),
    ({"ndb_bins": 1}, "ndb_bins: expected an integer >= 2"),
    ({"ndb_alpha": 1.5}, "ndb_alpha: expected a number in (0, 1), got 1.5"),
    ({"duplicate_quantile": 0}, "duplicate_quantile"),
    ({"confidence": 1.0}, "confidence"),
    ({"bootstrap": -1}, "bootstrap: expected an integer >= 0"),
    ({"quality_std": 0}, "quality_std: expected a number > 0"),
    ({"ties": "sometimes"}, "expected one of 'strict', 'inclusive'"),
])
def test_bad_options_are_clear_option_errors(options, match):
    with pytest.raises(OptionError, match=re.escape(match) if "(" in match else match):
        ModeCollapse(**options)


def test_cli_strings_are_converted():
    opts = ModeCollapse(k_precision_recall="4", ndb_alpha="0.01", ties="inclusive",
                        figures="false").options
    assert (opts.k_precision_recall, opts.ndb_alpha, opts.ties, opts.figures) == (4, 0.01,
                                                                                  "inclusive", False)


def test_unknown_and_unavailable_feature_spaces_fail_with_the_reason(ring8):
    gan = testing.tiny_vector_gan(discriminator=False)
    # An unknown name is refused before the run starts, listing the known spaces.
    with pytest.raises(OptionError, match="unknown feature space 'inception'; known: auto, .*pixels"):
        ModeCollapse(features="inception", **FAST).run(gan, real=ring8, samples=64)
    section = ModeCollapse(features="discriminator", **FAST).run(gan, real=ring8, samples=64)
    assert section.status == "failed"
    assert "AnalyzerError" in section.reason and "no discriminator" in section.reason


def test_non_finite_features_fail_with_a_clear_error(ring8):
    gan = testing.tiny_vector_gan(discriminator=True)
    with torch.no_grad():
        for p in gan.discriminator.parameters():
            p.fill_(float("nan"))
    section = ModeCollapse(features="discriminator", **FAST).run(gan, real=ring8, samples=64)
    assert section.status == "failed"
    assert "AnalyzerError" in section.reason and "NaN" in section.reason


def test_too_few_samples_for_the_knn_metrics_is_said_not_hidden(ring8):
    section = ModeCollapse(**FAST).run(ring_gan([0, 1]), real=ring8, samples=5)
    assert section.status == "ok"
    assert "precision" not in section.metrics
    assert any("feature-space metrics not computed" in f.message for f in section.findings)
    assert section.metrics["modes_covered"] == 2


def test_without_real_data_it_is_skipped_with_the_reason(vector_gan):
    section = ModeCollapse().run(vector_gan, samples=32)
    assert section.status == "skipped" and "real data" in section.reason


def test_ties_option_reaches_the_metrics(ring8):
    strict = ModeCollapse(**FAST).run(ring_gan(list(range(8))), real=ring8, samples=200)
    inclusive = ModeCollapse(ties="inclusive", **FAST).run(ring_gan(list(range(8))), real=ring8,
                                                           samples=200)
    # Continuous data never tie: both conventions give the same numbers.
    for key in ("precision", "recall", "density", "coverage"):
        assert strict.metrics[key] == inclusive.metrics[key]


# ---------------------------------------------------------------------------------------------
# bootstrap=0: the same numbers and the same findings, without the intervals
# ---------------------------------------------------------------------------------------------


def test_bootstrap_never_moves_another_random_stream(ring8):
    """NDB's K-means seed and the birthday test's subsets have streams of their own: turning the
    bootstrap off (or changing its rounds) leaves every number but the intervals as it was."""
    gan = ring_gan([0, 1, 2, 3, 4, 5])
    runs = [ModeCollapse(bootstrap=b, figures=False).run(gan, real=ring8, samples=400)
            for b in (0, 50, 200)]
    points = [{k: v for k, v in r.metrics.items() if not k.endswith("_ci")} for r in runs]
    assert points[0]["ndb_bins"] == 40
    for key in ("ndb_k", "ndb_js", "ndb_k_baseline", "ndb_js_baseline"):
        assert points[0][key] == points[1][key] == points[2][key], key
    assert points[0] == points[1] == points[2]
    assert not any(k.endswith("_ci") for k in runs[0].metrics)  # no NaN intervals either
    assert "recall_ci" in runs[1].metrics


@pytest.mark.parametrize(("k", "level"), [(2, "alert"), (6, "warning"), (7, "warning")])
def test_recall_and_coverage_findings_fire_without_bootstrap(ring8, k, level):
    gan = ring_gan(list(range(k)))
    off = ModeCollapse(bootstrap=0, figures=False).run(gan, real=ring8, samples=300)
    on = ModeCollapse(bootstrap=200, figures=False).run(gan, real=ring8, samples=300)
    for key in ("recall", "coverage"):
        found = [f for f in off.findings if f.metric == key]
        assert [f.level for f in found] == [level], key
        # The same verdict as with the bootstrap interval ...
        assert [f.level for f in on.findings if f.metric == key] == [level], key
        if level == "warning":
            # ... and the finding says which rule replaced the interval.
            assert "normal-approximation interval" in found[0].message
            assert "bootstrap=0" in found[0].message
            assert found[0].threshold < off.metrics[f"{key}_baseline"]
            assert "bootstrap interval" in next(f for f in on.findings if f.metric == key).message


def test_a_faithful_generator_gets_no_recall_finding_without_bootstrap(ring8):
    section = ModeCollapse(bootstrap=0, figures=False).run(ring_gan(list(range(8))), real=ring8,
                                                           samples=300)
    assert not [f for f in section.findings if f.metric in ("recall", "coverage")]
    assert any("no sign of mode collapse" in f.message for f in section.findings)


# ---------------------------------------------------------------------------------------------
# what was not computed is said, never "no sign of mode collapse"
# ---------------------------------------------------------------------------------------------


def test_when_nothing_is_computed_each_test_is_named_with_its_reason():
    real = testing.random_vectors(400, 2)  # no modes, no labels
    section = ModeCollapse(**FAST).run(testing.tiny_vector_gan(), real=real, samples=5)
    assert section.status == "ok"
    messages = [f.message for f in section.findings]
    assert not any("no sign of mode collapse" in m for m in messages)
    assert not any(f.level in ("warning", "alert") for f in section.findings)
    expected = {"known-mode metrics": "declare no mode centres",
                "class metrics": "no labels",
                "feature-space metrics": "5 samples per set"}
    for what, why in expected.items():
        assert any(m.startswith(f"{what} not computed: ") and why in m for m in messages), what
    # The headline says the same.
    assert section.summary.startswith("no mode-collapse metric computed (")
    for short in ("no known modes", "no labels", "5 samples per set, 6 needed"):
        assert short in section.summary


def test_the_no_sign_line_names_what_it_covers(ring8):
    section = ModeCollapse(**FAST).run(ring_gan(list(range(8))), real=ring8, samples=300)
    line = next(f.message for f in section.findings if "no sign of mode collapse" in f.message)
    assert "(known modes, feature space)" in line
    assert "not computed: class metrics (no labels)" in line
    assert any(f.message == "class metrics not computed: the real data have no labels"
               for f in section.findings)


def test_only_known_modes_computed_is_said(ring8):
    # Too few samples for the k-NN metrics, but the modes are counted.
    section = ModeCollapse(**FAST).run(ring_gan(list(range(8))), real=ring8, samples=5)
    assert "precision" not in section.metrics and "modes_covered" in section.metrics
    assert any(f.message.startswith("feature-space metrics not computed: ")
               for f in section.findings)
    assert section.summary == f"{section.metrics['modes_covered']} of 8 modes covered"
    for f in section.findings:
        if "no sign of mode collapse" in f.message:
            assert "(known modes)" in f.message and "feature-space metrics (5 samples per set" \
                in f.message


# ---------------------------------------------------------------------------------------------
# the birthday-paradox test
# ---------------------------------------------------------------------------------------------


class Identity(torch.nn.Module):
    """G(z) = z: samples the standard normal exactly (infinite support)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z


class Outputs(torch.nn.Module):
    """Returns one of ``outputs`` (K rows), equally likely, chosen by the latent."""

    def __init__(self, outputs: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("outputs", outputs)

    forward = Pick.forward

    @property
    def images(self) -> torch.Tensor:
        return self.outputs


@pytest.mark.parametrize(("n", "dim"), [(300, 2), (1000, 2), (1000, 16)])
def test_a_gaussian_generator_gets_no_support_estimate(n, dim):
    """The old estimate, n(n-1)/2 ÷ pairs under a quantile threshold, gave 10^4-10^5 here: it
    measured the threshold and n. Continuous samples have no duplicates."""
    real = testing.random_vectors(4000, dim, seed=1)
    gan = ganlens.GAN(Identity(), ganlens.LatentSpec((dim,)),
                      ganlens.DataSpec("vector", (dim,), (-5.0, 5.0)))
    section = ModeCollapse(bootstrap=0, figures=False).run(gan, real=real, samples=n)
    m = section.metrics
    assert m["support_estimate"] is None and m["birthday_sample_size"] is None
    assert m["birthday_sizes_tried"] == n // 3
    found = [f for f in section.findings if f.metric == "support_estimate"]
    assert len(found) == 1 and found[0].level == "info"
    assert "no duplicates at any sample size tried: no upper bound on the support" in \
        found[0].message


@pytest.mark.parametrize("k", [50, 200])
def test_a_generator_of_k_distinct_outputs_gets_a_support_near_k(k):
    real = testing.random_vectors(4000, 8, seed=2)
    outputs = torch.randn(k, 8, generator=torch.Generator().manual_seed(k))
    gan = ganlens.GAN(Outputs(outputs), ganlens.LatentSpec((4,)),
                      ganlens.DataSpec("vector", (8,), (-5.0, 5.0)))
    section = ModeCollapse(bootstrap=0, figures=False).run(gan, real=real, samples=1000)
    m = section.metrics
    # s½(s½-1)/(2 ln 2) is within [0.72 K, 1.45 K] for K equally likely outputs.
    assert k / 1.5 <= m["support_estimate"] <= 1.5 * k, m["support_estimate"]
    found = [f for f in section.findings if f.metric == "support_estimate"]
    assert len(found) == 1 and found[0].level == "warning"
    assert f"s½ = {m['birthday_sample_size']}" in found[0].message
    assert "rests on the duplicate threshold" in found[0].message
    assert "apart" in found[0].message  # vectors: the closest distances, for a person to judge
