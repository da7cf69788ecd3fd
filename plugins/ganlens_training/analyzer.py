"""The Training analyzer: its metadata, options and ``analyze``; see the package's README."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import ganlens
from ganlens.errors import OptionError, SkipAnalysis

from .detect import (
    History,
    Onset,
    detect_discriminator_wins,
    detect_divergence,
    detect_diversity_drop,
    detect_nonfinite,
    detect_oscillation,
    read_history,
)

FINAL_D_REAL = "final_d_real"
FINAL_D_FAKE = "final_d_fake"
INSTABILITY_EPOCH = "instability_epoch"
FINAL_DIVERSITY_RATIO = "final_diversity_ratio"


# rule -> (finding level, what it means for a reader)
RULES = {
    "nan": ("alert", "the losses or gradients became NaN or infinite"),
    "divergence": ("alert", "a loss diverged"),
    "discriminator_wins": ("warning", "the discriminator won outright"),
    "oscillation": ("warning", "the losses started to oscillate"),
    "diversity_drop": ("alert", "sample diversity collapsed"),
}


def check_history(history: History, *, d_fake_floor: float = 0.05, patience: int = 3,
                  variance_growth: float = 4.0, divergence_factor: float = 10.0,
                  diversity_drop: float = 0.5) -> dict[str, Onset | None]:
    """Run every rule on ``history``: rule name → its :class:`Onset`, or None when it passed."""
    return {
        "nan": detect_nonfinite(history),
        "divergence": detect_divergence(history, divergence_factor, patience),
        "discriminator_wins": detect_discriminator_wins(history, d_fake_floor, patience),
        "oscillation": detect_oscillation(history, variance_growth, patience),
        "diversity_drop": detect_diversity_drop(history, diversity_drop, patience),
    }


def _last_finite(v: np.ndarray) -> float | None:
    finite = v[np.isfinite(v)]
    return float(finite[-1]) if len(finite) else None


class Training(ganlens.Analyzer):
    """Training dynamics from the checkpoint's history: curves and the epoch where trouble
    started (NaN or divergence, the discriminator winning, oscillation, collapse)."""

    name = "training"
    title = "Training dynamics"
    description = ("Was training stable? Losses, discriminator outputs, gradient norms and "
                   "sample diversity over training, with the epoch where trouble started.")
    uses_samples = False

    @dataclass
    class Options:
        smoothing: int = 0
        """Moving-average window of the per-step curves, in steps (0: 1/50 of the steps)."""
        d_fake_floor: float = 0.05
        """Mean D(G(z)) per epoch below which the discriminator is winning outright."""
        patience: int = 3
        """Consecutive epochs (or windows) a condition must hold, unless it holds to the end."""
        variance_growth: float = 4.0
        """Factor over the median earlier windowed loss variance that counts as oscillation."""
        divergence_factor: float = 10.0
        """Factor over a loss's early scale that counts as divergence."""
        diversity_drop: float = 0.5
        """Fraction of the reference diversity below which collapse has begun."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        o = self.options
        if o.smoothing < 0:
            raise OptionError(f"option training.smoothing: expected 0 (auto) or a positive "
                              f"number of steps, got {o.smoothing}")
        if o.patience < 1:
            raise OptionError(f"option training.patience: expected at least 1 epoch, got "
                              f"{o.patience}")
        for key in ("d_fake_floor", "diversity_drop"):
            value = getattr(o, key)
            if not 0 < value < 1:
                raise OptionError(f"option training.{key}: expected a number between 0 and 1, "
                                  f"got {value}")
        for key in ("variance_growth", "divergence_factor"):
            value = getattr(o, key)
            if not (value > 1 and math.isfinite(value)):
                raise OptionError(f"option training.{key}: expected a factor above 1, got {value}")

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        raw = ctx.gan.history
        if raw is None:
            raise SkipAnalysis("this GAN carries no training history (only checkpoints written "
                               "by `ganlens train` record one)")
        h = read_history(raw)
        if h.num_epochs == 0:
            raise SkipAnalysis("the training history is empty (saved before the first epoch)")
        o = self.options
        onsets = check_history(h, d_fake_floor=o.d_fake_floor, patience=o.patience,
                               variance_growth=o.variance_growth,
                               divergence_factor=o.divergence_factor,
                               diversity_drop=o.diversity_drop)
        found = sorted((x for x in onsets.values() if x is not None), key=lambda x: x.epoch)
        section = self.new_section()
        self._metrics(section, h, found)
        for onset in found:
            level, meaning = RULES[onset.rule]
            section.finding(
                level,
                f"{meaning} from epoch {onset.epoch}: {onset.quantity} = {onset.value:.3g} "
                f"crossed the threshold {onset.threshold:.3g} ({onset.detail})"
                if onset.rule != "nan" else f"{meaning} in epoch {onset.epoch} ({onset.detail})",
                metric=f"{onset.rule}_epoch", value=onset.epoch,
            )
        self._table(section, h, onsets)
        self._figures(section, h, found)
        section.summary = (
            f"{h.num_epochs} epochs; stable by every check" if not found else
            f"{h.num_epochs} epochs; trouble from epoch {found[0].epoch}: "
            + "; ".join(f"{RULES[x.rule][1]} (epoch {x.epoch})" for x in found)
        )
        return section

    def _metrics(self, section: ganlens.Section, h: History, found: list[Onset]) -> None:
        section.metric(INSTABILITY_EPOCH, found[0].epoch if found else None,
                       "the first epoch where any stability check failed (NaN or divergence, "
                       "D winning outright, oscillation, collapse); null when all passed",
                       "null (stable)")
        section.metric(FINAL_D_REAL, _last_finite(h.per_epoch["d_real"]),
                       "mean sigmoid(D(x)) on real batches in the last epoch",
                       "about 0.5 to 0.8; near 1 with final_d_fake near 0: D wins outright")
        section.metric(FINAL_D_FAKE, _last_finite(h.per_epoch["d_fake"]),
                       "mean sigmoid(D(G(z))) on generated batches in the last epoch",
                       "about 0.2 to 0.5; near 0: D rejects every fake and G gets no signal")
        for rule, (_level, meaning) in RULES.items():
            onset = next((x for x in found if x.rule == rule), None)
            section.metric(f"{rule}_epoch", onset.epoch if onset else None,
                           f"the epoch from which {meaning.removeprefix('the ')}; null when "
                           "that check passed", "null")
        section.metric("epochs", h.num_epochs, "epochs in the history",
                       "enough for the curves to settle; the rules need 3 or more")
        section.metric("steps", h.num_steps, "optimisation steps in the history (0: per-epoch "
                       "values only)", "recorded (> 0), so oscillation can be checked")
        for key in ("d_loss", "g_loss"):
            section.metric(f"final_{key}", _last_finite(h.per_epoch[key]),
                           f"mean {key.replace('_', ' ').replace('d ', 'D ').replace('g ', 'G ')} "
                           "in the last epoch", "finite and steady rather than climbing")
        if h.has("diversity") and h.real_diversity:
            section.metric(FINAL_DIVERSITY_RATIO,
                           _last_finite(h.per_epoch["diversity"]) / h.real_diversity,
                           "diversity of the fixed latent batch's samples in the last epoch "
                           "divided by the real data's (mean pairwise distance)",
                           "about 1; far below 1: collapse; far above: noisy samples")

    def _table(self, section: ganlens.Section, h: History,
               onsets: dict[str, Onset | None]) -> None:
        o = self.options
        rules = {
            "nan": "any loss or gradient norm is NaN or infinite",
            "divergence": f"|loss| per epoch > {o.divergence_factor:g} x its early scale",
            "discriminator_wins": f"mean D(G(z)) per epoch < {o.d_fake_floor:g} and G loss rising",
            "oscillation": f"windowed loss variance > {o.variance_growth:g} x median earlier level",
            "diversity_drop": f"diversity < {o.diversity_drop:g} x min(best so far, real)",
        }
        needs = {"discriminator_wins": h.has("d_fake"), "oscillation": h.num_steps > 0,
                 "diversity_drop": h.has("diversity")}
        rows = []
        for rule, text in rules.items():
            onset = onsets[rule]
            if onset is not None:
                status, epoch = RULES[rule][0], onset.epoch
            else:
                status, epoch = ("passed" if needs.get(rule, True) else "not recorded"), None
            rows.append([rule, text, status, epoch])
        section.table("checks", "Stability checks", ["check", "rule", "result", "from epoch"],
                      rows, caption=f"Each condition must hold for {o.patience} consecutive epochs "
                                    "(or to the end of training) to count as a failure, shown "
                                    "with its level and first epoch; 'not recorded' means the "
                                    "history lacks what the check needs.")

    def _figures(self, section: ganlens.Section, h: History, found: list[Onset]) -> None:
        from .figures import curves_figure, diversity_figure, stability_figure

        window = self.options.smoothing or max(1, h.num_steps // 50)
        marks = ("Dashed vertical lines mark the start of the epoch where a check failed. "
                 if found else "No check failed, so no epoch is marked. ")
        raw = (f"Bold lines are moving averages over {window} step(s); the faint lines behind "
               "are the raw per-step values. " if h.num_steps else
               "The history holds per-epoch values only. ")
        section.figure(
            curves_figure(h, found, window), "curves", title="Losses and discriminator outputs",
            caption=raw + marks + "Left: D and G losses. Right: mean sigmoid(D) on real (D(x)) and "
                    "generated (D(G(z))) batches. Healthy training settles with D(x) and D(G(z)) "
                    "apart but neither pinned at 0 or 1; D(G(z)) sinking towards 0 while the G "
                    "loss climbs is the discriminator winning outright.",
        )
        section.figure(
            stability_figure(h, found, window, self.options.variance_growth), "stability",
            title="Gradient norms and loss variance",
            caption=raw + marks + "Left: L2 norms of all gradients of D and G per step (log "
                    "scale); spikes or steady growth precede divergence. Right: variance of each "
                    "loss within windows of whole epochs, around the window's straight-line trend "
                    "(log scale); the dotted lines are the oscillation thresholds, "
                    f"{self.options.variance_growth:g} x the median of the earlier windows (the "
                    "first, the start-up transient, left out). Points "
                    "staying above it mean the losses swing more and more.",
        )
        if h.has("diversity"):
            section.figure(
                diversity_figure(h, found, self.options.diversity_drop), "diversity",
                title="Sample diversity per epoch",
                caption="Mean pairwise Euclidean distance between the samples of one fixed "
                        "latent batch after each epoch (blue), and between as many random real "
                        "samples (grey dashed). The red dotted line is the collapse threshold: "
                        f"{self.options.diversity_drop:g} x the best diversity reached so far, "
                        "capped at the real level. Blue falling below red and staying there is "
                        "the onset of mode collapse; blue near grey is healthy.",
            )
