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
import math
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
        options = cls.Options(**converted)
        for f in fields.values():
            bounds = f.metadata.get(BOUNDS_KEY)
            if bounds is not None:
                bounds.check(cls.name, f.name, hints.get(f.name, Any), getattr(options, f.name))
        return options

    @classmethod
    def budget_options(cls, budget: str) -> dict[str, Any]:
        """The option values preset ``budget`` (``fast``, ``default``, ``thorough``) sets."""
        if budget not in BUDGETS:
            raise OptionError(f"budget {budget!r}: expected one of {', '.join(BUDGETS)}")
        if budget == "default":
            return {}
        return {f.name: f.metadata[BUDGET_KEY][budget] for f in cls.option_fields().values()
                if budget in f.metadata.get(BUDGET_KEY, {})}

    @classmethod
    def describe_options(cls) -> list[dict[str, Any]]:
        """Each option's name, type, default and bounds, as ``ganlens plugins --json`` shows
        them (the same declarations the CLI and Python check against)."""
        hints = typing.get_type_hints(cls.Options)
        out = []
        for f in cls.option_fields().values():
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = None
            bounds = f.metadata.get(BOUNDS_KEY)
            out.append({"name": f.name, "type": _type_name(hints.get(f.name, Any)),
                        "default": default if isinstance(default, (int, float, str, bool,
                                                                   type(None))) else repr(default),
                        "bounds": bounds.describe() if bounds else None,
                        "budget": dict(f.metadata.get(BUDGET_KEY, {})) or None})
        return out

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
# Bounds declared on the Options fields
# ---------------------------------------------------------------------------------------------

BOUNDS_KEY = "ganlens_bounds"


def _num(x: float) -> str:
    return f"{x:g}"


@dataclasses.dataclass(frozen=True)
class Bounds:
    """The range an option's value (each item, for a list) must lie in."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True  # not a number (e.g. None where None is allowed): nothing to bound
        if isinstance(value, float) and not math.isfinite(value):
            return False
        return ((self.ge is None or value >= self.ge) and (self.gt is None or value > self.gt)
                and (self.le is None or value <= self.le) and (self.lt is None or value < self.lt))

    def describe(self) -> str:
        lo, lo_open = (self.gt, True) if self.gt is not None else (self.ge, False)
        hi, hi_open = (self.lt, True) if self.lt is not None else (self.le, False)
        if lo is not None and hi is not None:
            return f"in {'(' if lo_open else '['}{_num(lo)}, {_num(hi)}{')' if hi_open else ']'}"
        if lo is not None:
            return f"{'>' if lo_open else '>='} {_num(lo)}"
        if hi is not None:
            return f"{'<' if hi_open else '<='} {_num(hi)}"
        return "any value"

    def check(self, analyzer: str, key: str, tp: Any, value: Any) -> None:
        items = value if isinstance(value, (list, tuple)) else [value]
        if all(self.contains(v) for v in items):
            return
        ints = tp is int or int in typing.get_args(tp) or any(
            int in typing.get_args(a) for a in typing.get_args(tp))
        what = "an integer" if ints else "a number"
        if isinstance(value, (list, tuple)):
            what = "integers, each" if ints else "numbers, each"
        raise OptionError(f"option {analyzer}.{key}: expected {what} {self.describe()}, "
                          f"got {value!r}")


BUDGET_KEY = "ganlens_budget"
BUDGETS = ("fast", "default", "thorough")
"""The run-wide presets of ``--budget``: ``default`` keeps every option's default; ``fast`` and
``thorough`` set the options that declare a value for them (``option(..., budget=...)``)."""


def option(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING,
           ge: float | None = None, gt: float | None = None, le: float | None = None,
           lt: float | None = None, budget: dict[str, Any] | None = None) -> Any:
    """A field of an analyzer's ``Options`` with the range its value must lie in, checked
    wherever the options are made (Python, ``--option``) and listed by ``ganlens plugins
    --json``; ``budget`` gives its value under the ``fast`` and ``thorough`` presets of
    ``--budget`` (an option the user sets keeps the user's value)::

        @dataclass
        class Options:
            k: int = ganlens.option(5, ge=1)
            alpha: float = ganlens.option(0.05, gt=0, lt=1)
            steps: int = ganlens.option(16, ge=1, budget={"fast": 8, "thorough": 64})
    """
    if ge is not None and gt is not None or le is not None and lt is not None:
        raise ValueError("give at most one lower bound (ge or gt) and one upper (le or lt)")
    meta: dict[str, Any] = {BOUNDS_KEY: Bounds(ge, gt, le, lt)}
    if budget:
        unknown = sorted(set(budget) - {"fast", "thorough"})
        if unknown:
            raise ValueError(f"budget presets {unknown}: expected 'fast' and/or 'thorough'")
        meta[BUDGET_KEY] = dict(budget)
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


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
