"""An example third-party analyzer: the mean brightness of generated samples against real ones.

It shows the whole contract: metadata, a typed option, a metric with what good looks
like, a finding with its threshold, a figure with a title, axis labels and a caption, and the
``ganlens_register_analyzers`` hook that the ``ganlens`` entry point exposes. It has the shape of
every built-in analyzer: the class in ``analyzer.py``, the registration here.
"""

from __future__ import annotations

import ganlens

from .analyzer import Brightness

__all__ = ["Brightness"]


@ganlens.hookimpl
def ganlens_register_analyzers() -> list[type[ganlens.Analyzer]]:
    return [Brightness]
