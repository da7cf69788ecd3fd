"""The shared capture pass with forward hooks on every layer (spatial means kept) against a plain
forward pass over the same latents, in one run; and ``import ganlens`` against ``import torch``.

    python benchmarks/bench_capture.py [--samples 4096] [--side 32] [--repeats 5] [--threads 1]

Prints the times and the ratios (goal: capture/plain ≤ 1.10).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import torch

from ganlens import testing
from ganlens.core.capture import CaptureRequest, run_capture


def plain(gan, z, batch_size):
    """Plain sampling: the generator in batches, outputs kept (what ``gan.decode`` does)."""
    return gan.decode(z, batch_size=batch_size)


def import_time(stmt: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        code = f"import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        times.append(float(out.stdout))
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=4096)
    p.add_argument("--side", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    gan = testing.tiny_image_gan(side=args.side, channels=3, latent_dim=64, width=32,
                                 discriminator=False)
    layers = [n for n, m in gan.generator.named_modules() if n and not list(m.children())]
    requests = [CaptureRequest("generator", n, "mean") for n in layers]
    z = gan.latents(args.samples, seed=0)
    t_plain, t_capture = [], []
    for _ in range(args.repeats):  # interleaved, so slow phases of the machine hit both
        t0 = time.perf_counter()
        plain(gan, z, args.batch_size)
        t_plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_capture(gan, requests, n=args.samples, seed=0, batch_size=args.batch_size,
                    progress=False)
        t_capture.append(time.perf_counter() - t0)
    # The minimum: the run least disturbed by the rest of the machine, for both sides alike.
    tp, tc = min(t_plain), min(t_capture)
    print(f"generator: DCGAN 3x{args.side}x{args.side}, {len(layers)} layers hooked, "
          f"{args.samples} samples, batch {args.batch_size}, {args.threads} thread(s)")
    print(f"plain forward         : {tp:7.3f} s")
    print(f"capture (all layers)  : {tc:7.3f} s")
    print(f"ratio capture/plain   : {tc / tp:.3f}  (goal <= 1.10)")
    ti_torch = import_time("import torch", 3)
    ti_ganlens = import_time("import ganlens", 3)
    print(f"import torch          : {ti_torch:7.3f} s")
    print(f"import ganlens        : {ti_ganlens:7.3f} s  (ratio {ti_ganlens / ti_torch:.2f}; "
          "ganlens imports torch)")


if __name__ == "__main__":
    main()
