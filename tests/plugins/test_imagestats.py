"""The image_stats analyzer: its metric functions against known answers and identities, the
analyzer on hand-made generators whose fakes are known transformations of the reals, its
options and bad input, and the analyzer contract."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from ganlens_imagestats import (
    ImageStats,
    band_powers,
    channel_histogram_distances,
    check_images,
    discriminator_quality,
    edge_density,
    lr_asymmetry,
    mean_std_images,
    power_spectrum,
    radial_profile,
    spectrum_band_ratios,
    wasserstein_1d,
)

import ganlens
from ganlens import testing
from ganlens.errors import AnalyzerError, OptionError

VR = (-1.0, 1.0)


def smooth_images(n: int, channels: int = 1, h: int = 12, w: int = 20, seed: int = 0):
    """Blurry random images in [-0.8, 0.6] (upsampled coarse noise: little high-frequency power),
    non-square on purpose."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand((n, channels, max(2, h // 4), max(2, w // 4)), generator=g)
    x = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return x * 1.4 - 0.8


class Lookup(torch.nn.Module):
    """A 'generator' that returns ``images[i]`` for the i-th latent of ``latents``: the shared
    pass of a run with the same seed gets exactly these images, in this order."""

    def __init__(self, latents: torch.Tensor, images: torch.Tensor):
        super().__init__()
        self.register_buffer("latents", latents)
        self.register_buffer("images", images)

    def forward(self, z):
        return self.images[torch.cdist(z, self.latents).argmin(1)]


class MarkerD(torch.nn.Module):
    """Scores by the first pixel: positive (real) below 0.95, negative (fake) above."""

    def forward(self, x):
        return (0.95 - x[:, 0, 0, 0]) * 100


class ConstantD(torch.nn.Module):
    def forward(self, x):
        return torch.zeros(len(x))


def lookup_gan(fakes: torch.Tensor, real: torch.Tensor, discriminator=None, seed: int = 0):
    """A GAN whose run with ``samples=len(fakes)`` and ``seed`` yields ``fakes``, and the real
    dataset; with ``samples == len(real)`` the analyzer compares against all reals."""
    spec = ganlens.DataSpec("image", tuple(real.shape[1:]), VR)
    latent = ganlens.LatentSpec((4,))
    gen = Lookup(latent.sample(len(fakes), seed), fakes)
    gan = ganlens.GAN(gen, latent, spec, discriminator)
    return gan, ganlens.Dataset("smooth", real, spec, None, "test")


# -- metric functions --------------------------------------------------------------------------


def test_wasserstein_of_a_shift_is_the_shift():
    a = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    assert wasserstein_1d(a + 0.3, a) == pytest.approx(0.3, abs=1e-6)


@pytest.mark.parametrize("n, m", [(100, 37), (400, 400), (5, 1)])
def test_wasserstein_matches_scipy(n, m):
    from scipy.stats import wasserstein_distance

    g = torch.Generator().manual_seed(n + m)
    a, b = torch.randn(n, generator=g), torch.rand(m, generator=g) * 3
    assert wasserstein_1d(a, b) == pytest.approx(wasserstein_distance(a.numpy(), b.numpy()),
                                                 rel=1e-9)


def test_brighter_fakes_recover_the_shift_per_channel():
    real = smooth_images(50, channels=3)
    dists = channel_histogram_distances(real + 0.2, real, VR)
    assert dists == pytest.approx([0.1, 0.1, 0.1], abs=1e-5)  # 0.2 of a range of 2
    mean_f, _ = mean_std_images(real + 0.2, VR)
    mean_r, _ = mean_std_images(real, VR)
    assert torch.allclose(mean_f - mean_r, torch.full_like(mean_f, 0.1), atol=1e-5)


def test_std_image_matches_torch():
    x = smooth_images(30)
    _, std = mean_std_images(x, VR)
    assert torch.allclose(std, (x / 2).std(0), atol=1e-6)


def test_power_spectrum_obeys_parseval():
    # sum over frequencies of |FFT|^2 / (H W) = sum over pixels of (x - mean)^2 = H W variance
    x = smooth_images(20, channels=2, h=9, w=14)
    u = (x + 1) / 2
    variance = u.var(dim=(2, 3), unbiased=False).mean()
    assert float(power_spectrum(x, VR).mean()) == pytest.approx(float(variance), rel=1e-6)


def test_radial_profile_peaks_at_a_sinusoids_frequency():
    h, w, f = 8, 16, 0.25
    cols = torch.cos(2 * math.pi * f * torch.arange(w))
    img = cols.expand(h, w)[None, None]
    freqs, power = radial_profile(power_spectrum(img))
    assert freqs[power.argmax()] == pytest.approx(f)
    assert power.max() > 100 * power[freqs != f].max()


def test_a_checkerboard_has_only_high_frequency_power():
    idx = torch.arange(10)
    board = ((idx[:, None] + idx[None, :]) % 2).float()[None, None]
    bands = band_powers(power_spectrum(board))
    assert bands["low"] == pytest.approx(0, abs=1e-9)
    assert bands["mid"] == pytest.approx(0, abs=1e-9)
    assert bands["high"] == pytest.approx(10 * 10 * 0.25)  # H W x the variance of a 0/1 board


def test_white_noise_raises_the_high_band_by_its_known_power():
    real = smooth_images(200, seed=1)
    sigma = 0.1  # in data units; 0.05 on the 0-1 scale
    noise = sigma * torch.randn(real.shape, generator=torch.Generator().manual_seed(2))
    ratios = spectrum_band_ratios(real + noise, real, VR)
    spec = power_spectrum(real, VR)
    n_high = int((torch.sqrt(torch.fft.fftfreq(12)[:, None] ** 2
                             + torch.fft.fftfreq(20)[None, :] ** 2) > 1 / 3).sum())
    expected = 1 + (sigma / 2) ** 2 * n_high / band_powers(spec)["high"]
    assert ratios["high"] > 1.5
    assert ratios["high"] == pytest.approx(expected, rel=0.05)
    assert ratios["high"] > ratios["mid"] > ratios["low"] > 0.99


def test_reals_against_reals_give_ratios_near_one():
    x = smooth_images(400, channels=3, seed=3)
    a, b = x[:200], x[200:]
    ratios = spectrum_band_ratios(a, b, VR)
    assert all(r == pytest.approx(1, abs=0.1) for r in ratios.values())
    assert max(channel_histogram_distances(a, b, VR)) < 0.01


def test_edge_density_and_asymmetry_of_a_step():
    h, w = 6, 10
    step = torch.zeros(1, 1, h, w)
    step[..., w // 2 :] = 1.0
    # one column of (W - 1) has a jump; 0-1 data, so the unit scale is the data scale
    assert float(edge_density(step, (0, 1), 0.1)) == pytest.approx(1 / (w - 1))
    assert float(lr_asymmetry(step, (0, 1))) == pytest.approx(1.0)
    symmetric = step + step.flip(-1)
    assert float(lr_asymmetry(symmetric, (0, 1))) == pytest.approx(0.0)


def test_discriminator_quality_known_answers():
    real, fake = torch.linspace(1, 3, 50), torch.linspace(-3, -1, 40)
    q = discriminator_quality(real, fake)
    assert q.auc == 1.0 and q.accuracy == 1.0
    q = discriminator_quality(torch.zeros(50), torch.zeros(40))
    assert q.auc == 0.5 and q.accuracy == 0.5
    with pytest.raises(AnalyzerError, match="NaN"):
        discriminator_quality(torch.tensor([0.0, math.nan]), torch.zeros(3))


def test_check_images_rejects_bad_input():
    with pytest.raises(AnalyzerError, match=r"\(N, C, H, W\)"):
        check_images(torch.zeros(4, 8), "generated images")
    bad = torch.zeros(5, 1, 4, 4)
    bad[2, 0, 1, 1] = math.nan
    with pytest.raises(AnalyzerError, match="1 of 5 images hold NaN"):
        check_images(bad, "generated images")


# -- the analyzer on hand-made generators ------------------------------------------------------


def test_analyzer_recovers_a_brightness_shift_with_a_perfect_discriminator():
    real = smooth_images(60, channels=3)
    fakes = real + 0.2
    fakes[:, 0, 0, 0] = 1.0  # the marker MarkerD reads; reals stay below 0.6
    real_marked = real.clone()
    gan, data = lookup_gan(fakes, real_marked, MarkerD())
    section = ImageStats().run(gan, real=data, samples=len(real))
    assert section.status == "ok", section.error
    m = section.metrics
    assert m["fake_images"] == m["real_images"] == 60
    assert m["mean_image_difference"] == pytest.approx(0.1, abs=2e-3)
    assert m["histogram_distance"] == pytest.approx(0.1, abs=2e-3)
    for channel in ("red", "green", "blue"):
        assert m[f"histogram_distance_{channel}"] == pytest.approx(0.1, abs=2e-3)
    assert m["d_auc"] == 1.0 and m["d_accuracy"] == 1.0
    assert {f.name for f in section.figures} == {"intensity_histograms", "mean_std_images",
                                                 "power_spectrum", "edges_symmetry",
                                                 "d_classifier"}
    levels = {f.metric: f.level for f in section.findings}
    assert levels == {"histogram_distance": "warning", "d_auc": "info"}


def test_analyzer_on_noisy_fakes_with_a_constant_discriminator():
    real = smooth_images(80, h=16, w=11, seed=4)
    noise = 0.2 * torch.randn(real.shape, generator=torch.Generator().manual_seed(5))
    gan, data = lookup_gan(real + noise, real, ConstantD())
    section = ImageStats().run(gan, real=data, samples=len(real))
    m = section.metrics
    assert m["spectrum_high_freq_ratio"] > 2
    assert m["spectrum_high_freq_ratio"] > m["spectrum_mid_freq_ratio"]
    assert m["edge_density_ratio"] > 1
    assert m["d_auc"] == 0.5 and m["d_accuracy"] == 0.5
    finding = next(f for f in section.findings if f.metric == "spectrum_high_freq_ratio")
    assert finding.level == "warning" and finding.threshold == 2.0


@pytest.mark.parametrize("options, message", [
    ({"bins": 1}, r"option image_stats.bins: expected an integer >= 2, got 1"),
    ({"bins": "many"}, "expected an integer"),
    ({"edge_threshold": 2}, r"option image_stats.edge_threshold: expected a number in \(0, 1\)"),
    ({"histogram_tolerance": 0}, r"expected a number in \(0, 1\), got 0"),
    ({"spectrum_tolerance": 0.5}, "expected a number > 1, got 0.5"),
    ({"spectrum_tolerance": "inf"}, "expected a number > 1, got inf"),
    ({"spectrum": 2}, "no option 'spectrum'"),
])
def test_bad_options_are_option_errors(options, message):
    with pytest.raises(OptionError, match=message):
        ImageStats(**options)


@pytest.mark.parametrize("kind, with_d, real, channels", [
    ("image", True, True, 1), ("image", False, True, 3), ("image", True, False, 1),
    ("vector", True, True, 1),
])
def test_contract(kind, with_d, real, channels):
    if kind == "image":
        gan = testing.tiny_image_gan(channels=channels, discriminator=with_d)
        data = testing.random_images(64, channels=channels) if real else None
    else:
        gan = testing.tiny_vector_gan(discriminator=with_d)
        data = testing.random_vectors(64) if real else None
    section = testing.check_analyzer_contract(ImageStats, gan, data, samples=32)
    assert section.status == ("ok" if kind == "image" and real else "skipped")
    if section.status == "ok":
        assert ("d_auc" in section.metrics) == with_d
        assert ("histogram_distance_green" in section.metrics) == (channels == 3)
