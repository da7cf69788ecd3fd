"""The native ganlens checkpoint (``format: ganlens-checkpoint``): its loader.

The file is read weights-only; the networks are rebuilt from the architectures the checkpoint
names, looked up in the host's registry, so a plugin architecture loads like a built-in one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.checkpoint import (
    FORMAT_TAG,
    FORMAT_VERSION,
    CheckpointSource,
    LoadOptions,
    is_native,
    load_weights,
)
from ..core.errors import CheckpointError
from ..core.extensions import lookup_architecture
from ..core.gan import GAN, DataSpec, LatentSpec
from ..markers import hookimpl


def gan_from_native(payload: dict[str, Any], path: Path | None, device: str | None,
                    architectures: Mapping[str, Any]) -> GAN:
    """Build a GAN from a native checkpoint dict; ``architectures`` is the host's registry."""
    where = str(path) if path else "checkpoint"
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{where}: checkpoint format version {version!r} is newer than this ganlens reads "
            f"({FORMAT_VERSION}); upgrade ganlens"
        )
    try:
        g_rec = payload["generator"]
        latent = LatentSpec.from_dict(payload["latent"])
        data = DataSpec.from_dict(payload["data"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{where}: the checkpoint lacks {exc}; it is incomplete") from exc
    info = lookup_architecture(g_rec["arch"], architectures)
    generator = info.generator(**g_rec["kwargs"])
    load_weights(generator, g_rec["state_dict"], f"{where} (generator)")
    discriminator = None
    d_rec = payload.get("discriminator")
    if d_rec is not None:
        d_info = lookup_architecture(d_rec["arch"], architectures)
        if d_info.discriminator is None:
            raise CheckpointError(f"{where}: architecture {d_rec['arch']!r} has no discriminator")
        discriminator = d_info.discriminator(**d_rec["kwargs"])
        load_weights(discriminator, d_rec["state_dict"], f"{where} (discriminator)")
    training = payload.get("training") or {}
    metadata = {
        "format": FORMAT_TAG,
        "format_version": version,
        "ganlens_version": payload.get("ganlens_version"),
        "architecture": g_rec["arch"],
        "dataset": payload.get("dataset"),
        "training": {k: v for k, v in training.items() if k != "optimizers"},
        "seed": payload.get("seed"),
    }
    cond = payload.get("conditional") or {}
    return GAN(
        generator, latent, data, discriminator, d_output=payload.get("d_output", "logit"),
        num_classes=payload.get("num_classes"), metadata=metadata, device=device,
        conditional=bool(cond.get("generator")), d_conditional=bool(cond.get("discriminator")),
        label_format=cond.get("label_format") or "index",
    )




@hookimpl
def ganlens_load_checkpoint(source: CheckpointSource, options: LoadOptions,
                            host: Any) -> GAN | None:
    """The native ganlens checkpoint (``format: ganlens-checkpoint``)."""
    if source.is_export_archive:
        return None
    payload, err = source.try_payload()
    if err is not None or not is_native(payload):
        return None
    version = payload.get("format_version")
    if isinstance(version, int) and version >= 2 and source.digest_status != "verified":
        raise CheckpointError(f"{source.path}: the checkpoint is corrupted: a ganlens checkpoint "
                              f"of format {version} carries its sha256, and this one does not")
    gan = gan_from_native(payload, source.path, options.device, host.architectures)
    if options.mapping is not None:
        gan.use_mapping(options.mapping)
    if options.d_train_mode and gan.discriminator is not None:
        gan.d_train_mode = True
        gan.d_note = "run in train mode as asked (--d-train-mode)"
        gan.eval()
    gan.metadata["integrity"] = ("sha256 verified" if source.digest_status == "verified"
                                 else "format 1: no digest to verify")
    return gan


