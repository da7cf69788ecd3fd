"""Reading a training history and the rules that find where training went wrong.

Every rule works on plain NumPy arrays and returns an :class:`Onset` (the epoch where the trouble
started, the value and the threshold behind it) or None, so it can be used and tested without a
GAN. The thresholds are the defaults of the analyzer's options; the reasoning behind each is in
the docstrings below and in the package README.

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

STEP_KEYS = ("g_loss", "d_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm")
EPOCH_KEYS = ("g_loss", "d_loss", "d_real", "d_fake", "diversity")
LOSS_NAMES = {"d_loss": "discriminator loss", "g_loss": "generator loss"}

# Losses of the usual GAN objectives sit at order 1 near equilibrium (ln 2 ≈ 0.69 per
# cross-entropy term, 1 for the hinge margin); a reference below this is no scale to divide by.
LOSS_SCALE_FLOOR = 1.0
# A window needs this many steps for its variance to mean anything (the relative standard error
# of a sample variance is sqrt(2 / (n - 1)): 0.53 at 8 steps).
MIN_WINDOW_STEPS = 8


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
    for key in dict.fromkeys(EPOCH_KEYS + STEP_KEYS):
        if key in epochs and len(epochs[key]) == len(epoch):
            per_epoch[key] = epochs[key]
        elif key in steps and step_epoch is not None:
            per_epoch[key] = np.array([_mean(steps[key][step_epoch == e]) for e in epoch])
        else:
            per_epoch[key] = np.full(len(epoch), math.nan)
    real = history.get("real_diversity")
    real_div = float(real) if isinstance(real, (int, float)) and math.isfinite(real) else None
    return History(epoch, per_epoch, steps, step_epoch, real_div)


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


def detect_nonfinite(h: History) -> Onset | None:
    """The first epoch with a NaN or infinite loss or gradient norm (per step when recorded)."""
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
        recorded = [h.per_epoch[k] for k in ("d_loss", "g_loss") if h.has(k)]
        if not recorded:
            return None
        bad = np.zeros(h.num_epochs, dtype=bool)
        for v in recorded:
            bad |= ~np.isfinite(v)
        if not bad.any():
            return None
        first = int(np.argmax(bad))
        epoch, where = int(h.epoch[first]), f"epoch {int(h.epoch[first])}"
    return Onset("nan", epoch, "loss or gradient norm", math.nan, math.nan,
                 f"the first non-finite value is at {where}")


def detect_divergence(h: History, factor: float = 10.0, patience: int = 3) -> Onset | None:
    """Losses that blow up and stay up.

    The reference scale of each loss is the median of its absolute per-epoch mean over the first
    quarter of training (at least one epoch), floored at :data:`LOSS_SCALE_FLOOR`; the loss
    diverges from the first epoch where its absolute value stays above ``factor`` times that
    scale (an order of magnitude by default: no equilibrium of the usual objectives lies there).
    """
    best: Onset | None = None
    for key in ("d_loss", "g_loss"):
        if not h.has(key):
            continue
        v = np.abs(h.per_epoch[key])
        head = v[: max(1, math.ceil(len(v) / 4))]
        head = head[np.isfinite(head)]
        if not len(head):
            continue
        scale = max(float(np.median(head)), LOSS_SCALE_FLOOR)
        limit = factor * scale
        i = first_sustained(np.isfinite(v) & (v > limit), patience)
        if i is not None and (best is None or h.epoch[i] < best.epoch):
            best = Onset("divergence", int(h.epoch[i]), f"|{LOSS_NAMES[key]}| per epoch",
                         float(v[i]), limit,
                         f"{factor:g} x its early scale {scale:.3g} (median of the first "
                         f"{len(head)} epoch(s), floor {LOSS_SCALE_FLOOR:g})")
    return best


def detect_discriminator_wins(h: History, floor: float = 0.05, patience: int = 3) -> Onset | None:
    """The discriminator winning outright: mean D(G(z)) per epoch stays below ``floor`` and the
    generator loss climbs.

    D(G(z)) < 0.05 means D calls the average fake fake with 95 % confidence: the generator's
    gradient through a saturating D is nearly zero. The loss *climbs* when its per-epoch mean
    over the run exceeds that over the ``patience`` epochs before by more than two standard
    errors (:func:`rises`), so a flat but noisy loss does not count.
    """
    if not (h.has("d_fake") and h.has("g_loss")):
        return None
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
        v = values[idx]
        v = v[np.isfinite(v)]
        if len(v) >= 3:
            t = np.arange(len(v), dtype=float)
            resid = v - np.polyval(np.polyfit(t, v, 1), t)
            firsts.append(int(current[0]))
            variances.append(float(resid.var(ddof=2)))
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
    for i in range(3, len(variances)):
        ref[i] = float(np.median(variances[1:i]))
    return ref


def detect_oscillation(h: History, growth: float = 4.0, patience: int = 3) -> Onset | None:
    """Oscillation: the variance of a loss within a window growing.

    Each window's detrended variance (:func:`window_variances`) is smoothed by a centred median
    of three windows and compared with :func:`oscillation_reference`. Oscillation starts at the
    first window from which the smoothed variance stays above ``growth`` times the reference;
    the default 4 means the swings' standard deviation has doubled, well beyond the sampling
    noise of a variance estimated from a few dozen steps (its relative standard error is
    sqrt(2 / (n - 1)), 0.27 at 28 steps).
    """
    best: Onset | None = None
    for key in ("d_loss", "g_loss"):
        firsts, var = window_variances(h, key)
        if len(var) < 4:
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
    return best


def detect_diversity_drop(h: History, drop: float = 0.5, patience: int = 3) -> Onset | None:
    """The onset of collapse: per-epoch diversity (mean pairwise distance of a fixed latent
    batch's samples) falling below ``drop`` times a reference, sustained.

    The reference at each epoch is the highest diversity reached so far, capped at the real
    data's diversity when recorded (early noisy generators can be more 'diverse' than the data;
    falling back to the data's level is learning, not collapse). Halving the mean pairwise
    distance (the default) means samples sit, on average, twice as close together as they did.
    """
    if not h.has("diversity"):
        return None
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
