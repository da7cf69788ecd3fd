"""Public: capture helpers for analyzers.

:class:`CaptureRequest` asks the shared pass for a module's activations (``Analyzer.requests``);
:func:`trace_layers` runs a callable once with hooks on chosen modules and reports each call's
output, order and in-place changes; :func:`layer_names` lists a network's modules of given kinds;
``UNIT_LAYERS`` (layers with units: linear and convolutional) and ``ACTIVATION_LAYERS``
(nonlinearities) are the kinds analyzers look for.
"""

from .core.capture import (
    ACTIVATION_LAYERS,
    UNIT_LAYERS,
    CaptureRequest,
    LayerCall,
    layer_names,
    reduce_output,
    trace_layers,
)

__all__ = [
    "ACTIVATION_LAYERS",
    "UNIT_LAYERS",
    "CaptureRequest",
    "LayerCall",
    "layer_names",
    "reduce_output",
    "trace_layers",
]
