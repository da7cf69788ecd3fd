"""The pluggy markers (a leaf: imports only pluggy).

``hookimpl`` marks a plugin's implementation of a hook of :mod:`ganlens.hookspecs`;
``hookspec`` marks the specifications themselves.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "ganlens"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
