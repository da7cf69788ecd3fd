"""Reading a training history and the rules that find where training went wrong.

Every rule works on plain NumPy arrays and returns one of three outcomes, so it can be used and
tested without a GAN: an :class:`Onset` (flagged: the epoch where the trouble started, the value
and the threshold behind it), a :class:`NotRun` (the history cannot support the rule: it lacks
what the rule reads, or is too short for it; the reason says which), or None (the rule ran and
found nothing). None always means "ran and passed", never "could not run". The thresholds are
the defaults of the analyzer's options; the reasoning behind each is in the docstrings below and
in the package README.

Conventions: a condition is *sustained* when it holds for ``patience`` consecutive epochs (or
windows), or from its first epoch to the end of training; a single noisy epoch is not enough.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganlens.errors import AnalyzerError

LOSS_KEYS = ("d_loss", "g_loss")

STEP_KEYS = ("g_loss", "d_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm")
EPOCH_KEYS = ("g_loss", "d_loss", "d_real", "d_fake", "diversity")
LOSS_NAMES = {"d_loss": "discriminator loss", "g_loss": "generator loss"}

# Losses of the usual GAN objectives sit at order 1 near equilibrium (ln 2 ≈ 0.69 per
# cross-entropy term, 1 for the hinge margin); a reference below this is no scale to divide by.
LOSS_SCALE_FLOOR = 1.0
# A window needs this many steps for its variance to mean anything (the relative standard error
# of a sample variance is sqrt(2 / (n - 1)): 0.53 at 8 steps).
MIN_WINDOW_STEPS = 8
# The oscillation rule compares a window with the median of the earlier ones, the first left out:
# the first comparison is possible at the fourth window.
MIN_OSCILLATION_WINDOWS = 4
# The swings rule's chance of one false alarm in a whole calm run (Bonferroni-split over the
# epochs and losses it tests): the usual 1 % of a significance test.
SWINGS_FALSE_ALARM = 0.01


@dataclass
class History:
    """A training history as arrays: per step (``steps``, with ``step_epoch``) and per epoch.

    ``epoch`` holds the epoch numbers; the per-epoch arrays (``g_loss``, ``d_loss``, ``d_real``,
    ``d_fake``, ``diversity``, ``g_grad_norm``, ``d_grad_norm``) are aligned with it and NaN
    where the history does not record the value.
    """

    epoch: np.ndarray
    per_epoch: dict[str, np.ndarray]
    steps: dict[str, np.ndarray] = field(default_factory=dict)
    step_epoch: np.ndarray | None = None
    real_diversity: float | None = None
    recorded: frozenset[str] | None = None
    """The per-epoch keys the history actually records (per epoch or per step), NaN or not;
    None (a History built by hand): every key with a finite value."""

    @property
    def num_epochs(self) -> int:
        return int(len(self.epoch))

    @property
    def num_steps(self) -> int:
        return int(len(self.step_epoch)) if self.step_epoch is not None else 0

    def has(self, key: str) -> bool:
        """Whether the per-epoch ``key`` has at least one finite value."""
        v = self.per_epoch.get(key)
        return v is not None and bool(np.isfinite(v).any())

    def records(self, key: str) -> bool:
        """Whether the history records the per-epoch ``key`` at all (its values may be NaN)."""
        return key in self.recorded if self.recorded is not None else self.has(key)


@dataclass
class Onset:
    """Where a kind of trouble started.

    Args:
        rule: the rule's name (``nan``, ``divergence``, ``discriminator_wins``, ``oscillation``,
            ``diversity_drop``).
        epoch: the first epoch of the trouble.
        quantity: what was measured, in words.
        value: its value at ``epoch``.
        threshold: the threshold it crossed at ``epoch``.
        detail: one sentence with the rest of the evidence.
    """

    rule: str
    epoch: int
    quantity: str
    value: float
    threshold: float
    detail: str = ""


@dataclass
class NotRun:
    """A rule that could not run on this history, so its answer is unknown (not passed).

    Args:
        rule: the rule's name.
        reason: what the rule needs and what the history has, e.g. "needs at least 4 windows
            ..., the history has 3".
        short: the same in a few words, for a headline: ``not recorded``, ``too short a
            history`` or ``too few steps per epoch``.
    """

    rule: str
    reason: str
    short: str = "too short a history"


def _array(values: Any, where: str) -> np.ndarray:
    if not isinstance(values, Sequence) or isinstance(values, (str, bytes)):
        if hasattr(values, "tolist"):
            values = values.tolist()
        else:
            raise AnalyzerError(f"training history {where}: expected a list of numbers, "
                                f"got {type(values).__name__}")
    try:
        return np.asarray([math.nan if v is None else float(v) for v in values], dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalyzerError(f"training history {where}: expected numbers ({exc})") from None


def _group(history: Mapping[str, Any], name: str) -> dict[str, np.ndarray]:
    group = history.get(name) or {}
    if not isinstance(group, Mapping):
        raise AnalyzerError(f"training history: {name!r} must map names to lists, "
                            f"got {type(group).__name__}")
    arrays = {k: _array(v, f"{name}.{k}") for k, v in group.items()}
    lengths = {k: len(v) for k, v in arrays.items() if len(v)}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k}: {n}" for k, n in sorted(lengths.items()))
        raise AnalyzerError(f"training history: the lists in {name!r} differ in length ({shown})")
    return {k: v for k, v in arrays.items() if len(v)}


def read_history(history: Any) -> History:
    """Turn ``gan.history`` (what ``ganlens train`` records) into a :class:`History`.

    Per-epoch values come from ``history['epochs']`` when recorded there, else from the mean of
    the steps of each epoch; gradient norms per epoch are always step means. Raises
    :class:`AnalyzerError` when the history is malformed.
    """
    if not isinstance(history, Mapping):
        raise AnalyzerError(f"training history: expected a dict with 'steps' and 'epochs', "
                            f"got {type(history).__name__}")
    steps = _group(history, "steps")
    epochs = _group(history, "epochs")
    step_epoch = None
    if steps:
        if "epoch" not in steps:
            raise AnalyzerError("training history: 'steps' has no 'epoch' list, so steps cannot "
                                "be placed in epochs")
        step_epoch = steps.pop("epoch").astype(int)
    if "epoch" in epochs:
        epoch = epochs["epoch"].astype(int)
    elif step_epoch is not None:
        epoch = np.unique(step_epoch)
    else:
        epoch = np.arange(1, len(next(iter(epochs.values()), [])) + 1)
    per_epoch: dict[str, np.ndarray] = {}
    recorded = set()
    for key in dict.fromkeys(EPOCH_KEYS + STEP_KEYS):
        if key in epochs and len(epochs[key]) == len(epoch):
            per_epoch[key] = epochs[key]
            recorded.add(key)
        elif key in steps and step_epoch is not None:
            per_epoch[key] = np.array([_mean(steps[key][step_epoch == e]) for e in epoch])
            recorded.add(key)
        else:
            per_epoch[key] = np.full(len(epoch), math.nan)
    real = history.get("real_diversity")
    real_div = float(real) if isinstance(real, (int, float)) and math.isfinite(real) else None
    return History(epoch, per_epoch, steps, step_epoch, real_div, frozenset(recorded))


def _mean(v: np.ndarray) -> float:
    return float(v.mean()) if len(v) else math.nan


def first_sustained(mask: np.ndarray, patience: int) -> int | None:
    """The first index from which ``mask`` holds for ``patience`` consecutive entries, or
    without a break to the end of the array; None when there is none."""
    mask = np.asarray(mask, dtype=bool)
    n = len(mask)
    for i in range(n):
        if mask[i] and mask[i : min(n, i + patience)].all():
            return i
    return None


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


def _too_few_epochs(rule: str, h: History, need: int, why: str) -> NotRun | None:
    if h.num_epochs >= need:
        return None
    return NotRun(rule, f"needs at least {need} epochs ({why}), the history has {h.num_epochs}")


def _has_step_losses(h: History) -> bool:
    return h.step_epoch is not None and any(k in h.steps for k in LOSS_KEYS)


def detect_nonfinite(h: History) -> Onset | NotRun | None:
    """The first epoch with a NaN or infinite loss or gradient norm (per step when recorded).
    Runs on a history of any length; not run when it records no loss and no gradient norm."""
    keys = ("d_loss", "g_loss", "d_grad_norm", "g_grad_norm")
    if h.step_epoch is not None and any(k in h.steps for k in keys):
        bad = np.zeros(h.num_steps, dtype=bool)
        for k in keys:
            if k in h.steps:
                bad |= ~np.isfinite(h.steps[k])
        if not bad.any():
            return None
        first = int(np.argmax(bad))
        epoch, where = int(h.step_epoch[first]), f"step {first + 1}"
    else:
        recorded = [h.per_epoch[k] for k in LOSS_KEYS if h.records(k)]
        if not recorded:
            return NotRun("nan", "needs losses or gradient norms, the history records neither",
                          "not recorded")
        bad = np.zeros(h.num_epochs, dtype=bool)
        for v in recorded:
            bad |= ~np.isfinite(v)
        if not bad.any():
            return None
        first = int(np.argmax(bad))
        epoch, where = int(h.epoch[first]), f"epoch {int(h.epoch[first])}"
    return Onset("nan", epoch, "loss or gradient norm", math.nan, math.nan,
                 f"the first non-finite value is at {where}")


def detect_divergence(h: History, factor: float = 10.0,
                      patience: int = 3) -> Onset | NotRun | None:
    """Losses that blow up and stay up.

    The reference scale of each loss is the median of its absolute per-epoch mean over the first
    quarter of training (at least one epoch), floored at :data:`LOSS_SCALE_FLOOR`; the loss
    diverges from the first epoch where its absolute value stays above ``factor`` times that
    scale (an order of magnitude by default: no equilibrium of the usual objectives lies there).
    Not run without finite per-epoch losses or with a single epoch (it would be its own scale).
    """
    if not any(h.has(k) for k in LOSS_KEYS):
        return NotRun("divergence", "needs finite per-epoch losses, the history has none",
                      "not recorded")
    short = _too_few_epochs("divergence", h, 2, "the early scale, and an epoch to compare "
                            "with it")
    if short:
        return short
    best: Onset | None = None
    ran = False
    for key in LOSS_KEYS:
        if not h.has(key):
            continue
        v = np.abs(h.per_epoch[key])
        head = v[: max(1, math.ceil(len(v) / 4))]
        head = head[np.isfinite(head)]
        if not len(head):
            continue
        ran = True
        scale = max(float(np.median(head)), LOSS_SCALE_FLOOR)
        limit = factor * scale
        i = first_sustained(np.isfinite(v) & (v > limit), patience)
        if i is not None and (best is None or h.epoch[i] < best.epoch):
            best = Onset("divergence", int(h.epoch[i]), f"|{LOSS_NAMES[key]}| per epoch",
                         float(v[i]), limit,
                         f"{factor:g} x its early scale {scale:.3g} (median of the first "
                         f"{len(head)} epoch(s), floor {LOSS_SCALE_FLOOR:g})")
    if not ran:
        return NotRun("divergence", "needs a finite loss in the first quarter of the epochs "
                      "for the early scale, the history has none", "not recorded")
    return best


def detect_discriminator_wins(h: History, floor: float = 0.05,
                              patience: int = 3) -> Onset | NotRun | None:
    """The discriminator winning outright: mean D(G(z)) per epoch stays below ``floor`` and the
    generator loss climbs.

    D(G(z)) < 0.05 means D calls the average fake fake with 95 % confidence: the generator's
    gradient through a saturating D is nearly zero. The loss *climbs* when its per-epoch mean
    over the run exceeds that over the ``patience`` epochs before by more than two standard
    errors (:func:`rises`), so a flat but noisy loss does not count. Not run without D(G(z)) or
    the generator loss, or with a single epoch (a rise needs two).
    """
    missing = [name for key, name in (("d_fake", "D(G(z))"), ("g_loss", "the generator loss"))
               if not h.has(key)]
    if missing:
        return NotRun("discriminator_wins", f"needs per-epoch {' and '.join(missing)}, the "
                      "history does not record " + ("it" if len(missing) == 1 else "them"),
                      "not recorded")
    short = _too_few_epochs("discriminator_wins", h, 2, "a rise of the generator loss needs "
                            "two")
    if short:
        return short
    d_fake, g = h.per_epoch["d_fake"], h.per_epoch["g_loss"]
    low = np.isfinite(d_fake) & (d_fake < floor)
    start = 0
    while start < len(low):
        i = first_sustained(low[start:], patience)
        if i is None:
            return None
        i += start
        end = i
        while end < len(low) and low[end]:
            end += 1
        before, run = g[max(0, i - patience) : i], g[i:end]
        if rises(before, run):
            return Onset("discriminator_wins", int(h.epoch[i]), "mean D(G(z)) per epoch",
                         float(d_fake[i]), floor,
                         f"it stays below {floor:g} for {end - i} epoch(s) while the generator "
                         f"loss rises to {_nanmean(run):.3g}"
                         + (f" from {_nanmean(before):.3g}" if len(before) else ""))
        start = end
    return None


def rises(before: np.ndarray, after: np.ndarray, z: float = 2.0) -> bool:
    """Whether the mean of ``after`` exceeds the mean of ``before`` by more than ``z`` standard
    errors (pooled within-group spread). Without ``before``, the first value of ``after`` stands
    in for it (a rise within the run)."""
    before, after = before[np.isfinite(before)], after[np.isfinite(after)]
    if not len(before):
        before, after = after[:1], after[1:]
    if not len(before) or not len(after):
        return False
    dof = len(before) + len(after) - 2
    ss = float(((before - before.mean()) ** 2).sum() + ((after - after.mean()) ** 2).sum())
    se = math.sqrt(ss / dof * (1 / len(before) + 1 / len(after))) if dof > 0 else 0.0
    return float(after.mean() - before.mean()) > z * se


def _nanmean(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else math.nan


def _detrended_variance(v: np.ndarray) -> tuple[float, int]:
    """The variance of the finite values of ``v`` (in step order) around their least-squares
    straight line, and its degrees of freedom (values - 2); NaN and 0 under 3 values."""
    v = v[np.isfinite(v)]
    if len(v) < 3:
        return math.nan, 0
    t = np.arange(len(v), dtype=float)
    resid = v - np.polyval(np.polyfit(t, v, 1), t)
    return float(resid.var(ddof=2)), len(v) - 2


def window_variances(h: History, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per window of whole epochs (at least :data:`MIN_WINDOW_STEPS` steps each): the first
    epoch of the window and the variance of the per-step ``key`` around a straight line fitted
    to that window (a loss that drifts steadily is not oscillating; one that swings is)."""
    if h.step_epoch is None or key not in h.steps:
        return np.empty(0, dtype=int), np.empty(0)
    values = h.steps[key]
    firsts, variances, current = [], [], []
    for e in h.epoch:
        current.append(e)
        idx = np.isin(h.step_epoch, current)
        if idx.sum() < MIN_WINDOW_STEPS and e != h.epoch[-1]:
            continue
        var, dof = _detrended_variance(values[idx])
        if dof:
            firsts.append(int(current[0]))
            variances.append(var)
        current = []
    return np.asarray(firsts, dtype=int), np.asarray(variances)


def rolling_median(v: np.ndarray, width: int = 3) -> np.ndarray:
    """Centred running median over ``width`` entries (fewer at the ends), so a step up is
    placed at the window where it happens rather than one window late."""
    half = width // 2
    return np.asarray([np.median(v[max(0, i - half) : i + half + 1]) for i in range(len(v))])


def oscillation_reference(variances: np.ndarray) -> np.ndarray:
    """The reference variance at each window: the median of the earlier windows' variances,
    leaving out the first window (NaN until two windows are available).

    The first window is left out because it holds the transient from initialisation, when both
    networks output near-constant values and the losses barely move; measured against it, any
    learning would look like oscillation. The median of all earlier windows is robust to a few
    unusually calm or wild ones and follows slow, healthy changes of the noise level.
    """
    ref = np.full(len(variances), math.nan)
    for i in range(MIN_OSCILLATION_WINDOWS - 1, len(variances)):
        ref[i] = float(np.median(variances[1:i]))
    return ref


def detect_oscillation(h: History, growth: float = 4.0,
                       patience: int = 3) -> Onset | NotRun | None:
    """Oscillation: the variance of a loss within a window growing.

    Each window's detrended variance (:func:`window_variances`) is smoothed by a centred median
    of three windows and compared with :func:`oscillation_reference`. Oscillation starts at the
    first window from which the smoothed variance stays above ``growth`` times the reference;
    the default 4 means the swings' standard deviation has doubled, well beyond the sampling
    noise of a variance estimated from a few dozen steps (its relative standard error is
    sqrt(2 / (n - 1)), 0.27 at 28 steps). Not run without per-step losses, or with fewer than
    :data:`MIN_OSCILLATION_WINDOWS` windows (the first is left out, two more make the first
    reference): short histories are left to :func:`detect_swings`.
    """
    if not _has_step_losses(h):
        return NotRun("oscillation", "needs per-step losses, the history records none",
                      "not recorded")
    best: Onset | None = None
    most = 0
    for key in LOSS_KEYS:
        firsts, var = window_variances(h, key)
        most = max(most, len(var))
        if len(var) < MIN_OSCILLATION_WINDOWS:
            continue
        smooth = rolling_median(var)
        ref = oscillation_reference(var)
        above = np.isfinite(ref) & (smooth > growth * np.maximum(ref, 1e-12))
        i = first_sustained(above, patience)
        if i is not None and (best is None or firsts[i] < best.epoch):
            best = Onset("oscillation", int(firsts[i]), f"windowed variance of the {LOSS_NAMES[key]}",
                         float(smooth[i]), float(growth * ref[i]),
                         f"{growth:g} x the median earlier level {ref[i]:.3g}, first window "
                         "left out")
    if most < MIN_OSCILLATION_WINDOWS:
        return NotRun("oscillation", f"needs at least {MIN_OSCILLATION_WINDOWS} windows of whole "
                      f"epochs with {MIN_WINDOW_STEPS} or more steps each (the first is left "
                      f"out, two more make the reference), the history has {most}")
    return best


def epoch_variances(h: History, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per epoch of ``h.epoch``: the variance of the per-step ``key`` within that epoch around a
    straight line fitted to its steps, and its degrees of freedom; NaN and 0 for an epoch with
    fewer than :data:`MIN_WINDOW_STEPS` finite steps (or when no per-step ``key`` is recorded)."""
    var, dof = np.full(h.num_epochs, math.nan), np.zeros(h.num_epochs, dtype=int)
    if h.step_epoch is None or key not in h.steps:
        return var, dof
    for i, e in enumerate(h.epoch):
        v = h.steps[key][h.step_epoch == e]
        if np.isfinite(v).sum() >= MIN_WINDOW_STEPS:
            var[i], dof[i] = _detrended_variance(v)
    return var, dof


def detect_swings(h: History, growth: float = 4.0, patience: int = 3,
                  false_alarm: float = SWINGS_FALSE_ALARM) -> Onset | NotRun | None:
    """Swings: the per-step variance of a loss within one epoch far above the earlier epochs'.

    Works per epoch, so it runs on histories too short for :func:`detect_oscillation` (from
    three epochs on). Each epoch's detrended per-step variance (:func:`epoch_variances`) is
    compared with the median of the earlier epochs' (the first epoch, the start-up transient,
    left out). An epoch swings when its variance exceeds ``growth`` times that reference by more
    than chance allows: the threshold is ``growth x reference x q``, where ``q`` is the upper
    ``false_alarm / m`` quantile of the F distribution with the epoch's and the reference's
    degrees of freedom (steps - 2 each; the reference counted as the fewest of its epochs',
    which is conservative for a median), and ``m`` is the number of (loss, epoch) comparisons
    made, so a calm run of any length raises a false alarm with at most ``false_alarm``
    probability (Bonferroni). The threshold follows the data: many steps per epoch bring ``q``
    close to 1, a handful of steps make it large. A swing counts when sustained (``patience``
    epochs, or to the end of training). Not run without per-step losses, with fewer than three
    epochs, or when no epoch after the first two has :data:`MIN_WINDOW_STEPS` finite steps.
    """
    from scipy.stats import f as f_dist

    if not _has_step_losses(h):
        return NotRun("swings", "needs per-step losses, the history records none",
                      "not recorded")
    short = _too_few_epochs("swings", h, 3, "the first is left out as the start-up transient, "
                            "the second is the reference for the third")
    if short:
        return short
    tests: dict[str, list[tuple[int, float, int, float, int]]] = {}
    most_steps = 0
    for key in LOSS_KEYS:
        if key not in h.steps:
            continue
        var, dof = epoch_variances(h, key)
        finite = np.isfinite(h.steps[key])
        most_steps = max(most_steps, max(int(finite[h.step_epoch == e].sum()) for e in h.epoch[1:]))
        rows = []
        for i in range(2, h.num_epochs):
            earlier = [j for j in range(1, i) if dof[j]]
            if dof[i] and earlier:
                rows.append((i, float(var[i]), int(dof[i]), float(np.median(var[earlier])),
                             int(dof[earlier].min())))
        if rows:
            tests[key] = rows
    m = sum(len(rows) for rows in tests.values())
    if not m:
        return NotRun("swings", f"needs epochs of {MIN_WINDOW_STEPS} or more finite steps (one "
                      "after the first as the reference, a later one to compare), the history's "
                      f"epochs have at most {most_steps}", "too few steps per epoch")
    best: Onset | None = None
    for key, rows in tests.items():
        above = np.zeros(h.num_epochs, dtype=bool)
        evidence = {}
        for i, var, dof, ref, dof_ref in rows:
            q = float(f_dist.isf(false_alarm / m, dof, dof_ref))
            limit = growth * max(ref, 1e-12) * q
            above[i] = var > limit
            evidence[i] = (var, limit, ref, q, dof, dof_ref)
        i = first_sustained(above, patience)
        if i is not None and (best is None or h.epoch[i] < best.epoch):
            var, limit, ref, q, dof, dof_ref = evidence[i]
            best = Onset("swings", int(h.epoch[i]), f"per-step variance of the {LOSS_NAMES[key]} "
                         "within the epoch", var, limit,
                         f"{growth:g} x the median of the earlier epochs' {ref:.3g} (the first "
                         f"epoch left out) x {q:.3g}, the F margin for {dof} and {dof_ref} "
                         "degrees of freedom that a calm run crosses with at most "
                         f"{false_alarm:.0%} chance over its {m} comparisons")
    return best


def detect_diversity_drop(h: History, drop: float = 0.5,
                          patience: int = 3) -> Onset | NotRun | None:
    """The onset of collapse: per-epoch diversity (mean pairwise distance of a fixed latent
    batch's samples) falling below ``drop`` times a reference, sustained.

    The reference at each epoch is the highest diversity reached so far, capped at the real
    data's diversity when recorded (early noisy generators can be more 'diverse' than the data;
    falling back to the data's level is learning, not collapse). Halving the mean pairwise
    distance (the default) means samples sit, on average, twice as close together as they did.
    Not run without the diversity, or with a single epoch (it would be its own reference).
    """
    if not h.has("diversity"):
        return NotRun("diversity_drop", "needs the per-epoch diversity of a fixed latent "
                      "batch's samples, the history does not record it", "not recorded")
    short = _too_few_epochs("diversity_drop", h, 2, "a best level so far, and an epoch to "
                            "compare with it")
    if short:
        return short
    div = h.per_epoch["diversity"]
    best = np.fmax.accumulate(np.where(np.isfinite(div), div, -math.inf))
    ref = np.minimum(best, h.real_diversity) if h.real_diversity is not None else best
    limit = drop * ref
    i = first_sustained(np.isfinite(div) & (div < limit), patience)
    if i is None:
        return None
    real = (f"; real data: {h.real_diversity:.3g}, so the samples are at "
            f"{div[i] / h.real_diversity:.0%} of the real spread") if h.real_diversity else ""
    return Onset("diversity_drop", int(h.epoch[i]), "sample diversity per epoch", float(div[i]),
                 float(limit[i]), f"{drop:g} x the reference {ref[i]:.3g}{real}")
