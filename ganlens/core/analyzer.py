"""The analyzer base class: metadata, typed options, what it needs, one verb.

An analyzer is a class with a ``name``, a ``title``, a ``description``, requirements
(``needs_discriminator``, ``needs_real_data``, ``needs_images``), an ``Options`` dataclass of
typed fields with defaults, optionally the activations it wants from the shared capture pass
(:meth:`Analyzer.requests`), and ``analyze(ctx) -> Section``. Heavy imports (umap, captum)
belong inside ``analyze``.

Options are set from Python as keyword arguments (``Activations(layers=["blocks.0"])``) and from
the command line as ``--option NAME.KEY=VALUE``; a value of the wrong type is a clear error.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Union

from .capture import CaptureRequest
from .errors import OptionError
from .section import Section

if TYPE_CHECKING:
    from .context import AnalysisContext
    from .gan import GAN


@dataclasses.dataclass
class NoOptions:
    """An analyzer without options."""


class BaseAnalyzer:
    """Base class of every analyzer, built-in or third-party (plugins subclass its public face,
    :class:`ganlens.Analyzer`, which adds :meth:`~ganlens.Analyzer.run`).

    Subclasses set the class attributes and implement :meth:`analyze`. They may define a nested
    ``Options`` dataclass and override :meth:`requests` to ask the shared capture pass for
    activations.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    needs_discriminator: ClassVar[bool] = False
    needs_real_data: ClassVar[bool] = False
    needs_images: ClassVar[bool] = False
    uses_samples: ClassVar[bool] = True
    Options: ClassVar[type] = NoOptions

    def __init__(self, **options: Any) -> None:
        self.options = self.make_options(options)

    # -- options --------------------------------------------------------------------------
    @classmethod
    def option_fields(cls) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(cls.Options)}

    @classmethod
    def make_options(cls, values: dict[str, Any]) -> Any:
        """Build ``Options`` from Python values or strings, checking names and types."""
        fields = cls.option_fields()
        hints = typing.get_type_hints(cls.Options)
        converted = {}
        for key, value in values.items():
            if key not in fields:
                known = ", ".join(sorted(fields)) or "none"
                raise OptionError(f"analyzer {cls.name!r} has no option {key!r}; its options: {known}")
            converted[key] = coerce_option(cls.name, key, hints.get(key, Any), value)
        return cls.Options(**converted)

    def validate(self, host: Any) -> None:
        """Check the options against the run's plugin host before any work starts (names of
        feature spaces, targets, ...); raise :class:`OptionError` naming what is wrong. The
        types and bounds were checked when the options were made."""

    def check_choice(self, key: str, known: Sequence[str], what: str) -> None:
        """Raise :class:`OptionError` unless option ``key`` is one of ``known`` (e.g. ``auto``
        and the host's feature spaces), naming the option, the value and the choices."""
        value = getattr(self.options, key)
        if value not in known:
            raise OptionError(f"option {self.name}.{key}: unknown {what} {value!r}; "
                              f"known: {', '.join(known)}")

    # -- what it needs --------------------------------------------------------------------
    def requests(self, gan: GAN) -> list[CaptureRequest]:
        """Activations this analyzer wants from the shared capture pass (none by default)."""
        return []

    def skip_reason(self, gan: GAN, has_real: bool) -> str | None:
        """Why this analyzer cannot run on ``gan``, or None."""
        if self.needs_discriminator and gan.discriminator is None:
            return "this GAN has no discriminator"
        if self.needs_real_data and not has_real:
            return "no real data: give --real DATASET or PATH (Python: real=...)"
        if self.needs_images and not gan.data.is_image:
            return f"the data are vectors of shape {gan.data.shape}, not images"
        return None

    # -- the verb -------------------------------------------------------------------------
    def analyze(self, ctx: AnalysisContext) -> Section:
        """Analyze the GAN in ``ctx`` and return a :class:`Section`."""
        raise NotImplementedError

    def new_section(self) -> Section:
        """An empty section carrying this analyzer's name, title and description."""
        return Section(self.name, self.title or self.name, self.description)

    def __call__(self, ctx: AnalysisContext) -> Section:
        return self.analyze(ctx)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"


# ---------------------------------------------------------------------------------------------
# Typed option values
# ---------------------------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "none"
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        inner = typing.get_args(tp)
        item = getattr(inner[0], "__name__", "value") if inner else "value"
        return f"a comma-separated list of {item} values"
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    return names.get(tp) or getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def coerce_option(analyzer: str, key: str, tp: Any, value: Any) -> Any:
    """Convert ``value`` (often a CLI string) to the annotated type ``tp`` or raise OptionError."""
    where = f"option {analyzer}.{key}"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        is_none = value is None or (isinstance(value, str) and value.lower() in ("none", "null"))
        if is_none and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce_option(analyzer, key, arg, value)
            except OptionError as exc:
                errors.append(str(exc))
        expected = " or ".join(_type_name(a) for a in args if a is not type(None))
        if type(None) in args:
            expected += " (or none)"
        raise OptionError(f"{where}: expected {expected}, got {value!r}")
    if origin is typing.Literal:
        if value in args:
            return value
        raise OptionError(f"{where}: expected one of {', '.join(map(repr, args))}, got {value!r}")
    if origin in (list, tuple) or tp in (list, tuple):
        inner = args[0] if args else Any
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise OptionError(f"{where}: expected {_type_name(tp)}, got {value!r}")
        out = [coerce_option(analyzer, key, inner, v) for v in items]
        return tuple(out) if (origin or tp) is tuple else out
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise OptionError(f"{where}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise OptionError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise OptionError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise OptionError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise OptionError(f"{where}: expected a string, got {value!r}")
    return value


def parse_option_strings(items: list[str] | None) -> dict[str, dict[str, str]]:
    """``["mode_collapse.k=5", ...]`` → ``{"mode_collapse": {"k": "5"}}``."""
    out: dict[str, dict[str, str]] = {}
    for item in items or []:
        name_key, sep, value = item.partition("=")
        analyzer, dot, key = name_key.partition(".")
        if not sep or not dot or not analyzer or not key:
            raise OptionError(f"--option {item!r}: expected NAME.KEY=VALUE, e.g. mode_collapse.k=5")
        out.setdefault(analyzer.strip(), {})[key.strip()] = value.strip()
    return out
