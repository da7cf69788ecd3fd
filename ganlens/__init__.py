"""ganlens: explain trained GANs.

Three ways in: ``ganlens analyze CHECKPOINT`` on the command line, custom analyzer plugins (a
package with a ``ganlens`` entry point), and this Python API::

    import ganlens
    gan = ganlens.load("run/checkpoint.pt")
    report = ganlens.analyze(gan, real="digits", out_dir="report")
    report["mode_collapse"].metrics

Importing ganlens is light: umap, captum and matplotlib are imported where they are used.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import errors
from .analyzer import Analyzer
from .capture import CaptureRequest
from .checkpoint import LoadOptions, load
from .context import AnalysisContext
from .data import Dataset, load_dataset
from .gan import GAN, DataSpec, LatentSpec
from .hookspecs import hookimpl
from .report import Report
from .runner import analyze, context
from .section import Figure, Finding, Section, Table
from .train import TrainResult, train


def available_analyzers() -> dict[str, type[Analyzer]]:
    """Every registered analyzer class by name, built-in and third-party (from entry points)."""
    from .plugins import get_host

    return {name: reg.obj for name, reg in sorted(get_host().analyzers.items())}


__all__ = [
    "GAN",
    "AnalysisContext",
    "Analyzer",
    "CaptureRequest",
    "DataSpec",
    "Dataset",
    "Figure",
    "Finding",
    "LatentSpec",
    "LoadOptions",
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
    "train",
]
