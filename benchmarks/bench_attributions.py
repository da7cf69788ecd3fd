"""The attributions analyzer's Integrated Gradients against captum's, called with its defaults.

One batch of 256 28×28 images through a DCGAN-sized discriminator (Radford et al. 2016, as used
for MNIST: 4×4 stride-2 convolutions 1→64→128, batch norm, a 7×7 scoring convolution), 50
integration steps, captum's default zero baseline. captum's default call expands all 12,800
interpolated inputs into one batch; the analyzer's wrapper
(:func:`ganlens_attributions.methods.integrated_gradients`, with the analyzer's default
``internal_batch_size``) feeds captum in chunks and freezes the network's parameters.

A third run, ``floor``, is the least any implementation of the same arithmetic can do: a bare
loop over the same 12,800 interpolated inputs (captum's Gauss-Legendre nodes and weights),
one forward pass and one input gradient each, in batches of the same size, with frozen
weights and no captum at all. ``captum / floor`` is the largest speed-up this machine allows
without changing what is computed (a different kernel, memory layout or a rewritten network
moves the attributions past 1e-5, because rounding changes which side of a ReLU kink a
pre-activation falls on at some integration node).

Each side runs in its own subprocess so that its peak resident memory (``ru_maxrss``) is its
own; the parent checks that the attributions agree to 1e-5 and prints the ratios::

    python benchmarks/bench_attributions.py [--repeats 2] [--batch 256] [--steps 50]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIDE = 28
TOLERANCE = 1e-5


def discriminator():
    import torch
    from torch import nn

    torch.manual_seed(0)
    d = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 1, 7, 1, 0), nn.Flatten(),
    )
    with torch.no_grad():  # a trained-looking batch norm, not the identity
        d[3].running_mean.uniform_(-0.2, 0.2)
        d[3].running_var.uniform_(0.5, 2.0)
    return d.eval()


def inputs(batch: int):
    import torch

    return torch.rand((batch, 1, SIDE, SIDE), generator=torch.Generator().manual_seed(1)) * 2 - 1


def peak_rss_gb() -> float:
    """This process's peak resident set size (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(side: str, batch: int, steps: int, out: Path, threads: int) -> None:
    import torch
    from captum.attr import IntegratedGradients
    from ganlens_attributions.methods import DEFAULT_INTERNAL_BATCH_SIZE, integrated_gradients

    if threads:
        torch.set_num_threads(threads)
    d = discriminator()
    x = inputs(batch)

    def forward(v):
        return d(v).reshape(-1)

    # Warm up the kernels on a few samples (both sides), outside the measurement.
    IntegratedGradients(forward).attribute(x[:2], n_steps=2)
    before = peak_rss_gb()
    c0, t0 = cpu_seconds(), time.perf_counter()
    if side == "captum":
        attributions = IntegratedGradients(forward).attribute(x, n_steps=steps)
    elif side == "floor":
        attributions = bare_loop(d, forward, x, steps, DEFAULT_INTERNAL_BATCH_SIZE)
    else:
        attributions = integrated_gradients(forward, x, 0.0, n_steps=steps, freeze=(d,),
                                            internal_batch_size=DEFAULT_INTERNAL_BATCH_SIZE).attributions
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    torch.save(attributions.detach(), out)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_gb": peak_rss_gb(),
                      "rss_before_gb": before, "threads": torch.get_num_threads()}))


def bare_loop(d, forward, x, steps: int, batch: int):
    """Integrated Gradients from a zero baseline as a plain loop: Gauss-Legendre nodes and
    weights on [0, 1] (captum's default method), ``batch`` evaluations at a time."""
    import numpy as np
    import torch

    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas, sizes = (nodes + 1) / 2, weights / 2
    for p in d.parameters():
        p.requires_grad_(False)
    per = max(1, batch // steps)
    total = torch.zeros_like(x)
    for start in range(0, x.shape[0], per):
        part = x[start : start + per]
        path = torch.cat([float(a) * part for a in alphas]).requires_grad_()
        (grad,) = torch.autograd.grad(forward(path).sum(), path)
        scale = torch.tensor(sizes, dtype=x.dtype).view(steps, 1, 1, 1, 1)
        total[start : start + per] = (grad.view(steps, *part.shape) * scale).sum(0)
    return total * x


def run_child(side: str, batch: int, steps: int, out: Path, threads: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", side, "--batch", str(batch), "--steps", str(steps),
         "--out", str(out), "--threads", str(threads)], capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the {side} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per side, alternating; the fastest and the lowest peak count")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads in each run (0: torch's default); on a shared machine "
                             "1 gives the most stable numbers")
    parser.add_argument("--child", choices=["captum", "ganlens", "floor"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.batch, args.steps, args.out, args.threads)
        return

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        runs: dict[str, list[dict]] = {"captum": [], "ganlens": [], "floor": []}
        for r in range(args.repeats):
            for side in runs:
                result = run_child(side, args.batch, args.steps, Path(tmp) / f"{side}.pt",
                                   args.threads)
                runs[side].append(result)
                print(f"run {r + 1} {side:>8}: {result['seconds']:7.2f} s wall, "
                      f"{result['cpu_seconds']:7.2f} s CPU, peak RSS "
                      f"{result['peak_rss_gb']:.2f} GB (process before the call "
                      f"{result['rss_before_gb']:.2f} GB), {result['threads']} threads")
        ref = torch.load(Path(tmp) / "captum.pt")
        ours = torch.load(Path(tmp) / "ganlens.pt")
        floor = torch.load(Path(tmp) / "floor.pt")
    diff = float((ref - ours).abs().max())
    floor_diff = float((ref - floor).abs().max())
    scale = float(ref.abs().max())
    best = {s: min(r["seconds"] for r in v) for s, v in runs.items()}
    cpu = {s: min(r["cpu_seconds"] for r in v) for s, v in runs.items()}
    peak = {s: min(r["peak_rss_gb"] for r in v) for s, v in runs.items()}
    print(f"\nIntegrated Gradients, {args.batch} images {SIDE}x{SIDE}, n_steps={args.steps}, "
          f"DCGAN discriminator, torch {torch.__version__}")
    print(f"max |difference| of the attributions: {diff:.2e} (largest |attribution| {scale:.2e}); "
          f"identical to {TOLERANCE:g}: {'yes' if diff <= TOLERANCE else 'NO'}")
    print(f"wall time:   captum default {best['captum']:.2f} s, ganlens {best['ganlens']:.2f} s: "
          f"{best['captum'] / best['ganlens']:.2f}x faster (goal >= 3x)")
    print(f"             the bare loop (same evaluations, no captum) {best['floor']:.2f} s, "
          f"max |difference| {floor_diff:.2e}: captum / floor = "
          f"{best['captum'] / best['floor']:.2f}x is the most this machine allows")
    print(f"CPU time:    captum default {cpu['captum']:.2f} s, ganlens {cpu['ganlens']:.2f} s: "
          f"{cpu['captum'] / cpu['ganlens']:.2f}x less")
    print(f"peak memory: captum default {peak['captum']:.2f} GB, ganlens {peak['ganlens']:.2f} GB: "
          f"{peak['ganlens'] / peak['captum']:.3f} of it, 1/{peak['captum'] / peak['ganlens']:.1f} "
          "(goal <= 1/5)")
    extra = {s: min(r["peak_rss_gb"] - r["rss_before_gb"] for r in v) for s, v in runs.items()}
    print(f"             above the process before the call: captum {extra['captum']:.2f} GB, "
          f"ganlens {extra['ganlens']:.2f} GB (1/{extra['captum'] / max(extra['ganlens'], 1e-3):.1f})")
    if diff > TOLERANCE:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
