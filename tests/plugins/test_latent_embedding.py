"""The latent analyzer's UMAP path against umap-learn and scikit-learn as references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ganlens_latent.embedding import (
    embed,
    exact_knn,
    fuzzy_graph,
    pca_project,
    smooth_knn_dist,
    trustworthiness,
)
from ganlens_latent.views import coverage


def _clusters(n_per: int = 60, dim: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    centres = rng.randn(3, dim) * 20
    x = np.concatenate([c + rng.randn(n_per, dim) for c in centres]).astype(np.float32)
    return x, np.repeat(np.arange(3), n_per)


def test_exact_knn_matches_scikit_learn():
    from sklearn.neighbors import NearestNeighbors

    x = np.random.RandomState(1).randn(300, 7).astype(np.float32)
    idx, dist = exact_knn(x, 12)
    ref_d, ref_i = NearestNeighbors(n_neighbors=12, algorithm="brute").fit(x).kneighbors(x)
    assert np.array_equal(idx, ref_i)
    assert np.allclose(dist, ref_d, atol=1e-5)
    assert np.array_equal(idx[:, 0], np.arange(300))  # each point is its own first neighbour


def test_duplicates_keep_each_point_first():
    x = np.zeros((20, 3), np.float32)
    x[10:] = 1.0
    idx, dist = exact_knn(x, 5)
    assert np.array_equal(idx[:, 0], np.arange(20))
    assert np.all(dist[:, :5] == 0)


@pytest.mark.parametrize("n", [200, 40])  # more points than dimensions, and fewer
def test_pca_projection_matches_scikit_learn(n):
    from sklearn.decomposition import PCA

    rng = np.random.RandomState(2)
    x = (rng.randn(n, 60) * np.linspace(5, 0.1, 60)).astype(np.float32)
    ours = pca_project(x, 8)
    ref = PCA(n_components=8, svd_solver="full").fit_transform(x)
    assert ours.shape == (n, 8)
    assert np.allclose(np.abs(ours), np.abs(ref), atol=1e-3 * np.abs(ref).max())


def test_fuzzy_graph_equals_umap_learn(monkeypatch):
    """The same kNN through umap-learn's own fuzzy_simplicial_set (its numba kernels run as
    plain Python, so the reference costs no compilation) gives the same graph."""
    import umap.umap_ as umap_module

    monkeypatch.setattr(umap_module, "smooth_knn_dist", umap_module.smooth_knn_dist.py_func)
    monkeypatch.setattr(umap_module, "compute_membership_strengths",
                        umap_module.compute_membership_strengths.py_func)
    x = np.random.RandomState(3).randn(150, 6).astype(np.float32)
    x[:4] = x[4]  # duplicates: zero distances beyond the point itself
    idx, dist = exact_knn(x, 15)
    ref, sigmas, rhos = umap_module.fuzzy_simplicial_set(
        x, 15, np.random.RandomState(0), "euclidean", knn_indices=idx, knn_dists=dist)
    sigma, rho = smooth_knn_dist(dist, 15.0)
    assert np.allclose(sigma, sigmas, rtol=1e-4)
    assert np.allclose(rho, rhos)
    ours = fuzzy_graph(idx, dist, 15)
    assert ours.nnz == ref.nnz
    assert abs(ours.tocsr() - ref.tocsr()).max() < 1e-5


def test_three_clusters_stay_apart_and_trustworthiness_is_scikit_learns():
    from sklearn.manifold import trustworthiness as sk_trust
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    x, labels = _clusters()
    emb = embed(x, random_state=7, trust_points=500, n_epochs=100)
    knn_acc = cross_val_score(KNeighborsClassifier(5), emb.coords, labels, cv=5).mean()
    assert knn_acc > 0.95
    assert emb.trustworthiness == sk_trust(x, emb.coords, n_neighbors=5)
    again = embed(x, random_state=7, trust_points=500, n_epochs=100)
    assert np.array_equal(emb.coords, again.coords)  # same seed, same picture


def test_trustworthiness_on_a_subsample():
    from sklearn.manifold import trustworthiness as sk_trust

    x, _ = _clusters(40)
    coords = x[:, :2] + 0.0
    value, index, k = trustworthiness(x, coords, max_points=50, seed=3)
    assert len(index) == 50 and k == 5
    assert value == sk_trust(x[index], coords[index], n_neighbors=5)


def test_coverage_finds_a_missing_cluster():
    rng = torch.Generator().manual_seed(0)
    a = torch.randn(100, 5, generator=rng)
    b = torch.randn(100, 5, generator=rng) + 50
    real = torch.cat([a, b])
    fake_half = torch.randn(200, 5, generator=rng)  # covers only the first cluster
    uncovered, unsupported = coverage(fake_half, real)
    assert abs(uncovered.mean() - 0.5) < 0.02
    assert unsupported.mean() < 0.05
    fake_all = torch.cat([torch.randn(100, 5, generator=rng), torch.randn(100, 5, generator=rng) + 50])
    uncovered, unsupported = coverage(fake_all, real)
    assert uncovered.mean() < 0.05 and unsupported.mean() < 0.05
