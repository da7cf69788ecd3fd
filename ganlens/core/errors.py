"""Errors that ganlens raises on purpose.

Every error a user can cause derives from :class:`GanlensError`. Its message is one line that
names the input and what was expected; the command line prints it without a traceback and exits
with code 2.
"""

from __future__ import annotations


class GanlensError(Exception):
    """Base class of every error ganlens raises for bad input or a bad environment."""


class InputError(GanlensError):
    """A file, path or value given by the user cannot be used."""


class CheckpointError(InputError):
    """A checkpoint is missing, corrupt, of an unknown format or does not fit its architecture."""


class DatasetError(InputError):
    """A dataset name or path cannot be resolved, or its content is not usable."""


class ArchitectureError(InputError):
    """An architecture name or ``MODULE:CALLABLE`` cannot be resolved or built."""


class OptionError(InputError):
    """An analyzer or command option is unknown or has a value of the wrong type."""


class DeviceError(GanlensError):
    """The requested device is not available (e.g. ``cuda`` on a machine without CUDA)."""


class PluginError(GanlensError):
    """A plugin is broken: a duplicate name, a bad registration, an unknown analyzer."""


class AnalyzerError(GanlensError):
    """An analyzer cannot run with what it was given (raised inside ``analyze``)."""


class FeatureUnavailable(GanlensError):
    """A feature space (or the classifier) does not apply to these data; the message says why.
    Raised inside ``analyze``, it skips the section with that reason."""


class SkipAnalysis(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside ``Analyzer.analyze`` to skip the section with a reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
