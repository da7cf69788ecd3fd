"""How much memory the process holds at its peak, per phase of a run.

On Linux the kernel keeps the process's peak resident set (``VmHWM`` in ``/proc/self/status``)
and resets it to the current one when ``5`` is written to ``/proc/self/clear_refs``; a phase
(one analyzer) is measured by resetting before it and reading after. Elsewhere, or where the
files cannot be used, :func:`reset_peak` returns False and :func:`peak_bytes` falls back to
``getrusage``'s peak of the whole process, and the caller says so."""

from __future__ import annotations

import resource
import sys

_STATUS = "/proc/self/status"
_CLEAR = "/proc/self/clear_refs"


def reset_peak() -> bool:
    """Reset the process's recorded peak resident memory to what it holds now; False when the
    platform does not allow it (the next :func:`peak_bytes` is then the whole run's peak)."""
    try:
        with open(_CLEAR, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    """The peak resident memory of the process since the last :func:`reset_peak` (Linux), else
    since it started."""
    try:
        with open(_STATUS) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def current_bytes() -> int:
    """The resident memory the process holds now (0 where it cannot be read)."""
    try:
        with open(_STATUS) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
