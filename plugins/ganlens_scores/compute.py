"""Every score in one feature space, from the run's shared features: the splits of the real data,
the random streams, and what could not be computed and why.

With N fakes and M reals in a space, n = min(N, M // 2):

- ``H`` = the first n reals (the run's reals are already shuffled with the seed) is the real
  baseline: real data of the fakes' size;
- ``R`` = the other M − n reals is the reference both are compared with: FD(F, R) and KID(F, R)
  for the first n fakes F, FD(H, R) and KID(H, R) for the baseline. Same sizes on both sides, so
  the baseline is what a perfect generator scores, sample-size bias included.
- Vendi: all N fakes, and min(N, M) reals.
- The data-copying test: the training and held-out samples the context gives (a checkpoint that
  records its held-out split), else the reals split in half with their own seeded permutation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ganlens.errors import FeatureUnavailable

from . import copying as CP
from . import metrics as M

SPLIT_SALT = "scores/ct/split"


@dataclass
class Settings:
    """What the scores need from the analyzer's options."""

    bootstrap: int = 20
    confidence: float = 0.95
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    fd_infinity: bool = False
    ct_cells: int = 20
    ct_min_samples: int = 20


@dataclass
class CopyingData:
    """The training and held-out features of the data-copying test, and where they came from."""

    train: torch.Tensor
    held_out: torch.Tensor
    source: str
    from_checkpoint: bool


@dataclass
class SpaceScores:
    """The scores of one feature space. ``reason`` is set when nothing could be computed there;
    a family that could not be computed has its own ``*_reason``."""

    space: str
    description: str = ""
    dim: int = 0
    reason: str | None = None
    n: int = 0
    n_reference: int = 0
    fd: float | None = None
    fd_baseline: float | None = None
    fd_ci: tuple[float, float] | None = None
    fd_baseline_ci: tuple[float, float] | None = None
    fd_form: str = ""
    fd_inf: M.FDInfinity | None = None
    fd_inf_baseline: M.FDInfinity | None = None
    fd_inf_reason: str | None = None
    kid: M.KIDResult | None = None
    kid_baseline: M.KIDResult | None = None
    kid_reason: str | None = None
    vendi_fake: float | None = None
    vendi_real: float | None = None
    n_vendi_fake: int = 0
    n_vendi_real: int = 0
    copying: CP.CopyingResult | None = None
    copying_reason: str | None = None
    copying_source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def computed(self) -> bool:
        return self.reason is None


Streams = Callable[[str], torch.Generator]


def score_space(ctx: Any, space: str, s: Settings, copying_data: Callable[[str, torch.Tensor],
                CopyingData | str]) -> SpaceScores:
    """Every score in ``space``. ``copying_data(space, real)`` gives the test's training and
    held-out features in that space, or the reason there are none."""
    out = SpaceScores(space)
    try:
        fs = ctx.features(space)
    except FeatureUnavailable as exc:
        out.reason = str(exc) or "the feature space does not apply here"
        return out
    out.description, out.dim = fs.description, fs.dim
    fake, real = fs.fake, fs.real
    if real is None:
        out.reason = "no real data"
        return out
    for side, values in (("generated", fake), ("real", real)):
        if not torch.isfinite(values).all():
            out.reason = f"the {side} samples' features contain NaN or infinite values"
            return out
    n_fake, n_real = int(fake.shape[0]), int(real.shape[0])
    n = min(n_fake, n_real // 2)
    if n < 2:
        out.reason = (f"{n_fake} generated and {n_real} real samples: the scores need at least 2 "
                      "generated and 4 real samples")
        return out
    out.n, out.n_reference = n, n_real - n
    rng = lambda salt: ctx.rng(f"scores/{salt}/{space}")  # noqa: E731
    dev = ctx.device
    f, h, r = fake[:n], real[:n], real[n:]

    # -- Fréchet distance --------------------------------------------------------------------
    ref = M.Moments(r, device=dev)
    mf, mh = M.Moments(f, device=dev), M.Moments(h, device=dev)
    out.fd_form = "covariance" if fs.dim <= min(n, n_real - n) else "gram"
    # The reference first: in the covariance form its eigendecomposition serves both FDs and
    # every bootstrap resample.
    out.fd = M.frechet_from_moments(ref, mf)
    out.fd_baseline = M.frechet_from_moments(ref, mh)
    if s.bootstrap > 0:
        for key, x in (("fd", mf), ("fd_baseline", mh)):
            values = M.fd_bootstrap(x, ref, s.bootstrap, rng(f"bootstrap/{key}"))
            estimate = out.fd if key == "fd" else out.fd_baseline
            setattr(out, f"{key}_ci", M.bootstrap_interval(estimate, values, s.confidence))
    if s.fd_infinity:
        try:
            out.fd_inf = M.fd_infinity(f, ref, rng("fd_infinity"), device=dev)
            out.fd_inf_baseline = M.fd_infinity(h, ref, rng("fd_infinity_baseline"), device=dev)
        except ValueError as exc:
            out.fd_inf_reason = str(exc)

    # -- KID -----------------------------------------------------------------------------------
    m = min(s.kid_subset_size, n, n_real - n)
    if m == min(n, n_real - n) and m >= 4:
        # Subsets as large as a whole set would all hold the same samples and give no spread:
        # half the smaller set, so the subsets differ and kid_std means something.
        m //= 2
    if m < 2:
        out.kid_reason = f"subsets of {m} sample(s): the unbiased estimator needs at least 2"
    else:
        for key, x in (("kid", f), ("kid_baseline", h)):
            if m == n == n_real - n:  # every subset is the whole of both sets: one is enough
                pairs = [(torch.arange(n), torch.arange(n))]
            else:
                pairs = M.kid_subsets(n, n_real - n, subsets=s.kid_subsets, subset_size=m,
                                      generator=rng(key))
            setattr(out, key, M.kid(x, r, pairs=pairs, device=dev))

    # -- Vendi -----------------------------------------------------------------------------------
    n_vr = min(n_fake, n_real)
    out.vendi_fake, out.n_vendi_fake = M.vendi_score(fake, device=dev), n_fake
    out.vendi_real, out.n_vendi_real = M.vendi_score(real[:n_vr], device=dev), n_vr

    # -- data copying ----------------------------------------------------------------------------
    data = copying_data(space, real)
    if isinstance(data, str):
        out.copying_reason = data
    else:
        out.copying_source = data.source
        cells = CP.cells_for(int(data.held_out.shape[0]), s.ct_cells, s.ct_min_samples)
        cells = min(cells, int(data.train.shape[0]))
        if cells < 2:
            out.copying_reason = (
                f"{data.held_out.shape[0]} held-out samples are too few for 2 cells of "
                f"{2 * s.ct_min_samples} (twice ct_min_samples = {s.ct_min_samples})")
        else:
            res = CP.data_copying_test(data.train, data.held_out, fake, cells=cells,
                                       min_samples=s.ct_min_samples, generator=rng("ct/kmeans"),
                                       device=dev)
            out.copying = res
            if not res.included.any():
                out.copying_reason = (f"no cell of {cells} holds at least {s.ct_min_samples} "
                                      "generated and held-out samples")
    return out


def copying_data_source(ctx: Any) -> Callable[[str, torch.Tensor], CopyingData | str]:
    """``(space, real features) -> CopyingData``: the context's training and held-out samples
    embedded in the space when the context has both, else the reals split in half by one seeded
    permutation (the same rows in every space)."""
    train_ds = getattr(ctx, "real_train", None)
    held_ds = getattr(ctx, "real_held_out", None)
    note = getattr(ctx, "held_out_note", None)

    def source(space: str, real: torch.Tensor) -> CopyingData | str:
        if train_ds is not None and held_ds is not None:
            if len(train_ds) < 1 or len(held_ds) < 1:
                return "the checkpoint's training or held-out split is empty"
            embed = ctx.feature_fn(space)
            what = (f"the GAN's own training samples ({len(train_ds)}) and the held-out samples "
                    f"it never trained on ({len(held_ds)})" + (f"; {note}" if note else ""))
            return CopyingData(ctx.embed(embed, train_ds.x), ctx.embed(embed, held_ds.x), what,
                               True)
        m = int(real.shape[0])
        if m < 4:
            return f"{m} real samples are too few to split into training and held-out halves"
        perm = torch.randperm(m, generator=ctx.rng(SPLIT_SALT))
        half = m // 2
        why = f": {note.rstrip('.')}" if note else ""
        what = (f"a random half split of the {m} real samples ({half} standing in for the "
                f"training data, {m - half} for held-out data), because no held-out split is "
                f"known{why}. Copying of real samples that fell in the held-out half cannot be "
                "seen")
        return CopyingData(real[perm[:half]], real[perm[half:]], what, False)

    return source
