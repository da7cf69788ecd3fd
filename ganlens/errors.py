"""Public: the errors ganlens raises, and :class:`SkipAnalysis` for an analyzer to skip itself.

Every error for bad input or a bad environment is a :class:`GanlensError`; the CLI prints it as
one line and exits 2.
"""

from .core.errors import *  # noqa: F403 - the kernel's errors are the public ones
from .core.errors import __all__  # noqa: F401
