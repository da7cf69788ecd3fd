"""The numbers researchers report, as plain functions of feature tensors (no GAN needed):

- :func:`frechet_distance` — ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½), in float64, stable when
  there are fewer samples than dimensions (singular covariances);
- :func:`fd_infinity` — FD extrapolated to infinitely many samples (Chong & Forsyth 2020);
- :func:`kid` — the kernel inception distance's estimator (Bińkowski et al. 2018): the unbiased
  MMD² with the kernel k(x, y) = (xᵀy / d + 1)³, averaged over random subsets;
- :func:`vendi_score` — the Vendi score (Friedman & Dieng 2023) with the cosine kernel.

The data-copying test lives in :mod:`ganlens_scores.copying`.

Features are (n, d) float32 tensors (or numpy arrays) on the CPU; ``device`` says where the
products run. On the CPU the symmetric products AᵀA go through numpy's BLAS, which computes only
one triangle of them (a symmetric rank-k update: half the work of a general product). Every
pass over the samples runs in blocks of rows, so the memory a metric needs beyond its input is a
few d × d (or n × n) matrices, never a float64 copy of the features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from ganlens.maths import as_features

BLOCK_ELEMS = 1 << 22
"""Values of one block of rows (4 Mi: 32 MB in float64)."""

NUMPY_ON_CPU = True
"""Run the block loops in numpy on the CPU (see :class:`_Rows`); False runs them in torch
everywhere, as on CUDA (the tests use it to check that path on a machine without a GPU)."""

FDForm = Literal["auto", "covariance", "gram"]
Array = Any  # a numpy array on the CPU, a torch tensor on another device


def _rows(dim: int) -> int:
    return max(1, min(4096, BLOCK_ELEMS // max(1, dim)))


def _device(x: Any, device: torch.device | str | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return x.device if isinstance(x, torch.Tensor) else torch.device("cpu")


class _Rows:
    """A float32 feature matrix read in float64 blocks of rows where the work runs.

    On the CPU every block loop runs in numpy: its BLAS computes the symmetric products AᵀA and
    AAᵀ as symmetric rank-k updates (one triangle: half a general product's work, which torch's
    ``mm`` does not do), and alternating torch and numpy calls block by block would make torch's
    idle OpenMP threads and the BLAS threads fight over the cores. Elsewhere (CUDA) the blocks
    are torch tensors on the device."""

    def __init__(self, x: Any, device: torch.device | str | None) -> None:
        t = as_features(x)
        self.device = _device(t, device)
        self.cpu = self.device.type == "cpu" and NUMPY_ON_CPU
        t = t.detach()
        if t.dtype != torch.float32:
            t = t.float()
        self.data = t.cpu().numpy() if self.cpu else t
        self.n, self.dim = int(t.shape[0]), int(t.shape[1])

    def block(self, lo: int, hi: int) -> Array:
        if self.cpu:
            return self.data[lo:hi].astype(np.float64)
        return self.data[lo:hi].to(self.device, torch.float64)

    def blocks(self, rows: int | None = None):
        rows = rows or _rows(self.dim)
        for r0 in range(0, self.n, rows):
            yield self.block(r0, r0 + rows)

    def zeros(self, shape: tuple[int, ...]) -> Array:
        if self.cpu:
            return np.zeros(shape, dtype=np.float64)
        return torch.zeros(shape, dtype=torch.float64, device=self.device)


def as_tensor(a: Array) -> torch.Tensor:
    """A float64 torch view (zero-copy for numpy) of a block-loop result."""
    return torch.from_numpy(a) if isinstance(a, np.ndarray) else a


def gram(block: Array) -> Array:
    """``blockᵀ block``: for a numpy ``block`` numpy's symmetric rank-k update."""
    return block.T @ block


def outer_gram(block: Array) -> Array:
    """``block blockᵀ``, the same way as :func:`gram`."""
    return block @ block.T


# ---------------------------------------------------------------------------------------------
# Fréchet distance
# ---------------------------------------------------------------------------------------------


class Moments:
    """The float64 mean, trace of the covariance and (on first use) covariance of one feature
    set, computed in blocks of rows from the float32 features. One set's moments serve every
    Fréchet distance it takes part in (the real reference is shared by the fakes and the real
    baseline).

    The covariance is the unbiased one (divided by n − 1), as ``numpy.cov`` computes it.
    """

    def __init__(self, x: Any, *, device: torch.device | str | None = None) -> None:
        self.rows = _Rows(x, device)
        self.n, self.dim, self.device = self.rows.n, self.rows.dim, self.rows.device
        if self.n < 2:
            raise ValueError(f"a Fréchet distance needs at least 2 samples per set, got {self.n}")
        total = self.rows.zeros((self.dim,))
        for blk in self.rows.blocks():
            total += blk.sum(0)
        self.mean = total / self.n
        self._cov: Array | None = None
        self._factor: Array | None = None
        self._trace: float | None = None
        self._cross: list[tuple[Moments, Array]] = []

    @property
    def trace(self) -> float:
        """Tr Σ: from Σ's diagonal once Σ exists, else one pass over the centred rows."""
        if self._trace is None:
            if self._cov is not None:
                self._trace = float(self._cov.diagonal().sum())
            else:
                sq = 0.0
                for blk in self.centred_blocks():
                    sq += float((blk * blk).sum())
                self._trace = sq / (self.n - 1)
        return self._trace

    def centred_blocks(self, rows: int | None = None):
        """The rows minus the mean, in float64 blocks (numpy on the CPU)."""
        for blk in self.rows.blocks(rows):
            blk -= self.mean
            yield blk

    @property
    def cov(self) -> Array:
        """Σ (d × d, float64; numpy on the CPU): the centred Gram matrix accumulated block by
        block, / (n − 1)."""
        if self._cov is None:
            acc = self.rows.zeros((self.dim, self.dim))
            for blk in self.centred_blocks():
                acc += gram(blk)
            acc /= self.n - 1
            self._cov = acc
        return self._cov

    @property
    def factor(self) -> Array:
        """S with Σ = S Sᵀ: the eigenvectors scaled by the square roots of the eigenvalues
        (tiny negative eigenvalues, rounding of a singular Σ, clipped to 0)."""
        if self._factor is None:
            if self.rows.cpu:
                w, v = np.linalg.eigh(self.cov)
                self._factor = v * np.sqrt(np.clip(w, 0.0, None))
            else:
                w, v = torch.linalg.eigh(self.cov)
                self._factor = v * w.clamp_min(0.0).sqrt()
        return self._factor


def _eigvalsh(m: Array) -> np.ndarray:
    """The eigenvalues of the symmetric ``m`` (made exactly symmetric first), float64 numpy;
    LAPACK through numpy on the CPU, torch elsewhere."""
    m = 0.5 * (m + m.T)
    if isinstance(m, np.ndarray):
        return np.linalg.eigvalsh(m)
    return torch.linalg.eigvalsh(m).cpu().numpy()


def _sqrt_eig_sum(m: Array) -> float:
    """Σ √λ over the eigenvalues λ of the symmetric positive semi-definite ``m``. Eigenvalues
    below size × ε × λ_max — the rounding of the zero eigenvalues of a singular ``m``, which may
    come out slightly negative — count as 0 (numpy's ``matrix_rank`` tolerance): their square
    roots would otherwise add ~√(ε λ_max) each."""
    w = _eigvalsh(m)
    if w.size == 0:
        return 0.0
    tol = float(np.abs(w).max()) * m.shape[0] * np.finfo(np.float64).eps
    return float(np.sqrt(w[w > tol]).sum())


def trace_sqrt_product(p: Moments, q: Moments, form: FDForm = "auto") -> float:
    """Tr (Σ_p Σ_q)^½, the only non-trivial term of the Fréchet distance.

    The eigenvalues of Σ_p Σ_q (a product of two positive semi-definite matrices) are real and
    non-negative, and are those of a symmetric matrix:

    - ``covariance`` form: Sᵀ Σ_q S (d × d), where Σ_p = S Sᵀ;
    - ``gram`` form: K Kᵀ (n_p × n_p, or Kᵀ K), K = X_p Xᵀ_q / √((n_p − 1)(n_q − 1)) with X the
      centred features. With n < d this is the small matrix, and the only one that is not
      singular by construction.

    ``auto`` takes the covariance form when d is at most the smaller sample count and the Gram
    form otherwise. Both are exact (up to float64 rounding): no matrix square root, no complex
    numbers, no ``sqrtm`` of a singular matrix.
    """
    if p.dim != q.dim:
        raise ValueError(f"feature dimensions differ: {p.dim} and {q.dim}")
    if form == "auto":
        form = "covariance" if p.dim <= min(p.n, q.n) else "gram"
    if form == "covariance":
        s = p.factor
        return _sqrt_eig_sum(s.T @ _like(q.cov, p.rows) @ s)
    if form != "gram":
        raise ValueError(f"form {form!r}: expected auto, covariance or gram")
    small, large = (p, q) if p.n <= q.n else (q, p)
    return _sqrt_eig_sum(cross_gram(small, large))


def cross_gram(a: Moments, b: Moments) -> Array:
    """K Kᵀ (n_a × n_a) for K = X_a X_bᵀ / √((n_a − 1)(n_b − 1)), X the centred rows:
    accumulated over blocks of b's rows, K_b = X_a X_bᵀ (n_a × r). Its eigenvalues are those of
    Σ_a Σ_b (with zeros). Kept on ``a`` for ``b`` (the estimate and its bootstrap share it)."""
    for other, done in a._cross:
        if other is b:
            return done
    scale = 1.0 / math.sqrt((a.n - 1) * (b.n - 1))
    rows = max(1, min(_rows(b.dim), BLOCK_ELEMS // max(1, a.n)))
    acc = a.rows.zeros((a.n, a.n))
    # a's centred rows are kept when they fit in a few blocks, else re-made for each block.
    kept = list(a.centred_blocks()) if a.n * a.dim <= 4 * BLOCK_ELEMS else None
    for blk in b.centred_blocks(rows):
        blk = _like(blk, a.rows)
        parts = [sb @ blk.T for sb in (kept if kept is not None else a.centred_blocks())]
        kb = np.concatenate(parts) if a.rows.cpu else torch.cat(parts)
        kb *= scale
        acc += outer_gram(kb)
    a._cross.append((b, acc))
    return acc


def _like(a: Array, rows: _Rows) -> Array:
    """``a`` as the block type of ``rows`` (numpy on the CPU, a torch tensor on its device)."""
    if rows.cpu:
        return a if isinstance(a, np.ndarray) else a.cpu().numpy()
    return torch.as_tensor(a).to(rows.device)


def frechet_from_moments(p: Moments, q: Moments, form: FDForm = "auto") -> float:
    """The Fréchet distance of two sets' moments (≥ 0: rounding below 0 is reported as 0)."""
    tsp = trace_sqrt_product(p, q, form)  # first: the covariance form gives the traces free
    diff = as_tensor(p.mean).cpu() - as_tensor(q.mean).cpu()
    fd = float(diff @ diff) + p.trace + q.trace - 2.0 * tsp
    return max(0.0, fd)


def frechet_distance(a: Any, b: Any, *, device: torch.device | str | None = None,
                     form: FDForm = "auto") -> float:
    """The Fréchet distance between Gaussians fitted to the rows of ``a`` and ``b``:
    ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½), in float64 (see
    :func:`trace_sqrt_product` for how the square root is avoided)."""
    return frechet_from_moments(Moments(a, device=device), Moments(b, device=device), form)


def bootstrap_interval(estimate: float, values: Sequence[float],
                       level: float) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap ``values``, re-centred on the
    ``estimate``: shifted by (estimate − median of the values).

    FD is biased upward by about c / N, and a resample drawn with replacement holds only about
    63% distinct samples, so the bootstrap values sit above the estimate by that extra bias; the
    plain percentile interval can miss the estimate altogether. The shift keeps the bootstrap's
    spread and removes its bias."""
    arr = np.asarray(values, dtype=np.float64)
    lo = (1.0 - level) / 2.0
    shift = estimate - float(np.median(arr))
    return (max(0.0, float(np.quantile(arr, lo)) + shift),
            max(0.0, float(np.quantile(arr, 1.0 - lo)) + shift))


class FDResampler:
    """FD against a fixed ``reference`` of resamples of one set (rows drawn with replacement),
    each as :func:`frechet_distance` of the resampled rows would give it, without copying them.

    A resample with row counts c (Σ c = n) has mean μ + δ, δ = X_cᵀ c / n, and covariance
    (X_cᵀ diag(c) X_c − n δδᵀ) / (n − 1), X_c the centred rows. In the covariance form that
    is one weighted Gram matrix per resample (and the reference's eigendecomposition is made
    once); in the Gram form the n × n matrix of the estimate, P = s² X_c Σ̃_R X_cᵀ
    (Σ̃_R = R_cᵀ R_c, s² = 1 / ((n − 1)(n_R − 1))), is made once and each resample's is
    P[i, i] − v[i]1ᵀ − 1v[i]ᵀ + c with v = s² X_c Σ̃_R δ and c = s² δᵀ Σ̃_R δ: a pass over
    the rows, no product of the two sets."""

    def __init__(self, x: Any, reference: Moments, *, form: FDForm = "auto") -> None:
        self.ref = reference
        self.m = x if isinstance(x, Moments) else Moments(x, device=reference.device)
        if self.m.dim != reference.dim:
            raise ValueError(f"feature dimensions differ: {self.m.dim} and {reference.dim}")
        if form == "auto":
            form = "covariance" if self.m.dim <= min(self.m.n, reference.n) else "gram"
        self.form = form
        self.diff = as_tensor(self.m.mean).cpu() - as_tensor(reference.mean).cpu()
        self.sq = [(blk * blk).sum(1) for blk in self.m.centred_blocks()]
        if form == "gram":
            self.p = cross_gram(self.m, reference)
            self.scale2 = 1.0 / ((self.m.n - 1) * (reference.n - 1))

    def fd(self, index: Any) -> float:
        """FD of the resample ``x[index]`` (``len(index)`` must be n) against the reference."""
        m, rows = self.m, self.m.rows
        n = m.n
        idx = torch.as_tensor(index, dtype=torch.long).cpu()
        if idx.numel() != n:
            raise ValueError(f"a resample has n = {n} rows, got {idx.numel()}")
        counts = _like(torch.bincount(idx, minlength=n).double(), rows)
        dsum = rows.zeros((m.dim,))
        wsum = rows.zeros((m.dim, m.dim)) if self.form == "covariance" else None
        r0 = 0
        for blk in m.centred_blocks():
            c = counts[r0 : r0 + blk.shape[0]]
            dsum += c @ blk
            if wsum is not None:
                wb = blk * (c**0.5)[:, None]
                wsum += gram(wb)
            r0 += blk.shape[0]
        delta = dsum / n
        dd = float((delta * delta).sum())
        sq = sum(float(c @ q) for c, q in zip(_split(counts, self.sq), self.sq))
        trace = (sq - n * dd) / (n - 1)
        shift = self.diff + as_tensor(delta).cpu()
        if self.form == "covariance":
            cov = (wsum - n * (delta[:, None] * delta[None, :])) / (n - 1)
            s = self.ref.factor
            tsp = _sqrt_eig_sum(s.T @ _like(cov, self.ref.rows) @ s)
        else:
            # w = R_c δ, z = R_cᵀ w, v = s² X_c z, c = s² ‖w‖², block by block.
            z = rows.zeros((m.dim,))
            ww = 0.0
            d_ref = _like(delta, self.ref.rows)
            for blk in self.ref.centred_blocks():
                w = blk @ d_ref
                ww += float((w * w).sum())
                z += _like(blk.T @ w, rows)
            v = [blk @ z for blk in m.centred_blocks()]
            v = (np.concatenate(v) if rows.cpu else torch.cat(v)) * self.scale2
            i = idx.numpy() if rows.cpu else idx.to(rows.device)
            sub = self.p[i][:, i] - v[i][:, None] - v[i][None, :] + self.scale2 * ww
            tsp = _sqrt_eig_sum(sub)
        return max(0.0, float(shift @ shift) + trace + self.ref.trace - 2.0 * tsp)


def _split(counts: Array, parts: list[Array]) -> list[Array]:
    out, r0 = [], 0
    for q in parts:
        out.append(counts[r0 : r0 + q.shape[0]])
        r0 += q.shape[0]
    return out


def fd_bootstrap(x: Any, reference: Moments, rounds: int, generator: torch.Generator,
                 *, form: FDForm = "auto") -> list[float]:
    """FD of ``rounds`` bootstrap resamples of ``x`` (features, or their :class:`Moments`; rows
    drawn with replacement from ``generator``) against the fixed ``reference``: the spread of FD
    due to the n samples of ``x``, as the other analyzers' intervals resample the generated
    side."""
    res = FDResampler(x, reference, form=form)
    n = res.m.n
    return [res.fd(torch.randint(n, (n,), generator=generator)) for _ in range(rounds)]


@dataclass
class FDInfinity:
    """FD∞ (Chong & Forsyth 2020): FD is biased upward by about c / N; fitting FD = FD∞ + c / N
    over several subset sizes N and reading the line at 1 / N = 0 removes that bias."""

    value: float
    slope: float
    sizes: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def fd_infinity(fake: torch.Tensor, reference: Moments, generator: torch.Generator, *,
                points: int = 15, smallest: float = 0.2,
                device: torch.device | str | None = None) -> FDInfinity:
    """FD∞ of ``fake`` against the whole ``reference``: FD of random subsets of the fakes of
    ``points`` sizes evenly spaced in 1/N between ``smallest`` × N and N, a least-squares line of
    FD against 1/N, and its intercept (Chong & Forsyth, "Effectively Unbiased FID and Inception
    Score and where to find them", CVPR 2020)."""
    n = fake.shape[0]
    lo = max(2, int(math.ceil(smallest * n)))
    if n - lo < 2 or points < 2:
        raise ValueError(f"FD∞ needs subsets of at least two sizes; {n} samples are too few")
    inv = np.linspace(1.0 / lo, 1.0 / n, points)
    sizes = sorted({max(2, min(n, int(round(1.0 / v)))) for v in inv})
    values = []
    for size in sizes:
        idx = torch.randperm(n, generator=generator)[:size]
        values.append(frechet_from_moments(Moments(fake[idx], device=device), reference))
    slope, intercept = np.polyfit(1.0 / np.asarray(sizes, dtype=np.float64), values, 1)
    return FDInfinity(float(intercept), float(slope), sizes, values)


# ---------------------------------------------------------------------------------------------
# KID
# ---------------------------------------------------------------------------------------------


@dataclass
class KIDResult:
    """KID over subsets: ``mean`` and ``std`` (population std, as torch-fidelity reports it) of
    the per-subset unbiased MMD² ``values``, with subsets of ``subset_size``."""

    mean: float
    std: float
    values: list[float]
    subset_size: int


def kid_subsets(n_x: int, n_y: int, *, subsets: int = 100, subset_size: int = 1000,
                generator: torch.Generator | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Row indices of ``subsets`` random pairs of subsets (each drawn without replacement), of
    size min(subset_size, n_x, n_y) — torch-fidelity's defaults are 100 subsets of 1000."""
    m = min(subset_size, n_x, n_y)
    if m < 2:
        raise ValueError(f"KID needs subsets of at least 2 samples per set; the sets have "
                         f"{n_x} and {n_y}")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    return [(torch.randperm(n_x, generator=gen)[:m], torch.randperm(n_y, generator=gen)[:m])
            for _ in range(subsets)]


SHARED_KERNEL_MAX = 4096
"""With at most this many rows in both sets together, KID computes the kernel once (a float64
matrix of at most 134 MB) and reads every subset from it."""


def _mmd2_unbiased(g: Any, m: int, dim: int) -> float:
    """The unbiased MMD² from the Gram matrix ``g`` of [x; y] (2m × 2m) with the cubic
    polynomial kernel (g / d + 1)³, evaluated in float64 on the xx, yy and xy blocks."""
    sums = []
    for block, diagonal in ((g[:m, :m], True), (g[m:, m:], True), (g[:m, m:], False)):
        if isinstance(block, torch.Tensor):
            k = block.to(torch.float64).mul_(1.0 / dim).add_(1.0)
            k = k * k * k
            total = float(k.sum()) - (float(k.diagonal().sum()) if diagonal else 0.0)
        else:
            k = block.astype(np.float64)
            k *= 1.0 / dim
            k += 1.0
            cube = k * k
            cube *= k
            total = float(cube.sum()) - (float(np.trace(cube)) if diagonal else 0.0)
        sums.append(total)
    sxx, syy, sxy = sums
    return (sxx + syy) / (m * (m - 1)) - 2.0 * sxy / (m * m)


def kid(x: Any, y: Any, *, subsets: int = 100, subset_size: int = 1000,
        generator: torch.Generator | None = None,
        pairs: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None,
        device: torch.device | str | None = None) -> KIDResult:
    """KID between the rows of ``x`` and ``y``: for each pair of subsets (``pairs``, else
    :func:`kid_subsets`), the unbiased MMD² of Gretton et al. with k(a, b) = (aᵀb / d + 1)³,

        1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j) − 2/m² Σ_{i,j} k(x_i, y_j),

    then their mean and std. The inner products are one float32 product [x; y][x; y]ᵀ per
    subset; the kernel and the sums are float64 (the sums cancel: that is where precision is
    needed)."""
    xr, yr = _Rows(x, device), _Rows(y, device)
    if xr.dim != yr.dim:
        raise ValueError(f"feature dimensions differ: {xr.dim} and {yr.dim}")
    if pairs is None:
        if subset_size >= xr.n and xr.n == yr.n:
            # Every subset would be the whole of both sets: one is enough (the std is then 0).
            pairs = [(torch.arange(xr.n), torch.arange(yr.n))]
        else:
            pairs = kid_subsets(xr.n, yr.n, subsets=subsets, subset_size=subset_size,
                                generator=generator)
    values = []
    if xr.cpu and xr.n + yr.n <= SHARED_KERNEL_MAX and len(pairs) > 1:
        # Few enough rows: the kernel of every pair of rows once, each subset's sums read
        # from it (the subsets overlap, so the per-subset products repeat the same work).
        z = np.concatenate([xr.data, yr.data])
        k = (z @ z.T).astype(np.float64)
        k *= 1.0 / xr.dim
        k += 1.0
        k = k * k * k
        for ix, iy in pairs:
            a, b = np.asarray(ix), np.asarray(iy) + xr.n
            m = len(a)
            kxx, kyy, kxy = k[np.ix_(a, a)], k[np.ix_(b, b)], k[np.ix_(a, b)]
            sxx = float(kxx.sum()) - float(np.trace(kxx))
            syy = float(kyy.sum()) - float(np.trace(kyy))
            values.append((sxx + syy) / (m * (m - 1)) - 2.0 * float(kxy.sum()) / (m * m))
    else:
        for ix, iy in pairs:
            m = int(ix.shape[0])
            if xr.cpu:  # numpy throughout: one symmetric rank-k update per subset pair
                z = np.concatenate([xr.data[np.asarray(ix)], yr.data[np.asarray(iy)]])
            else:
                z = torch.cat([xr.data[ix.to(xr.data.device)], yr.data[iy.to(yr.data.device)]])
                z = z.to(xr.device, torch.float32)
            values.append(_mmd2_unbiased(z @ z.T, m, xr.dim))
    arr = np.asarray(values, dtype=np.float64)
    return KIDResult(float(arr.mean()), float(arr.std()), values, int(pairs[0][0].shape[0]))


# ---------------------------------------------------------------------------------------------
# Vendi score
# ---------------------------------------------------------------------------------------------


def vendi_score(x: Any, *, device: torch.device | str | None = None) -> float:
    """The Vendi score (Friedman & Dieng 2023) with the cosine-similarity kernel: exp of the
    Shannon entropy of the eigenvalues of K / n, K_ij = x̂_iᵀ x̂_j with the rows L2-normalised
    (rows of zeros stay zeros, as scikit-learn's ``normalize`` leaves them).

    Between 1 (all samples the same direction) and n (orthogonal samples). K / n = X̂ X̂ᵀ / n has
    the non-zero eigenvalues of X̂ᵀ X̂ / n, so the smaller of the two (d × d or n × n) is built,
    in float64 blocks (never a float64 copy of the features). Float64 matters here: −λ log λ is
    steep near 0, so the rounding noise of a float32 product on the zero eigenvalues of
    low-rank features would add to the entropy."""
    rows = _Rows(x, device)
    n, d = rows.n, rows.dim
    if n < 1:
        raise ValueError("the Vendi score needs at least one sample")

    def unit(blk: Array) -> Array:
        norms = (blk * blk).sum(1, keepdims=True) ** 0.5 if rows.cpu else blk.norm(dim=1,
                                                                                  keepdim=True)
        norms[norms == 0] = 1.0
        blk /= norms
        return blk

    if n > d:  # d × d: X̂ᵀ X̂ over blocks of rows
        acc = rows.zeros((d, d))
        for blk in rows.blocks():
            acc += gram(unit(blk))
    else:  # n × n: X̂ X̂ᵀ
        parts = [unit(blk) for blk in rows.blocks()]
        acc = outer_gram(np.concatenate(parts) if rows.cpu else torch.cat(parts))
    w = _eigvalsh(acc / n)
    w = w[w > 0]
    return float(np.exp(-(w * np.log(w)).sum()))
