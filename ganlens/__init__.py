"""ganlens: explain trained GANs.

Three ways in: ``ganlens analyze CHECKPOINT`` on the command line, custom analyzer plugins (a
package with a ``ganlens`` entry point), and this Python API::

    import ganlens
    gan = ganlens.load("run/checkpoint.pt")
    report = ganlens.analyze(gan, real="digits", out_dir="report")
    report["mode_collapse"].metrics

This package and the public modules ``ganlens.errors``, ``ganlens.capture``, ``ganlens.plotting``,
``ganlens.images``, ``ganlens.maths``, ``ganlens.hookspecs`` and ``ganlens.testing`` are the API
plugin authors may rely on (see ARCHITECTURE.md); everything under ``ganlens.core``,
``ganlens.builtin`` and ``ganlens.engine`` is internal.

Importing ganlens is light: umap, captum and matplotlib are imported where they are used.
"""

from __future__ import annotations

from . import errors
from ._version import __version__
from .api import (
    Analyzer,
    TrainResult,
    analyze,
    available_analyzers,
    context,
    load,
    load_dataset,
    make_host,
    train,
)
from .core.analyzer import option
from .core.capture import CaptureRequest
from .core.checkpoint import LoadOptions
from .core.context import AnalysisContext, FeatureSet, PassRecord
from .core.dataset import Dataset
from .core.extensions import (
    ArchitectureInfo,
    AttributionTarget,
    AttributionTargetInfo,
    DatasetFormatInfo,
    DatasetInfo,
    FeatureSpaceInfo,
)
from .core.gan import GAN, DataSpec, LatentSpec
from .core.report import Report
from .core.section import Figure, Finding, Section, Table
from .engine.host import PluginHost
from .markers import hookimpl

__all__ = [
    "GAN",
    "AnalysisContext",
    "Analyzer",
    "ArchitectureInfo",
    "AttributionTarget",
    "AttributionTargetInfo",
    "CaptureRequest",
    "DataSpec",
    "Dataset",
    "DatasetFormatInfo",
    "DatasetInfo",
    "FeatureSet",
    "FeatureSpaceInfo",
    "Figure",
    "Finding",
    "LatentSpec",
    "LoadOptions",
    "PassRecord",
    "PluginHost",
    "Report",
    "Section",
    "Table",
    "TrainResult",
    "__version__",
    "analyze",
    "available_analyzers",
    "context",
    "errors",
    "hookimpl",
    "load",
    "load_dataset",
    "make_host",
    "option",
    "train",
]
