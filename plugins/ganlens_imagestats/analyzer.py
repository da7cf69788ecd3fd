"""The ImageStats analyzer: its metadata, options and ``analyze``; see the package's README."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import ganlens

from .metrics import (
    BANDS,
    band_powers,
    channel_histogram_distances,
    check_images,
    discriminator_quality,
    edge_density,
    lr_asymmetry,
    mean_std_images,
    power_spectrum,
    radial_profile,
    to_unit,
)

HISTOGRAM_DISTANCE = "histogram_distance"
SPECTRUM_HIGH_FREQ_RATIO = "spectrum_high_freq_ratio"
D_AUC = "d_auc"
D_ACCURACY = "d_accuracy"
MEAN_IMAGE_DIFFERENCE = "mean_image_difference"



class ImageStats(ganlens.Analyzer):
    """Fakes against reals as images: intensity histograms, mean and std images, power
    spectrum, edges and symmetry, and the discriminator as a real-vs-fake classifier."""

    name = "image_stats"
    title = "Image statistics"
    description = ("How generated images differ from real ones pixel by pixel: intensities, "
                   "mean and spread, frequency content, edges, symmetry, and how well the "
                   "discriminator tells them apart.")
    needs_images = True
    needs_real_data = True

    @dataclass
    class Options:
        bins: int = ganlens.option(64, ge=2)
        """Bins of the intensity histograms in the figure (the distance uses no bins)."""
        edge_threshold: float = ganlens.option(0.1, gt=0, lt=1)
        """Gradient magnitude (fraction of the intensity range between neighbouring pixels)
        above which a pixel counts as an edge."""
        histogram_tolerance: float = ganlens.option(0.05, gt=0, lt=1)
        """Histogram distance (fraction of the intensity range) above which a warning is given."""
        spectrum_tolerance: float = ganlens.option(2.0, gt=1)
        """Factor by which the high-frequency power may differ (either way) before a warning."""

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        section = self.new_section()
        vr = ctx.gan.data.value_range
        fake = check_images(ctx.fakes, "generated images")
        real = check_images(ctx.real.x[: ctx.n_samples], f"real images ({ctx.real.name})")
        section.metric("fake_images", len(fake), "generated images compared",
                       "hundreds or more: the statistics below are averages over them")
        section.metric("real_images", len(real), "real images compared (the first N of the "
                       "shuffled real data)", "as many as generated images")
        self._histograms(section, fake, real, vr)
        self._mean_std(section, fake, real, vr)
        self._spectrum(section, fake, real, vr)
        self._edges_symmetry(section, fake, real, vr)
        if ctx.d_fake is not None and ctx.d_real is not None:
            self._discriminator(ctx, section)
        parts = [f"histogram distance {section.metrics[HISTOGRAM_DISTANCE]:.3f}"]
        hf = section.metrics.get(SPECTRUM_HIGH_FREQ_RATIO)
        if hf is not None:
            parts.append(f"high-frequency power ratio {hf:.2f}")
        if D_AUC in section.metrics:
            parts.append(f"D's AUC {section.metrics[D_AUC]:.2f}")
        section.summary = "; ".join(parts)
        return section

    # -- parts -----------------------------------------------------------------------------
    def _histograms(self, section: ganlens.Section, fake, real, vr) -> None:
        from .figures import channel_names, histogram_figure

        dists = channel_histogram_distances(fake, real, vr)
        mean = float(np.mean(dists))
        section.metric(HISTOGRAM_DISTANCE, mean,
                       "Wasserstein-1 (earth mover's) distance between the pixel intensities of "
                       "generated and real images on the 0-1 scale, averaged over channels: how "
                       "far, on average, intensity mass must move (a uniform brightening by d "
                       "gives d)", "near 0 (below 0.02); above 0.05 the intensity "
                       "distributions visibly differ")
        names = channel_names(fake.shape[1])
        if len(dists) > 1:
            for name, dist in zip(names, dists, strict=True):
                section.metric(f"histogram_distance_{name.replace(' ', '_')}", dist,
                               f"the same distance for the {name} channel", "near 0; one "
                               "channel far off the others means a colour cast")
        tol = self.options.histogram_tolerance
        if mean > tol:
            section.finding("warning", f"the intensity distributions of generated and real images "
                            f"differ: histogram distance {mean:.3f} > {tol:g} (Wasserstein-1, "
                            "fraction of the intensity range)", metric=HISTOGRAM_DISTANCE,
                            value=mean, threshold=tol)
        section.figure(
            histogram_figure(to_unit(fake, vr), to_unit(real, vr), dists, self.options.bins),
            "intensity_histograms", title="Intensity histograms, generated and real",
            caption="Pixel intensities of generated images (blue outline) over those of real "
                    "images (grey), per channel, on the 0-1 scale of the value range, log "
                    "density. W1 in each title is the Wasserstein-1 distance (the average "
                    "intensity shift needed to turn one histogram into the other). Outlines that "
                    "trace the grey shape are good; a shifted outline means too bright or too "
                    "dark; missing peaks (e.g. pure background) mean the generator does not "
                    "reproduce saturated pixels.",
        )

    def _mean_std(self, section: ganlens.Section, fake, real, vr) -> None:
        from .figures import mean_std_figure

        mf, sf = mean_std_images(fake, vr)
        mr, sr = mean_std_images(real, vr)
        diff = mf - mr
        section.metric(MEAN_IMAGE_DIFFERENCE, float(diff.mean()),
                       "mean over pixels of (mean generated image - mean real image), 0-1 "
                       "scale: the overall brightness offset", "near 0; positive: fakes too "
                       "bright, negative: too dark")
        section.metric("mean_image_abs_difference", float(diff.abs().mean()),
                       "mean over pixels of |mean generated image - mean real image|",
                       "near 0; large values point at places the fakes get wrong on average")
        section.metric("std_image_ratio", float(sf.mean() / sr.mean()) if sr.mean() > 0 else None,
                       "mean per-pixel standard deviation of generated images divided by that of "
                       "real images", "about 1; below 1: fakes vary less than reals (collapse, "
                       "blur); above 1: more (noise)")
        section.figure(
            mean_std_figure((mf, mr), (sf, sr)), "mean_std_images",
            title="Mean and standard-deviation images",
            caption="Top row: the per-pixel mean of generated and of real images and their "
                    "difference (red: generated brighter, blue: darker). Bottom row: the per-pixel "
                    "standard deviation across images (how much each pixel varies) and its "
                    "difference (red: fakes vary more). Colour images are averaged over channels. "
                    "Good: the difference maps are pale everywhere; structure in them shows where "
                    "the generator is systematically wrong or too uniform.",
        )

    def _spectrum(self, section: ganlens.Section, fake, real, vr) -> None:
        from .figures import spectrum_figure

        spec_f, spec_r = power_spectrum(fake, vr), power_spectrum(real, vr)
        bf, br = band_powers(spec_f), band_powers(spec_r)
        ratios = {k: (bf[k] / br[k] if br[k] > 0 else math.nan) for k in bf}
        section.metric(SPECTRUM_HIGH_FREQ_RATIO, ratios["high"],
                       "power of generated images at high spatial frequencies (above 1/3 cycle "
                       "per pixel, diagonals included) divided by that of real images; mean "
                       "removed, averaged over channels", "about 1 (0.5 to 2); above: "
                       "high-frequency artefacts (checkerboards from upsampling, noise); below: "
                       "blur")
        for band in ("low", "mid"):
            section.metric(f"spectrum_{band}_freq_ratio", ratios[band],
                           f"the same power ratio in the {band} band (low: up to 1/6, mid: 1/6 "
                           "to 1/3 cycle per pixel)", "about 1; below 1 at low frequencies: "
                           "fakes lack large-scale structure")
        rows = [[name, f"{lo:.3f}-{'max' if math.isinf(hi) else f'{hi:.3f}'}", bf[name],
                 br[name], ratios[name]] for name, lo, hi in BANDS]
        section.table("spectrum_bands", "Power per frequency band",
                      ["band", "cycles per pixel", "generated power", "real power", "ratio"], rows,
                      caption="Total power (0-1 intensity scale, mean removed) in each band; the "
                              "ratio is generated over real, 1 when they match.")
        hf, tol = ratios["high"], self.options.spectrum_tolerance
        if math.isfinite(hf) and (hf > tol or hf < 1 / tol):
            what = ("more high-frequency power than real ones: look for checkerboard or noise "
                    "artefacts" if hf > tol else "less high-frequency power than real ones: "
                    "they are blurrier")
            section.finding("warning", f"generated images carry {what} (high-frequency power "
                            f"ratio {hf:.2f}, outside {1 / tol:.2g} to {tol:g})",
                            metric=SPECTRUM_HIGH_FREQ_RATIO, value=hf, threshold=tol)
        freqs, pf = radial_profile(spec_f)
        _, pr = radial_profile(spec_r)
        section.figure(
            spectrum_figure(freqs, pf, pr, ratios, tol), "power_spectrum",
            title="Radially averaged power spectrum",
            caption="Left: mean power of generated (blue) and real (grey) images at each spatial "
                    "frequency, averaged over directions and channels (log scale; the image mean "
                    "is removed). Right: their ratio, with the bands low / mid / high shaded and "
                    "each band's power ratio printed. Good: the curves overlap and the ratio "
                    "stays near 1. A ratio rising at high frequencies is the fingerprint of "
                    "upsampling artefacts or noise; a ratio falling there means blur. Beyond 0.5 "
                    "only diagonal frequencies exist (a checkerboard sits at 0.71).",
        )

    def _edges_symmetry(self, section: ganlens.Section, fake, real, vr) -> None:
        from .figures import edges_symmetry_figure

        thr = self.options.edge_threshold
        af, ar = lr_asymmetry(fake, vr), lr_asymmetry(real, vr)
        section.metric("lr_asymmetry_fake", float(af.mean()),
                       "mean over generated images of mean |image - its left-right mirror|, 0-1 "
                       "scale (0: mirror-symmetric)", "close to lr_asymmetry_real")
        section.metric("lr_asymmetry_real", float(ar.mean()), "the same for real images",
                       "the reference for lr_asymmetry_fake")
        if fake.shape[2] < 2 or fake.shape[3] < 2:
            return
        ef, er = edge_density(fake, vr, thr), edge_density(real, vr, thr)
        section.metric("edge_density_fake", float(ef.mean()),
                       f"mean fraction of pixels of a generated image whose intensity gradient "
                       f"exceeds {thr:g} (of the range, between neighbouring pixels)",
                       "close to edge_density_real")
        section.metric("edge_density_real", float(er.mean()), "the same for real images",
                       "the reference for edge_density_fake")
        section.metric("edge_density_ratio",
                       float(ef.mean() / er.mean()) if er.mean() > 0 else None,
                       "edge_density_fake / edge_density_real", "about 1; above: noisy or "
                       "fragmented fakes; below: blurry or empty fakes")
        section.figure(
            edges_symmetry_figure((ef, er), (af, ar), thr,
                                  (fake.shape[2] - 1) * (fake.shape[3] - 1)), "edges_symmetry",
            title="Edge density and left-right symmetry",
            caption=f"Left: per image, the fraction of pixels where the intensity changes by more "
                    f"than {thr:g} of the range to the next pixel (right or below). Right: per "
                    "image, the mean absolute difference from its left-right mirror image (0 = "
                    "symmetric). Generated (blue outline) over real (grey); means in the legend. "
                    "Good: the outlines follow the grey shapes. Fakes with more edges are noisy "
                    "or fragmented, with fewer blurry; a shifted asymmetry means the generator "
                    "over- or under-uses mirror symmetry.",
        )

    def _discriminator(self, ctx: ganlens.AnalysisContext, section: ganlens.Section) -> None:
        from .figures import discriminator_figure

        q = discriminator_quality(ctx.d_real, ctx.d_fake)
        section.metric(D_AUC, q.auc,
                       "ROC AUC of D's score as a classifier of real (positive) against "
                       "generated images", "near 0.5: D cannot tell them apart (the generator "
                       "fools it); near 1: D separates them perfectly")
        if ctx.gan.d_is_probabilistic:
            section.metric(D_ACCURACY, q.accuracy,
                           "balanced accuracy when sigmoid(D) >= 0.5 is called real (mean of the "
                           "accuracy on reals and on fakes)", "near 0.5 for a fooled D")
            section.metric("d_real_accuracy", q.real_accuracy,
                           "fraction of real images with sigmoid(D) >= 0.5 (called real)",
                           "near 0.5 for a fooled D; near 1 with d_fake_accuracy near 1: D wins")
            section.metric("d_fake_accuracy", q.fake_accuracy,
                           "fraction of generated images with sigmoid(D) < 0.5 (called fake)",
                           "near 0.5 for a fooled D")
        else:
            why = ("not computed: the discriminator is read as an unbounded critic's score "
                   f"({ctx.gan.d_note or 'd_output score'}), which has no decision threshold")
            for key in (D_ACCURACY, "d_real_accuracy", "d_fake_accuracy"):
                section.metric(key, None, why, "the AUC above needs no threshold")
        if q.auc >= 0.99:
            section.finding("info", f"the discriminator separates real from generated images "
                            f"almost perfectly (AUC {q.auc:.3f} >= 0.99)", metric=D_AUC,
                            value=q.auc, threshold=0.99)
        n_real = 0 if ctx.real_for_d is None else len(ctx.real_for_d)
        if ctx.real_held_out is not None:
            held = (f"D scored {n_real} real images it never trained on ({ctx.held_out_note}). ")
        else:
            held = (f"D scored {n_real} real images that may include its training data "
                    f"({ctx.held_out_note or 'no held-out split is known'}): a trained D scores "
                    "its own training images higher than unseen ones, so the AUC overstates how "
                    "well it tells unseen reals from fakes. ")
        section.metric("d_real_held_out", ctx.real_held_out is not None,
                       "whether the real images D scored are held out of its training",
                       "true (train with --holdout, or give --held-out)")
        section.figure(
            discriminator_figure(ctx.d_real, ctx.d_fake, q, ctx.gan.d_is_probabilistic),
            "d_classifier",
            title="The discriminator as a real-vs-fake classifier",
            caption=("Left: histograms of sigmoid(D) on real (grey) and generated (blue) images, "
                     "with the 0.5 decision threshold. " if ctx.gan.d_is_probabilistic else
                     "Left: histograms of the critic's raw scores on real (grey) and generated "
                     "(blue) images (an unbounded critic: no probability, no threshold). ")
                    + "Right: the ROC curve, real images as the "
                    "positive class. " + held + "An AUC near 0.5 means D cannot tell fakes from "
                    "reals; near 1, fakes are easy to spot (common for a trained D, which "
                    "usually stays ahead of its generator).",
        )
