"""Shared maths, one definition each: interpolation between latents, exact nearest neighbours,
and principal components. Analyzers use these (through the public :mod:`ganlens.maths`) so that
two sections of one report never disagree on what "spherical", "nearest" or "PC 1" means.

**Interpolation.** :func:`lerp` is ``(1 - t) a + t b``. :func:`slerp` moves the direction along
the great circle between ``a`` and ``b`` (Shoemake 1985; White 2016 for GAN latents) while the
norm moves linearly, so the norms stay typical of a Gaussian prior; (anti)parallel pairs, such as
every pair of a 1-D latent, have no unique great circle and fall back to linear.

**Nearest neighbours.** Exact, in torch, in blocks: nothing of size N×N is ever held. Distances
are computed the way scikit-learn computes them for float32 input (which is what the reference
``prdc`` package uses): squared distances ``-2 a·b + |a|² + |b|²`` in float64, rounded to float32,
then the square root in float32; pairs whose expanded squared distance is tiny relative to their
norms are recomputed directly as ``Σ (a - b)²``, so identical vectors are exactly 0 apart. Ties
go to the lower index. Pass ``dtype=torch.float32`` to trade exactness for speed (about twice as
fast on CPUs).

**Principal components.** :func:`pca` diagonalises the covariance ``x_cᵀ x_c`` or, with more
dimensions than samples, the Gram matrix ``x_c x_cᵀ`` (the same components), in float64; the
components come in decreasing order of variance. :func:`plane_2d` is the 2-D view every scatter
figure uses: the data's own axes for 1-D and 2-D data, else the first two principal components.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

TINY = 1e-12



DEFAULT_BLOCK_ELEMS = 1 << 21  # 2M values per block: about 150 MB of scratch memory at most
MAX_BLOCK_COLS = 8192
# Pairs with a squared distance below this fraction of |a|² + |b|² are recomputed directly: the
# float64 expansion's rounding error is ~1e-16 of that sum, so 1e-9 catches every identical pair
# while recomputing almost nothing else.
REFINE_RELATIVE = 1e-9


def as_features(x: Any, what: str = "features") -> torch.Tensor:
    """A 2-D floating tensor view of ``x`` (a tensor or a numpy array; images are flattened)."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what}: expected a torch tensor or numpy array, got {type(x).__name__}")
    if x.ndim == 1:
        raise ValueError(f"{what}: expected a 2-D array (samples × features), got shape {tuple(x.shape)}")
    if x.ndim > 2:
        x = x.flatten(1)
    if not x.is_floating_point():
        x = x.float()
    return x


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, n)) for s in range(0, n, max(1, size))]


class Scanner:
    """Iterates over the distance matrix between ``a`` and ``b`` (or ``a`` and itself) in blocks.

    Args:
        a, b: (n_a, d) and (n_b, d) features; ``b=None`` scans ``a`` against itself, with the
            diagonal exactly 0.
        dtype: the precision of the matrix products (float64: exact float32 distances).
        device: where to compute (default: ``a``'s device).
        block_elems: the most distances held at once.
    """

    def __init__(self, a: Any, b: Any = None, *, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None,
                 block_elems: int = DEFAULT_BLOCK_ELEMS) -> None:
        self.a = as_features(a, "a")
        self.same = b is None
        self.b = self.a if b is None else as_features(b, "b")
        if self.a.shape[1] != self.b.shape[1]:
            raise ValueError(f"feature dimensions differ: {self.a.shape[1]} and {self.b.shape[1]}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.dtype = dtype
        self.device = torch.device(device) if device is not None else self.a.device
        if block_elems < 1:
            raise ValueError(f"block_elems must be positive, got {block_elems}")
        self.block_elems = int(block_elems)
        # The block of distances and the float64 copies of its rows and columns each stay
        # within block_elems values, whatever the feature dimension.
        n_b, dim = max(1, self.b.shape[0]), max(1, self.a.shape[1])
        self.cols = max(1, min(n_b, MAX_BLOCK_COLS, block_elems // dim))
        self.rows = max(1, min(block_elems // self.cols, block_elems // dim))

    @property
    def n_a(self) -> int:
        return int(self.a.shape[0])

    @property
    def n_b(self) -> int:
        return int(self.b.shape[0])

    def _load(self, x: torch.Tensor, lo: int, hi: int) -> tuple[torch.Tensor, torch.Tensor]:
        blk = x[lo:hi].to(self.device, self.dtype)
        return blk, (blk * blk).sum(1)

    def __iter__(self) -> Iterator[tuple[int, int, int, int, torch.Tensor]]:
        """Yield ``(row0, row1, col0, col1, D)``: D the float32 distances of that block. Blocks
        come row band by row band, each band's column blocks in order."""
        col_blocks = _blocks(self.n_b, self.cols)
        for r0, r1 in _blocks(self.n_a, self.rows):
            a_blk, aa = self._load(self.a, r0, r1)
            for c0, c1 in col_blocks:
                b_blk, bb = self._load(self.b, c0, c1)
                yield r0, r1, c0, c1, self._distances(a_blk, aa, b_blk, bb, r0, c0)

    def upper_tiles(self) -> Iterator[tuple[int, int, int, int, torch.Tensor]]:
        """For a set against itself: square tiles on and above the diagonal only, each computed
        once. A consumer folds a tile into its rows and (off the diagonal) its transpose into its
        columns, which halves the work of a within-set pass."""
        if not self.same:
            raise ValueError("upper_tiles needs a set scanned against itself (b=None)")
        dim = max(1, self.a.shape[1])
        side = max(1, min(math.isqrt(self.block_elems), self.block_elems // dim, self.n_a))
        tiles = _blocks(self.n_a, side)
        for i, (r0, r1) in enumerate(tiles):
            a_blk, aa = self._load(self.a, r0, r1)
            for c0, c1 in tiles[i:]:
                b_blk, bb = (a_blk, aa) if c0 == r0 else self._load(self.a, c0, c1)
                yield r0, r1, c0, c1, self._distances(a_blk, aa, b_blk, bb, r0, c0)

    def _distances(self, a: torch.Tensor, aa: torch.Tensor, b: torch.Tensor, bb: torch.Tensor,
                   r0: int, c0: int) -> torch.Tensor:
        # |a|² + |b|² - 2 a·b, as scikit-learn computes it; clamp the rounding below 0.
        sq = torch.addmm(bb[None, :], a, b.T, beta=1.0, alpha=-2.0)
        sq.add_(aa[:, None]).clamp_min_(0.0)
        # Near-identical pairs: recompute exactly, so duplicates are exactly 0 apart. The row
        # bound uses the largest |b|², so it flags a superset of the pairs that need it.
        bound = REFINE_RELATIVE * (aa + bb.max())
        tiny = sq <= bound[:, None]
        if self.same and r0 < c0 + b.shape[0] and c0 < r0 + a.shape[0]:
            rows = torch.arange(a.shape[0], device=sq.device) + r0
            cols = torch.arange(b.shape[0], device=sq.device) + c0
            diag = rows[:, None] == cols[None, :]
            tiny &= ~diag
            sq.masked_fill_(diag, 0.0)
        if bool(tiny.any()):
            i, j = tiny.nonzero(as_tuple=True)
            sq[i, j] = ((a[i] - b[j]) ** 2).sum(1)
        return sq.to(torch.float32).sqrt_()


def knn(x: Any, k: int, *, radius: float | None = None, indices: bool = False,
        **scan: Any) -> dict[str, torch.Tensor]:
    """Distances to the ``k`` nearest *other* rows of ``x`` (self excluded), ascending.

    Returns ``{"distances": (n, k)}``, plus ``"indices"`` (n, k) when asked and
    ``"within"`` (n,) — how many other rows lie at distance ≤ ``radius`` — when ``radius`` is
    given. ``distances[:, k-1]`` is the k-NN radius of Kynkäänniemi et al. and Naeem et al.
    (prdc computes it as the (k+1)-th smallest distance with the point itself included).
    """
    sc = Scanner(x, None, **scan)
    n = sc.n_a
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and n - 1 = {n - 1}, got {k}")
    best = torch.full((n, k), float("inf"))
    best_i = torch.zeros((n, k), dtype=torch.long)
    within = torch.zeros(n, dtype=torch.long) if radius is not None else None
    for r0, r1, c0, c1, d in sc.upper_tiles():
        if c0 == r0:  # a diagonal tile: both orders of every pair are in it; exclude self
            eye = torch.eye(r1 - r0, dtype=torch.bool, device=d.device)
            if within is not None:
                within[r0:r1] += ((d <= radius) & ~eye).sum(1).cpu()
            _merge_topk(best, best_i, r0, r1, c0, d.masked_fill(eye, float("inf")), k)
        else:  # above the diagonal: the tile serves its rows, its transpose its columns
            if within is not None:
                hits = d <= radius
                within[r0:r1] += hits.sum(1).cpu()
                within[c0:c1] += hits.sum(0).cpu()
            _merge_topk(best, best_i, r0, r1, c0, d, k)
            _merge_topk(best, best_i, c0, c1, r0, d.T, k)
    out = {"distances": best}
    if indices:
        out["indices"] = best_i
    if within is not None:
        out["within"] = within
    return out


def nearest(query: Any, pool: Any, k: int = 1, **scan: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances and indices of the ``k`` nearest rows of ``pool`` for each row of ``query``."""
    sc = Scanner(query, pool, **scan)
    if not 1 <= k <= sc.n_b:
        raise ValueError(f"k must be between 1 and the pool size {sc.n_b}, got {k}")
    best = torch.full((sc.n_a, k), float("inf"))
    best_i = torch.zeros((sc.n_a, k), dtype=torch.long)
    for r0, r1, c0, _c1, d in sc:
        _merge_topk(best, best_i, r0, r1, c0, d, k)
    return best, best_i


def _merge_topk(best: torch.Tensor, best_i: torch.Tensor, r0: int, r1: int, c0: int,
                d: torch.Tensor, k: int) -> None:
    kk = min(k, d.shape[1])
    vals, idx = d.topk(kk, dim=1, largest=False, sorted=True)
    cand_v = torch.cat([best[r0:r1], vals.cpu()], 1)
    cand_i = torch.cat([best_i[r0:r1], idx.cpu() + c0], 1)
    # A stable sort keeps the earlier (lower-index) neighbour first at equal distances.
    order = cand_v.argsort(dim=1, stable=True)[:, :k]
    best[r0:r1] = cand_v.gather(1, order)
    best_i[r0:r1] = cand_i.gather(1, order)


# ---------------------------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------------------------

PARALLEL_ANGLE = 1e-3  # radians: closer to 0 or pi than this, a pair has no unique great circle


def _path_args(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[int, ...]]:
    if z0.shape != z1.shape or z0.ndim < 1:
        raise ValueError(f"end points must have the same shape (P, ...), got {tuple(z0.shape)} "
                         f"and {tuple(z1.shape)}")
    p = z0.shape[0]
    t = t.to(z0.dtype)
    if t.ndim == 1:
        t = t.expand(p, -1)
    if t.ndim != 2 or t.shape[0] != p:
        raise ValueError(f"t must have shape (T,) or (P, T) with P = {p}, got {tuple(t.shape)}")
    return z0.reshape(p, -1), z1.reshape(p, -1), t[..., None], tuple(z0.shape[1:])


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation between the rows of ``z0`` and ``z1`` (P, ...) at ``t`` ((T,) or
    (P, T)): (P, T, ...)."""
    a, b, tt, shape = _path_args(z0, z1, t)
    out = (1 - tt) * a[:, None, :] + tt * b[:, None, :]
    return out.reshape(*out.shape[:2], *shape)


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between the rows of ``z0`` and ``z1`` (P, ...) at ``t`` ((T,) or
    (P, T)): (P, T, ...). The direction follows the great circle, the norm moves linearly."""
    a, b, tt, shape = _path_args(z0, z1, t)
    lin = (1 - tt) * a[:, None, :] + tt * b[:, None, :]
    na, nb = a.norm(dim=1).clamp_min(TINY), b.norm(dim=1).clamp_min(TINY)
    ua, ub = (a / na[:, None])[:, None, :], (b / nb[:, None])[:, None, :]
    omega = torch.arccos((ua * ub).sum(-1, keepdim=True).clamp(-1.0, 1.0))
    sin = torch.sin(omega).clamp_min(TINY)
    unit = (torch.sin((1 - tt) * omega) * ua + torch.sin(tt * omega) * ub) / sin
    sph = unit * ((1 - tt) * na[:, None, None] + tt * nb[:, None, None])
    out = torch.where((omega < PARALLEL_ANGLE) | (torch.pi - omega < PARALLEL_ANGLE), lin, sph)
    return out.reshape(*out.shape[:2], *shape)


def interpolate(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor, kind: str) -> torch.Tensor:
    """:func:`lerp` (``kind="linear"``) or :func:`slerp` (``"spherical"``)."""
    if kind == "linear":
        return lerp(z0, z1, t)
    if kind == "spherical":
        return slerp(z0, z1, t)
    raise ValueError(f"interpolation kind {kind!r}: expected 'linear' or 'spherical'")


# ---------------------------------------------------------------------------------------------
# Principal components
# ---------------------------------------------------------------------------------------------


@dataclass
class PCA:
    """The top principal components of some data (float64).

    Attributes:
        mean: (d,) the data's mean.
        components: (k, d) orthonormal rows, in decreasing order of variance.
        variances: (k,) the sums of squares along each component (eigenvalues of x_cᵀ x_c).
        total: the total sum of squares of the centred data.
        scores: (n, k) the fitted data's coordinates on the components.
    """

    mean: torch.Tensor
    components: torch.Tensor
    variances: torch.Tensor
    total: float
    scores: torch.Tensor

    @property
    def explained_ratio(self) -> torch.Tensor:
        """Each component's share of the total variance."""
        return self.variances / max(self.total, 1e-300)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Coordinates of ``x`` (n, ...) on the components, float32."""
        flat = x.reshape(len(x), -1).double()
        return ((flat - self.mean) @ self.components.T).float()


def pca(x: torch.Tensor | np.ndarray, k: int) -> PCA:
    """The top ``k`` principal components of the rows of ``x`` (n, ...), by an eigendecomposition
    in float64 of whichever of x_cᵀ x_c and x_c x_cᵀ is smaller."""
    xd = as_features(x, "x").double()
    mean = xd.mean(0)
    xc = xd - mean
    n, d = xc.shape
    k = max(0, min(k, n, d))
    total = float((xc**2).sum())
    if d <= n:
        vals, vecs = torch.linalg.eigh(xc.T @ xc)
        vals, vecs = vals.flip(0)[:k].clamp_min(0), vecs.flip(1)[:, :k]
        comps, scores = vecs.T, xc @ vecs
    else:  # more dimensions than samples: the Gram matrix gives the same components
        vals, vecs = torch.linalg.eigh(xc @ xc.T)
        vals, vecs = vals.flip(0)[:k].clamp_min(0), vecs.flip(1)[:, :k]
        scores = vecs * vals.sqrt()
        comps = (xc.T @ vecs / vals.sqrt().clamp_min(TINY)).T
    return PCA(mean, comps, vals, total, scores)


def plane_2d(reference: torch.Tensor) -> tuple[Callable[[torch.Tensor], torch.Tensor],
                                                 tuple[str, str]]:
    """A map of data like ``reference`` (n, ...) to 2-D points, and the axes' names: the data's
    own coordinates for 1-D (padded with 0) and 2-D data, else ``reference``'s first two
    principal components."""
    ref = reference.reshape(len(reference), -1).float()
    d = ref.shape[1]
    if d == 1:
        return (lambda x: torch.cat([x.reshape(len(x), -1).float(), torch.zeros(len(x), 1)], 1),
                ("x[0]", "(none)"))
    if d == 2:
        return (lambda x: x.reshape(len(x), -1).float()), ("x[0]", "x[1]")
    fit = pca(ref, 2)
    return fit.project, ("PC 1", "PC 2")
