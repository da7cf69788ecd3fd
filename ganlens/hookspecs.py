"""Every extension point of ganlens, one hook each.

A plugin is a module (or object) with functions of these names decorated with
``ganlens.hookimpl``, registered through the ``ganlens`` entry-point group of its distribution.
The built-in parts of ganlens (architectures, datasets, loaders, feature spaces, writers and the
analyzers under ``plugins/``) are plugins of exactly this kind.

Hooks that collect (``ganlens_register_*``, ``ganlens_write_report``) return lists that ganlens
flattens; a duplicate name across plugins is an error that names both. Hooks that ask "who
handles this?" (``ganlens_load_checkpoint``) are ``firstresult``: the first non-None answer wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .analyzer import AnalysisContext, Analyzer
    from .checkpoint import CheckpointSource, LoadOptions
    from .data import DatasetInfo
    from .features import FeatureSpaceInfo
    from .gan import GAN
    from .models import ArchitectureInfo
    from .report import Report

PROJECT_NAME = "ganlens"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --------------------------------------------------------------------------------------------
# Registration: called once when the plugin manager is built. Each returns a list.
# --------------------------------------------------------------------------------------------


@hookspec
def ganlens_register_analyzers() -> list[type[Analyzer]]:
    """Analyzer classes this plugin provides.

    Returns:
        A list of :class:`ganlens.Analyzer` subclasses. Each ``name`` must be unique across
        all plugins; a duplicate is an error naming both plugins.
    """


@hookspec
def ganlens_register_architectures() -> list[ArchitectureInfo]:
    """Network architectures, by name, that checkpoints can name and ``--arch`` can pick.

    Returns:
        A list of :class:`ganlens.models.ArchitectureInfo` (a name, a generator factory, an
        optional discriminator factory, a description).
    """


@hookspec
def ganlens_register_datasets() -> list[DatasetInfo]:
    """Named datasets (``ganlens train NAME``, ``--real NAME``).

    Returns:
        A list of :class:`ganlens.data.DatasetInfo`. A dataset with known mode centres
        (like ``ring8``) declares them on the :class:`ganlens.data.Dataset` it builds.
    """


@hookspec
def ganlens_register_feature_spaces() -> list[FeatureSpaceInfo]:
    """Feature spaces in which metrics compare fakes and reals.

    Returns:
        A list of :class:`ganlens.features.FeatureSpaceInfo`.
    """


@hookspec
def ganlens_report_formats() -> list[str]:
    """The report formats (``html``, ``json``, ...) that this plugin's writer produces.

    Returns:
        A list of format names; ``--format`` accepts only registered ones.
    """


# --------------------------------------------------------------------------------------------
# Loading: first result wins.
# --------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def ganlens_load_checkpoint(source: CheckpointSource, options: LoadOptions) -> GAN | None:
    """Load a GAN from a file, or return None when the file is not of this loader's format.

    Args:
        source: the file, with its first bytes and a cached ``torch.load(weights_only=True)``.
            Decide by content, never by the extension alone.
        options: what the user gave: ``--arch``, shapes, discriminator, ``--trust-pickle``, device.

    Returns:
        A :class:`ganlens.GAN`, or None to let the next loader try. Raise
        :class:`ganlens.errors.CheckpointError` when the file is of this format but broken.
    """


# --------------------------------------------------------------------------------------------
# Analysis: notifications and report writing.
# --------------------------------------------------------------------------------------------


@hookspec
def ganlens_analysis_started(context: AnalysisContext) -> None:
    """Called after the shared capture pass, before the first analyzer runs.

    Args:
        context: the analysis context (GAN, capture, real data, options).
    """


@hookspec
def ganlens_analysis_finished(report: Report) -> None:
    """Called after every analyzer has run, before the report is written.

    Args:
        report: the finished report; a plugin may read it (e.g. to log metrics elsewhere).
    """


@hookspec
def ganlens_write_report(report: Report, out_dir: Path, formats: list[str]) -> list[Path]:
    """Write the report in the formats this writer handles, atomically.

    Args:
        report: the report to write.
        out_dir: an existing folder; figures are already saved under ``out_dir/figures``.
        formats: the formats asked for; write only those you handle.

    Returns:
        The paths written (an empty list when none of ``formats`` is yours).
    """


def _hook_names() -> list[str]:
    return [name for name in globals() if name.startswith("ganlens_")]


HOOK_NAMES: list[str] = _hook_names()
