"""Progress bars (tqdm on stderr), shown on a terminal and silent in logs and tests.

Whether bars are wanted is the caller's ``enabled`` argument (the host's ``progress`` setting,
set at the edge from ``--no-progress`` or ``GANLENS_NO_PROGRESS``); nothing here reads the
environment."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def _enabled(enabled: bool) -> bool:
    return enabled and sys.stderr.isatty()


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        pass

    def write(self, text: str) -> None:
        print(text, file=sys.stderr)

    def close(self) -> None:
        pass


def progress_bar(total: int | None = None, desc: str = "", enabled: bool = True) -> Any:
    """A tqdm bar on a terminal, else an object with the same methods that prints nothing."""
    if not _enabled(enabled):
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True, file=sys.stderr)


def track(items: Iterable[T], desc: str = "", total: int | None = None,
          enabled: bool = True) -> Iterator[T]:
    """Iterate ``items`` with a progress bar."""
    bar = progress_bar(total=total if total is not None else _len(items), desc=desc,
                       enabled=enabled)
    try:
        for item in items:
            yield item
            bar.update(1)
    finally:
        bar.close()


def _len(items: Iterable[Any]) -> int | None:
    try:
        return len(items)  # type: ignore[arg-type]
    except TypeError:
        return None
