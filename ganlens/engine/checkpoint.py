"""``load``: a checkpoint file to a :class:`~ganlens.core.gan.GAN`, through the loader hooks.

Every ``ganlens_load_checkpoint`` implementation is asked in turn (first result wins); the
built-in ones are in :mod:`ganlens.builtin.loaders`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.checkpoint import CheckpointSource, LoadOptions, check_outputs_finite, check_sha256
from ..core.errors import CheckpointError
from ..core.gan import GAN
from .host import PluginHost


def load(path: str | Path, options: LoadOptions | None = None, *, host: PluginHost,
         **kwargs: Any) -> GAN:
    """Load a GAN from ``path``: a native checkpoint, a state_dict with ``arch``, a ``.pt2``.

    Keyword arguments are the fields of :class:`LoadOptions` (``arch``, ``latent_shape``,
    ``output_shape``, ``discriminator``, ``trust_pickle``, ``device``, ...); ``host`` is the
    plugin host whose loaders are asked.

    Raises:
        CheckpointError: the file is missing, corrupt, of an unknown format, or does not fit.
    """
    if options is None:
        options = LoadOptions(**kwargs)
    elif kwargs:
        raise TypeError("give either options or keyword arguments, not both")
    source = CheckpointSource(path)
    if source.size == 0:
        raise CheckpointError(f"{source.path}: the file is empty; expected a checkpoint")
    if options.expected_sha256:
        check_sha256(source.path, options.expected_sha256)
    gan = host.hook.ganlens_load_checkpoint(source=source, options=options, host=host)
    if gan is None:
        raise CheckpointError(
            f"{source.path}: cannot load it: {source.describe_failure()}; expected a ganlens "
            "checkpoint, a state_dict with --arch MODULE:CALLABLE, or a torch.export .pt2 archive"
        )
    gan.metadata.setdefault("source", str(source.path.resolve()))
    check_outputs_finite(gan, str(source.path))
    return gan
