"""The private umap-learn API the latent analyzer relies on is still the one it was written for.

``ganlens_latent.embedding`` hands its own fuzzy graph to ``umap.umap_.simplicial_set_embedding``
and puts umap-learn's serial layout kernel in numba's disk cache (see its module docstring for
why umap-learn's public ``UMAP(precomputed_knn=...)`` is not used). Neither is covered by
umap-learn's deprecation policy, so these tests fail, with the umap-learn version and what
changed, before a new release can change the pictures silently.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest
from ganlens_latent import embedding
from ganlens_latent.embedding import (
    UMAP_LAYOUT_KERNEL,
    UMAP_LAYOUT_PARAMETERS,
    umap_layout_api_problem,
)

ROOT = Path(__file__).resolve().parents[2]


def test_simplicial_set_embedding_has_the_checked_signature():
    from umap.umap_ import simplicial_set_embedding

    problem = umap_layout_api_problem(simplicial_set_embedding)
    assert problem is None, problem
    assert len(inspect.signature(simplicial_set_embedding).parameters) == len(UMAP_LAYOUT_PARAMETERS)


def _fake(names: list[str], required: tuple[str, ...] = ()):
    """A function with parameters ``names``: the first 16 without defaults, as in umap-learn,
    then defaults, except the keyword-only ``required`` ones."""
    empty, kinds = inspect.Parameter.empty, inspect.Parameter
    params = [inspect.Parameter(n, kinds.KEYWORD_ONLY if n in required else kinds.POSITIONAL_OR_KEYWORD,
                                default=empty if i < 16 or n in required else None)
              for i, n in enumerate(names)]

    def f(*args, **kwargs):
        return None

    f.__signature__ = inspect.Signature(params)
    return f


def test_the_signature_check_names_the_version_and_the_change():
    """The check itself, on signatures with a known fault."""
    names = list(UMAP_LAYOUT_PARAMETERS)
    assert umap_layout_api_problem(_fake(names)) is None
    installed = version("umap-learn")

    added = umap_layout_api_problem(_fake(names + ["low_memory"]))
    assert f"umap-learn {installed}" in added and "added ['low_memory']" in added
    assert "23 parameters instead of 22" in added
    assert umap_layout_api_problem(_fake(names + ["low_memory"]), strict=False) is None

    swapped = names.copy()
    swapped[4], swapped[5] = swapped[5], swapped[4]  # a and b: the call would still run
    assert "reordered" in umap_layout_api_problem(_fake(swapped))

    renamed = [("alpha" if n == "initial_alpha" else n) for n in names]
    for strict in (True, False):
        message = umap_layout_api_problem(_fake(renamed), strict=strict)
        assert "initial_alpha" in message and installed in message

    required = umap_layout_api_problem(_fake(names + ["knn"], required=("knn",)), strict=False)
    assert "new required parameters: ['knn']" in required


def test_a_changed_signature_stops_the_embedding_with_that_message(monkeypatch):
    import numpy as np
    import umap.umap_

    names = [("alpha" if n == "initial_alpha" else n) for n in UMAP_LAYOUT_PARAMETERS]
    monkeypatch.setattr(umap.umap_, "simplicial_set_embedding", _fake(names))
    x = np.random.RandomState(0).randn(30, 4).astype(np.float32)
    with pytest.raises(RuntimeError, match=r"umap-learn .* changed .*initial_alpha"):
        embedding.umap_embed(x, random_state=0)


def test_the_cached_layout_kernel_is_the_one_the_serial_layout_runs():
    from umap import layouts

    version_ = version("umap-learn")
    kernel = getattr(layouts, UMAP_LAYOUT_KERNEL, None)
    assert kernel is not None, (
        f"umap-learn {version_} has no umap.layouts.{UMAP_LAYOUT_KERNEL}: "
        "ganlens_latent.embedding._cache_layout_kernel no longer caches the layout kernel "
        "(every process compiles it again)")
    assert hasattr(kernel, "enable_caching") and hasattr(kernel, "signatures"), (
        f"umap.layouts.{UMAP_LAYOUT_KERNEL} of umap-learn {version_} is no numba dispatcher "
        f"({type(kernel).__name__})")
    chooser = getattr(layouts, "_get_optimize_layout_euclidean_single_epoch_fn", None)
    assert chooser is not None and chooser(False) is kernel, (
        f"umap-learn {version_}: optimize_layout_euclidean(parallel=False) no longer runs "
        f"umap.layouts.{UMAP_LAYOUT_KERNEL}, so caching it does not help")


def test_the_installed_umap_learn_lies_in_the_declared_range():
    """The bound in pyproject.toml names the versions checked; constraints.txt pins one of them."""
    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [Requirement(d) for d in deps if Requirement(d).name == "umap-learn"]
    assert any(s.operator == "<" for s in spec.specifier), f"{spec}: no upper bound"
    pin = re.search(r"^umap-learn==(\S+)", (ROOT / "constraints.txt").read_text(), re.M)
    assert pin and spec.specifier.contains(pin.group(1)), f"constraints.txt's umap-learn vs {spec}"
    installed = version("umap-learn")
    assert spec.specifier.contains(installed, prereleases=True), (
        f"umap-learn {installed} is installed, outside {spec} (pyproject.toml), the versions "
        "ganlens_latent.embedding was checked with")
