"""Shared fixtures: tiny GANs, a briefly trained digits GAN, the shared real data, a private cache.

Tests must stay fast (the whole suite runs in under 10 minutes on 2 CPU cores): use the tiny
GANs from ``ganlens.testing`` and the session-scoped trained GAN rather than training your own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import ganlens
from ganlens import testing

ROOT = Path(__file__).resolve().parents[1]
THIRD_PARTY_ARCH = ROOT / "examples" / "third_party_dcgan.py"


def shared_data_dir() -> Path | None:
    """``$GANLENS_SHARED_DATA``, else ``../shared/data`` next to the checkout."""
    env = os.environ.get("GANLENS_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "data", ROOT / "shared" / "data"]
    return next((c for c in candidates if (c / "mnist").is_dir()), None)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Classifier caches go to a per-session folder, never the user's home."""
    path = tmp_path_factory.mktemp("ganlens-cache")
    old = os.environ.get("GANLENS_CACHE_DIR")
    os.environ["GANLENS_CACHE_DIR"] = str(path)
    os.environ["GANLENS_NO_PROGRESS"] = "1"
    # One torch thread for the whole suite: its networks are tiny, and on a shared 2-core
    # machine two threads spin against each other (measured up to 10x slower).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield path
    torch.set_num_threads(threads)
    if old is None:
        os.environ.pop("GANLENS_CACHE_DIR", None)
    else:
        os.environ["GANLENS_CACHE_DIR"] = old


def load_module_file(path: Path, name: str):
    """Import a module from a file (an architecture file a test wrote), without sys.path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """A DCGAN trained for 3 epochs on the bundled digits, with its checkpoint on disk."""
    out = tmp_path_factory.mktemp("digits-run")
    return ganlens.train("digits", epochs=3, seed=0, out_dir=out, progress=False)


@pytest.fixture(scope="session")
def digits_gan(digits_run):
    return ganlens.load(digits_run.checkpoint)


@pytest.fixture(scope="session")
def digits():
    return ganlens.load_dataset("digits")


@pytest.fixture()
def image_gan():
    return testing.tiny_image_gan()


@pytest.fixture()
def vector_gan():
    return testing.tiny_vector_gan()


@pytest.fixture(scope="session")
def shared_data():
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is not present (set GANLENS_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def third_party_gan(shared_data):
    """The third-party MNIST DCGAN generator (no discriminator), loaded with its example arch."""
    return ganlens.load(shared_data / "third_party" / "dcgan_mnist_generator.pth",
                        arch=f"{THIRD_PARTY_ARCH}:Generator")
