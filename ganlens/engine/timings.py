"""Each analyzer's time on earlier runs, to tell the user how long this one will take.

The history is a small JSON file in the host's cache folder (none without one): for each
analyzer and workload (the data's shape, the device, the budget), the seconds of the last few
runs at each N. An estimate comes from the recorded runs nearest in N: between two of them (or
beyond them), the power law through the two from the nearer one, with its exponent kept in
[0, 1.5]; with one, that
run's time scaled linearly in N above it and kept below it (an analyzer's cost rarely falls with
N). Without a record there is no estimate, and the line says so."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

KEEP = 8
"""Runs kept per analyzer and workload."""


def workload_key(shape: tuple[int, ...], device: str, budget: str) -> str:
    return f"{'x'.join(str(s) for s in shape)}/{device}/{budget}"


class TimingHistory:
    """Seconds per analyzer per workload, read from and written to ``path`` (None: kept in
    memory only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, dict[str, list[list[float]]]] = {}
        if path is not None and path.is_file():
            try:
                raw = json.loads(path.read_text())
                if isinstance(raw, dict):
                    self.data = raw
            except (OSError, ValueError):
                self.data = {}  # a damaged history only costs the estimates

    def estimate(self, analyzer: str, key: str, n: int) -> float | None:
        runs = sorted({int(r[0]): float(r[1]) for r in self.data.get(analyzer, {}).get(key, [])
                       if len(r) == 2}.items())
        if not runs:
            return None
        if len(runs) == 1:
            n0, s0 = runs[0]
            return s0 * max(1.0, n / n0)
        near = sorted(runs, key=lambda r: abs(math.log(r[0] / n)))[:2]
        (n1, s1), (n2, s2) = sorted(near)
        if s1 <= 0 or s2 <= 0:
            return max(s1, s2)
        k = min(1.5, max(0.0, math.log(s2 / s1) / math.log(n2 / n1)))
        anchor_n, anchor_s = near[0]  # the run nearest in N carries the estimate
        return anchor_s * (n / anchor_n) ** k

    def record(self, analyzer: str, key: str, n: int, seconds: float) -> None:
        runs = [r for r in self.data.setdefault(analyzer, {}).setdefault(key, []) if r[0] != n]
        runs.append([n, round(seconds, 3)])
        self.data[analyzer][key] = runs[-KEEP:]

    def save(self) -> None:
        """Write the history atomically; a cache folder that cannot be written is ignored."""
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                json.dump(self.data, f)
            os.replace(tmp, self.path)
        except OSError:
            pass


def seconds_text(s: float) -> str:
    """``0.4 s``, ``12 s``, ``3 min 20 s``."""
    if s < 10:
        return f"{s:.1f} s"
    if s < 120:
        return f"{s:.0f} s"
    return f"{int(s // 60)} min {int(s % 60):02d} s"


def line(index: int, total: int, name: str, width: int, status: str | None,
         seconds: float | None, estimate: float | None, memory_mb: float | None) -> str:
    """One analyzer's progress line: what runs, its estimate, and when done its time."""
    head = f"[{index:>{len(str(total))}}/{total}] {name:<{width}}"
    est = f"estimate {seconds_text(estimate)}" if estimate is not None else "no estimate yet"
    if seconds is None:
        return f"{head}  running… ({est})"
    parts: list[Any] = [f"{status:<7}", f"{seconds_text(seconds):>10}"]
    if memory_mb is not None:
        parts.append(f"peak {memory_mb / 1024:.2f} GB")
    if estimate is not None:
        parts.append(f"({est})")
    return f"{head}  " + "  ".join(str(p) for p in parts)
