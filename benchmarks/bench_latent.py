"""The latent analyzer's UMAP embedding against umap-learn with its defaults, on the same data.

Data: MNIST test images (784 pixels each) from ``../shared/data/mnist``, at N = 2,000 and
N = 10,000. For each N, in one process:

- ``ganlens``: ``ganlens_latent.embedding.umap_embed`` with the analyzer's defaults (exact kNN in
  torch, PCA to 50 dimensions, the fuzzy graph in numpy, umap-learn's spectral initialisation and
  layout for 200 epochs, BLAS on one thread);
- ``umap defaults``: ``umap.UMAP().fit_transform(x)``, nothing set (parallel, not reproducible);
- ``umap defaults, seeded``: ``umap.UMAP(random_state=0)``, what a reproducible report must use.

Both code paths are warmed up first (numba compiled), so the times compare fits, not compilers;
the first fit in a fresh process (compilation included) is measured separately, in
subprocesses, at N = 2,000. Trustworthiness is scikit-learn's, with 5 neighbours, against the
784 pixels, on the same 2,000-point subsample for every method.

Run: ``python benchmarks/bench_latent.py`` (add ``--quick`` for N = 2,000 only). Goals: at least
3x faster, trustworthiness within 0.01.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
TRUST_POINTS = 2000


def load_mnist(n: int) -> np.ndarray:
    import ganlens

    ds = ganlens.load_dataset(os.environ.get("GANLENS_BENCH_MNIST", str(MNIST)))
    x = ds.x.reshape(len(ds), -1).numpy().astype(np.float32)
    return x[:n]


def fit(method: str, x: np.ndarray) -> np.ndarray:
    import umap
    from ganlens_latent.embedding import umap_embed

    warnings.filterwarnings("ignore")
    if method == "ganlens":
        return umap_embed(x, random_state=0)
    if method == "umap defaults":
        return umap.UMAP().fit_transform(x)
    if method == "umap defaults, seeded":
        return umap.UMAP(random_state=0).fit_transform(x)
    raise ValueError(method)


def trust(x: np.ndarray, coords: np.ndarray) -> float:
    from ganlens_latent.embedding import trustworthiness

    return trustworthiness(x, coords, max_points=TRUST_POINTS, seed=0)[0]


def cold(method: str, n: int, cache_dir: str | None = None) -> float:
    """Seconds of the first fit in a fresh process (numba compilation included; imports not).
    ``cache_dir``: an empty NUMBA_CACHE_DIR, for a machine that never ran numba code before."""
    here = str(Path(__file__).parent)
    code = (
        f"import time, sys; sys.path.insert(0, {here!r}); import bench_latent as b; import umap; "
        f"x = b.load_mnist({n}); t = time.perf_counter(); b.fit({method!r}, x); "
        "print(time.perf_counter() - t)"
    )
    env = dict(os.environ, **({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else {}))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 2,000 only, no cold starts")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    sizes = (2000,) if args.quick else (2000, 10000)
    methods = ("ganlens", "umap defaults", "umap defaults, seeded")
    results: dict = {"cold_first_fit_s": {}, "runs": []}

    if not args.quick:
        print("first fit in a fresh process, N=2000 (numba compilation included):")
        import tempfile

        for m in ("ganlens", "umap defaults, seeded"):
            s = cold(m, 2000)
            results["cold_first_fit_s"][m] = s
            print(f"  {m:24s} {s:7.1f} s")
        with tempfile.TemporaryDirectory() as empty:
            s = cold("ganlens", 2000, empty)
        results["cold_first_fit_s"]["ganlens, empty numba cache"] = s
        print(f"  {'ganlens, empty numba cache':24s} {s:7.1f} s  (its layout kernel compiled)")

    warm = load_mnist(300)
    for m in methods:
        fit(m, warm)  # compile every code path before timing
    for n in sizes:
        x = load_mnist(n)
        row = {"n": n}
        for m in methods:
            t = time.perf_counter()
            coords = fit(m, x)
            row[m] = {"seconds": time.perf_counter() - t, "trustworthiness": trust(x, coords)}
        results["runs"].append(row)
        ours = row["ganlens"]
        print(f"\nN = {n} (MNIST pixels, 784 dims; trustworthiness on {min(n, TRUST_POINTS)} points)")
        print(f"  {'method':24s} {'seconds':>8s} {'speed-up':>9s} {'trust':>7s} {'diff':>7s}")
        for m in methods:
            r = row[m]
            print(f"  {m:24s} {r['seconds']:8.2f} {r['seconds'] / ours['seconds']:8.1f}x "
                  f"{r['trustworthiness']:7.4f} {ours['trustworthiness'] - r['trustworthiness']:+7.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
