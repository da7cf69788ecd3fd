"""The data-copying test of Meehan, Chaudhuri & Dasgupta (AISTATS 2020, "A Non-Parametric Test to
Detect Data-Copying in Generative Models").

A generator *copies* where its samples are closer to the training samples than fresh samples of
the data distribution are. The test partitions the space into cells (k-means on the training
data T) and, in each cell π, compares the distances to the nearest training sample (of that
cell) of the generated samples, L_π(Q_m), with those of held-out samples, L_π(P_n), by the
Mann-Whitney U test, Z-scored under the null hypothesis of equal distributions:

    Z_U(π) = (U − m n / 2 + ½) / σ_U,  U = #{(q, p): L(q) > L(p)} + ½ #{L(q) = L(p)},

σ_U² = m n (m + n + 1) / 12 with the usual correction for ties (the ½ is the continuity
correction of the one-sided test: Z_U = Φ⁻¹ of ``scipy.stats.mannwhitneyu(L(Q), L(P),
alternative="less")``'s asymptotic p-value). The statistic averages the cells' Z-scores weighted
by their share of held-out samples, over the cells Π_τ with enough generated samples (and here
also enough held-out ones):

    C_T = Σ_{π∈Π_τ} P_n(π) Z_U(π) / Σ_{π∈Π_τ} P_n(π).

C_T ≪ 0 (the paper flags C_T < −3): generated samples sit closer to training samples than new
data do — data copying; C_T ≫ 0: they are farther (underfitting); about 0 under the null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ganlens.maths import nearest


def kmeans(x: torch.Tensor, k: int, *, generator: torch.Generator, iterations: int = 50,
           device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), every random draw
    from ``generator``; returns the (k, d) centres and each row's cell. Assignments use exact
    nearest-neighbour distances; a cell that empties keeps its centre."""
    n = int(x.shape[0])
    if not 1 <= k <= n:
        raise ValueError(f"k-means needs 1 <= k <= n = {n}, got k = {k}")
    dev = torch.device(device) if device is not None else x.device

    def sq_dist(i: int) -> torch.Tensor:  # exact squared distances to row i, float64
        return nearest(x, x[i : i + 1], 1, device=dev)[0][:, 0].double() ** 2

    first = int(torch.randint(n, (1,), generator=generator))
    chosen = [first]
    d2 = sq_dist(first)
    for _ in range(1, k):
        total = float(d2.sum())
        if total > 0:
            nxt = int(torch.multinomial(d2 / total, 1, generator=generator))
        else:  # every point sits on a chosen centre: any point will do
            nxt = int(torch.randint(n, (1,), generator=generator))
        chosen.append(nxt)
        d2 = torch.minimum(d2, sq_dist(nxt))
    centres = x[chosen].clone().float()
    labels = nearest(x, centres, 1, device=dev)[1][:, 0]
    rows = 4096
    for _ in range(iterations):
        sums = torch.zeros((k, x.shape[1]), dtype=torch.float64)
        for r0 in range(0, n, rows):
            sums.index_add_(0, labels[r0 : r0 + rows], x[r0 : r0 + rows].double())
        counts = torch.bincount(labels, minlength=k)
        filled = counts > 0
        centres[filled] = (sums[filled] / counts[filled, None]).float()
        new = nearest(x, centres, 1, device=dev)[1][:, 0]
        if torch.equal(new, labels):
            break
        labels = new
    return centres, labels


def mann_whitney_z(generated: np.ndarray, held_out: np.ndarray) -> float:
    """Z_U of the module docstring: the Mann-Whitney U of ``generated`` against ``held_out``
    distances, Z-scored with the tie correction and the one-sided continuity correction.
    Negative: the generated distances tend to be smaller."""
    from scipy.stats import rankdata

    a = np.asarray(generated, dtype=np.float64).ravel()
    b = np.asarray(held_out, dtype=np.float64).ravel()
    m, n = a.size, b.size
    if m == 0 or n == 0:
        raise ValueError("the U test needs at least one sample on each side")
    both = np.concatenate([a, b])
    ranks = rankdata(both)
    u = float(ranks[:m].sum()) - m * (m + 1) / 2.0
    _, ties = np.unique(both, return_counts=True)
    total = m + n
    tie_term = float(np.sum(ties.astype(np.float64) ** 3 - ties))
    var = m * n / 12.0 * ((total + 1) - tie_term / (total * (total - 1)))
    if var <= 0:  # every distance equal: no evidence either way
        return 0.0
    return (u - m * n / 2.0 + 0.5) / math.sqrt(var)


@dataclass
class CopyingResult:
    """The test's outcome: ``statistic`` (C_T, NaN when no cell qualifies), per cell its
    ``z`` score (NaN where not computed), its sample counts and whether it is ``included`` in
    C_T, and how many cells there are."""

    statistic: float
    z: np.ndarray
    train_counts: np.ndarray
    held_out_counts: np.ndarray
    generated_counts: np.ndarray
    included: np.ndarray
    cells: int
    min_samples: int

    @property
    def weights(self) -> np.ndarray:
        """P_n(π): each cell's share of the held-out samples."""
        return self.held_out_counts / max(1, int(self.held_out_counts.sum()))

    def copying_cells(self, threshold: float) -> list[int]:
        """Included cells whose Z_U is below ``threshold``, most negative first."""
        idx = [i for i in range(self.cells) if self.included[i] and self.z[i] < threshold]
        return sorted(idx, key=lambda i: self.z[i])


def cells_for(n_held_out: int, cells: int, min_samples: int) -> int:
    """How many cells to use: at most ``cells``, and few enough that an average cell holds twice
    the ``min_samples`` held-out samples a cell needs to count."""
    return min(cells, n_held_out // (2 * min_samples))


def data_copying_test(train: torch.Tensor, held_out: torch.Tensor, generated: torch.Tensor, *,
                      cells: int, min_samples: int, generator: torch.Generator,
                      device: torch.device | str | None = None) -> CopyingResult:
    """C_T of ``generated`` against ``train`` with ``held_out`` as the fresh sample, over
    ``cells`` k-means cells of ``train``. A cell counts when it holds at least ``min_samples``
    generated and ``min_samples`` held-out samples (and a training sample)."""
    for name, x in (("held-out", held_out), ("generated", generated)):
        if x.shape[1] != train.shape[1]:
            raise ValueError(f"the {name} features have {x.shape[1]} dimensions, the training "
                             f"features {train.shape[1]}")
    centres, t_cells = kmeans(train, cells, generator=generator, device=device)
    h_cells = nearest(held_out, centres, 1, device=device)[1][:, 0]
    g_cells = nearest(generated, centres, 1, device=device)[1][:, 0]
    counts = [torch.bincount(c, minlength=cells).numpy() for c in (t_cells, h_cells, g_cells)]
    z = np.full(cells, np.nan)
    included = np.zeros(cells, dtype=bool)
    for c in range(cells):
        if counts[0][c] == 0 or counts[1][c] == 0 or counts[2][c] == 0:
            continue
        pool = train[t_cells == c]
        l_gen = nearest(generated[g_cells == c], pool, 1, device=device)[0][:, 0]
        l_held = nearest(held_out[h_cells == c], pool, 1, device=device)[0][:, 0]
        z[c] = mann_whitney_z(l_gen.numpy(), l_held.numpy())
        included[c] = counts[1][c] >= min_samples and counts[2][c] >= min_samples
    weights = counts[1] / max(1, int(counts[1].sum()))
    if included.any():
        statistic = float(np.sum(weights[included] * z[included]) / np.sum(weights[included]))
    else:
        statistic = math.nan
    return CopyingResult(statistic, z, counts[0], counts[1], counts[2], included, cells,
                         min_samples)
