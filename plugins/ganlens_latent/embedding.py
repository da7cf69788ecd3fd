"""UMAP embeddings built on umap-learn, made fast on small data without losing faithfulness.

umap-learn spends most of a first fit compiling numba code, and most of that in the two parallel
kernels that build the fuzzy neighbour graph (``smooth_knn_dist`` and
``compute_membership_strengths``, 7-15 s on 2 CPU cores). Here the same graph is built with
vectorised numpy from an exact k-nearest-neighbour search in torch, and umap-learn's own
``simplicial_set_embedding`` (spectral initialisation, the SGD layout) turns it into 2-D
coordinates. Data of more than ``pca_dims`` dimensions are first projected on their principal
components, and the layout runs 200 epochs (umap-learn's own default above 10,000 points).

``simplicial_set_embedding`` is outside umap-learn's estimator API (``umap.UMAP``), and the
layout kernel is patched for numba's disk cache (:func:`_cache_layout_kernel`). The public path,
``umap.UMAP(precomputed_knn=(indices, distances, None), init="spectral", n_epochs=...,
random_state=...)``, was measured against this one on the same kNN graph (MNIST, N = 2,000 and
10,000): it ends in the same call (given umap-learn's own graph, this call returns the same
coordinates bit for bit), with the same trustworthiness within noise and the same time once
compiled, but it compiles umap-learn's two parallel graph kernels, which numba does not cache, in
every fresh process: 7-9 s against 1 s for a first fit at N = 2,000 on 2 cores. So the private
call stays, bounded: pyproject.toml accepts the umap-learn releases it was checked with (0.5.7 to
0.5.12; not 0.6), the call names every argument, :func:`umap_layout_api_problem` stops it with
a message naming the umap-learn version when the signature changed, and
``tests/plugins/test_latent_umap_api.py`` fails when the signature or the patched kernel change.

Faithfulness is measured, not assumed: :func:`trustworthiness` is scikit-learn's
``trustworthiness`` against the original data (before PCA) on a seeded subsample.
``benchmarks/bench_latent.py`` compares this path with umap-learn's defaults.

McInnes, Healy & Melville (2018), UMAP: Uniform Manifold Approximation and Projection.
Venna & Kaski (2001) for trustworthiness.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganlens.maths import knn, pca

N_NEIGHBORS = 15
MIN_DIST = 0.1
N_EPOCHS = 200
PCA_DIMS = 50
TRUST_NEIGHBORS = 5
SMOOTH_K_TOLERANCE = 1e-5  # umap-learn's constants, so the graph is the same
MIN_K_DIST_SCALE = 1e-3
_KNN_CHUNK = 2048

# umap.umap_.simplicial_set_embedding's parameters, in order, in every umap-learn this module was
# checked with (0.5.7 to 0.5.12); the call below names the first 16 and ``parallel``.
UMAP_LAYOUT_PARAMETERS = (
    "data", "graph", "n_components", "initial_alpha", "a", "b", "gamma", "negative_sample_rate",
    "n_epochs", "init", "random_state", "metric", "metric_kwds", "densmap", "densmap_kwds",
    "output_dens", "output_metric", "output_metric_kwds", "euclidean_output", "parallel",
    "verbose", "tqdm_kwds",
)
# umap.layouts' serial layout kernel, which :func:`_cache_layout_kernel` puts in numba's cache.
UMAP_LAYOUT_KERNEL = "_nb_optimize_layout_euclidean_single_epoch"


@dataclass
class Embedding:
    """A 2-D embedding of ``n`` points and how faithful it is.

    Attributes:
        coords: (n, 2) float32 coordinates.
        trustworthiness: scikit-learn's trustworthiness on ``trust_index`` (None for < 4 points).
        trust_index: the subsample (indices into the points) trustworthiness was measured on.
        trust_neighbors: the neighbourhood size of that measure.
    """

    coords: np.ndarray
    trustworthiness: float | None
    trust_index: np.ndarray
    trust_neighbors: int


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run BLAS, LAPACK and torch on one thread for the block, then restore. On a busy machine
    a threaded eigensolver on a few hundred dimensions can take 100x longer than on one thread
    (oversubscription); on these sizes one thread is never much slower, and it is deterministic."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def as_matrix(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """(n, ...) → (n, d) float32 C-contiguous numpy."""
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    x = np.asarray(x, dtype=np.float32)
    return np.ascontiguousarray(x.reshape(len(x), -1))


def pca_project(x: np.ndarray, dims: int) -> np.ndarray:
    """Project centred ``x`` on its top ``dims`` principal components (:func:`ganlens.maths.pca`,
    float64: deterministic, cheap for the d ≤ a few thousand of feature vectors)."""
    if dims <= 0 or x.shape[1] <= dims:
        return x
    return pca(x, dims).scores.float().numpy().copy()


def exact_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest neighbours of every row, itself first at distance 0, then the
    ``k - 1`` nearest others by :func:`ganlens.maths.knn` (ties to the lower index)."""
    n = x.shape[0]
    k = min(k, n)
    idx = np.empty((n, k), dtype=np.int32)
    dist = np.zeros((n, k), dtype=np.float32)
    idx[:, 0] = np.arange(n)
    if k > 1:
        found = knn(np.ascontiguousarray(x, dtype=np.float32), k - 1, indices=True)
        idx[:, 1:] = found["indices"].numpy()
        dist[:, 1:] = found["distances"].numpy()
    return idx, dist


def smooth_knn_dist(dists: np.ndarray, k: float, n_iter: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """umap-learn's ``smooth_knn_dist`` (local_connectivity 1, bandwidth 1), vectorised over
    rows: the per-point scale sigma with sum_j exp(-(d_ij - rho_i) / sigma_i) = log2(k), and
    rho_i, the distance to the nearest other point."""
    d = dists.astype(np.float64)
    n = d.shape[0]
    target = math.log2(k)
    positive = d > 0
    rho = np.where(positive.any(1), np.where(positive, d, np.inf).min(1), 0.0)
    lo, hi, mid = np.zeros(n), np.full(n, np.inf), np.ones(n)
    active = np.ones(n, dtype=bool)
    shifted = d[:, 1:] - rho[:, None]
    for _ in range(n_iter):
        psum = np.exp(-np.maximum(shifted, 0.0) / mid[:, None]).sum(1)  # 1 where d <= rho
        active &= np.abs(psum - target) >= SMOOTH_K_TOLERANCE
        if not active.any():
            break
        over = active & (psum > target)
        under = active & ~(psum > target)
        hi = np.where(over, mid, hi)
        lo = np.where(under, mid, lo)
        mid = np.where(over | (under & np.isfinite(hi)), (lo + hi) / 2.0,
                       np.where(under, mid * 2.0, mid))
    sigma = mid
    floor = np.where(rho > 0, MIN_K_DIST_SCALE * d.mean(1), MIN_K_DIST_SCALE * d.mean())
    sigma = np.maximum(sigma, floor)
    return sigma.astype(np.float32), rho.astype(np.float32)


def fuzzy_graph(knn_idx: np.ndarray, knn_dist: np.ndarray, k: int) -> Any:
    """umap-learn's fuzzy simplicial set (the fuzzy union of the local neighbour sets), as a
    scipy sparse COO matrix."""
    import scipy.sparse

    n = knn_idx.shape[0]
    sigma, rho = smooth_knn_dist(knn_dist, float(k))
    shifted = np.maximum(knn_dist - rho[:, None], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = np.where((shifted <= 0) | (sigma[:, None] == 0), 1.0,
                        np.exp(-shifted / np.maximum(sigma[:, None], 1e-30)))
    vals[knn_idx == np.arange(n)[:, None]] = 0.0
    rows = np.repeat(np.arange(n, dtype=np.int32), knn_idx.shape[1])
    graph = scipy.sparse.coo_matrix((vals.astype(np.float32).ravel(), (rows, knn_idx.ravel())),
                                    shape=(n, n))
    graph.eliminate_zeros()
    transpose = graph.transpose()
    union = graph + transpose - graph.multiply(transpose)
    union.eliminate_zeros()
    return union.tocoo()


def umap_embed(x: torch.Tensor | np.ndarray, *, random_state: int, n_neighbors: int = N_NEIGHBORS,
               min_dist: float = MIN_DIST, n_epochs: int = N_EPOCHS,
               pca_dims: int = PCA_DIMS) -> np.ndarray:
    """2-D UMAP coordinates of the rows of ``x`` (any trailing shape, flattened).

    Same seed and data, same coordinates: the layout runs single-threaded with a fixed
    ``random_state``. Fewer than three points are placed on a line.
    """
    data = as_matrix(x)
    n = data.shape[0]
    if n < 3:
        return np.stack([np.arange(n, dtype=np.float32), np.zeros(n, np.float32)], 1)
    if not np.isfinite(data).all():
        raise ValueError("cannot embed NaN or infinite values")
    with single_threaded():
        return _umap_embed(data, random_state, n_neighbors, min_dist, n_epochs, pca_dims)


def _umap_embed(data: np.ndarray, random_state: int, n_neighbors: int, min_dist: float,
                n_epochs: int, pca_dims: int) -> np.ndarray:
    n = data.shape[0]
    reduced = pca_project(data, pca_dims)
    k = max(2, min(n_neighbors, n - 1))
    knn_idx, knn_dist = exact_knn(reduced, k)
    graph = fuzzy_graph(knn_idx, knn_dist, k)
    from umap.umap_ import find_ab_params, simplicial_set_embedding

    problem = umap_layout_api_problem(simplicial_set_embedding, strict=False)
    if problem:
        raise RuntimeError(problem)
    _cache_layout_kernel()
    a, b = find_ab_params(1.0, min_dist)
    rng = np.random.RandomState(random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap's notes on disconnected graphs and tbb threads
        coords, _aux = simplicial_set_embedding(
            data=reduced, graph=graph, n_components=2, initial_alpha=1.0, a=a, b=b, gamma=1.0,
            negative_sample_rate=5, n_epochs=n_epochs, init="spectral", random_state=rng,
            metric="euclidean", metric_kwds={}, densmap=False, densmap_kwds={},
            output_dens=False, parallel=False,
        )
    return np.asarray(coords, dtype=np.float32)


_LAYOUT_ARGUMENTS = UMAP_LAYOUT_PARAMETERS[:16] + ("parallel",)  # what the call above names


def _umap_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("umap-learn")
    except PackageNotFoundError:
        return "unknown"


def umap_layout_api_problem(function: Any = None, *, strict: bool = True) -> str | None:
    """What changed in umap-learn's ``simplicial_set_embedding`` against
    :data:`UMAP_LAYOUT_PARAMETERS`, as a message naming the installed umap-learn, or None.

    ``strict``: any difference in the parameters' names, order or count (what the tests check);
    otherwise only what breaks the call of :func:`_umap_embed`: a parameter it names that is
    gone, or a new one without a default."""
    import inspect

    if function is None:
        from umap.umap_ import simplicial_set_embedding as function
    found = tuple(inspect.signature(function).parameters.values())
    names = tuple(p.name for p in found)
    head = (f"umap-learn {_umap_version()} changed umap.umap_.simplicial_set_embedding, the "
            "private layout the latent analyzer calls (checked with 0.5.7 to 0.5.12)")
    missing = [n for n in _LAYOUT_ARGUMENTS if n not in names]
    required = [p.name for p in found if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                and p.name not in _LAYOUT_ARGUMENTS]
    if missing or required:
        return (f"{head}: parameters gone: {missing or 'none'}; new required parameters: "
                f"{required or 'none'}. Install umap-learn from pyproject.toml's range "
                "(pip install -c constraints.txt -e .) or adapt ganlens_latent/embedding.py.")
    if strict and names != UMAP_LAYOUT_PARAMETERS:
        added = [n for n in names if n not in UMAP_LAYOUT_PARAMETERS]
        removed = [n for n in UMAP_LAYOUT_PARAMETERS if n not in names]
        return (f"{head}: {len(names)} parameters instead of {len(UMAP_LAYOUT_PARAMETERS)}; "
                f"added {added or 'none'}, removed {removed or 'none'}"
                f"{'' if added or removed else ', reordered'}. Now: {list(names)}. Check the "
                "call in ganlens_latent/embedding.py, then update UMAP_LAYOUT_PARAMETERS and "
                "the umap-learn bound in pyproject.toml.")
    return None


_CACHING_TRIED = False


def _cache_layout_kernel() -> None:
    """Let numba keep umap-learn's layout kernel on disk (its ``cache=True``, which umap-learn
    does not set for it): the same code, compiled once per machine instead of once per process.
    Where numba finds no writable cache folder, or umap-learn no longer has this kernel, this
    does nothing (the first fit compiles it, ~1 s); tests/plugins/test_latent_umap_api.py fails
    when the kernel is gone or no longer the one the serial layout runs."""
    global _CACHING_TRIED
    if _CACHING_TRIED:
        return
    _CACHING_TRIED = True
    try:
        from umap import layouts

        kernel = getattr(layouts, UMAP_LAYOUT_KERNEL, None)
        if kernel is not None and hasattr(kernel, "enable_caching") and not kernel.signatures:
            kernel.enable_caching()
    except Exception:  # noqa: BLE001 - an optimisation only; compiling in memory is correct too
        pass


def trustworthiness(x: torch.Tensor | np.ndarray, coords: np.ndarray, *, max_points: int,
                    seed: int, n_neighbors: int = TRUST_NEIGHBORS) -> tuple[float | None, np.ndarray, int]:
    """scikit-learn's trustworthiness of ``coords`` against ``x`` on a seeded subsample of at
    most ``max_points`` rows; returns (value or None, the subsample, the neighbourhood used)."""
    from sklearn.manifold import trustworthiness as sk_trustworthiness

    data = as_matrix(x)
    n = len(data)
    if max_points < n:
        index = np.sort(np.random.RandomState(seed).choice(n, max_points, replace=False))
    else:
        index = np.arange(n)
    m = len(index)
    k = min(n_neighbors, (m - 1) // 2)
    if k < 1:
        return None, index, 0
    with single_threaded():
        value = float(sk_trustworthiness(data[index], coords[index], n_neighbors=k))
    return value, index, k


def embed(x: torch.Tensor | np.ndarray, *, random_state: int, trust_points: int = 500,
          n_neighbors: int = N_NEIGHBORS, n_epochs: int = N_EPOCHS,
          pca_dims: int = PCA_DIMS) -> Embedding:
    """:func:`umap_embed` plus its :func:`trustworthiness` (subsample seeded by ``random_state``)."""
    coords = umap_embed(x, random_state=random_state, n_neighbors=n_neighbors, n_epochs=n_epochs,
                        pca_dims=pca_dims)
    value, index, k = trustworthiness(x, coords, max_points=trust_points, seed=random_state)
    return Embedding(coords, value, index, k)
