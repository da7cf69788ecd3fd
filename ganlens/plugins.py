"""The plugin manager: hook specs, plugin loading guarded per plugin, blocking, listing.

ganlens's own parts (architectures, datasets, loaders, feature spaces, writers) are registered as
plugins by module name, as pytest registers its built-in plugins; every analyzer, built-in or
third-party, comes from the ``ganlens`` entry-point group. A plugin that fails to import is
recorded with its distribution, version and error, and the others keep working.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError
from .hookspecs import PROJECT_NAME

ENTRY_POINT_GROUP = "ganlens"
DISABLE_ENV = "GANLENS_DISABLE_PLUGINS"

# The core's own plugins, registered through the same ``register`` path as entry points.
CORE_PLUGINS: tuple[str, ...] = (
    "ganlens.models",
    "ganlens.data",
    "ganlens.checkpoint",
    "ganlens.loaders",
    "ganlens.features",
    "ganlens.report.html",
    "ganlens.report.json_writer",
    "ganlens.report.markdown",
)


def _core_name(module: str) -> str:
    return module.rsplit(".", 1)[-1].replace("json_writer", "json")


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
        return {
            "name": self.name,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "description": _describe(self.obj),
        }


def _describe(obj: Any) -> str:
    text = getattr(obj, "description", None) or (obj.__doc__ or "")
    return " ".join(str(text).split())[:200]


@dataclass
class PluginHost:
    """The plugin manager with its registries, built once per set of blocked plugins."""

    pm: pluggy.PluginManager
    records: list[PluginRecord] = field(default_factory=list)
    analyzers: dict[str, Registered] = field(default_factory=dict)
    architectures: dict[str, Registered] = field(default_factory=dict)
    datasets: dict[str, Registered] = field(default_factory=dict)
    feature_spaces: dict[str, Registered] = field(default_factory=dict)
    formats: dict[str, Registered] = field(default_factory=dict)

    @property
    def hook(self) -> Any:
        return self.pm.hook

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
        """Register ``plugin`` and collect its registrations, refusing duplicate names."""
        try:
            self.pm.register(plugin, name=record.name)
        except ValueError as exc:
            raise PluginError(f"plugin {record.name!r} cannot be registered: {exc}") from exc
        self.records.append(record)
        try:
            self._collect(plugin, record)
        except PluginError:
            self.pm.unregister(plugin)
            raise

    def _collect(self, plugin: Any, record: PluginRecord) -> None:
        from .analyzer import Analyzer  # late: analyzer imports this module's users

        tables = (
            ("ganlens_register_analyzers", self.analyzers, "analyzer"),
            ("ganlens_register_architectures", self.architectures, "architecture"),
            ("ganlens_register_datasets", self.datasets, "dataset"),
            ("ganlens_register_feature_spaces", self.feature_spaces, "feature space"),
            ("ganlens_report_formats", self.formats, "report format"),
        )
        additions: list[tuple[dict[str, Registered], str, Registered]] = []
        for hook_name, table, what in tables:
            fn = getattr(plugin, hook_name, None)
            if fn is None:
                continue
            items = fn() or []
            for item in items:
                if hook_name == "ganlens_register_analyzers" and not (
                    isinstance(item, type) and issubclass(item, Analyzer)
                ):
                    raise PluginError(
                        f"plugin {record.name!r} registered {item!r} as an analyzer; "
                        "expected a subclass of ganlens.Analyzer"
                    )
                name = item if isinstance(item, str) else getattr(item, "name", None)
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin {record.name!r} registered a {what} without a name")
                taken = table.get(name) or next(
                    (a[2] for a in additions if a[0] is table and a[2].name == name), None
                )
                if taken is not None:
                    raise PluginError(
                        f"{what} {name!r} is registered twice: by plugin {taken.plugin!r} "
                        f"({taken.distribution}) and by plugin {record.name!r} "
                        f"({record.distribution}); disable one of them"
                    )
                obj = plugin if isinstance(item, str) else item  # a format is described by its writer
                entry = Registered(name, obj, record.name, record.distribution, record.version)
                additions.append((table, what, entry))
        for table, _what, entry in additions:
            table[entry.name] = entry

    def to_dict(self) -> dict[str, Any]:
        def rows(table: dict[str, Registered]) -> list[dict[str, Any]]:
            return [table[k].to_dict() for k in sorted(table)]

        return {
            "analyzers": rows(self.analyzers),
            "loaders": [r.to_dict() for r in self.loaders()],
            "architectures": rows(self.architectures),
            "datasets": rows(self.datasets),
            "feature_spaces": rows(self.feature_spaces),
            "writers": rows(self.formats),
            "plugins": [r.to_dict() for r in self.records],
        }


def _ganlens_version() -> str:
    from . import __version__

    return __version__


def _disabled_from_env() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {p.strip() for p in raw.split(",") if p.strip()}


def build_host(disable: set[str] | frozenset[str] = frozenset()) -> PluginHost:
    """Build a fresh plugin manager: core plugins, then every ``ganlens`` entry point."""
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm)
    blocked = set(disable) | _disabled_from_env()
    version = _ganlens_version()

    for module_name in CORE_PLUGINS:
        name = _core_name(module_name)
        record = PluginRecord(name, module_name, "ganlens", version, builtin=True)
        if name in blocked:
            record.status = "blocked"
            host.records.append(record)
            continue
        _load_guarded(host, record, lambda m=module_name: importlib.import_module(m))

    def _dist_name(ep: metadata.EntryPoint) -> str:
        dist = getattr(ep, "dist", None)
        return dist.metadata["Name"] if dist is not None else "?"

    # ganlens's own analyzers first, so a third-party plugin cannot displace a built-in name.
    eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP),
                 key=lambda e: (_dist_name(e) != "ganlens", e.name))
    for ep in eps:
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        dist_version = dist.version if dist is not None else "?"
        record = PluginRecord(
            ep.name, ep.value, dist_name, dist_version, builtin=dist_name == "ganlens"
        )
        if host.record_for(ep.name) is not None:
            record.status = "failed"
            record.error = f"a plugin named {ep.name!r} is already registered"
            host.records.append(record)
            continue
        if ep.name in blocked:
            record.status = "blocked"
            host.records.append(record)
            continue
        _load_guarded(host, record, ep.load)
    return host


def _load_guarded(host: PluginHost, record: PluginRecord, load: Any) -> None:
    try:
        plugin = load()
        host.register(plugin, record)
    except Exception as exc:  # one broken plugin must not take the others down
        record.status = "failed"
        record.error = f"{type(exc).__name__}: {exc}"
        if host.record_for(record.name) is None:
            host.records.append(record)
        if os.environ.get("GANLENS_DEBUG"):
            traceback.print_exc(file=sys.stderr)


_HOSTS: dict[frozenset[str], PluginHost] = {}


def get_host(disable: set[str] | frozenset[str] | None = None, *, refresh: bool = False) -> PluginHost:
    """The shared plugin host for this set of blocked plugins (built on first use)."""
    key = frozenset(disable or ()) | frozenset(_disabled_from_env())
    if refresh or key not in _HOSTS:
        _HOSTS[key] = build_host(key)
    return _HOSTS[key]


def reset() -> None:
    """Forget every built host (tests and long-lived processes that install plugins)."""
    _HOSTS.clear()
