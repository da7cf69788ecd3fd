"""The real-fake pass of precision, recall, density and coverage, on the exact blocked distances
of :mod:`ganlens.maths` (whose nearest-neighbour functions this module re-exports for the
package's metrics)."""

from __future__ import annotations

from typing import Any

import torch

from ganlens.maths import Scanner, as_features, knn, nearest

__all__ = ["Scanner", "as_features", "knn", "manifold_pass", "nearest"]


def manifold_pass(real: Any, fake: Any, real_radius_pr: torch.Tensor,
                  real_radius_dc: torch.Tensor, fake_radius_pr: torch.Tensor, *,
                  inclusive: bool = False, **scan: Any) -> dict[str, torch.Tensor]:
    """One pass over the real-fake distances, folding them into per-sample results.

    Returns:
        ``precision_count`` (n_fake,): reals whose k-NN ball (``real_radius_pr``) holds the fake;
        ``density_count`` (n_fake,): the same with the density radius ``real_radius_dc``;
        ``recall`` (n_real,) bool: the real lies in some fake's k-NN ball (``fake_radius_pr``);
        ``coverage`` (n_real,) bool: the nearest fake lies in the real's ball (``real_radius_dc``);
        ``nearest_fake`` (n_real,): each real's distance to its nearest fake.
    A point on a ball's boundary is inside when ``inclusive`` (``≤``), outside otherwise (``<``,
    as in prdc).
    """
    sc = Scanner(real, fake, **scan)
    less = torch.le if inclusive else torch.lt
    dev = sc.device
    r_pr, r_dc = real_radius_pr.to(dev, torch.float32), real_radius_dc.to(dev, torch.float32)
    f_pr = fake_radius_pr.to(dev, torch.float32)
    prec = torch.zeros(sc.n_b, dtype=torch.long, device=dev)
    dens = torch.zeros(sc.n_b, dtype=torch.long, device=dev)
    recall = torch.zeros(sc.n_a, dtype=torch.bool, device=dev)
    nearest_fake = torch.full((sc.n_a,), float("inf"), device=dev)
    for r0, r1, c0, c1, d in sc:
        prec[c0:c1] += less(d, r_pr[r0:r1, None]).sum(0)
        dens[c0:c1] += less(d, r_dc[r0:r1, None]).sum(0)
        recall[r0:r1] |= less(d, f_pr[None, c0:c1]).any(1)
        nearest_fake[r0:r1] = torch.minimum(nearest_fake[r0:r1], d.min(1).values)
    coverage = less(nearest_fake, r_dc)
    return {"precision_count": prec.cpu(), "density_count": dens.cpu(), "recall": recall.cpu(),
            "coverage": coverage.cpu(), "nearest_fake": nearest_fake.cpu()}
