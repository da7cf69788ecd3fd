"""A small classifier that ganlens trains on a labelled real dataset, cached per dataset sha256
in the host's cache folder.

It labels generated samples (class coverage), and its penultimate layer is the ``classifier``
feature space. A classifier below :data:`MIN_ACCURACY` held-out accuracy is refused: labels from
a weak classifier would make every class-based number meaningless.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..core.dataset import Dataset
from ..core.errors import FeatureUnavailable
from ..core.fileio import atomic_path

MIN_ACCURACY = 0.90
HELD_OUT_FRACTION = 0.2
MAX_STEPS = 600
BATCH_SIZE = 64
CACHE_VERSION = 2
SPLIT_SEED = 0
INIT_SEED = 0
LEARNING_RATE = 1e-3


class SmallCNN(nn.Module):
    """Two convolutions, a 128-unit penultimate layer, a linear classifier."""

    def __init__(self, channels: int, side: int, num_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2) if side >= 8 else nn.Identity(),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2) if side >= 16 else nn.Identity(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(64 * 16, 128), nn.ReLU(),
        )
        self.head = nn.Linear(128, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallMLP(nn.Module):
    """For vector data: two hidden layers, the second is the penultimate layer."""

    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(dim, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU())
        self.head = nn.Linear(128, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _build(spec_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    if len(spec_shape) == 3:
        return SmallCNN(spec_shape[0], spec_shape[1], num_classes)
    return SmallMLP(spec_shape[0], num_classes)


@dataclass
class Classifier:
    """A trained classifier: predictions, penultimate features, held-out accuracy."""

    model: nn.Module
    accuracy: float
    num_classes: int
    class_names: list[str]
    device: torch.device
    cross_fit: Callable[[], tuple[list[nn.Module], float]] | None = field(default=None,
                                                                           repr=False)
    _folds: tuple[list[nn.Module], float] | None = field(default=None, repr=False)

    def _fold_models(self) -> tuple[list[nn.Module], float]:
        if self._folds is None:
            if self.cross_fit is None:
                raise FeatureUnavailable("this classifier was made without cross-fitting")
            with torch.enable_grad():  # it trains, even when first asked inside no_grad
                self._folds = self.cross_fit()
        return self._folds

    @property
    def unseen_accuracy(self) -> float:
        """The accuracy of :meth:`predict_unseen`: each fold's classifier on the fold it did not
        train on, pooled."""
        return self._fold_models()[1]

    @torch.no_grad()
    def predict_unseen(self, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """The class of each sample from a classifier that never trained on it (cross-fitting):
        a sample of fold f (:func:`fold_of`) is labelled by the classifier trained on the other
        fold. Real samples so get labels as honest as generated ones, which no classifier saw."""
        models, _acc = self._fold_models()
        folds = fold_of(x)
        out = torch.empty(len(x), dtype=torch.long)
        for f in (0, 1):
            rows = torch.nonzero(folds == f).reshape(-1)
            if len(rows):
                model = models[1 - f]
                preds = [model(x[rows[s : s + batch_size]].to(self.device)).argmax(1).cpu()
                         for s in range(0, len(rows), batch_size)]
                out[rows] = torch.cat(preds)
        return out

    def held_out_embedding(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The penultimate features of the fold-0 classifier (trained on fold 0 of the real data
        only), with ``fitted_on(x)``: which rows are in the fold it trained on. The feature space
        leaves those reals out, so that reals and fakes are both samples it never saw: features
        of its own training samples sit closer to their class than unseen samples' do, which
        would make the real baseline look better than any generator can."""
        model = self._fold_models()[0][0]

        def embed(x: torch.Tensor) -> torch.Tensor:
            return model.features(x)

        embed.fitted_on = lambda x: fold_of(x) == 0  # type: ignore[attr-defined]
        return embed

    @torch.no_grad()
    def logits(self, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        self.model.eval()
        outs = [self.model(b.to(self.device)).cpu() for b in x.split(batch_size)]
        return torch.cat(outs) if outs else torch.empty(0, self.num_classes)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The predicted class of each sample."""
        return self.logits(x).argmax(1)

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """Penultimate-layer features (128 values per sample)."""
        self.model.eval()
        outs = [self.model.features(b.to(self.device)).cpu() for b in x.split(batch_size)]
        return torch.cat(outs) if outs else torch.empty(0, 128)


def _cache_key(ds: Dataset, model: nn.Module, device: torch.device) -> str:
    """Everything that decides the classifier's weights: the data and labels, the network, the
    training recipe and seeds, and where it was trained (CPU and CUDA round differently)."""
    h = hashlib.sha256()
    h.update(ds.digest().encode())
    recipe = (ds.spec.shape, ds.spec.value_range, ds.num_classes, CACHE_VERSION, repr(model),
              MAX_STEPS, BATCH_SIZE, HELD_OUT_FRACTION, SPLIT_SEED, INIT_SEED, LEARNING_RATE,
              device.type, torch.__version__)
    h.update(repr(recipe).encode())
    return h.hexdigest()[:24]


def train_classifier(
    ds: Dataset, *, device: torch.device | str = "cpu", cache_dir: Path | None = None,
    min_accuracy: float = MIN_ACCURACY,
) -> Classifier:
    """Train (or load from ``cache_dir``) a classifier on ``ds``'s labels; without
    ``cache_dir`` it is trained afresh and not stored.

    Raises:
        FeatureUnavailable: no labels, a single class, too few samples, or held-out accuracy
            below ``min_accuracy``.
    """
    if ds.labels is None:
        raise FeatureUnavailable(f"the real data {ds.name!r} have no labels")
    num_classes = ds.num_classes or 0
    if num_classes < 2:
        raise FeatureUnavailable(f"the real data {ds.name!r} have fewer than two classes")
    if len(ds) < 10 * num_classes:
        raise FeatureUnavailable(
            f"{len(ds)} labelled samples are too few to train a classifier for {num_classes} classes"
        )
    device = torch.device(device)
    names = ds.class_names or [str(i) for i in range(num_classes)]
    # Its own random stream: the weights never depend on what ran before, and training never
    # moves the caller's stream (so a cache hit and a miss leave the same state behind).
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(INIT_SEED)
        model = _build(ds.spec.shape, num_classes)
        path = Path(cache_dir or ".") / "classifiers" / f"{_cache_key(ds, model, device)}.pt"
        clf = _trained(model, ds, device, path, cache_dir is not None, min_accuracy,
                       num_classes, names)
    key = path.stem
    clf.cross_fit = lambda: _cross_fit(ds, device, cache_dir, key)
    return clf


def _trained(model: nn.Module, ds: Dataset, device: torch.device, path: Path, use_cache: bool,
             min_accuracy: float, num_classes: int, names: list[str]) -> Classifier:
    """``model`` loaded from the cache entry ``path``, else trained (and stored there)."""
    if use_cache and path.exists():
        try:
            saved = torch.load(path, weights_only=True, map_location="cpu")
            model.load_state_dict(saved["state_dict"])
            cached = float(saved["accuracy"])
        except Exception:  # a stale or broken cache entry is retrained, not fatal
            torch.manual_seed(INIT_SEED)
            model, cached = _build(ds.spec.shape, num_classes), None
        if cached is not None:
            # Outside the try: a cached classifier that is too weak is refused, not retrained.
            return _checked(Classifier(model.to(device).eval(), cached, num_classes, names, device),
                            min_accuracy, ds)
    accuracy = _fit(model, ds, device)
    if use_cache:
        try:
            with atomic_path(path) as tmp:
                torch.save({"state_dict": model.state_dict(), "accuracy": accuracy}, tmp)
        except OSError:
            pass  # a read-only home is no reason to fail an analysis
    return _checked(Classifier(model.eval(), accuracy, num_classes, names, device), min_accuracy, ds)


def _checked(clf: Classifier, min_accuracy: float, ds: Dataset) -> Classifier:
    if clf.accuracy < min_accuracy:
        raise FeatureUnavailable(
            f"the classifier trained on {ds.name!r} reaches {clf.accuracy:.1%} held-out accuracy, "
            f"below the {min_accuracy:.0%} needed to trust its labels"
        )
    return clf


def _fit(model: nn.Module, ds: Dataset, device: torch.device) -> float:
    """Train on a fixed 80% of ``ds``; the accuracy on the other 20%."""
    gen = torch.Generator().manual_seed(SPLIT_SEED)
    perm = torch.randperm(len(ds), generator=gen)
    n_test = max(1, int(len(ds) * HELD_OUT_FRACTION))
    return _fit_split(model, ds, perm[n_test:], perm[:n_test], device, gen)


def _fit_split(model: nn.Module, ds: Dataset, train_idx: torch.Tensor, test_idx: torch.Tensor,
               device: torch.device, gen: torch.Generator) -> float:
    """Train ``model`` on the rows ``train_idx`` of ``ds``; its accuracy on ``test_idx``."""
    x, y = ds.x.to(device), ds.labels.to(device)
    torch.manual_seed(SPLIT_SEED)
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    steps_per_epoch = max(1, math.ceil(len(train_idx) / BATCH_SIZE))
    epochs = max(3, min(30, MAX_STEPS // steps_per_epoch))
    model.train()
    for _epoch in range(epochs):
        order = train_idx[torch.randperm(len(train_idx), generator=gen)]
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE].to(device)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        idx = test_idx.to(device)
        pred = torch.cat([model(x[idx[s : s + 512]]).argmax(1) for s in range(0, len(idx), 512)])
        return float((pred == y[idx]).float().mean())


# ---------------------------------------------------------------------------------------------
# Cross-fitting: labels for real samples from a classifier that never trained on them
# ---------------------------------------------------------------------------------------------


def fold_of(x: torch.Tensor) -> torch.Tensor:
    """The fold (0 or 1) of each row, from a hash of its values: the same sample always falls in
    the same fold, wherever it appears (the real data, a subset of them, a copy)."""
    flat = x.detach().float().cpu().reshape(len(x), -1).contiguous().numpy()
    return torch.tensor([hashlib.sha256(row.tobytes()).digest()[0] & 1 for row in flat],
                        dtype=torch.long)


def _cross_fit(ds: Dataset, device: torch.device, cache_dir: Path | None,
               base_key: str) -> tuple[list[nn.Module], float]:
    """Two classifiers, each trained on one fold of ``ds`` and tested on the other; their
    pooled accuracy on the fold each did not see."""
    folds = fold_of(ds.x)
    models, correct, total = [], 0.0, 0
    with torch.random.fork_rng(devices=[]):
        for f in (0, 1):
            train_idx = torch.nonzero(folds == f).reshape(-1)
            test_idx = torch.nonzero(folds != f).reshape(-1)
            torch.manual_seed(INIT_SEED + 1 + f)
            model = _build(ds.spec.shape, ds.num_classes or 0)
            path = Path(cache_dir or ".") / "classifiers" / f"{base_key}-fold{f}.pt"
            acc = None
            if cache_dir is not None and path.exists():
                try:
                    saved = torch.load(path, weights_only=True, map_location="cpu")
                    model.load_state_dict(saved["state_dict"])
                    acc = float(saved["accuracy"])
                except Exception:  # a stale or broken entry is retrained
                    torch.manual_seed(INIT_SEED + 1 + f)
                    model, acc = _build(ds.spec.shape, ds.num_classes or 0), None
            if acc is None:
                if len(train_idx) == 0 or len(test_idx) == 0:
                    raise FeatureUnavailable("too few samples to cross-fit the classifier")
                gen = torch.Generator().manual_seed(SPLIT_SEED + 1 + f)
                acc = _fit_split(model, ds, train_idx, test_idx, device, gen)
                if cache_dir is not None:
                    try:
                        with atomic_path(path) as tmp:
                            torch.save({"state_dict": model.state_dict(), "accuracy": acc}, tmp)
                    except OSError:
                        pass
            models.append(model.to(device).eval())
            correct += acc * len(test_idx)
            total += len(test_idx)
    return models, correct / max(total, 1)
