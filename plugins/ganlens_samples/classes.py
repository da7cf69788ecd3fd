"""The per-class view of a conditional GAN: one row per class, one fixed latent per column.

Every image of the grid is G(z_j, c) for the first latents z_j of the shared pass and the classes
c shown. From the same images (no further pass):

- within-row diversity of class c: the mean pairwise root-mean-square difference (per data
  value) between the row's images, G(z_i, c) and G(z_j, c). 0 means the class collapsed: the
  generator draws the same thing for every latent of that class.
- the distance between two classes a and b: the mean over the columns of the RMS difference
  between G(z_j, a) and G(z_j, b). Near 0 means the two rows look alike: the label changes
  nothing between those classes (conditioning failed there).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

COLLAPSE_FRACTION = 0.1
"""A class collapsed when its within-row diversity is at most this fraction of the median over
the classes shown (or is 0); two classes look alike when their distance is at most this
fraction of that median."""


@dataclass
class ClassGrid:
    """The images and the numbers of the per-class grid.

    Attributes:
        classes: the class indices shown, one per row.
        images: (rows, columns, *data shape) generated samples, G(z_j, classes[r]).
        diversity: (rows,) within-row diversity of each class.
        distances: (rows, rows) mean RMS difference between two rows, column by column (0 on
            the diagonal).
    """

    classes: list[int]
    images: torch.Tensor
    diversity: torch.Tensor
    distances: torch.Tensor

    @property
    def columns(self) -> int:
        return int(self.images.shape[1])

    @property
    def label_effect(self) -> float:
        """The mean distance between two different rows (classes) of the same column."""
        s = len(self.classes)
        if s < 2:
            return 0.0
        off = ~torch.eye(s, dtype=torch.bool)
        return float(self.distances[off].mean())

    def closest_pair(self) -> tuple[int, int, float]:
        """The two rows (as positions in ``classes``) that look most alike, and their distance;
        ties go to the lower positions."""
        s = len(self.classes)
        best = (0, 1, float("inf"))
        for a in range(s):
            for b in range(a + 1, s):
                d = float(self.distances[a, b])
                if d < best[2]:
                    best = (a, b, d)
        return best

    def reference(self) -> float:
        """The median within-row diversity: the scale of the collapse tests."""
        return float(self.diversity.median())

    def collapsed(self) -> list[int]:
        """Positions of the classes whose within-row diversity is at most
        :data:`COLLAPSE_FRACTION` of the median (every class when the median is 0)."""
        ref = self.reference()
        return [r for r in range(len(self.classes))
                if float(self.diversity[r]) <= COLLAPSE_FRACTION * ref or
                float(self.diversity[r]) == 0.0]


def shown_classes(num_classes: int, cap: int) -> list[int]:
    """All classes, or ``cap`` of them evenly spaced from the first to the last."""
    if num_classes <= cap:
        return list(range(num_classes))
    if cap == 1:
        return [0]
    step = (num_classes - 1) / (cap - 1)
    return sorted({round(i * step) for i in range(cap)})


def rms_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n, m) root-mean-square difference per data value between rows of ``a`` and ``b``."""
    fa, fb = a.reshape(a.shape[0], -1).double(), b.reshape(b.shape[0], -1).double()
    # Direct differences (not the dot-product expansion): identical images are exactly 0 apart.
    d = torch.cdist(fa[None], fb[None], compute_mode="donot_use_mm_for_euclid_dist")[0]
    return d / max(fa.shape[1], 1) ** 0.5


def class_grid(images: torch.Tensor, classes: list[int]) -> ClassGrid:
    """The numbers of a per-class grid from its (rows, columns, *data) images."""
    s, k = images.shape[0], images.shape[1]
    diversity = torch.zeros(s, dtype=torch.float64)
    if k >= 2:
        iu = torch.triu_indices(k, k, 1)
        for r in range(s):
            d = rms_distances(images[r], images[r])
            diversity[r] = d[iu[0], iu[1]].mean()
    flat = images.reshape(s, k, -1).double()
    distances = torch.zeros(s, s, dtype=torch.float64)
    for j in range(k):
        distances += rms_distances(flat[:, j], flat[:, j])
    distances /= max(k, 1)
    distances.fill_diagonal_(0.0)
    return ClassGrid(list(classes), images, diversity, distances)


def class_names(ctx, num_classes: int) -> list[str]:
    """The real data's class names when they name the generator's classes, else the indices."""
    names = ctx.real.class_names if ctx.real is not None else None
    if names and len(names) == num_classes:
        return [str(n) for n in names]
    return [str(c) for c in range(num_classes)]
