"""Every extension point of ganlens, one hook each.

A plugin is a module (or object) with functions of these names decorated with
``ganlens.hookimpl``, registered through the ``ganlens`` entry-point group of its distribution.
The built-in parts of ganlens (the extensions in ``ganlens/builtin/`` and the analyzers under
``plugins/``) are plugins of exactly this kind. Every hook is called through pluggy, and the host
calls ``check_pending()``: a ``@hookimpl`` whose name is not a hook here is refused with its name.

Hooks that collect (``ganlens_register_*``, ``ganlens_write_report``) return lists that ganlens
flattens; a duplicate name across plugins is an error that names both. Hooks that ask "who
handles this?" (``ganlens_load_checkpoint``) are ``firstresult``: the first non-None answer wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .markers import PROJECT_NAME, hookimpl, hookspec

if TYPE_CHECKING:
    from .core.analyzer import BaseAnalyzer
    from .core.checkpoint import CheckpointSource, LoadOptions
    from .core.context import AnalysisContext
    from .core.extensions import (
        ArchitectureInfo,
        AttributionTargetInfo,
        DatasetFormatInfo,
        DatasetInfo,
        FeatureSpaceInfo,
    )
    from .core.gan import GAN
    from .core.report import Report


# --------------------------------------------------------------------------------------------
# Registration: called once when the plugin manager is built. Each returns a list.
# --------------------------------------------------------------------------------------------


@hookspec
def ganlens_register_analyzers() -> list[type[BaseAnalyzer]]:
    """Analyzer classes this plugin provides.

    Returns:
        A list of :class:`ganlens.Analyzer` subclasses. Each ``name`` must be unique across
        all plugins; a duplicate is an error naming both plugins.
    """


@hookspec
def ganlens_register_architectures() -> list[ArchitectureInfo]:
    """Network architectures, by name, that checkpoints can name and ``--arch`` can pick.

    Returns:
        A list of :class:`ganlens.ArchitectureInfo` (a name, a generator factory, an
        optional discriminator factory, a description, what data it supports, and the default
        keyword arguments ``ganlens train`` builds it with).
    """


@hookspec
def ganlens_register_datasets() -> list[DatasetInfo]:
    """Named datasets (``ganlens train NAME``, ``--real NAME``).

    Returns:
        A list of :class:`ganlens.DatasetInfo`. A dataset with known mode centres
        (like ``ring8``) declares them on the :class:`ganlens.Dataset` it builds.
    """


@hookspec
def ganlens_register_dataset_formats() -> list[DatasetFormatInfo]:
    """File formats that a dataset path (``--real PATH``, ``ganlens train PATH``) can be in.

    Returns:
        A list of :class:`ganlens.DatasetFormatInfo` (a name, ``claims(path)``, ``read(path)``,
        a description). A path is read by the first registered format that claims it, the
        built-in ones (image folders, IDX, .npy, .npz) first.
    """


@hookspec
def ganlens_register_feature_spaces() -> list[FeatureSpaceInfo]:
    """Feature spaces in which metrics compare fakes and reals.

    Returns:
        A list of :class:`ganlens.FeatureSpaceInfo`.
    """


@hookspec
def ganlens_register_attribution_targets() -> list[AttributionTargetInfo]:
    """Scalar targets of G(z) that the attributions analyzer can explain
    (``--option attributions.targets=NAME[:ARGUMENT]``).

    Returns:
        A list of :class:`ganlens.AttributionTargetInfo`; each ``build(ctx, argument)``
        returns a :class:`ganlens.AttributionTarget`.
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
def ganlens_load_checkpoint(source: CheckpointSource, options: LoadOptions,
                            host: Any) -> GAN | None:
    """Load a GAN from a file, or return None when the file is not of this loader's format.

    Args:
        source: the file, with its first bytes and a cached ``torch.load(weights_only=True)``.
            Decide by content, never by the extension alone.
        options: what the user gave: ``--arch``, shapes, discriminator, ``--trust-pickle``, device.
        host: the plugin host (its ``architectures`` registry names the networks a checkpoint
            can be built with). An implementation may leave this argument out.

    Returns:
        A :class:`ganlens.GAN`, or None to let the next loader try. Raise
        :class:`ganlens.errors.CheckpointError` when the file is of this format but broken.
    """


@hookspec(firstresult=True)
def ganlens_recognize_architecture(state: dict[str, Any], role: str) -> tuple[Any, str] | None:
    """Build the network for a state_dict that came with no architecture (no ``--arch``), when
    the keys and shapes are those of an architecture family this plugin knows.

    Args:
        state: the state_dict (tensors by key; a DataParallel ``module.`` prefix may be there).
        role: ``generator`` or ``discriminator``.

    Returns:
        ``(module, family name)`` with the module built (weights not loaded yet) so that every
        key and shape of ``state`` fits it, or None when the state is not of a known family.
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

__all__ = ["HOOK_NAMES", "PROJECT_NAME", "hookimpl", "hookspec"]
