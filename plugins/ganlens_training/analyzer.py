"""The Training analyzer: its metadata, options and ``analyze``; see the package's README."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import ganlens
from ganlens.errors import SkipAnalysis

from .detect import (
    History,
    NotRun,
    Onset,
    detect_discriminator_wins,
    detect_divergence,
    detect_diversity_drop,
    detect_nonfinite,
    detect_oscillation,
    detect_swings,
    read_history,
)

FINAL_D_REAL = "final_d_real"
FINAL_D_FAKE = "final_d_fake"
INSTABILITY_EPOCH = "instability_epoch"
FINAL_DIVERSITY_RATIO = "final_diversity_ratio"
CHECKS_NOT_RUN = "checks_not_run"


# rule -> (finding level, what it means for a reader)
RULES = {
    "nan": ("alert", "the losses or gradients became NaN or infinite"),
    "divergence": ("alert", "a loss diverged"),
    "discriminator_wins": ("warning", "the discriminator won outright"),
    "oscillation": ("warning", "the losses started to oscillate"),
    "swings": ("warning", "the per-step losses started to swing within an epoch"),
    "diversity_drop": ("alert", "sample diversity collapsed"),
}

PASSED, FLAGGED, NOT_RUN = "passed", "flagged", "not run"


def check_history(history: History, *, d_fake_floor: float = 0.05, patience: int = 3,
                  variance_growth: float = 4.0, divergence_factor: float = 10.0,
                  diversity_drop: float = 0.5) -> dict[str, Onset | NotRun | None]:
    """Run every rule on ``history``: rule name → its :class:`Onset` when it flagged trouble, a
    :class:`NotRun` (with the reason) when the history cannot support it, or None when it ran
    and passed (see :func:`outcome`)."""
    return {
        "nan": detect_nonfinite(history),
        "divergence": detect_divergence(history, divergence_factor, patience),
        "discriminator_wins": detect_discriminator_wins(history, d_fake_floor, patience),
        "oscillation": detect_oscillation(history, variance_growth, patience),
        "swings": detect_swings(history, variance_growth, patience),
        "diversity_drop": detect_diversity_drop(history, diversity_drop, patience),
    }


def outcome(result: Onset | NotRun | None) -> str:
    """A rule's result in words: ``flagged``, ``not run`` or ``passed`` (ran, found nothing)."""
    if isinstance(result, Onset):
        return FLAGGED
    if isinstance(result, NotRun):
        return NOT_RUN
    return PASSED


def headline(num_epochs: int, results: dict[str, Onset | NotRun | None]) -> str:
    """The section's summary: "stable by every check" only when every check ran and passed."""
    found = sorted((x for x in results.values() if isinstance(x, Onset)), key=lambda x: x.epoch)
    not_run = [x for x in results.values() if isinstance(x, NotRun)]
    ran = len(results) - len(not_run)
    epochs = f"{num_epochs} epoch{'' if num_epochs == 1 else 's'}"
    skipped = ""
    if not_run:
        why: dict[str, list[str]] = {}
        for x in not_run:
            why.setdefault(x.short, []).append(x.rule)
        skipped = f"{len(not_run)} not run (" + "; ".join(
            f"{', '.join(rules)}: {short}" for short, rules in why.items()) + ")"
    if found:
        return (f"{epochs}; trouble from epoch {found[0].epoch}: "
                + "; ".join(f"{RULES[x.rule][1]} (epoch {x.epoch})" for x in found)
                + (f"; {skipped}" if skipped else ""))
    if not not_run:
        return f"{epochs}; stable by every check"
    if not ran:
        return f"{epochs}; no check could run: {skipped}"
    return (f"{epochs}; no instability found by {ran} of {len(results)} checks; "
            f"{skipped}")


def _last_finite(v: np.ndarray) -> float | None:
    finite = v[np.isfinite(v)]
    return float(finite[-1]) if len(finite) else None


class Training(ganlens.Analyzer):
    """Training dynamics from the checkpoint's history: curves and the epoch where trouble
    started (NaN or divergence, the discriminator winning, oscillation or swings, collapse);
    each check passed, flagged, or not run with the reason."""

    name = "training"
    title = "Training dynamics"
    description = ("Was training stable? Losses, discriminator outputs, gradient norms and "
                   "sample diversity over training, with the epoch where trouble started.")
    uses_samples = False

    @dataclass
    class Options:
        smoothing: int = ganlens.option(0, ge=0)
        """Moving-average window of the per-step curves, in steps (0: 1/50 of the steps)."""
        d_fake_floor: float = ganlens.option(0.05, gt=0, lt=1)
        """Mean D(G(z)) per epoch below which the discriminator is winning outright."""
        patience: int = ganlens.option(3, ge=1)
        """Consecutive epochs (or windows) a condition must hold, unless it holds to the end."""
        variance_growth: float = ganlens.option(4.0, gt=1)
        """Factor over the median earlier windowed (oscillation) or per-epoch (swings) loss
        variance that counts as growing swings."""
        divergence_factor: float = ganlens.option(10.0, gt=1)
        """Factor over a loss's early scale that counts as divergence."""
        diversity_drop: float = ganlens.option(0.5, gt=0, lt=1)
        """Fraction of the reference diversity below which collapse has begun."""

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        raw = ctx.gan.history
        if raw is None:
            raise SkipAnalysis("this GAN carries no training history (only checkpoints written "
                               "by `ganlens train` record one)")
        h = read_history(raw)
        if h.num_epochs == 0:
            raise SkipAnalysis("the training history is empty (saved before the first epoch)")
        o = self.options
        results = check_history(h, d_fake_floor=o.d_fake_floor, patience=o.patience,
                                variance_growth=o.variance_growth,
                                divergence_factor=o.divergence_factor,
                                diversity_drop=o.diversity_drop)
        found = sorted((x for x in results.values() if isinstance(x, Onset)),
                       key=lambda x: x.epoch)
        not_run = [x for x in results.values() if isinstance(x, NotRun)]
        section = self.new_section()
        self._metrics(section, h, found, not_run)
        for onset in found:
            level, meaning = RULES[onset.rule]
            section.finding(
                level,
                f"{meaning} from epoch {onset.epoch}: {onset.quantity} = {onset.value:.3g} "
                f"crossed the threshold {onset.threshold:.3g} ({onset.detail})"
                if onset.rule != "nan" else f"{meaning} in epoch {onset.epoch} ({onset.detail})",
                metric=f"{onset.rule}_epoch", value=onset.epoch,
            )
        for skipped in not_run:
            section.finding("info", f"the {skipped.rule} check did not run, so its answer is "
                            f"unknown (not passed): it {skipped.reason}",
                            metric=f"{skipped.rule}_epoch", value=None)
        self._table(section, results)
        self._figures(section, h, found)
        section.summary = headline(h.num_epochs, results)
        return section

    def _metrics(self, section: ganlens.Section, h: History, found: list[Onset],
                 not_run: list[NotRun]) -> None:
        section.metric(INSTABILITY_EPOCH, found[0].epoch if found else None,
                       "the first epoch where any stability check failed (NaN or divergence, "
                       "D winning outright, oscillation or swings of the losses, collapse); null "
                       f"when no check that ran failed (the checks that could not run are in "
                       f"{CHECKS_NOT_RUN})",
                       f"null with {CHECKS_NOT_RUN} empty (stable by every check)")
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
                           f"that check passed or did not run (then it is in {CHECKS_NOT_RUN})",
                           "null")
        section.metric(CHECKS_NOT_RUN, [x.rule for x in not_run],
                       "the checks this history cannot support (too short, or missing what "
                       "they read), so their answer is unknown; the reasons are in the checks "
                       "table", "empty")
        section.metric("epochs", h.num_epochs, "epochs in the history",
                       "enough for every check to run: 3 or more, and 4 or more windows of 8 "
                       "steps for oscillation")
        section.metric("steps", h.num_steps, "optimisation steps in the history (0: per-epoch "
                       "values only)", "recorded (> 0), so oscillation and swings can be "
                       "checked")
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

    def _table(self, section: ganlens.Section,
               results: dict[str, Onset | NotRun | None]) -> None:
        o = self.options
        rules = {
            "nan": "any loss or gradient norm is NaN or infinite",
            "divergence": f"|loss| per epoch > {o.divergence_factor:g} x its early scale",
            "discriminator_wins": f"mean D(G(z)) per epoch < {o.d_fake_floor:g} and G loss rising",
            "oscillation": f"windowed loss variance > {o.variance_growth:g} x median earlier level",
            "swings": f"per-step loss variance in an epoch > {o.variance_growth:g} x the earlier "
                      "epochs', beyond chance",
            "diversity_drop": f"diversity < {o.diversity_drop:g} x min(best so far, real)",
        }
        rows = []
        for rule, text in rules.items():
            result = results[rule]
            if isinstance(result, Onset):
                rows.append([rule, text, FLAGGED, RULES[rule][0], result.epoch,
                             result.detail])
            elif isinstance(result, NotRun):
                rows.append([rule, text, NOT_RUN, "", None, result.reason])
            else:
                rows.append([rule, text, PASSED, "", None, ""])
        section.table("checks", "Stability checks",
                      ["check", "rule", "result", "level", "from epoch", "detail"], rows,
                      caption=f"Each condition must hold for {o.patience} consecutive epochs "
                              "(or to the end of training) to count as a failure: 'flagged', "
                              "with its level, first epoch and evidence. 'not run' means the "
                              "history cannot support the check (it lacks what the check reads, "
                              "or is too short for it; the detail says which): its answer is "
                              "unknown, not passed.")

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
                    "staying above it mean the losses swing more and more. The swings check "
                    "measures the same variance per single epoch, with a margin for chance "
                    "(its threshold is in its finding when it is flagged).",
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
