"""The mode-collapse metric functions against reference implementations (prdc, scipy) and
hand-computed answers."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
import torch
from ganlens_modecollapse import metrics
from ganlens_modecollapse.neighbours import Scanner, knn, manifold_pass, nearest
from ganlens_modecollapse.stats import one_sided_greater

prdc = pytest.importorskip("prdc")



def reference_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
        return {key: float(v) for key, v in prdc.compute_prdc(real, fake, k).items()}


def features(n: int, dim: int, seed: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, dim)) * scale + shift).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# precision, recall, density, coverage
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_real", "n_fake", "dim", "k", "scale"), [
    (200, 260, 2, 5, 1.3), (300, 200, 16, 3, 1.3), (180, 180, 64, 5, 1.1), (150, 120, 300, 4, 1.02),
])
def test_compute_prdc_equals_the_prdc_package(n_real, n_fake, dim, k, scale):
    real = features(n_real, dim, seed=dim)
    fake = features(n_fake, dim, seed=dim + 1, shift=0.2 / math.sqrt(dim), scale=scale)
    ours = metrics.compute_prdc(real, fake, nearest_k=k)
    ref = reference_prdc(real, fake, k)
    for key in ("precision", "recall", "density", "coverage"):
        assert abs(ours[key] - ref[key]) <= 1e-6, (key, ours[key], ref[key])
    # Not trivially 0 or 1: the sets overlap partly.
    assert 0.05 < ours["precision"] < 0.99 and 0.05 < ours["coverage"] < 0.99


def test_separate_k_for_precision_recall_and_density_coverage():
    real, fake = features(250, 8, 1), features(220, 8, 2, shift=0.3)
    res = metrics.manifold_metrics(real, fake, k_precision_recall=3, k_density_coverage=5)
    k3, k5 = reference_prdc(real, fake, 3), reference_prdc(real, fake, 5)
    assert abs(res.precision - k3["precision"]) <= 1e-6
    assert abs(res.recall - k3["recall"]) <= 1e-6
    assert abs(res.density - k5["density"]) <= 1e-6
    assert abs(res.coverage - k5["coverage"]) <= 1e-6
    assert metrics.precision_recall(real, fake, 3) == pytest.approx((k3["precision"], k3["recall"]))
    assert metrics.density_coverage(real, fake, 5) == pytest.approx((k5["density"], k5["coverage"]))


def test_blocks_never_change_the_answer():
    real, fake = features(230, 5, 3), features(190, 5, 4, shift=0.5)
    whole = metrics.manifold_metrics(real, fake)
    tiny_blocks = metrics.manifold_metrics(real, fake, block_elems=500)
    assert torch.equal(whole.precision_hits, tiny_blocks.precision_hits)
    assert torch.equal(whole.density_counts, tiny_blocks.density_counts)
    assert torch.equal(whole.recall_hits, tiny_blocks.recall_hits)
    assert torch.equal(whole.coverage_hits, tiny_blocks.coverage_hits)
    # At most block_elems distances exist at once.
    sc = Scanner(torch.from_numpy(real), torch.from_numpy(fake), block_elems=500)
    blocks = [(r1 - r0, c1 - c0) for r0, r1, c0, c1, _ in sc]
    assert len({c for _, c in blocks}) > 1 and all(r * c <= 500 for r, c in blocks)


def test_knn_and_nearest_match_brute_force():
    x = torch.from_numpy(features(300, 6, 5))
    full = torch.cdist(x.double(), x.double())
    full.fill_diagonal_(math.inf)
    ref_d, ref_i = full.topk(4, largest=False)
    res = knn(x, 4, indices=True, block_elems=1000)
    assert torch.allclose(res["distances"].double(), ref_d, atol=1e-5)
    assert torch.equal(res["indices"], ref_i)
    q = torch.from_numpy(features(40, 6, 6))
    d, i = nearest(q, x, 2, block_elems=500)
    ref_d, ref_i = torch.cdist(q.double(), x.double()).topk(2, largest=False)
    assert torch.allclose(d.double(), ref_d, atol=1e-5) and torch.equal(i, ref_i)


def test_identical_vectors_are_exactly_zero_apart():
    x = torch.from_numpy(features(50, 64, 7, shift=30.0))  # large norms: the expansion cancels
    x[10] = x[3]
    d = knn(x, 1)["distances"][:, 0]
    assert d[3] == 0.0 and d[10] == 0.0
    assert (d[torch.arange(50) != 3][:8] > 0).all()


# ---------------------------------------------------------------------------------------------
# ties: < (prdc) and <= (inclusive), prdc issue #7
# ---------------------------------------------------------------------------------------------


def test_prdc_issue_7_identical_points():
    """All features identical: every radius is 0. prdc's `<` counts nothing; `≤` counts all."""
    ones = np.ones((64, 32), dtype=np.float32)
    strict = metrics.compute_prdc(ones, ones, nearest_k=5)
    assert strict == pytest.approx(reference_prdc(ones, ones, 5))
    assert strict == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    inclusive = metrics.compute_prdc(ones, ones, nearest_k=5, inclusive=True)
    assert inclusive == {"precision": 1.0, "recall": 1.0, "density": 64 / 5, "coverage": 1.0}


def test_a_point_exactly_on_a_ball_boundary():
    # Reals on the integers 0..9 (k=1: every radius is 1). Fake 10.0 lies exactly 1 from real 9,
    # on the boundary of its ball; fake 4.5 lies strictly inside the balls of 4 and 5; fake 20.0
    # is outside every ball.
    real = np.arange(10, dtype=np.float32)[:, None]
    fake = np.array([[10.0], [4.5], [20.0]], dtype=np.float32)
    strict = metrics.manifold_metrics(real, fake, k_precision_recall=1, k_density_coverage=1)
    inclusive = metrics.manifold_metrics(real, fake, k_precision_recall=1, k_density_coverage=1,
                                         inclusive=True)
    assert strict.precision == pytest.approx(1 / 3) == reference_prdc(real, fake, 1)["precision"]
    assert inclusive.precision == pytest.approx(2 / 3)
    assert strict.density_counts.tolist() == [0, 2, 0]
    assert inclusive.density_counts.tolist() == [1, 2, 0]


def test_manifold_pass_rejects_nothing_silently():
    with pytest.raises(ValueError, match="k_precision_recall"):
        metrics.manifold_metrics(features(5, 2, 0), features(5, 2, 1), k_precision_recall=5)
    with pytest.raises(ValueError, match="dimensions differ"):
        manifold_pass(torch.zeros(4, 2), torch.zeros(4, 3), torch.ones(4), torch.ones(4), torch.ones(4))
    with pytest.raises(ValueError, match="2-D"):
        knn(torch.zeros(5), 1)


# ---------------------------------------------------------------------------------------------
# NDB, the z-test, divergences
# ---------------------------------------------------------------------------------------------


def test_two_proportion_z_test_hand_computed_and_against_scipy():
    from scipy.stats import norm

    # 60 of 200 real samples in a bin (0.30) against 20 of 100 fakes (0.20):
    # pooled p = 80/300, se = sqrt(p(1-p)(1/200 + 1/100)) = 0.054160, z = 0.10/se = 1.84637.
    z, p = metrics.two_proportion_z_test(0.30, 200, 0.20, 100)
    pooled = 80 / 300
    se = math.sqrt(pooled * (1 - pooled) * (1 / 200 + 1 / 100))
    assert se == pytest.approx(0.054160, abs=1e-6)
    assert float(z) == pytest.approx(0.10 / se, rel=1e-12) == pytest.approx(1.84637, abs=1e-5)
    assert float(p) == pytest.approx(2 * norm.sf(0.10 / se), rel=1e-12)
    assert float(p) == pytest.approx(0.064839, abs=1e-6)
    # One-sided: half the two-sided p-value in the direction of the difference.
    assert one_sided_greater(60, 200, 20, 100) == pytest.approx(norm.sf(0.10 / se), rel=1e-9)
    # No variance: not significant.
    z0, p0 = metrics.two_proportion_z_test(0.0, 10, 0.0, 10)
    assert float(z0) == 0.0 and float(p0) == 1.0


def test_ndb_from_counts_hand_computed():
    from scipy.spatial.distance import jensenshannon

    res = metrics.ndb_from_counts([50, 30, 20], [20, 30, 50], alpha=0.05)
    # Bin 0: 0.5 vs 0.2 and bin 2: 0.2 vs 0.5 differ (|z| = 4.33); bin 1: 0.3 vs 0.3 does not.
    assert res.significant.tolist() == [True, False, True]
    assert res.ndb == 2 and res.ndb_k == pytest.approx(2 / 3)
    assert abs(float(res.z[0])) == pytest.approx(0.3 / math.sqrt(0.35 * 0.65 * 0.02), rel=1e-9)
    assert res.js == pytest.approx(jensenshannon([5, 3, 2], [2, 3, 5], base=2) ** 2, rel=1e-9)


def test_kmeans_finds_separated_clusters_and_ndb_sees_a_dropped_one():
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    which = torch.arange(400) % 4
    real = centres[which] + 0.3 * torch.randn(400, 2, generator=gen)
    found, labels = metrics.kmeans(real, 4, seed=1)
    for c in range(4):  # each true cluster is exactly one bin
        assert labels[which == c].unique().numel() == 1
    assert labels.unique().numel() == 4
    fake = centres[torch.arange(300) % 3] + 0.3 * torch.randn(300, 2, generator=gen)  # drops one
    res = metrics.ndb(real, fake, bins=4, seed=1)
    assert res.ndb == 4  # the dropped bin, and the three that hold a third instead of a quarter
    same = metrics.ndb(real, centres[torch.arange(400) % 4] + 0.3 * torch.randn(400, 2, generator=gen),
                       bins=4, seed=1)
    assert same.ndb == 0


def test_divergences_against_scipy():
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import entropy

    rng = np.random.default_rng(0)
    p, q = rng.random(12), rng.random(12)
    assert metrics.kl_divergence(p, q) == pytest.approx(entropy(p, q, base=2), rel=1e-12)
    assert metrics.js_divergence(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-9)
    assert metrics.kl_divergence([1, 0], [0, 1]) == math.inf
    assert metrics.js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# duplicates, memorisation, modes, classes, intervals
# ---------------------------------------------------------------------------------------------


def test_duplicates_hand_built():
    x = torch.from_numpy(features(100, 8, 9))
    # Point 0 three more times (4 identical: 6 pairs) and point 5 once more (1 pair).
    x = torch.cat([x, x[[0, 0, 0, 5]]])
    res = metrics.duplicates(x, threshold=0.0)
    assert res.pairs == 7
    assert res.fraction == pytest.approx(6 / 104)
    assert not hasattr(res, "support_estimate")  # the birthday test is its own function now
    # The default threshold: the 1% quantile of the real nearest-other distances.
    real = torch.from_numpy(features(120, 8, 14))
    full = torch.cdist(real.double(), real.double()).fill_diagonal_(math.inf)
    expected = float(np.quantile(full.min(1).values.numpy(), 0.01))
    assert metrics.duplicate_threshold(real, 0.01) == pytest.approx(expected, rel=1e-5)
    clean = metrics.duplicates(x[:100], threshold=0.0)
    assert clean.pairs == 0 and clean.fraction == 0.0


# ---------------------------------------------------------------------------------------------
# the birthday-paradox test (Arora & Zhang 2017)
# ---------------------------------------------------------------------------------------------


def test_pairs_within_hand_built_and_from_the_knn_shortcut():
    x = torch.from_numpy(features(300, 3, 15))
    x = torch.cat([x, x[[4, 4, 9]]])  # rows 300, 301 copy 4 and 302 copies 9: pairs (4,300),
    pairs = metrics.pairs_within(x, 0.0)  # (4,301), (300,301), (9,302)
    assert sorted(map(tuple, pairs.tolist())) == [(4, 300), (4, 301), (9, 302), (300, 301)]
    assert metrics.pairs_within(x, 0.0, max_pairs=3) is None
    # A larger threshold: the k-NN shortcut (no distance recomputed) equals the full pass,
    # and both equal brute force.
    res = knn(x, 3, indices=True)
    thr = float(res["distances"][:, 0].quantile(0.05))
    full = torch.cdist(x.double(), x.double()).float()
    brute = {(i, j) for i, j in torch.nonzero(full <= thr).tolist() if i < j}
    assert set(map(tuple, metrics.pairs_within(x, thr).tolist())) == brute
    assert set(map(tuple, metrics.pairs_within(x, thr, knn_result=res).tolist())) == brute


def test_birthday_curve_of_one_pair_is_the_exact_probability():
    # One duplicate pair among m = 40 samples: a random subset of s holds both with
    # probability s(s-1) / (m(m-1)). 4000 rounds: sd of each share ≤ 0.008.
    x = torch.from_numpy(features(40, 4, 16))
    x[39] = x[0]
    res = metrics.birthday_test(x, 0.0, rounds=4000, generator=torch.Generator().manual_seed(0))
    assert res.pairs == 1 and res.sizes_tried == 13 and res.samples == 40
    s = np.arange(1, 14)
    assert np.abs(res.curve - s * (s - 1) / (40 * 39)).max() < 0.035
    # Subsets of a third of the samples hold the pair a ninth of the time: never half.
    assert res.sample_size is None and res.support_estimate is None


@pytest.mark.parametrize("k", [10, 50, 200, 1000])
def test_birthday_test_on_k_equally_likely_outputs_gives_about_k(k):
    outcomes = torch.from_numpy(features(k, 6, 17))
    gen = torch.Generator().manual_seed(k)
    draws = outcomes[torch.randint(k, (2000,), generator=gen)]
    res = metrics.birthday_test(draws, 0.0, generator=gen)
    # s½(s½-1)/(2 ln 2) lies within [0.72 K, 1.45 K] for K equally likely outcomes (the
    # integer s½ straddles the exact crossing); with sampling noise: within a factor 1.5.
    assert res.sample_size is not None
    assert k / 1.5 <= res.support_estimate <= 1.5 * k, res.support_estimate
    assert res.support_estimate == pytest.approx(
        res.sample_size * (res.sample_size - 1) / (2 * math.log(2)))


def test_birthday_test_with_many_pairs_runs_on_a_random_half():
    draws = torch.from_numpy(features(3, 4, 18))[torch.arange(3000) % 3]  # 1.5M exact pairs
    res = metrics.birthday_test(draws, 0.0, max_pairs=200_000)
    assert res.samples < 3000 and res.index.unique().numel() == res.samples
    assert res.pairs <= 200_000
    # 3 equally likely outputs: 2 samples repeat with probability 1/3, 3 with 7/9.
    assert res.sample_size == 3
    assert res.support_estimate == pytest.approx(6 / (2 * math.log(2)))


@pytest.mark.parametrize(("n", "dim"), [(300, 2), (1000, 2), (1000, 16), (2000, 64)])
def test_birthday_test_on_gaussian_samples_finds_no_support(n, dim):
    # Continuous samples have no duplicates closer than the closest pair of 2n samples of the
    # same distribution: no size reaches half, so no support is estimated (the old estimate,
    # n(n-1)/2 ÷ pairs under a quantile threshold, gave 10^5 here whatever the generator).
    real = torch.from_numpy(features(2 * n, dim, 19))
    fake = torch.from_numpy(features(n, dim, 20))
    res = metrics.birthday_test(fake, metrics.birthday_threshold(real))
    assert res.sample_size is None and res.support_estimate is None
    assert res.sizes_tried == n // 3 and res.curve.max() < 0.5


def test_memorisation_of_copies_and_of_fresh_samples():
    train = torch.from_numpy(features(600, 4, 11))
    heldout = torch.from_numpy(features(300, 4, 12))
    copies = train[torch.arange(0, 600, 3)]
    assert metrics.memorisation(copies, train, heldout, quantile=0.05).fraction == 1.0
    fresh = torch.from_numpy(features(300, 4, 13))
    res = metrics.memorisation(fresh, train, heldout, quantile=0.05)
    # A fresh sample falls under the held-out 5% quantile about 5% of the time
    # (binomial sd with n = 300 is 1.3 points; the quantile itself is estimated from 300).
    assert abs(res.fraction - 0.05) < 0.05
    assert res.threshold == pytest.approx(float(np.quantile(res.heldout_distance.numpy(), 0.05)))


def test_mode_coverage_hand_built():
    centres = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    std = 0.01
    samples = torch.tensor([
        [0.0, 0.0], [0.01, 0.01], [0.0, 0.029],  # mode 0, all within 3 std = 0.03
        [1.0, 0.02],                              # mode 1
        [0.5, 0.5],                               # far from every mode: low quality
        [0.0, 1.031],                             # just outside mode 2's radius
    ])
    res = metrics.mode_coverage(samples, centres, std)
    assert res.radius == pytest.approx(0.03)
    assert res.counts.tolist() == [3, 1, 0, 0]
    assert res.modes_covered == 2 and res.modes_total == 4
    assert res.high_quality_fraction == pytest.approx(4 / 6)
    assert metrics.mode_coverage(samples, centres, std, min_samples_per_mode=2).modes_covered == 1


def test_quality_radius_keeps_the_two_dimensional_share_in_any_dimension():
    from scipy.stats import chi2

    assert metrics.quality_radius(0.05, 2) == pytest.approx(0.15)
    for dim in (1, 3, 10, 100):
        r = metrics.quality_radius(0.05, dim)
        assert chi2.cdf((r / 0.05) ** 2, dim) == pytest.approx(1 - math.exp(-4.5), rel=1e-9)


def test_class_coverage_hand_computed():
    from scipy.stats import entropy

    real = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    pred = torch.tensor([0] * 60 + [1] * 38 + [2] * 2)
    res = metrics.class_coverage(pred, real, 4, min_count=3)
    assert res.classes_total == 3  # class 3 never appears in the real data
    assert res.classes_covered == 2  # class 2 holds 2 < 3 samples
    assert res.class_kl == pytest.approx(entropy([60, 38, 2], [50, 30, 20], base=2), rel=1e-12)
    assert res.share_ratio[:3] == pytest.approx([1.2, 38 / 30, 0.1])
    # The classifier's error rate sets the minimum: 3% of 200 samples is 6.
    assert metrics.coverage_min_count(200, 0.97, 1) == 6
    assert metrics.coverage_min_count(200, 1.0, 1) == 1


def test_bootstrap_interval_is_reproducible_and_sensible():
    values = np.r_[np.ones(30), np.zeros(70)]
    a = metrics.bootstrap_mean_ci(values, rounds=500, seed=3)
    assert a == metrics.bootstrap_mean_ci(values, rounds=500, seed=3)
    assert a[0] < 0.3 < a[1]
    # The normal approximation of a proportion's 95% interval: 0.3 ± 1.96·sqrt(0.21/100).
    assert a[1] - a[0] == pytest.approx(2 * 1.96 * math.sqrt(0.21 / 100), rel=0.2)
    assert metrics.bootstrap_mean_ci(np.full(20, 0.4), rounds=50) == pytest.approx((0.4, 0.4))
