"""The plugin host: the pluggy manager, its registries and the run's settings, as one object.

The faces (the CLI, ``ganlens.analyze/load/train``) build one host per run with
:func:`build_host` and pass it down; nothing below them keeps a host of its own or reads the
environment. Every plugin, built-in or third-party, comes from the ``ganlens`` entry-point group
and is registered the same way: pluggy checks it against :mod:`ganlens.hookspecs`, a hook name
that is not a ganlens hook is refused with that name, and the registration hooks are called
through pluggy for that plugin alone, so each item is recorded with the plugin that gave it. A
plugin that fails is recorded with its distribution, version and error, and the others keep
working.
"""

from __future__ import annotations

import difflib
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from .. import hookspecs
from ..core.analyzer import BaseAnalyzer
from ..core.errors import PluginError
from ..markers import PROJECT_NAME

ENTRY_POINT_GROUP = "ganlens"


@dataclass(frozen=True)
class Settings:
    """What a run is configured with, decided once at the edge.

    Args:
        disabled: plugin names not to load (``--disable``, ``GANLENS_DISABLE_PLUGINS``).
        progress: whether progress bars may be shown (``--no-progress``, ``GANLENS_NO_PROGRESS``).
        cache_dir: where the classifier cache lives (``GANLENS_CACHE_DIR``, else
            ``~/.cache/ganlens``); None: nothing is cached.
        debug: print a plugin's traceback when it fails to load (``--debug``, ``GANLENS_DEBUG``).
    """

    disabled: frozenset[str] = frozenset()
    progress: bool = True
    cache_dir: Path | None = None
    debug: bool = False


@dataclass
class PluginRecord:
    """One plugin: where it came from and whether it loaded."""

    name: str
    module: str
    distribution: str
    version: str
    builtin: bool
    status: str = "loaded"  # loaded | blocked | failed
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class Registered:
    """An item of a registry with the plugin it came from."""

    name: str
    obj: Any
    plugin: str
    distribution: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "description": _describe(self.obj),
        }
        if isinstance(self.obj, type) and issubclass(self.obj, BaseAnalyzer):
            out["options"] = self.obj.describe_options()
        return out


def _describe(obj: Any) -> str:
    text = getattr(obj, "description", None) or (obj.__doc__ or "")
    return " ".join(str(text).split())[:200]


# (hook, registry attribute, what an item is called in errors)
REGISTRIES: tuple[tuple[str, str, str], ...] = (
    ("ganlens_register_analyzers", "analyzers", "analyzer"),
    ("ganlens_register_architectures", "architectures", "architecture"),
    ("ganlens_register_datasets", "datasets", "dataset"),
    ("ganlens_register_dataset_formats", "dataset_formats", "dataset format"),
    ("ganlens_register_feature_spaces", "feature_spaces", "feature space"),
    ("ganlens_register_attribution_targets", "attribution_targets", "attribution target"),
    ("ganlens_report_formats", "formats", "report format"),
)


@dataclass
class PluginHost:
    """The plugin manager with its registries and the run's settings."""

    pm: pluggy.PluginManager
    settings: Settings = field(default_factory=Settings)
    records: list[PluginRecord] = field(default_factory=list)
    analyzers: dict[str, Registered] = field(default_factory=dict)
    architectures: dict[str, Registered] = field(default_factory=dict)
    datasets: dict[str, Registered] = field(default_factory=dict)
    dataset_formats: dict[str, Registered] = field(default_factory=dict)
    feature_spaces: dict[str, Registered] = field(default_factory=dict)
    attribution_targets: dict[str, Registered] = field(default_factory=dict)
    formats: dict[str, Registered] = field(default_factory=dict)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    @property
    def progress(self) -> bool:
        return self.settings.progress

    @property
    def cache_dir(self) -> Path | None:
        return self.settings.cache_dir

    def record_for(self, plugin_name: str) -> PluginRecord | None:
        return next((r for r in self.records if r.name == plugin_name), None)

    def loaders(self) -> list[Registered]:
        """The checkpoint loaders, in the order they are asked."""
        impls = list(reversed(self.pm.hook.ganlens_load_checkpoint.get_hookimpls()))
        out = []
        for impl in impls:
            rec = self.record_for(impl.plugin_name)
            out.append(
                Registered(
                    impl.plugin_name,
                    impl.function,
                    impl.plugin_name,
                    rec.distribution if rec else "?",
                    rec.version if rec else "?",
                )
            )
        return out

    # -- registration --------------------------------------------------------------------
    def register(self, plugin: Any, record: PluginRecord) -> None:
        """Register ``plugin`` and collect its registrations. Refused, with nothing of it kept:
        a ``ganlens_*`` function that is not a hook or lacks ``@ganlens.hookimpl``, a hook whose
        arguments do not match its spec, an item of the wrong kind, a duplicate name."""
        _check_hook_names(plugin, record.name)
        try:
            self.pm.register(plugin, name=record.name)
        except ValueError as exc:
            raise PluginError(f"plugin {record.name!r} cannot be registered: {exc}") from exc
        except pluggy.PluginValidationError as exc:
            if self.pm.get_plugin(record.name) is not None:
                self.pm.unregister(name=record.name)
            raise PluginError(f"plugin {record.name!r} is refused: {exc}") from exc
        try:
            self.pm.check_pending()
            self._collect(plugin, record)
        except Exception as exc:  # a failed plugin keeps no hook: it must not answer later
            self.pm.unregister(plugin)
            if isinstance(exc, PluginError):
                raise
            raise PluginError(f"plugin {record.name!r} is refused: "
                              f"{type(exc).__name__}: {exc}") from exc
        self.records.append(record)

    def _collect(self, plugin: Any, record: PluginRecord) -> None:
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        additions: list[tuple[dict[str, Registered], Registered]] = []
        for hook_name, attr, what in REGISTRIES:
            table: dict[str, Registered] = getattr(self, attr)
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            for items in caller():
                for item in items or []:
                    if attr == "analyzers" and not (
                        isinstance(item, type) and issubclass(item, BaseAnalyzer)
                    ):
                        raise PluginError(
                            f"plugin {record.name!r} registered {item!r} as an analyzer; "
                            "expected a subclass of ganlens.Analyzer"
                        )
                    name = item if isinstance(item, str) else getattr(item, "name", None)
                    if not isinstance(name, str) or not name:
                        raise PluginError(
                            f"plugin {record.name!r} registered a {what} without a name"
                        )
                    if attr == "attribution_targets" and (
                        ":" in name or "," in name or name != name.strip()
                    ):
                        raise PluginError(
                            f"plugin {record.name!r}: attribution target name {name!r}: "
                            "expected a word without ':' or ','"
                        )
                    taken = table.get(name) or next(
                        (e for t, e in additions if t is table and e.name == name), None
                    )
                    if taken is not None:
                        raise PluginError(
                            f"{what} {name!r} is registered twice: by plugin {taken.plugin!r} "
                            f"({taken.distribution}) and by plugin {record.name!r} "
                            f"({record.distribution}); disable one of them"
                        )
                    # A report format is a name; it is described by its writer plugin.
                    obj = plugin if isinstance(item, str) else item
                    entry = Registered(name, obj, record.name, record.distribution,
                                       record.version)
                    additions.append((table, entry))
        for table, entry in additions:
            table[entry.name] = entry

    def to_dict(self) -> dict[str, Any]:
        def rows(table: dict[str, Registered]) -> list[dict[str, Any]]:
            return [table[k].to_dict() for k in sorted(table)]

        return {
            "analyzers": rows(self.analyzers),
            "loaders": [r.to_dict() for r in self.loaders()],
            "architectures": rows(self.architectures),
            "datasets": rows(self.datasets),
            "dataset_formats": [e.to_dict() for e in self.dataset_formats.values()],
            "feature_spaces": rows(self.feature_spaces),
            "attribution_targets": rows(self.attribution_targets),
            "writers": rows(self.formats),
            "plugins": [r.to_dict() for r in self.records],
        }


def _check_hook_names(plugin: Any, name: str) -> None:
    """A ``ganlens_*`` callable that is not a hook, or a hook without the marker, would be
    silently ignored by pluggy; refuse the plugin instead, naming it."""
    for attr in dir(plugin):
        if not attr.startswith(f"{PROJECT_NAME}_") or not callable(getattr(plugin, attr, None)):
            continue
        if attr not in hookspecs.HOOK_NAMES:
            close = difflib.get_close_matches(attr, hookspecs.HOOK_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise PluginError(f"plugin {name!r} defines {attr!r}, which is not a ganlens "
                              f"hook{hint} (the hooks are in ganlens/hookspecs.py)")
        marked = getattr(getattr(plugin, attr), f"{PROJECT_NAME}_impl", None)
        if marked is None:
            raise PluginError(f"plugin {name!r} defines hook {attr!r} without "
                              "@ganlens.hookimpl; pluggy would ignore it")


def _dist(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "?", "?"
    return dist.metadata["Name"], dist.version


def entry_points() -> list[metadata.EntryPoint]:
    """The ``ganlens`` entry points: ganlens's own first, so a third-party plugin cannot
    displace a built-in name, then by name."""
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP),
                  key=lambda e: (_dist(e)[0] != "ganlens", e.name))


def build_host(settings: Settings | None = None,
               plugins: Iterable[tuple[str, Callable[[], Any]]] = ()) -> PluginHost:
    """A fresh host: every ``ganlens`` entry point, then ``plugins`` (``(name, load)`` pairs,
    e.g. a plugin object a test or notebook registers without installing it)."""
    settings = settings or Settings()
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm, settings)
    candidates: list[tuple[PluginRecord, Callable[[], Any]]] = []
    for ep in entry_points():
        dist_name, dist_version = _dist(ep)
        candidates.append((PluginRecord(ep.name, ep.value, dist_name, dist_version,
                                        builtin=dist_name == "ganlens"), ep.load))
    for name, load in plugins:
        candidates.append((PluginRecord(name, repr(load), "(given)", "?", builtin=False), load))
    for record, load in candidates:
        if host.record_for(record.name) is not None:
            record.status = "failed"
            record.error = f"a plugin named {record.name!r} is already registered"
            host.records.append(record)
        elif record.name in settings.disabled:
            record.status = "blocked"
            host.records.append(record)
        else:
            _load_guarded(host, record, load)
    return host


def _load_guarded(host: PluginHost, record: PluginRecord, load: Callable[[], Any]) -> None:
    try:
        host.register(load(), record)
    except Exception as exc:  # one broken plugin must not take the others down
        record.status = "failed"
        record.error = f"{type(exc).__name__}: {exc}"
        if host.record_for(record.name) is None:
            host.records.append(record)
        if host.settings.debug:
            traceback.print_exc(file=sys.stderr)


__all__ = ["PluginHost", "PluginRecord", "Registered", "Settings", "build_host"]
