"""Public: the errors ganlens raises, and :class:`SkipAnalysis` for an analyzer to skip itself.

Every error for bad input or a bad environment is a :class:`GanlensError`; the CLI prints it as
one line and exits 2.
"""

from .core.errors import (
    AnalyzerError,
    ArchitectureError,
    CheckpointError,
    DatasetError,
    DeviceError,
    FeatureUnavailable,
    GanlensError,
    InputError,
    OptionError,
    PluginError,
    SkipAnalysis,
)

__all__ = [
    "AnalyzerError",
    "ArchitectureError",
    "CheckpointError",
    "DatasetError",
    "DeviceError",
    "FeatureUnavailable",
    "GanlensError",
    "InputError",
    "OptionError",
    "PluginError",
    "SkipAnalysis",
]
