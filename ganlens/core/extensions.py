"""What each kind of extension registers: one small frozen dataclass per hook of
:mod:`ganlens.hookspecs` that collects.

A plugin returns these from its ``ganlens_register_*`` hooks; the plugin host keeps them in its
registries by ``name`` (a duplicate name across plugins is an error naming both). They hold
callables and plain values only, so the kernel needs nothing from the extensions themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from .errors import ArchitectureError

if TYPE_CHECKING:
    from .context import AnalysisContext
    from .dataset import Dataset
    from .gan import DataSpec

Embed = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ArchitectureInfo:
    """A named architecture.

    Args:
        name: the name checkpoints and ``--arch`` use.
        generator: ``generator(**kwargs) -> nn.Module``.
        discriminator: ``discriminator(**kwargs) -> nn.Module``, or None.
        description: one line for ``ganlens plugins``.
        supports: ``supports(data_spec) -> str | None``: None when the architecture can model
            these data, else the reason it cannot.
        default_kwargs: ``default_kwargs(data_spec, latent_dim, width) -> (g_kwargs, d_kwargs)``,
            the keyword arguments ``ganlens train`` builds the two networks with (``width`` may be
            None: the architecture's default). Without it the architecture loads from
            checkpoints but cannot be trained by ganlens.
        conditional: its networks take labels, ``G(z, y)`` and ``D(x, y)``; ``ganlens train``
            adds ``num_classes`` to both networks' keyword arguments.
        conditional_variant: the name of this architecture's conditional variant, which
            ``ganlens train --conditional`` uses in its place.
    """

    name: str
    generator: Callable[..., nn.Module]
    discriminator: Callable[..., nn.Module] | None = None
    description: str = ""
    supports: Callable[[DataSpec], str | None] | None = None
    default_kwargs: Callable[[DataSpec, int, int | None], tuple[dict, dict]] | None = None
    conditional: bool = False
    conditional_variant: str | None = None


def lookup_architecture(name: str, registry: Mapping[str, Any]) -> ArchitectureInfo:
    """``registry[name]`` (a host registry of entries with ``.obj``, or of infos); an unknown
    name lists the known ones."""
    if name not in registry:
        raise ArchitectureError(
            f"unknown architecture {name!r}; known: {', '.join(sorted(registry)) or 'none'}"
        )
    entry = registry[name]
    return getattr(entry, "obj", entry)


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset.

    Args:
        name: the name users type.
        build: ``build(n=None, std=None, seed=0, value_range=(-1, 1)) -> Dataset``.
            Builders ignore options that do not apply to them.
        description: one line for ``ganlens plugins``.
    """

    name: str
    build: Callable[..., Dataset]
    description: str = ""


@dataclass(frozen=True)
class DatasetFormatInfo:
    """A dataset file format (``--real PATH``, ``ganlens train PATH``).

    Args:
        name: recorded in the dataset's options as ``format``.
        claims: ``claims(path) -> bool``: whether this format reads ``path`` (a file or a
            folder); decide by content, not by the extension alone. Raise
            :class:`ganlens.errors.DatasetError` when the path is of this format but broken.
        read: ``read(path) -> (x, labels, sha256)``: images as float N×C×H×W in [0, 1] (or,
            when their sizes or channels differ, a list of C×H×W arrays in [0, 1]) or vectors
            N×d, int64 labels or None, and a digest of the content.
        description: one line for ``ganlens plugins`` and for the error that lists formats.
        read_sample: optional, for sources too large to load whole: ``read_sample(path, n,
            seed) -> (x, labels, sha256, total[, rows])``, ``n`` items chosen at random with
            ``seed`` (all of them when there are fewer), how many the source holds, and
            optionally the source row of each item (so a checkpoint's held-out split, which
            names source rows, still applies to the sample).
    """

    name: str
    claims: Callable[[Path], bool]
    read: Callable[[Path], tuple[Any, np.ndarray | None, str]]
    description: str = ""
    read_sample: Callable[[Path, int, int], tuple[Any, ...]] | None = None


@dataclass(frozen=True)
class FeatureSpaceInfo:
    """A registered feature space.

    Args:
        name: the name options use (``--option mode_collapse.features=NAME``).
        build: ``build(ctx) -> embed`` where ``embed(x)`` maps a batch of data (on the GAN's
            device) to (B, d) features. Raise :class:`FeatureUnavailable` with the reason when
            the space does not apply (e.g. no discriminator).
        description: one line for reports and ``ganlens plugins``.
    """

    name: str
    build: Callable[[AnalysisContext], Embed]
    description: str = ""


@dataclass
class AttributionTarget:
    """A scalar function of generated data, for the attributions analyzer to explain.

    Args:
        name: the spec it was built from (``discriminator``, ``classifier:3``, ...).
        description: one line for the report (what the number is).
        fn: maps a batch of data (B, *data shape), on the GAN's device, to (B,) scalars, or
            to (B, K) outputs when ``select`` is given.
        select: optional; maps the batch of end points (B, *data shape) to (B,) indices of
            the output to explain for each sample (e.g. its predicted class). The index stays
            fixed along an integration path.
        modules: networks the target runs (their parameters are frozen during attributions).
    """

    name: str
    description: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    select: Callable[[torch.Tensor], torch.Tensor] | None = None
    modules: tuple[nn.Module, ...] = ()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def indices(self, x: torch.Tensor) -> torch.Tensor | None:
        """The per-sample output indices for end points ``x`` (None for a scalar target)."""
        if self.select is None:
            return None
        with torch.no_grad():
            return self.select(x).reshape(-1).long()


@dataclass(frozen=True)
class AttributionTargetInfo:
    """A named attribution target (``--option attributions.targets=NAME[:ARGUMENT]``).

    Args:
        name: a word without ``:`` or ``,``.
        build: ``build(ctx, argument) -> AttributionTarget`` (``argument`` is the text after
            ``NAME:``, or None). Raise :class:`ganlens.errors.FeatureUnavailable` with the reason
            when the target does not apply to this GAN, :class:`ganlens.errors.OptionError` when
            the argument is malformed.
        description: one line for ``ganlens plugins``.
    """

    name: str
    build: Callable[[AnalysisContext, str | None], AttributionTarget]
    description: str = ""
