"""Loaders for weights that ganlens did not write: plain state_dicts with an architecture given as
``MODULE:CALLABLE``, ``torch.export`` archives (unflattened so forward hooks work), and pickled
whole modules (refused unless the user trusts the file).

Each is an implementation of ``ganlens_load_checkpoint``; each decides by content.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.checkpoint import (
    CheckpointSource,
    LoadOptions,
    is_native,
    load_weights,
    unwrap_state_dict,
)
from ..core.errors import ArchitectureError, CheckpointError
from ..core.gan import GAN, LABEL_FORMATS, DataSpec, LatentSpec, select_output
from ..markers import hookimpl

D_KEYS = ("discriminator", "netD", "D", "disc", "d_state_dict", "discriminator_state_dict")
G_KEYS = ("generator", "netG", "G", "gen", "g_state_dict", "generator_state_dict", "g_ema")
PICKLE_REFUSAL = (
    "{path}: this file is a pickled whole module; unpickling it would run arbitrary code from "
    "the file, so ganlens refuses by default. If you trust its source, pass --trust-pickle "
    "(Python: trust_pickle=True); better, save its state_dict (torch.save(model.state_dict(), "
    "...)) and load that with --arch MODULE:CALLABLE"
)


def import_callable(spec: str, what: str = "--arch") -> Any:
    """Resolve ``MODULE:CALLABLE``; MODULE is an importable name or a path to a .py file."""
    if ":" not in spec:
        raise ArchitectureError(
            f"{what} {spec!r}: expected MODULE:CALLABLE, e.g. my_models:Generator or "
            "path/to/models.py:Generator"
        )
    module_name, _, attr = spec.rpartition(":")
    try:
        if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
            path = Path(module_name).expanduser()
            if not path.exists():
                raise ArchitectureError(f"{what} {spec!r}: the file {path} does not exist")
            mod_name = f"ganlens_user_arch_{abs(hash(str(path.resolve())))}"
            mspec = importlib.util.spec_from_file_location(mod_name, path)
            if mspec is None or mspec.loader is None:
                raise ArchitectureError(f"{what} {spec!r}: {path} is not a Python file")
            module = importlib.util.module_from_spec(mspec)
            sys.modules[mod_name] = module
            mspec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ArchitectureError:
        raise
    except Exception as exc:
        raise ArchitectureError(
            f"{what} {spec!r}: cannot import {module_name!r} ({type(exc).__name__}: {exc})"
        ) from exc
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ArchitectureError(f"{what} {spec!r}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ArchitectureError(f"{what} {spec!r}: {attr!r} is not callable")
    return obj


def build_module(spec: str, what: str) -> nn.Module:
    factory = import_callable(spec, what)
    try:
        module = factory()
    except Exception as exc:
        raise ArchitectureError(
            f"{what} {spec!r}: calling it with no arguments failed ({type(exc).__name__}: {exc}); "
            "it must return the nn.Module"
        ) from exc
    if not isinstance(module, nn.Module):
        raise ArchitectureError(f"{what} {spec!r} returned {type(module).__name__}, not an nn.Module")
    return module


# ---------------------------------------------------------------------------------------------
# Inferring the specs
# ---------------------------------------------------------------------------------------------


def _first_layer(module: nn.Module) -> nn.Module | None:
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.ConvTranspose2d, nn.Conv2d, nn.Conv1d, nn.ConvTranspose1d)):
            return m
    return None


def _last_leaf(module: nn.Module) -> nn.Module | None:
    leaves = [m for m in module.modules() if not list(m.children())]
    return leaves[-1] if leaves else None


def infer_latent(generator: nn.Module, options: LoadOptions, where: str) -> LatentSpec:
    if options.latent_shape:
        return LatentSpec(tuple(options.latent_shape), options.latent_distribution)
    if options.latent_dim:
        first = _first_layer(generator)
        if isinstance(first, (nn.ConvTranspose2d, nn.Conv2d)):
            return LatentSpec((options.latent_dim, 1, 1), options.latent_distribution)
        return LatentSpec((options.latent_dim,), options.latent_distribution)
    first = _first_layer(generator)
    if isinstance(first, nn.Linear):
        return LatentSpec((first.in_features,), options.latent_distribution)
    if isinstance(first, (nn.ConvTranspose2d, nn.Conv2d)):
        return LatentSpec((first.in_channels, 1, 1), options.latent_distribution)
    raise CheckpointError(
        f"{where}: cannot infer the latent shape from the generator's first layer; give "
        "--latent-dim or --latent-shape"
    )


def _probe(module: nn.Module, x: torch.Tensor, what: str, hint: str,
           labels: torch.Tensor | None = None) -> Any:
    """``module(x)`` (``module(x, labels)`` with labels) without gradients; a failure is a
    CheckpointError saying the input shape."""
    try:
        with torch.no_grad():
            return module(x) if labels is None else module(x, labels)
    except Exception as exc:
        raise CheckpointError(
            f"{what} of shape (B, {', '.join(map(str, x.shape[1:]))}) ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160]}); {hint}"
        ) from exc


def _selection(options: LoadOptions) -> int | str | None:
    if options.output_key is not None and options.output_index is not None:
        raise CheckpointError("give --output-key or --output-index, not both")
    return options.output_key if options.output_key is not None else options.output_index


def _channels_last(per_sample: tuple[int, ...], options: LoadOptions) -> bool:
    """Whether (H, W, C) images come out: declared, or inferred from a last dimension of 1, 3
    or 4 channels where the first is not a channel count."""
    if options.output_layout not in ("auto", "nchw", "nhwc"):
        raise CheckpointError(f"--output-layout {options.output_layout!r}: expected auto, nchw "
                              "or nhwc")
    if len(per_sample) != 3 or options.output_layout == "nchw":
        return False
    if options.output_layout == "nhwc":
        return True
    c_first, c_last = per_sample[0], per_sample[2]
    square_hw = per_sample[0] == per_sample[1] and c_last != per_sample[0]
    return c_last in (1, 3, 4) and (c_first not in (1, 2, 3, 4) or square_hw)


def infer_data(
    generator: nn.Module, latent: LatentSpec, options: LoadOptions, where: str,
    labels: torch.Tensor | None = None,
) -> tuple[DataSpec, bool]:
    """The data spec from one probe of the generator (given ``labels`` when it is
    conditional), and whether its images come channels last."""
    out = _probe(generator, latent.sample(8, seed=0), f"{where}: the generator fails on latents",
                 "give --latent-shape", labels)
    out = select_output(out, _selection(options))
    if not torch.isfinite(out).all():
        raise CheckpointError(f"{where}: the generator produces NaN or infinite outputs")
    per_sample = tuple(out.shape[1:])
    channels_last = _channels_last(per_sample, options)
    if channels_last:
        per_sample = (per_sample[2], per_sample[0], per_sample[1])
    if options.output_shape:
        shape = tuple(int(s) for s in options.output_shape)
        if torch.Size(shape).numel() != torch.Size(per_sample).numel():
            raise CheckpointError(
                f"{where}: --output-shape {shape} has {torch.Size(shape).numel()} values but the "
                f"generator returns {per_sample} ({torch.Size(per_sample).numel()} values)"
            )
    else:
        shape = per_sample
        if len(shape) == 2:
            shape = (1, *shape)
    kind = "image" if len(shape) == 3 else "vector"
    if len(shape) not in (1, 3):
        raise CheckpointError(
            f"{where}: generator output {per_sample} is neither an image (C, H, W) nor a vector; "
            "give --output-shape"
        )
    if options.output_range is not None:
        value_range = tuple(float(v) for v in options.output_range)
    else:
        last = _last_leaf(generator)
        lo, hi = float(out.min()), float(out.max())
        # A final Tanh or Sigmoid says the range, unless forward() rescales after it.
        if isinstance(last, nn.Tanh) and -1.0 - 1e-6 <= lo < -0.05 and hi <= 1.0 + 1e-6:
            value_range = (-1.0, 1.0)
        elif isinstance(last, nn.Sigmoid) and lo >= -1e-6 and hi <= 1.0 + 1e-6:
            value_range = (0.0, 1.0)
        else:
            if kind == "image" and lo >= -1.05 and hi <= 1.05:
                value_range = (0.0, 1.0) if lo >= -0.05 else (-1.0, 1.0)
            elif kind == "image" and lo >= -0.5 and 1.5 < hi <= 255.5:
                value_range = (0.0, 255.0)  # 8-bit pixel values
            else:
                value_range = (lo, hi if hi > lo else lo + 1.0)
    return DataSpec(kind, shape, value_range), channels_last


def takes_label(module: nn.Module) -> bool:
    """Whether ``module.forward`` takes two required arguments, ``(x, y)``: a conditional
    network."""
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return False
    required = [p for p in params
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return len(required) >= 2


def _embeddings(module: nn.Module) -> list[nn.Embedding]:
    return [m for m in module.modules() if isinstance(m, nn.Embedding)]


def probe_labels(fmt: str, k: int | None, n: int = 8) -> torch.Tensor:
    """Labels for a probe: class 0, as indices or one-hot of ``k`` classes."""
    y = torch.arange(n) % max(1, min(k or 1, n))
    return y if fmt == "index" else torch.nn.functional.one_hot(y, k).float()


def infer_conditioning(generator: nn.Module, options: LoadOptions, where: str
                       ) -> tuple[LatentSpec, str, int | None]:
    """For a conditional generator: the latent, how it takes labels and the class count.

    The class count is ``--num-classes``, else the size of G's one ``nn.Embedding``. The
    latent and the label format are found by probing: a generator that concatenates z with an
    embedding or a one-hot vector has a first layer wider than z, so z's size is tried as that
    width less the embedding's (or the class count), then the whole width."""
    embeds = _embeddings(generator)
    k = options.num_classes
    if k is None and len({e.num_embeddings for e in embeds}) == 1:
        k = embeds[0].num_embeddings
    if options.label_format not in ("auto", *LABEL_FORMATS):
        raise CheckpointError(f"--label-format {options.label_format!r}: expected auto, "
                              f"{' or '.join(LABEL_FORMATS)}")
    if options.label_format != "auto":
        formats = [options.label_format]
    else:
        formats = ["index", "onehot"] if embeds else ["onehot", "index"]
    if k is None:
        formats = [f for f in formats if f == "index"]
    if options.latent_shape or options.latent_dim:
        latents = [infer_latent(generator, options, where)]
    else:
        first = _first_layer(generator)
        width = (first.in_features if isinstance(first, nn.Linear) else
                 first.in_channels if isinstance(first, (nn.ConvTranspose2d, nn.Conv2d)) else None)
        if width is None:
            raise CheckpointError(f"{where}: cannot infer the latent shape of the conditional "
                                  "generator from its first layer; give --latent-dim")
        extra = [e.embedding_dim for e in embeds] + ([k] if k else [])
        dims = [width - e for e in extra if width - e > 0] + [width]
        tail = (1, 1) if not isinstance(first, nn.Linear) else ()
        latents = [LatentSpec((d, *tail), options.latent_distribution)
                   for d in dict.fromkeys(dims)]
    errors = []
    for latent in latents:
        for fmt in formats:
            try:
                with torch.no_grad():
                    generator(latent.sample(8, seed=0), probe_labels(fmt, k))
                return latent, fmt, k
            except Exception as exc:  # a wrong guess fails inside the network
                errors.append(f"z {latent.shape} with {fmt} labels: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0][:100]}")
    hint = "" if k is not None else "; give --num-classes K (needed for one-hot labels)"
    raise CheckpointError(
        f"{where}: the conditional generator (forward takes (z, y)) runs with none of the "
        f"latent shapes and label formats tried ({'; '.join(errors[-3:])}){hint}; give "
        "--latent-dim, --num-classes and --label-format"
    )


D_DECLARATION = "ganlens_d_output"
"""An attribute an architecture may set on its discriminator class (``"score"`` for a WGAN or
least-squares critic, ...) to declare how its output is read, since no structure shows it."""
LATENT_DECLARATION = "ganlens_latent_distribution"
"""An attribute an architecture may set on its generator class: ``"normal"`` or ``"uniform"``."""


def read_discriminator(discriminator: nn.Module, data: DataSpec, options: LoadOptions,
                       where: str, labels: torch.Tensor | None = None) -> dict[str, Any]:
    """How to feed the discriminator and read its output: given (``--d-output``), declared by
    its class (``ganlens_d_output``), or inferred from its first and last modules and the width
    of its output on a probe batch. Returns the GAN's ``d_*`` fields, ``d_note`` saying why."""
    notes = []
    first, last = _first_layer(discriminator), _last_leaf(discriminator)
    flatten = (data.is_image and isinstance(first, nn.Linear)
               and first.in_features == data.numel)
    if flatten:
        notes.append(f"its first layer is Linear({first.in_features}, ...), so it is fed "
                     "flattened images")
    probe = torch.zeros(2, *data.shape)
    if flatten:
        probe = probe.reshape(2, -1)
    produced: list[tuple[nn.Module, Any]] = []
    hooks = [m.register_forward_hook(lambda mod, _i, o: produced.append((mod, o)))
             for m in discriminator.modules() if not list(m.children())]
    try:
        out = _probe(discriminator, probe, f"{where}: the discriminator fails on data",
                     "it must take what the generator makes" + (
                         " and the generator's labels" if labels is not None else ""),
                     None if labels is None else labels[: len(probe)])
    finally:
        for h in hooks:
            h.remove()
    aux = None
    if isinstance(out, (tuple, list)):
        notes.append(f"it returns {len(out)} outputs (an auxiliary-classifier D); the first is "
                     "read as its score")
        head = out[1] if len(out) > 1 else None
        if isinstance(head, torch.Tensor) and head.ndim == 2 and head.shape[1] >= 2:
            aux = int(head.shape[1])
            notes.append(f"the second, {aux} values per sample, is its class head (it labels "
                         "samples for class coverage when the real data have no labels)")
        out = out[0]
    # The module whose output is the score itself (e.g. the Sigmoid of an AC-GAN's adversarial
    # head, registered before its class head), else the last leaf.
    last = next((m for m, o in reversed(produced) if o is out), last)
    width = out[0].numel() if out.ndim else 1
    real_index = 1 if options.d_real_index is None else int(options.d_real_index)
    declared = getattr(discriminator, D_DECLARATION, None)
    kind = options.d_output
    probs = isinstance(last, nn.Softmax)
    if kind and kind != "auto":
        notes.append(f"read as {kind!r} as given (--d-output)")
    elif declared:
        kind = str(declared)
        notes.append(f"read as {kind!r}, as its class declares ({D_DECLARATION})")
    elif width == 2:
        kind = "two-class"
        notes.append(f"it returns two values per sample: read as two-class, column {real_index} "
                     "meaning real (--d-real-index to change)"
                     + ("; softmax probabilities" if probs else "; logits"))
    elif isinstance(last, nn.Sigmoid):
        kind = "probability"
        notes.append("its last module is Sigmoid: read as a probability (not sigmoid twice)")
    elif width == 1:
        kind = "logit"
        notes.append("one output with no final Sigmoid: read as a logit; an unbounded critic "
                     "(WGAN, least-squares, hinge) should say --d-output score")
    if width not in (1, 2) or (kind == "two-class") != (width == 2):
        raise CheckpointError(
            f"{where}: the discriminator returns {width} values per sample, which --d-output "
            f"{kind} cannot read; expected 1 (logit, probability or score) or 2 (two-class)"
        )
    if options.d_real_index is not None and kind != "two-class":
        raise CheckpointError(f"{where}: --d-real-index applies to a two-class discriminator; "
                              f"this one is read as {kind!r}")
    train_dependent = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                       nn.modules.batchnorm._BatchNorm)
    stochastic = sorted({type(m).__name__ for m in discriminator.modules()
                         if isinstance(m, train_dependent)})
    if stochastic and options.d_train_mode:
        notes.append(f"run in train mode as asked ({', '.join(stochastic)}: dropout on, "
                     "batch-norm batch statistics; scores vary with the batch)")
    elif stochastic:
        notes.append(f"evaluated in eval mode ({', '.join(stochastic)}: dropout off, batch-norm "
                     "running statistics; --d-train-mode for train mode)")
    return {"d_output": kind, "d_flatten": flatten, "d_real_index": real_index,
            "d_two_class_probabilities": probs and kind == "two-class",
            "d_train_mode": bool(options.d_train_mode), "d_aux_classes": aux,
            "d_note": "; ".join(notes)}


def gan_from_modules(
    generator: nn.Module,
    discriminator: nn.Module | None,
    options: LoadOptions,
    where: str,
    metadata: dict[str, Any],
) -> GAN:
    generator.eval()
    if discriminator is not None:
        discriminator.eval()
    declared = getattr(generator, LATENT_DECLARATION, None)
    if declared and options.latent_distribution == "normal":  # the default: not given
        options = dataclasses.replace(options, latent_distribution=str(declared))
    conditional = takes_label(generator) if options.conditional is None else options.conditional
    d_conditional = discriminator is not None and takes_label(discriminator)
    k, fmt, labels = options.num_classes, "index", None
    if conditional:
        latent, fmt, k = infer_conditioning(generator, options, where)
        labels = probe_labels(fmt, k)
    else:
        latent = infer_latent(generator, options, where)
    if d_conditional and not conditional:
        raise CheckpointError(f"{where}: the discriminator takes (x, y) but the generator takes "
                              "no labels; a conditional D needs a conditional G (--conditional)")
    data, channels_last = infer_data(generator, latent, options, where, labels)
    reading = (read_discriminator(discriminator, data, options, where,
                                  labels if d_conditional else None)
               if discriminator is not None else {})
    if conditional:
        how = ("declared (--conditional)" if options.conditional else
               "its forward takes (z, y)")
        metadata = {**metadata, "conditioning": (
            f"conditional GAN ({how}): {k or 'an unknown number of'} classes, labels as "
            f"{'class indices' if fmt == 'index' else 'one-hot vectors'}"
            + (", also given to D" if d_conditional else ""))}
    return GAN(
        generator, latent, data, discriminator, num_classes=k,
        metadata=metadata, device=options.device, output_select=_selection(options),
        output_channels_last=channels_last, conditional=conditional,
        d_conditional=d_conditional, label_format=fmt, mapping=options.mapping, **reading,
    )


def recognise(state: dict[str, Any], role: str, host: Any) -> tuple[nn.Module, str] | None:
    """A known architecture family for ``state`` (``ganlens_recognize_architecture``), or None."""
    if host is None:
        return None
    return host.hook.ganlens_recognize_architecture(state=state, role=role)


def network_for(state: dict[str, Any], spec: str | None, role: str, host: Any, where: str,
                flag: str) -> tuple[nn.Module, str | None]:
    """The network for ``state``: built from ``spec`` (``MODULE:CALLABLE``), else recognised
    from its keys and shapes (the family's name comes back too), else an error naming ``flag``."""
    if spec:
        return build_module(spec, flag), None
    known = recognise(state, role, host)
    if known is None:
        raise ArchitectureError(
            f"{where}: a plain state_dict ({len(state)} tensors) whose keys match no known "
            f"architecture; give its architecture with {flag} MODULE:CALLABLE (Python: "
            f"{flag.lstrip('-').replace('-', '_')}='module:callable')"
        )
    return known


def load_discriminator(options: LoadOptions, where: str, host: Any = None) -> nn.Module | None:
    """The discriminator from ``options.discriminator`` (a state_dict or a .pt2 archive); its
    architecture from ``--discriminator-arch``, else recognised from its keys and shapes."""
    if options.discriminator is None:
        return None
    source = CheckpointSource(options.discriminator)
    if source.is_export_archive:
        return load_export_module(source)[0]
    payload, err = source.try_payload()
    if err is not None:
        if source.needs_pickle():
            raise CheckpointError(PICKLE_REFUSAL.format(path=source.path))
        raise CheckpointError(f"{source.path}: cannot load it: {source.describe_failure()}")
    state, _ = unwrap_state_dict(_pick(payload, D_KEYS) or payload)
    if state is None:
        raise CheckpointError(f"{source.path}: holds no state_dict for the discriminator")
    module, _family = network_for(state, options.discriminator_arch, "discriminator", host,
                                  f"--discriminator {source.path}", "--discriminator-arch")
    load_weights(module, state, f"{source.path} (discriminator)")
    return module


def _pick(payload: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(payload, dict):
        for k in keys:
            if k in payload:
                return payload[k]
    return None


# ---------------------------------------------------------------------------------------------
# Hook implementations
# ---------------------------------------------------------------------------------------------


@hookimpl
def ganlens_load_checkpoint(source: CheckpointSource, options: LoadOptions,
                            host: Any) -> GAN | None:
    """Plain state_dicts (or dicts wrapping one) with ``--arch`` or of a recognised family,
    torch.export archives, and pickled modules (only with ``--trust-pickle``)."""
    where = str(source.path)
    if source.is_export_archive:
        generator, input_shape = load_export_module(source)
        if not options.latent_shape and not options.latent_dim and input_shape:
            options = dataclasses.replace(options, latent_shape=input_shape)
        return gan_from_modules(
            generator, load_discriminator(options, where, host), options, where,
            {"format": "torch.export", "source": str(source.path)},
        )
    payload, err = source.try_payload()
    if err is not None:
        if source.needs_pickle():
            if not options.trust_pickle:
                raise CheckpointError(PICKLE_REFUSAL.format(path=source.path))
            return _load_pickled(source, options, host)
        return None
    if is_native(payload):
        return None
    g_key = next((k for k in G_KEYS if isinstance(payload, dict) and k in payload), None)
    state, key = unwrap_state_dict(payload[g_key] if g_key is not None else payload)
    key = g_key if g_key is not None and key is None else key
    if state is None:
        return None
    generator, family = network_for(state, options.arch, "generator", host, where, "--arch")
    load_weights(generator, state, f"{where} (generator)")
    discriminator = load_discriminator(options, where, host)
    if discriminator is None and options.discriminator_arch and isinstance(payload, dict):
        d_state, _ = unwrap_state_dict(_pick(payload, D_KEYS))
        if d_state is not None:
            discriminator = build_module(options.discriminator_arch, "--discriminator-arch")
            load_weights(discriminator, d_state, f"{where} (discriminator)")
    meta = {"format": "state_dict", "architecture": options.arch or f"recognised: {family}",
            "state_dict_key": key}
    return gan_from_modules(generator, discriminator, options, where, meta)


def load_export_module(source: CheckpointSource) -> tuple[nn.Module, tuple[int, ...] | None]:
    """A ``torch.export`` archive, unflattened into submodules so forward hooks see layers,
    and the shape of its first input without the batch dimension."""
    try:
        program = torch.export.load(str(source.path))
    except Exception as exc:
        raise CheckpointError(
            f"{source.path}: a torch.export archive that cannot be read ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160]})"
        ) from exc
    user = set(program.graph_signature.user_inputs)
    input_shape = None
    for node in program.graph.nodes:
        val = node.meta.get("val")
        if node.op != "placeholder" or node.name not in user or val is None:
            continue
        if isinstance(val.shape[0], int):
            raise CheckpointError(
                f"{source.path}: exported with a fixed batch size of {val.shape[0]}; export it with a "
                "dynamic batch dimension (dynamic_shapes={0: torch.export.Dim('batch')})"
            )
        if input_shape is None:
            input_shape = tuple(int(s) for s in val.shape[1:])
    return torch.export.unflatten(program), input_shape


def _load_pickled(source: CheckpointSource, options: LoadOptions, host: Any = None) -> GAN:
    where = str(source.path)
    obj = torch.load(source.path, weights_only=False, map_location="cpu")
    generator = obj if isinstance(obj, nn.Module) else _pick(obj, G_KEYS)
    discriminator = _pick(obj, D_KEYS) if isinstance(obj, dict) else None
    if not isinstance(generator, nn.Module):
        raise CheckpointError(
            f"{where}: the pickle holds {type(obj).__name__}, not a generator module (or a dict "
            f"with one under {', '.join(G_KEYS)})"
        )
    if discriminator is not None and not isinstance(discriminator, nn.Module):
        discriminator = None
    if discriminator is None:
        discriminator = load_discriminator(options, where, host)
    return gan_from_modules(generator, discriminator, options, where, {"format": "pickle"})
