"""The Python face of ganlens: the functions ``import ganlens`` gives, each creating the plugin
host at the edge when the caller passes none.

This is the one place (with the CLI) where the environment is read: ``GANLENS_DISABLE_PLUGINS``,
``GANLENS_NO_PROGRESS``, ``GANLENS_CACHE_DIR`` and ``GANLENS_DEBUG`` become the host's
:class:`~ganlens.engine.host.Settings`, and everything below gets them from the host.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .core.analyzer import BaseAnalyzer
from .core.checkpoint import LoadOptions
from .core.context import AnalysisContext
from .core.dataset import DEFAULT_RANGE, Dataset
from .core.gan import GAN
from .core.report import DEFAULT_FORMATS, Report
from .core.section import Section
from .engine import checkpoint as _checkpoint
from .engine import data as _data
from .engine import runner as _runner
from .engine import train as _train
from .engine.host import PluginHost, Settings, build_host

DISABLE_ENV = "GANLENS_DISABLE_PLUGINS"
NO_PROGRESS_ENV = "GANLENS_NO_PROGRESS"
CACHE_ENV = "GANLENS_CACHE_DIR"
DEBUG_ENV = "GANLENS_DEBUG"


def _names(raw: str) -> set[str]:
    return {p.strip() for p in raw.split(",") if p.strip()}


def make_host(
    *,
    disable: Iterable[str] = (),
    progress: bool | None = None,
    cache_dir: str | Path | None = None,
    debug: bool | None = None,
    plugins: Iterable[tuple[str, Callable[[], Any]]] = (),
    environ: Mapping[str, str] | None = None,
) -> PluginHost:
    """A plugin host: every installed plugin, minus the disabled ones, with these settings.

    Args:
        disable: plugin names to block, added to ``GANLENS_DISABLE_PLUGINS``.
        progress: show progress bars (default: unless ``GANLENS_NO_PROGRESS`` is set).
        cache_dir: the classifier cache (default: ``GANLENS_CACHE_DIR``, else
            ``~/.cache/ganlens``).
        debug: print a failing plugin's traceback (default: ``GANLENS_DEBUG``).
        plugins: extra ``(name, load)`` pairs, e.g. ``("mine", lambda: my_module)``, for a plugin
            that is not installed as a distribution.
        environ: the environment to read (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    disabled = frozenset(set(disable) | _names(env.get(DISABLE_ENV, "")))
    if progress is None:
        progress = not env.get(NO_PROGRESS_ENV)
    if cache_dir is None:
        cache_dir = env.get(CACHE_ENV) or Path.home() / ".cache" / "ganlens"
    if debug is None:
        debug = bool(env.get(DEBUG_ENV))
    settings = Settings(disabled=disabled, progress=bool(progress), cache_dir=Path(cache_dir),
                        debug=bool(debug))
    return build_host(settings, plugins)


def _host(host: PluginHost | None, disable: Iterable[str] = ()) -> PluginHost:
    if host is not None:
        if disable:
            raise TypeError("give either host or disable, not both (make_host(disable=...))")
        return host
    return make_host(disable=disable)


def analyze(
    gan_or_path: GAN | str | Path,
    *,
    analyzers: Sequence[str | BaseAnalyzer | type[BaseAnalyzer]] | None = None,
    skip: Sequence[str] | None = None,
    real: str | Path | Dataset | None = None,
    samples: int = _runner.DEFAULT_SAMPLES,
    seed: int = 0,
    device: str | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    out_dir: str | Path | None = None,
    formats: Sequence[str] = DEFAULT_FORMATS,
    batch_size: int | None = None,
    load_options: LoadOptions | None = None,
    progress: bool = True,
    real_resize: str | None = None,
    real_samples: int | None = None,
    held_out: str | Path | Dataset | None = None,
    label_distribution: str = "uniform",
    truncation: float | None = None,
    budget: str = "default",
    disable: Iterable[str] = (),
    host: PluginHost | None = None,
) -> Report:
    """Analyze a GAN (or a checkpoint path) and return the :class:`Report`.

    The arguments are those of :func:`ganlens.engine.runner.analyze`, plus ``disable`` (plugin
    names to block for this run) and ``host`` (a host from :func:`make_host`, reused across
    runs; by default one is made for this call).
    """
    return _runner.analyze(
        gan_or_path, analyzers=analyzers, skip=skip, real=real, samples=samples, seed=seed,
        device=device, options=options, out_dir=out_dir, formats=formats,
        batch_size=batch_size, load_options=load_options, progress=progress,
        real_resize=real_resize, real_samples=real_samples, held_out=held_out,
        label_distribution=label_distribution, truncation=truncation, budget=budget,
        host=_host(host, disable),
    )


def context(
    gan: GAN | str | Path,
    *,
    real: str | Path | Dataset | None = None,
    samples: int = _runner.DEFAULT_SAMPLES,
    seed: int = 0,
    device: str | None = None,
    analyzers: Sequence[BaseAnalyzer] | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    held_out: str | Path | Dataset | None = None,
    label_distribution: str = "uniform",
    host: PluginHost | None = None,
) -> AnalysisContext:
    """An analysis context for ``gan`` (real data and one capture pass with the requests of
    ``analyzers``); call an analyzer on it: ``Activations().analyze(ctx)``."""
    return _runner.context(gan, real=real, samples=samples, seed=seed, device=device,
                           analyzers=analyzers, batch_size=batch_size, progress=progress,
                           held_out=held_out, label_distribution=label_distribution,
                           host=_host(host))


def load(path: str | Path, options: LoadOptions | None = None, *,
         host: PluginHost | None = None, **kwargs: Any) -> GAN:
    """Load a GAN from ``path``: a native checkpoint, a state_dict with ``arch``, a ``.pt2``.

    Keyword arguments are the fields of :class:`LoadOptions` (``arch``, ``latent_shape``,
    ``output_shape``, ``discriminator``, ``trust_pickle``, ``device``, ...).

    Raises:
        CheckpointError: the file is missing, corrupt, of an unknown format, or does not fit.
    """
    return _checkpoint.load(path, options, host=_host(host), **kwargs)


def load_dataset(spec: str | Path | Dataset, *, value_range: tuple[float, float] = DEFAULT_RANGE,
                 n: int | None = None, std: float | None = None, seed: int = 0,
                 image_size: int | None = None, host: PluginHost | None = None) -> Dataset:
    """Resolve a dataset name (``digits``, ``ring8``, ``grid25``, a plugin's) or a path (IDX,
    .npy/.npz, an image folder, a plugin's format) to a :class:`Dataset`."""
    return _data.load_dataset(spec, value_range=value_range, n=n, std=std, seed=seed,
                              image_size=image_size, host=_host(host))


def train(dataset: str | Path | Dataset = "digits", *, host: PluginHost | None = None,
          **kwargs: Any) -> _train.TrainResult:
    """Train a GAN, or resume one; the keyword arguments are those of
    :func:`ganlens.engine.train.train` (``arch``, ``epochs``, ``out_dir``, ``resume``, ...)."""
    return _train.train(dataset, host=_host(host), **kwargs)


def available_analyzers(host: PluginHost | None = None) -> dict[str, type[BaseAnalyzer]]:
    """Every registered analyzer class by name, built-in and third-party."""
    return {name: reg.obj for name, reg in sorted(_host(host).analyzers.items())}


class Analyzer(BaseAnalyzer):
    """Base class of every analyzer, built-in or third-party.

    Subclasses set ``name``, ``title``, ``description`` and what they need
    (``needs_discriminator``, ``needs_real_data``, ``needs_images``), may define a nested
    ``Options`` dataclass and :meth:`requests`, and implement ``analyze(ctx) -> Section``.
    """

    def run(self, gan: GAN | str, *, real: Any = None, samples: int = 1000, seed: int = 0,
            device: str | None = None, host: PluginHost | None = None) -> Section:
        """Build a context for ``gan`` (one capture pass for this analyzer) and analyze it,
        isolated and timed like in a full run; for notebooks and training loops."""
        report = analyze(gan, analyzers=[self], real=real, samples=samples, seed=seed,
                         device=device, host=host)
        return report.sections[0]


TrainResult = _train.TrainResult
