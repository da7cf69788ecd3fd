"""Runs the selected analyzers: one shared capture pass, then each analyzer isolated and timed.

An analyzer that raises becomes a failed section with its error, and the others run; one that
needs what the GAN lacks (a discriminator, real data, images) is skipped with the reason. Hooks an
analyzer leaves behind are removed and reported.
"""

from __future__ import annotations

import datetime as _dt
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._version import __version__
from ..builtin.classifier import train_classifier
from ..core import resources
from ..core.analyzer import BUDGETS
from ..core.analyzer import BaseAnalyzer as Analyzer
from ..core.capture import CaptureRequest, run_capture
from ..core.checkpoint import LoadOptions
from ..core.context import AnalysisContext
from ..core.dataset import FIT_MODES, Dataset, check_compatible
from ..core.errors import (
    AnalyzerError,
    FeatureUnavailable,
    GanlensError,
    InputError,
    OptionError,
    PluginError,
    SkipAnalysis,
)
from ..core.fileio import sha256_file
from ..core.gan import GAN
from ..core.report import DEFAULT_FORMATS, Report, check_formats
from ..core.section import Section
from . import timings
from .checkpoint import load
from .data import load_dataset, reload_recorded
from .host import PluginHost
from .timings import TimingHistory, workload_key

DEFAULT_SAMPLES = 1000
MIN_REAL_CAP = 10_000


# ---------------------------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------------------------


def _unknown_analyzer(host: PluginHost, name: str) -> PluginError:
    rec = host.record_for(name)
    if rec is not None and rec.status == "failed":
        return PluginError(f"analyzer {name!r} is not available: plugin {name!r} failed to load "
                           f"({rec.error})")
    if rec is not None and rec.status == "blocked":
        return PluginError(f"analyzer {name!r} is not available: plugin {name!r} is disabled")
    known = ", ".join(sorted(host.analyzers)) or "none"
    return PluginError(f"unknown analyzer {name!r}; known: {known}")


def resolve_analyzers(
    host: PluginHost,
    analyzers: Sequence[str | Analyzer | type[Analyzer]] | None,
    skip: Sequence[str] | None,
    options: dict[str, dict[str, Any]] | None,
    budget: str = "default",
) -> list[Analyzer]:
    """Analyzer instances for the selection (all registered when None), minus ``skip``, with
    the option values of the ``budget`` preset where the user set none (an instance given
    keeps its options)."""
    options = dict(options or {})
    if budget not in BUDGETS:
        raise OptionError(f"budget {budget!r}: expected one of {', '.join(BUDGETS)}")
    for name in options:
        if name not in host.analyzers and not any(
            (getattr(a, "name", None) == name) for a in (analyzers or []) if not isinstance(a, str)
        ):
            raise OptionError(f"--option for unknown analyzer {name!r}; known: "
                              f"{', '.join(sorted(host.analyzers))}")
    for name in skip or []:
        if name not in host.analyzers:
            raise _unknown_analyzer(host, name)
    chosen: list[Analyzer] = []
    for item in (analyzers if analyzers is not None else sorted(host.analyzers, key=_order(host))):
        if isinstance(item, Analyzer):
            inst = item
            if inst.name in options:
                inst = type(item)(**{**vars(item.options), **options[inst.name]})
        elif isinstance(item, type) and issubclass(item, Analyzer):
            inst = item(**{**item.budget_options(budget), **options.get(item.name, {})})
        elif isinstance(item, str):
            if item not in host.analyzers:
                raise _unknown_analyzer(host, item)
            cls = host.analyzers[item].obj
            inst = cls(**{**cls.budget_options(budget), **options.get(item, {})})
        else:
            raise PluginError(f"{item!r} is not an analyzer name, class or instance")
        if not inst.name:
            raise PluginError(f"analyzer class {type(inst).__name__} has no name")
        if inst.name in (skip or []):
            continue
        if any(a.name == inst.name for a in chosen):
            continue
        inst.validate(host)
        chosen.append(inst)
    return chosen


def _order(host: PluginHost):
    # Built-in analyzers first in a reading order, then third-party ones by name.
    preferred = ["samples", "training", "mode_collapse", "conditioning", "scores",
                 "image_stats", "activations", "attributions", "latent"]

    def key(name: str) -> tuple[int, str]:
        return (preferred.index(name) if name in preferred else len(preferred), name)

    return key


# ---------------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------------


@dataclass
class RealData:
    """The real data of a run.

    ``real``: shuffled with the seed and capped; ``full``: all of them, in their order;
    ``train`` and ``held_out``: the samples the GAN trained on and those it never saw, when that
    is known (the split ``ganlens train`` recorded, or held-out data given), each shuffled with
    the seed and capped; ``held_out_note`` says which, or why there is no split."""

    real: Dataset | None
    full: Dataset | None
    reason: str | None
    train: Dataset | None = None
    held_out: Dataset | None = None
    held_out_note: str | None = None

    @property
    def for_d(self) -> Dataset | None:
        """The reals D scores in the shared pass: held-out ones when known (D never trained on
        them), else the real data."""
        return self.held_out if self.held_out is not None else self.real

    def meta(self) -> dict[str, Any]:
        out = _real_meta(self.real, self.reason)
        if self.real is not None:
            out["held_out"] = {"available": self.held_out is not None,
                               "num_samples": None if self.held_out is None else len(self.held_out),
                               "note": self.held_out_note}
        return out


def _fitted(gan: GAN, real: str | Path | Dataset, *, seed: int, host: PluginHost,
            real_resize: str | None, sample: int | None, what: str) -> Dataset:
    ds = load_dataset(real, host=host, value_range=gan.data.value_range,
                      fit_to=gan.data.shape if gan.data.is_image else None, fit=real_resize,
                      sample=sample, seed=seed)
    if ds.spec.is_image and gan.data.is_image and ds.spec.shape != gan.data.shape \
            and ds.spec.shape[0] == gan.data.shape[0] and gan.data.shape[1] == gan.data.shape[2]:
        raise InputError(
            f"{what} {ds.name!r} have images of {ds.spec.shape[1]}x{ds.spec.shape[2]} but the "
            f"generator makes {gan.data.shape[1]}x{gan.data.shape[2]}; give real data of that size, "
            "or --real-resize resize|crop (Python: real_resize=...) to convert them"
        )
    check_compatible(ds, gan.data, what)
    return ds


def _shuffled(ds: Dataset, seed: int, cap: int) -> Dataset:
    return ds.subset(torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:cap])


def recorded_split(gan: GAN, ds: Dataset) -> tuple[torch.Tensor | None, str]:
    """The rows of ``ds`` the checkpoint says training held out, or None and why not."""
    record = gan.metadata.get("dataset") or {}
    split = record.get("held_out") or {}
    if not split.get("indices"):
        return None, ("the checkpoint records no held-out split of its training data, so "
                      "whether D and G saw these reals is unknown (give held-out data with "
                      "--held-out)")
    if not record.get("sha256") or record["sha256"] != ds.sha256:
        return None, ("the real data are not the dataset the checkpoint records (its held-out "
                      "split applies only to that dataset; give held-out data with --held-out)")
    idx = torch.as_tensor(split["indices"], dtype=torch.long)
    total = int(record.get("num_samples") or 0)
    if ds.options.get("sampled"):
        if ds.source_rows is None:
            return None, ("the real data are a sample of the checkpoint's dataset whose format "
                          "does not say which rows it read, so its held-out split cannot be "
                          "applied; give held-out data with --held-out")
        # The split names rows of the whole source: keep those the sample holds.
        idx = torch.nonzero(torch.isin(ds.source_rows, idx)).reshape(-1)
        if len(idx) == 0:
            return None, "the sample of the real data holds none of the held-out rows"
    elif len(idx) == 0 or int(idx.max()) >= len(ds) or int(idx.min()) < 0 or \
            (total and total != len(ds)):
        return None, (f"the checkpoint's held-out indices do not fit the {len(ds)} samples of "
                      f"{ds.name!r}; ignored")
    return idx, (f"the {len(idx)} samples of {ds.name!r} that training held out (never trained "
                 "on), recorded in the checkpoint")


def resolve_real(
    gan: GAN, real: str | Path | Dataset | None, *, seed: int, samples: int, host: PluginHost,
    real_resize: str | None = None, real_samples: int | None = None,
    held_out: str | Path | Dataset | None = None,
) -> RealData:
    """The real data: given, else the dataset the checkpoint recorded, and what of them the
    GAN never trained on (``held_out`` given, else the split the checkpoint records)."""
    cap = real_samples if real_samples is not None else max(MIN_REAL_CAP, 2 * samples)
    if real is not None:
        ds = _fitted(gan, real, seed=seed, host=host, real_resize=real_resize, sample=cap,
                     what="real data")
    else:
        record = gan.metadata.get("dataset")
        if not record:
            return RealData(None, None,
                            "no real data given (--real) and the checkpoint records no dataset")
        try:
            ds = reload_recorded(record, gan.data.value_range, host=host)
            check_compatible(ds, gan.data, "the checkpoint's dataset")
        except GanlensError as exc:
            return RealData(None, None, f"the checkpoint's dataset could not be loaded: {exc}")
    out = RealData(_shuffled(ds, seed, cap), ds, None)
    if held_out is not None:
        ho = _fitted(gan, held_out, seed=seed, host=host, real_resize=real_resize, sample=cap,
                     what="held-out data")
        out.train, out.held_out = out.real, _shuffled(ho, seed, cap)
        out.held_out_note = (f"held-out data given: {len(ho)} samples of {ho.name!r}; the real "
                             "data are taken as the training data")
        return out
    idx, out.held_out_note = recorded_split(gan, ds)
    if idx is not None:
        keep = torch.ones(len(ds), dtype=torch.bool)
        keep[idx] = False
        out.train = _shuffled(ds.subset(torch.nonzero(keep).reshape(-1)), seed, cap)
        out.held_out = _shuffled(ds.subset(idx), seed, cap)
    return out


LABEL_DISTRIBUTIONS = ("uniform", "real")


def check_label_distribution(label_distribution: str) -> None:
    if label_distribution not in LABEL_DISTRIBUTIONS:
        raise OptionError(f"label_distribution {label_distribution!r}: expected one of "
                          f"{', '.join(LABEL_DISTRIBUTIONS)}")


def prepare_conditioning(gan: GAN, rd: RealData, label_distribution: str
                         ) -> tuple[torch.Tensor | None, dict[str, Any] | None]:
    """For a conditional GAN: the class count (from the real labels when the GAN knows none),
    the label frequencies to draw with, and what the report says. Checks that the real labels
    fit the generator's classes."""
    check_label_distribution(label_distribution)
    if not (gan.conditional or gan.d_conditional):
        return None, None
    real = rd.full
    labels = real.labels if real is not None else None
    source = "the generator"
    if gan.num_classes is None and labels is not None and real.num_classes:
        gan.num_classes, source = int(real.num_classes), f"the labels of {real.name!r}"
    k = gan.require_classes()
    if labels is not None and len(labels) and int(labels.max()) >= k:
        raise InputError(f"the real data {real.name!r} have labels up to {int(labels.max())}, "
                         f"but the conditional generator has {k} classes (0 to {k - 1}); give "
                         "real data of its classes or --num-classes")
    freq = None
    if label_distribution == "real":
        if labels is None:
            raise InputError("--label-distribution real needs labelled real data; these have "
                             "no labels")
        freq = torch.bincount(labels.long(), minlength=k).double()
    meta = {"num_classes": k, "num_classes_from": source, "labels": label_distribution,
            "label_format": gan.label_format, "discriminator_conditional": gan.d_conditional,
            "note": gan.metadata.get("conditioning")}
    return freq, meta


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def _hook_counts(gan: GAN) -> dict[int, tuple[nn.Module, set[int], set[int]]]:
    nets = [gan.generator] + ([gan.discriminator] if gan.discriminator is not None else [])
    out = {}
    for net in nets:
        for m in net.modules():
            out[id(m)] = (m, set(m._forward_hooks), set(m._forward_pre_hooks))
    return out


def _remove_new_hooks(before: dict[int, tuple[nn.Module, set[int], set[int]]]) -> int:
    removed = 0
    for m, hooks, pre in before.values():
        for key in set(m._forward_hooks) - hooks:
            del m._forward_hooks[key]
            removed += 1
        for key in set(m._forward_pre_hooks) - pre:
            del m._forward_pre_hooks[key]
            removed += 1
    return removed


def run_analyzer(analyzer: Analyzer, ctx: AnalysisContext) -> Section:
    """Run one analyzer isolated: an exception becomes a failed section; always timed, and its
    peak memory measured where the platform allows it."""
    measured = resources.reset_peak()
    t0 = time.perf_counter()
    before = _hook_counts(ctx.gan)
    ctx.current_analyzer = analyzer.name
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(ctx.seed)
            section = analyzer.analyze(ctx)
        if not isinstance(section, Section):
            raise AnalyzerError(
                f"{type(analyzer).__name__}.analyze returned {type(section).__name__}; expected a Section"
            )
    except SkipAnalysis as exc:
        section = analyzer.new_section()
        section.status, section.reason = "skipped", exc.reason
    except FeatureUnavailable as exc:
        section = analyzer.new_section()
        section.status, section.reason = "skipped", str(exc)
    except Exception as exc:  # isolation: one analyzer never takes the others down
        section = analyzer.new_section()
        section.status = "failed"
        section.reason = f"{type(exc).__name__}: {exc}"
        section.error = traceback.format_exc()
    finally:
        ctx.current_analyzer = None
        ctx.gan.eval()
    leaked = _remove_new_hooks(before)
    if leaked:
        section.finding("warning", f"the analyzer left {leaked} hook(s) on the networks; "
                                   "ganlens removed them")
    section.duration_s = time.perf_counter() - t0
    section.peak_memory_mb = resources.peak_bytes() / 2**20 if measured else None
    return section


def _requests(analyzer: Analyzer, gan: GAN) -> list[CaptureRequest]:
    reqs = list(analyzer.requests(gan))
    nets = {"generator": gan.generator, "discriminator": gan.discriminator}
    for r in reqs:
        net = nets.get(r.network)
        if net is None:
            raise InputError(f"{analyzer.name} asks for {r.network} activations but there is none")
        names = dict(net.named_modules())
        if r.module not in names:
            shown = ", ".join(n for n in list(names)[1:25] if n)
            raise InputError(f"the {r.network} has no module named {r.module!r}; its modules "
                             f"include: {shown}")
    return reqs


def context(
    gan: GAN | str | Path,
    *,
    real: str | Path | Dataset | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    device: str | None = None,
    analyzers: Sequence[Analyzer] | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    held_out: str | Path | Dataset | None = None,
    label_distribution: str = "uniform",
    host: PluginHost,
) -> AnalysisContext:
    """Build an analysis context for ``gan``: real data, and one capture pass with the requests
    of ``analyzers``. Call an analyzer on it: ``Activations().analyze(ctx)``."""
    if not isinstance(gan, GAN):
        gan = load(gan, device=device, host=host)
    elif device is not None:
        gan.to(device)
    progress = progress and host.progress
    rd = resolve_real(gan, real, seed=seed, samples=samples, host=host, held_out=held_out)
    freq, _ = prepare_conditioning(gan, rd, label_distribution)
    reqs = [r for a in analyzers or [] for r in _requests(a, gan)]
    bs = batch_size or gan.batch_size
    cap = run_capture(gan, reqs, n=samples, seed=seed, batch_size=bs, progress=progress,
                      label_frequencies=freq, **_real_for_d(rd, samples))
    return new_context(gan, cap, rd, seed=seed, samples=samples, batch_size=bs, host=host,
                       progress=progress)


def _real_for_d(rd: RealData, samples: int) -> dict[str, Any]:
    ds = rd.for_d
    if ds is None:
        return {"real_x": None, "real_labels": None}
    return {"real_x": ds.x[:samples],
            "real_labels": None if ds.labels is None else ds.labels[:samples]}


def new_context(gan: GAN, cap: Any, rd: RealData, *, seed: int, samples: int, batch_size: int,
                host: PluginHost, progress: bool) -> AnalysisContext:
    """The context of a run, with the built-in classifier (cached in the host's cache folder)."""

    def classifier(ds: Dataset, device: Any) -> Any:
        return train_classifier(ds, device=device, cache_dir=host.cache_dir)

    return AnalysisContext(gan, cap, rd.real, seed=seed, n_samples=samples,
                           batch_size=batch_size, host=host, real_reason=rd.reason,
                           progress_enabled=progress, real_full=rd.full, real_train=rd.train,
                           real_held_out=rd.held_out, held_out_note=rd.held_out_note,
                           classifier_factory=classifier)


def analyze(
    gan_or_path: GAN | str | Path,
    *,
    analyzers: Sequence[str | Analyzer | type[Analyzer]] | None = None,
    skip: Sequence[str] | None = None,
    real: str | Path | Dataset | None = None,
    samples: int = DEFAULT_SAMPLES,
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
    host: PluginHost,
) -> Report:
    """Analyze a GAN (or a checkpoint path) with the selected analyzers and return the Report.

    Args:
        gan_or_path: a :class:`GAN`, or a path loaded with ``load_options`` (and ``device``).
        analyzers: names, classes or instances; None runs every registered analyzer.
        skip: analyzer names to leave out.
        real: real data (a dataset name, a path or a Dataset); None uses the dataset recorded
            in the checkpoint, when there is one.
        samples: N, the number of generated samples in the shared pass.
        seed: decides the latents and every random draw of the analyzers.
        device: ``auto``, ``cpu`` or ``cuda`` (None keeps the GAN's device).
        options: ``{analyzer name: {option: value}}`` (values may be strings, as from the CLI).
        out_dir: when given, the report is saved there in ``formats``.
        formats: report formats to write (``html``, ``json``, ``md``).
        batch_size: the batch size of every pass (default: the GAN's, 256).
        load_options: how to load ``gan_or_path`` when it is a path.
        progress: show progress bars on a terminal (when the host's settings allow them).
        real_resize: ``resize`` or ``crop``: convert real images of another size or channel
            count to the generator's shape (the report says what was done); None: refuse them.
        real_samples: the most real samples used (default max(10,000, 2 × samples)); a larger
            source (image folder, IDX, .npy, .npz) is sampled when read, not loaded whole.
        held_out: real data the GAN never trained on (a dataset name, a path or a Dataset);
            D is scored on them and ``real`` is taken as the training data. None: the held-out
            split the checkpoint records (``ganlens train --holdout``), when it applies.
        label_distribution: a conditional GAN's labels: ``uniform`` over its classes, or
            ``real`` (the real data's class frequencies).
        truncation: ψ of the truncation trick for a generator with a mapping network
            (0 < ψ ≤ 1; None keeps the GAN's, 1 by default).
        budget: ``fast``, ``default`` or ``thorough``: scales the expensive analyses together
            (each analyzer's options say what each preset sets); options given win.
        host: the plugin host: analyzers, loaders, datasets, feature spaces, writers, settings.
    """
    t_start = time.perf_counter()
    created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    if samples < 2:
        raise InputError(f"samples must be at least 2, got {samples}")
    progress = progress and host.progress
    # Every option first: nothing is loaded or run before the whole request is known to be valid.
    if out_dir is not None:
        formats = check_formats(formats, host)
    if real_samples is not None and real_samples < 2:
        raise OptionError(f"real_samples must be at least 2, got {real_samples}")
    if real_resize not in (None, *FIT_MODES):
        raise OptionError(f"real_resize {real_resize!r}: expected one of {', '.join(FIT_MODES)}")
    check_label_distribution(label_distribution)
    if truncation is not None and not 0 < truncation <= 1:
        raise OptionError(f"truncation must be in (0, 1], got {truncation}")
    chosen = resolve_analyzers(host, analyzers, skip, options, budget)
    ckpt_meta: dict[str, Any] | None = None
    if isinstance(gan_or_path, GAN):
        gan = gan_or_path
        if device is not None:
            gan.to(device)
    else:
        opts = load_options or LoadOptions()
        if device is not None:
            opts.device = device
        gan = load(gan_or_path, opts, host=host)
        path = Path(gan_or_path)
        ckpt_meta = {"path": str(path), "name": path.name, "sha256": sha256_file(path),
                     "format": gan.metadata.get("format")}
    if truncation is not None:
        if not gan.has_mapping:
            raise InputError("--truncation needs a generator with a mapping network (--mapping "
                             "MODULE); this one has none")
        gan.truncation = float(truncation)
    rd = resolve_real(gan, real, seed=seed, samples=samples, host=host,
                      real_resize=real_resize, real_samples=real_samples, held_out=held_out)
    real_ds, real_reason = rd.real, rd.reason
    freq, conditioning = prepare_conditioning(gan, rd, label_distribution)

    skips: dict[str, str] = {}
    requests: list[CaptureRequest] = []
    request_errors: dict[str, str] = {}
    for a in chosen:
        why = a.skip_reason(gan, real_ds is not None)
        if why is not None:
            if a.needs_real_data and real_ds is None and real_reason:
                why = f"{why} ({real_reason})"
            skips[a.name] = why
            continue
        try:
            requests.extend(_requests(a, gan))
        except Exception as exc:
            request_errors[a.name] = f"{type(exc).__name__}: {exc}"
    need_samples = any(a.uses_samples for a in chosen if a.name not in skips)
    bs = batch_size or gan.batch_size
    t_capture = time.perf_counter()
    cap = run_capture(
        gan, requests, n=samples if need_samples else 2, seed=seed, batch_size=bs,
        progress=progress, label_frequencies=freq, **_real_for_d(rd, samples),
    )
    capture_s = time.perf_counter() - t_capture
    ctx = new_context(gan, cap, rd, seed=seed, samples=samples, batch_size=bs, host=host,
                      progress=progress)
    host.hook.ganlens_analysis_started(context=ctx)

    sections: list[Section] = []
    lines = _ProgressLines(host, chosen, workload_key(gan.data.shape, str(gan.device), budget),
                           samples, enabled=progress)
    for a in chosen:
        if a.name in skips:
            s = a.new_section()
            s.status, s.reason = "skipped", skips[a.name]
        elif a.name in request_errors:
            s = a.new_section()
            s.status, s.reason = "failed", request_errors[a.name]
        else:
            lines.start(a.name)
            s = run_analyzer(a, ctx)
        lines.done(s)
        sections.append(s)
    lines.save()

    metadata = {
        "ganlens_version": __version__,
        "torch_version": torch.__version__,
        "checkpoint": ckpt_meta,
        "gan": gan.describe(),
        "dataset": gan.metadata.get("dataset"),
        "real_data": rd.meta(),
        "conditioning": conditioning,
        "capture_notes": list(cap.notes),
        "seed": seed,
        "samples": samples,
        "budget": budget,
        "batch_size": bs,
        "device": str(gan.device),
        "analyzers": [a.name for a in chosen],
        "options": {a.name: _plain(vars(a.options)) for a in chosen},
        "plugins": [
            {"name": r.name, "distribution": r.distribution, "version": r.version,
             "status": r.status}
            for r in host.records
        ],
        "generator_calls": {"shared_pass": cap.generator_calls,
                            "extra": ctx.extra_generator_calls},
        "timings": {
            "created_utc": created,
            "capture_s": round(capture_s, 4),
            "total_s": round(time.perf_counter() - t_start, 4),
        },
    }
    report = Report(metadata, sections, host=host)
    host.hook.ganlens_analysis_finished(report=report)
    if out_dir is not None:
        report.save(out_dir, formats, host=host)
    return report


class _ProgressLines:
    """One line per analyzer on stderr: its estimate from earlier runs while it runs (on a
    terminal), then its status, time and peak memory; the times go to the history."""

    def __init__(self, host: PluginHost, chosen: Sequence[Analyzer], key: str, n: int,
                 enabled: bool) -> None:
        self.history = TimingHistory(host.cache_dir / "timings.json" if host.cache_dir else None)
        self.key, self.n, self.enabled = key, n, enabled
        self.total = len(chosen)
        self.width = max((len(a.name) for a in chosen), default=0)
        self.index = 0
        self.estimate: float | None = None
        self.tty = sys.stderr.isatty()

    def start(self, name: str) -> None:
        self.estimate = self.history.estimate(name, self.key, self.n)
        if self.enabled and self.tty:
            text = timings.line(self.index + 1, self.total, name, self.width, None, None,
                                self.estimate, None)
            print(text, end="\r", file=sys.stderr, flush=True)

    def done(self, s: Section) -> None:
        self.index += 1
        ran = s.status != "skipped" or s.duration_s > 0
        if ran and s.status == "ok":
            self.history.record(s.name, self.key, self.n, s.duration_s)
        if self.enabled:
            text = timings.line(self.index, self.total, s.name, self.width, s.status,
                                s.duration_s if ran else 0.0,
                                self.estimate if ran else None, s.peak_memory_mb)
            print(f"\x1b[2K{text}" if self.tty else text, file=sys.stderr, flush=True)
        self.estimate = None

    def save(self) -> None:
        self.history.save()


def _real_meta(ds: Dataset | None, reason: str | None) -> dict[str, Any]:
    if ds is None:
        return {"available": False, "reason": reason}
    return {"available": True, "name": ds.name, "source": ds.source, "num_samples": len(ds),
            "num_classes": ds.num_classes, "shape": list(ds.spec.shape),
            "prepared": ds.options.get("fitted"), "sampled": ds.options.get("sampled")}


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()}
