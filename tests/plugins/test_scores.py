"""The ``scores`` analyzer and its metric functions, against known answers: closed forms
computed independently (scipy's sqrtm, an SVD, a plain loop, the vendi-score package), analytic
values, and generators built to copy or not to copy their training data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from ganlens_scores import Scores
from ganlens_scores import copying as CP
from ganlens_scores import metrics as M

import ganlens
from ganlens import testing
from ganlens.errors import OptionError


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def gaussian(n: int, d: int, seed: int, *, shift: float = 0.0, mix: bool = True) -> np.ndarray:
    """n samples (drawn with ``seed``) of one correlated Gaussian per d (its mixing matrix is
    fixed), moved by ``shift``."""
    x = rng(seed).standard_normal((n, d))
    if mix:
        x = x @ (np.eye(d) + 0.3 * rng(1000 + d).standard_normal((d, d)))
    return (x + shift).astype(np.float32)


def fd_sqrtm(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook closed form: numpy moments and scipy's matrix square root, float64."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


# ---------------------------------------------------------------------------------------------
# Fréchet distance
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, d", [(400, 8), (2000, 64), (700, 200)])
@pytest.mark.parametrize("form", ["auto", "covariance", "gram"])
def test_fd_equals_the_sqrtm_closed_form(n, d, form):
    a = gaussian(n, d, 1)
    b = gaussian(n + 37, d, 2, shift=0.2)
    expected = fd_sqrtm(a, b)
    assert M.frechet_distance(a, b, form=form) == pytest.approx(expected, rel=1e-6)


def test_fd_of_two_known_gaussians_is_the_analytic_value():
    """N(μ₁, diag(s₁)) against N(μ₂, diag(s₂)): FD = ‖μ₁ − μ₂‖² + Σ (√s₁ − √s₂)²."""
    g = torch.Generator().manual_seed(0)
    d, n = 4, 200_000
    mu1, mu2 = torch.tensor([0.0, 1.0, -1.0, 0.5]), torch.tensor([1.0, 1.0, 0.0, 0.0])
    s1, s2 = torch.tensor([1.0, 4.0, 0.25, 2.0]), torch.tensor([2.0, 1.0, 1.0, 2.0])
    a = mu1 + s1.sqrt() * torch.randn((n, d), generator=g)
    b = mu2 + s2.sqrt() * torch.randn((n, d), generator=g)
    analytic = float(((mu1 - mu2) ** 2).sum() + ((s1.sqrt() - s2.sqrt()) ** 2).sum())
    # ‖μ₁ − μ₂‖² = 1 + 0 + 1 + 0.25; Σ (√s₁ − √s₂)² = (1 − √2)² + 1 + 0.25 + 0
    assert analytic == pytest.approx(2.25 + (1 - math.sqrt(2)) ** 2 + 1.25, rel=1e-6)
    assert M.frechet_distance(a, b) == pytest.approx(analytic, rel=0.01)


def test_fd_of_a_set_with_itself_is_zero():
    a = gaussian(500, 16, 3, shift=5.0)
    trace = float(np.trace(np.cov(a.astype(np.float64), rowvar=False)))
    for form in ("covariance", "gram"):
        assert abs(M.frechet_distance(a, a, form=form)) <= 1e-10 * trace


def test_fd_with_fewer_samples_than_dimensions_is_finite_and_exact():
    """N < d: the covariances are singular (sqrtm of their product is unreliable). The Gram form
    must equal an independent closed form, Tr (Σ₁Σ₂)^½ = ‖X₁ X₂ᵀ‖_* / √((n₁−1)(n₂−1)) (the
    nuclear norm, by numpy's SVD), and the covariance form must agree with it."""
    a = gaussian(60, 500, 4, mix=False)
    b = gaussian(45, 500, 5, shift=0.1, mix=False) * 1.5
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ac, bc = a64 - a64.mean(0), b64 - b64.mean(0)
    nuclear = np.linalg.svd(ac @ bc.T, compute_uv=False).sum() / math.sqrt(59 * 44)
    diff = a64.mean(0) - b64.mean(0)
    expected = diff @ diff + (ac * ac).sum() / 59 + (bc * bc).sum() / 44 - 2 * nuclear
    got = M.frechet_distance(a, b)
    assert math.isfinite(got) and got == pytest.approx(expected, rel=1e-9)
    assert M.frechet_distance(a, b, form="covariance") == pytest.approx(expected, rel=1e-8)
    # A shift of both sets moves nothing; the set against itself is 0 even when singular.
    assert M.frechet_distance(a + 100.0, b + 100.0) == pytest.approx(expected, rel=1e-6)
    assert M.frechet_distance(a, a) <= 1e-9 * float((ac * ac).sum() / 59)


@pytest.mark.parametrize("n, n_ref, d, form", [(300, 500, 6, "covariance"),
                                                (40, 70, 120, "gram"), (60, 50, 80, "gram")])
def test_a_bootstrap_resample_scores_as_its_rows_would(n, n_ref, d, form):
    """FDResampler's shortcut (row counts, no copies) equals FD of the resampled rows."""
    x = torch.from_numpy(gaussian(n, d, 20, shift=0.3))
    ref_x = torch.from_numpy(gaussian(n_ref, d, 21))
    res = M.FDResampler(x, M.Moments(ref_x), form=form)
    assert res.form == form
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        idx = torch.randint(n, (n,), generator=g)
        assert res.fd(idx) == pytest.approx(M.frechet_distance(x[idx], ref_x), rel=1e-9)
    assert res.fd(torch.arange(n)) == pytest.approx(M.frechet_distance(x, ref_x), rel=1e-9)


def test_fd_bootstrap_interval_is_centred_on_the_estimate():
    a, b = gaussian(300, 6, 6), gaussian(300, 6, 7, shift=0.3)
    est = M.frechet_distance(a, b)
    values = M.fd_bootstrap(torch.from_numpy(a), M.Moments(b), 40,
                            torch.Generator().manual_seed(0))
    assert len(values) == 40 and len(set(values)) == 40
    lo, hi = M.bootstrap_interval(est, values, 0.9)
    assert lo < est < hi
    # The re-centring moves the plain percentile interval by (estimate - median).
    shift = est - float(np.median(values))
    assert lo == pytest.approx(max(0.0, float(np.quantile(values, 0.05)) + shift))


def test_fd_infinity_extrapolates_the_one_over_n_bias():
    """Two sets from one distribution: FD of n samples is about c/n > 0, FD∞ about 0."""
    ref = M.Moments(gaussian(20_000, 8, 8, mix=False))
    fake = torch.from_numpy(gaussian(2000, 8, 9, mix=False))
    fit = M.fd_infinity(fake, ref, torch.Generator().manual_seed(0))
    assert len(fit.sizes) >= 10 and min(fit.sizes) == 400 and max(fit.sizes) == 2000
    assert fit.slope > 0
    assert abs(fit.value) < 0.25 * min(fit.values)


# ---------------------------------------------------------------------------------------------
# KID
# ---------------------------------------------------------------------------------------------


def kid_loop(x: np.ndarray, y: np.ndarray, pairs) -> list[float]:
    """The unbiased MMD² with k(a, b) = (aᵀb / d + 1)³, written out in float64."""
    d = x.shape[1]
    out = []
    for ix, iy in pairs:
        a, b = x[ix.numpy()].astype(np.float64), y[iy.numpy()].astype(np.float64)
        m = a.shape[0]
        kxx, kyy, kxy = ((a @ a.T) / d + 1) ** 3, ((b @ b.T) / d + 1) ** 3, ((a @ b.T) / d + 1) ** 3
        off = ~np.eye(m, dtype=bool)
        out.append(kxx[off].sum() / (m * (m - 1)) + kyy[off].sum() / (m * (m - 1))
                   - 2 * kxy.sum() / (m * m))
    return out


def test_kid_equals_a_plain_implementation_on_the_same_subsets():
    x, y = gaussian(900, 24, 10), gaussian(700, 24, 11, shift=0.15)
    pairs = M.kid_subsets(900, 700, subsets=12, subset_size=300,
                          generator=torch.Generator().manual_seed(3))
    assert all(len(ix) == len(iy) == 300 and len(set(ix.tolist())) == 300 for ix, iy in pairs)
    res = M.kid(x, y, pairs=pairs)
    expected = kid_loop(x, y, pairs)
    np.testing.assert_allclose(res.values, expected, rtol=1e-6, atol=1e-9)
    assert res.mean == pytest.approx(np.mean(expected), rel=1e-6)
    assert res.std == pytest.approx(np.std(expected), rel=1e-5)
    assert res.subset_size == 300


def test_kid_subset_size_is_capped_at_the_sample_count():
    pairs = M.kid_subsets(50, 80, subsets=3, subset_size=1000)
    assert [len(ix) for ix, _ in pairs] == [50, 50, 50]
    with pytest.raises(ValueError, match="at least 2"):
        M.kid_subsets(1, 80)


def test_kid_of_one_distribution_is_zero_within_two_std_and_a_shift_is_not():
    x, y = gaussian(2000, 16, 12), gaussian(2000, 16, 13)
    res = M.kid(x, y, subsets=100, subset_size=500, generator=torch.Generator().manual_seed(0))
    assert len(res.values) == 100 and res.std > 0
    assert abs(res.mean) <= 2 * res.std
    shifted = M.kid(x, gaussian(2000, 16, 14, shift=0.5), subsets=100, subset_size=500,
                    generator=torch.Generator().manual_seed(0))
    assert shifted.mean > 10 * shifted.std


# ---------------------------------------------------------------------------------------------
# Vendi
# ---------------------------------------------------------------------------------------------


def test_vendi_of_identical_samples_is_one_and_of_orthonormal_samples_is_n():
    one = torch.tensor([[3.0, -1.0, 2.0, 0.5]]).repeat(40, 1)
    assert M.vendi_score(one) == pytest.approx(1.0, abs=1e-6)
    basis = torch.linalg.qr(torch.randn(64, 64, generator=torch.Generator().manual_seed(0)))[0]
    assert M.vendi_score(basis[:20] * 7.0) == pytest.approx(20.0, rel=1e-6)  # n < d: n × n form
    assert M.vendi_score(basis) == pytest.approx(64.0, rel=1e-6)
    # Two directions, equally often: exactly 2; in a 3:1 ratio: exp(H(3/4, 1/4)).
    two = torch.cat([basis[:1].repeat(30, 1), basis[1:2].repeat(30, 1)])
    assert M.vendi_score(two) == pytest.approx(2.0, rel=1e-6)
    uneven = torch.cat([basis[:1].repeat(90, 1), basis[1:2].repeat(30, 1)])
    assert M.vendi_score(uneven) == pytest.approx(math.exp(-(0.75 * math.log(0.75)
                                                            + 0.25 * math.log(0.25))), rel=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # vendi-score's scipy.sparse.csr
@pytest.mark.parametrize("n, d", [(3000, 32), (40, 300)])
def test_vendi_equals_the_vendi_score_package(n, d):
    vendi = pytest.importorskip("vendi_score.vendi")
    x = np.abs(gaussian(n, d, 15))  # non-negative, like ReLU features: a clustered spectrum
    expected = vendi.score_dual(x.astype(np.float64))
    assert M.vendi_score(x) == pytest.approx(expected, rel=1e-6)
    if n <= 100:  # the primal form, K = X̂ X̂ᵀ
        k = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
        assert M.vendi_score(x) == pytest.approx(vendi.score_K(k @ k.T), rel=1e-6)


def test_the_torch_path_of_a_gpu_gives_the_numbers_of_the_numpy_path(monkeypatch):
    """On CUDA the block loops run in torch; here that path runs on the CPU, on the same data."""
    a, b = gaussian(300, 40, 30, shift=0.2), gaussian(250, 40, 31)
    wide_a, wide_b = gaussian(30, 90, 32), gaussian(40, 90, 33, shift=0.1)
    pairs = M.kid_subsets(300, 250, subsets=4, subset_size=100,
                          generator=torch.Generator().manual_seed(0))
    idx = torch.randint(300, (300,), generator=torch.Generator().manual_seed(1))
    wide_idx = torch.randint(30, (30,), generator=torch.Generator().manual_seed(2))

    def everything():
        return [M.frechet_distance(a, b), M.frechet_distance(wide_a, wide_b),
                M.FDResampler(a, M.Moments(b)).fd(idx),
                M.FDResampler(wide_a, M.Moments(wide_b)).fd(wide_idx),
                M.kid(a, b, pairs=pairs).mean, M.vendi_score(a), M.vendi_score(wide_a)]

    numpy_path = everything()
    monkeypatch.setattr(M, "NUMPY_ON_CPU", False)
    assert not M._Rows(a, None).cpu
    np.testing.assert_allclose(everything(), numpy_path, rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# The data-copying test
# ---------------------------------------------------------------------------------------------


def test_mann_whitney_z_equals_scipys_asymptotic_test():
    from scipy.stats import mannwhitneyu, norm

    g = rng(16)
    for shift in (-0.4, 0.0, 0.3):
        a = g.standard_normal(70) + shift
        b = np.round(g.standard_normal(90), 1)  # with ties
        p = mannwhitneyu(a, b, alternative="less", method="asymptotic").pvalue
        assert CP.mann_whitney_z(a, b) == pytest.approx(norm.ppf(p), rel=1e-9, abs=1e-12)
    assert CP.mann_whitney_z(np.ones(5), np.ones(7)) == 0.0


def test_kmeans_recovers_separated_clusters():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    x = torch.cat([c + 0.1 * torch.randn(50, 2, generator=g) for c in centres])
    found, labels = CP.kmeans(x, 4, generator=torch.Generator().manual_seed(1))
    assert sorted(torch.bincount(labels).tolist()) == [50, 50, 50, 50]
    for c in centres:
        assert float((found - c).norm(dim=1).min()) < 0.1
    again = CP.kmeans(x, 4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again[1], labels)


def copying_sets(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    train = torch.randn(3000, 6, generator=g)
    held = torch.randn(1500, 6, generator=g)
    copies = train[torch.randint(3000, (1000,), generator=g)] + 1e-3 * torch.randn(1000, 6,
                                                                                   generator=g)
    fresh = torch.randn(1000, 6, generator=g)
    return train, held, copies, fresh


def test_ct_of_copied_training_samples_is_strongly_negative_and_of_fresh_ones_small():
    train, held, copies, fresh = copying_sets()
    kw = dict(cells=10, min_samples=20)
    copied = CP.data_copying_test(train, held, copies, generator=torch.Generator().manual_seed(0),
                                  **kw)
    assert copied.statistic < -10
    assert copied.included.all() and (copied.z < -3).all()
    assert copied.copying_cells(-3.0) == sorted(range(10), key=lambda c: copied.z[c])
    new = CP.data_copying_test(train, held, fresh, generator=torch.Generator().manual_seed(0), **kw)
    assert abs(new.statistic) < 2.5
    assert new.copying_cells(-3.0) == [] or len(new.copying_cells(-3.0)) <= 1
    # C_T is the held-out-weighted mean of the included cells' z-scores.
    w = new.held_out_counts[new.included] / new.held_out_counts.sum()
    assert new.statistic == pytest.approx(float((w * new.z[new.included]).sum() / w.sum()))
    assert int(new.train_counts.sum()) == 3000 and int(new.generated_counts.sum()) == 1000


def test_ct_leaves_out_cells_with_too_few_samples():
    train, held, copies, _ = copying_sets(1)
    res = CP.data_copying_test(train, held, copies[:60], cells=10, min_samples=20,
                               generator=torch.Generator().manual_seed(0))
    assert not res.included.all()
    assert all(res.generated_counts[c] >= 20 for c in np.flatnonzero(res.included))
    assert CP.cells_for(1500, 20, 20) == 20 and CP.cells_for(300, 20, 20) == 7


# ---------------------------------------------------------------------------------------------
# The analyzer
# ---------------------------------------------------------------------------------------------


class Replay(torch.nn.Module):
    """Returns stored samples, picked by the latent, plus ``noise`` × the latent's tail."""

    def __init__(self, samples: torch.Tensor, noise: float) -> None:
        super().__init__()
        self.register_buffer("samples", samples)
        self.noise = noise

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))
        idx = (u * len(self.samples)).long().clamp(max=len(self.samples) - 1)
        return self.samples[idx] + self.noise * z[:, 1 : 1 + self.samples.shape[1]]


def vector_gan(samples: torch.Tensor, noise: float) -> ganlens.GAN:
    d = samples.shape[1]
    return ganlens.GAN(Replay(samples, noise), ganlens.LatentSpec((d + 1,)),
                       ganlens.DataSpec("vector", (d,), (-1.0, 1.0)))


FAST = {"bootstrap": 10, "kid_subsets": 20}


@pytest.fixture(scope="module")
def image_report():
    gan = testing.tiny_image_gan()
    real = testing.random_images(300)  # no labels: the classifier space does not apply
    return ganlens.analyze(gan, analyzers=[Scores(**FAST)], real=real, samples=150,
                           progress=False)


def test_the_section_has_every_score_the_table_and_the_figures(image_report):
    s = image_report["scores"]
    assert s.status == "ok", s.error
    assert s.metrics["spaces_computed"] == ["discriminator", "pixels", "random-conv"]
    for space in s.metrics["spaces_computed"]:
        for metric in ("fd", "fd_baseline", "kid", "kid_std", "kid_baseline", "vendi_fake",
                       "vendi_real", "ct_statistic"):
            value = s.metrics[f"{metric}/{space}"]
            assert isinstance(value, float) and math.isfinite(value), (metric, space)
        lo, hi = s.metrics[f"fd_ci/{space}"]
        assert lo <= s.metrics[f"fd/{space}"] <= hi
        assert s.metric_info[f"fd/{space}"].good.startswith("near the real baseline")
        assert "not FID" in s.metric_info[f"fd/{space}"].description
        assert s.metric_info[f"ct_statistic/{space}"].good
    # The untrained generator is far from uniform noise: FD well above the real baseline.
    assert s.metrics["fd/pixels"] > 2 * s.metrics["fd_baseline/pixels"]
    table = s.tables[0]
    assert table.featured and table.columns == ["metric", "feature space", "value", "baseline",
                                                "interval", "what good looks like"]
    fd_pixels = next(r for r in table.rows if r[:2] == ["FD", "pixels"])
    assert fd_pixels[2] == s.metrics["fd/pixels"] and fd_pixels[3] == s.metrics["fd_baseline/pixels"]
    assert not any("FID" in str(c) for r in table.rows for c in r)
    assert [f.name for f in s.figures] == ["scores_by_space", "ct_cells"]
    assert all(f.png.startswith(b"\x89PNG") and f.caption and f.title for f in s.figures)
    assert s.summary.startswith("random-conv space: FD ")


def test_an_unavailable_space_is_reported_as_not_computed_with_the_reason(image_report):
    s = image_report["scores"]
    reason = s.metrics["spaces_not_computed"]["classifier"]
    assert "labels" in reason
    assert s.metrics["fd/classifier"] is None
    assert reason in s.metric_info["fd/classifier"].description
    assert ["all", "classifier", f"not computed ({reason})", None, "", ""] in s.tables[0].rows
    assert any("classifier" in f.message and reason in f.message for f in s.findings)


def test_the_report_shows_the_table_at_the_top(image_report, tmp_path):
    import json

    image_report.save(tmp_path, formats=["html", "json", "md"])
    html = (tmp_path / "report.html").read_text()
    top = html.index('id="featured"')
    assert top < html.index('id="summary"') < html.index('id="sec-scores"')
    assert "Numbers to report" in html[top : html.index('id="summary"')]
    md = (tmp_path / "report.md").read_text()
    assert md.index("## Numbers to report") < md.index("## Findings")
    doc = json.loads((tmp_path / "report.json").read_text())
    tables = doc["sections"][0]["tables"]
    assert tables[0]["name"] == "numbers_to_report" and tables[0]["featured"] is True


def test_copying_generator_is_caught_end_to_end_with_the_training_split():
    """A generator that replays its training samples (plus tiny noise): with the context's
    training and held-out data, C_T is far below -3 and the alert names the cells; a generator
    that draws fresh samples from the same distribution passes."""
    g = torch.Generator().manual_seed(0)
    train = torch.randn(1200, 3, generator=g) * 0.3
    held = torch.randn(600, 3, generator=g) * 0.3
    fresh = torch.randn(5000, 3, generator=g) * 0.3
    spec = ganlens.DataSpec("vector", (3,), (-1.0, 1.0))
    real = ganlens.Dataset("toy", torch.cat([train, held]), spec)
    out = {}
    for name, gan in (("copy", vector_gan(train, 1e-4)), ("fresh", vector_gan(fresh, 0.0))):
        scores = Scores(spaces=["pixels"], bootstrap=0, kid_subsets=5, ct_cells=8, figures=False)
        ctx = ganlens.context(gan, real=real, samples=400, progress=False, analyzers=[scores])
        ctx.real_train = ganlens.Dataset("toy-train", train, spec)
        ctx.real_held_out = ganlens.Dataset("toy-held-out", held, spec)
        ctx.held_out_note = "test split"
        out[name] = scores.analyze(ctx)
    copy, fresh_s = out["copy"], out["fresh"]
    assert copy.metrics["ct_statistic/pixels"] < -8
    alert = next(f for f in copy.findings if f.level == "alert")
    assert alert.metric == "ct_statistic/pixels" and "the cells that copy" in alert.message
    assert any("the GAN's own training samples (1200)" in f.message for f in copy.findings)
    assert abs(fresh_s.metrics["ct_statistic/pixels"]) < 3
    assert not [f for f in fresh_s.findings if f.level == "alert"]


def test_without_a_training_split_the_reals_are_split_and_the_report_says_so(image_report):
    s = image_report["scores"]
    note = next(f.message for f in s.findings if "data-copying test used" in f.message)
    assert "random half split of the 300 real samples" in note


def test_too_few_samples_for_the_copying_test_is_a_reason_not_a_failure():
    gan = testing.tiny_vector_gan()
    section = Scores(bootstrap=0, kid_subsets=5, figures=False).run(
        gan, real=testing.random_vectors(60), samples=30)
    assert section.status == "ok"
    assert section.metrics["ct_statistic/pixels"] is None
    assert "too few" in section.metric_info["ct_statistic/pixels"].description
    assert "random-conv needs image data" in section.metrics["spaces_not_computed"]["random-conv"]


def test_fd_infinity_in_the_analyzer_has_its_metrics_row_and_figure():
    section = Scores(spaces=["pixels"], bootstrap=0, kid_subsets=5, fd_infinity=True).run(
        testing.tiny_vector_gan(dim=3), real=testing.random_vectors(600, dim=3), samples=300)
    assert section.status == "ok", section.error
    value, base = section.metrics["fd_infinity/pixels"], section.metrics["fd_infinity_baseline/pixels"]
    assert math.isfinite(value) and math.isfinite(base)
    row = next(r for r in section.tables[0].rows if r[0] == "FD∞")
    assert row[1:4] == ["pixels", value, base]
    assert "fd_infinity" in [f.name for f in section.figures]
    assert section.metrics.get("fd_ci/pixels") is None  # bootstrap=0: no interval
    assert next(r for r in section.tables[0].rows if r[0] == "FD")[4] == "none (bootstrap = 0)"


@pytest.mark.parametrize("options, message", [
    ({"kid_subset_size": 0}, "option scores.kid_subset_size: expected an integer >= 2, got 0"),
    ({"bootstrap": -1}, "option scores.bootstrap: expected an integer in [0, 10000], got -1"),
    ({"ct_threshold": 1.0}, "option scores.ct_threshold: expected a number < 0, got 1.0"),
    ({"spaces": []}, "option scores.spaces: expected all or at least one feature space name"),
    ({"spaces": "all,pixels"}, "option scores.spaces: expected all alone or a list of names"),
])
def test_bad_options_are_one_line_errors_naming_the_option(options, message):
    with pytest.raises(OptionError) as err:
        Scores(**options)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_an_unknown_feature_space_is_refused_before_any_work():
    with pytest.raises(OptionError) as err:
        ganlens.analyze(testing.tiny_vector_gan(), analyzers=[Scores(spaces="pixels,nope")],
                        real=testing.random_vectors(40), samples=20, progress=False)
    text = str(err.value)
    assert text.startswith("option scores.spaces: unknown feature space 'nope'; expected all or "
                           "names from: ") and "pixels" in text and "\n" not in text


def test_the_same_seed_gives_the_same_numbers_and_streams_are_independent():
    gan, real = testing.tiny_vector_gan(dim=3), testing.random_vectors(200, dim=3)
    kw = dict(spaces=["pixels"], kid_subsets=10, figures=False)
    a = Scores(bootstrap=8, **kw).run(gan, real=real, samples=100)
    b = Scores(bootstrap=8, **kw).run(gan, real=real, samples=100)
    c = Scores(bootstrap=0, **kw).run(gan, real=real, samples=100)
    assert a.metrics == b.metrics
    # Turning the bootstrap off moves no other number (each stream has its own seed).
    same = {k: v for k, v in a.metrics.items() if "_ci/" not in k}
    assert same == c.metrics
