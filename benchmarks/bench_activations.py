"""Benchmark of the activations analyzer: what its hooks cost in the shared capture pass, and
what batching saves in the interventions. Prints both ratios side by side.

1. Capture: the shared pass (G on N latents, D on the fakes) with this analyzer's hooks (spatial
   means and maxima of every analysed layer, full maps of a few samples) against the same pass
   without hooks, and against a plain ``gan.decode`` + ``gan.discriminate``.
2. Interventions: M single-unit ablations on K latents, batched (shared prefix, and replicated
   latents) against the naive loop of one sampling run per unit; the effects must agree.

Usage::

    python benchmarks/bench_activations.py                      # an untrained DCGAN, 32x32
    python benchmarks/bench_activations.py --checkpoint run/checkpoint.pt --samples 2000

Timings are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from ganlens_activations import Activations, ablate_units, ablate_units_naive
from ganlens_activations.intervene import REPLICATED, SHARED_PREFIX

import ganlens
from ganlens.builtin.architectures import DCGANDiscriminator, DCGANGenerator
from ganlens.core.capture import run_capture


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def default_gan(side: int, device: str) -> ganlens.GAN:
    torch.manual_seed(0)
    g = DCGANGenerator(64, 1, side, width=32)
    d = DCGANDiscriminator(1, side, width=32)
    return ganlens.GAN(g, ganlens.LatentSpec((64,)), ganlens.DataSpec("image", (1, side, side)), d,
                       device=device)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", help="a checkpoint to load (default: an untrained DCGAN)")
    ap.add_argument("--side", type=int, default=32, help="image side of the default DCGAN")
    ap.add_argument("--samples", type=int, default=1000, help="N of the capture pass")
    ap.add_argument("--units", type=int, default=32, help="M, units ablated")
    ap.add_argument("--latents", type=int, default=64, help="K, latents per ablation")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gan = ganlens.load(args.checkpoint, device=args.device) if args.checkpoint \
        else default_gan(args.side, args.device)
    analyzer = Activations(ablate=args.units, intervention_samples=args.latents)
    requests = analyzer.requests(gan)
    layers = analyzer._plan.layers
    print(f"GAN: data {gan.data.shape}, {len(layers)} analysed layers, {len(requests)} capture "
          f"requests; N={args.samples}, M={args.units}, K={args.latents}, device {gan.device}, "
          f"{torch.get_num_threads()} threads, best of {args.repeat}")

    # -- 1. the shared capture ------------------------------------------------------------------
    def plain():
        x = gan.decode(gan.latents(args.samples, 0))
        return gan.discriminate(x)

    t_plain, _ = best_of(plain, args.repeat)
    t_bare, _ = best_of(lambda: run_capture(gan, [], n=args.samples, progress=False), args.repeat)
    t_hooks, cap = best_of(lambda: run_capture(gan, requests, n=args.samples, progress=False),
                           args.repeat)
    stored = sum(t.numel() * t.element_size() for t in cap.activations.values())

    # -- 2. the interventions -------------------------------------------------------------------
    ctx = ganlens.context(gan, analyzers=[analyzer], samples=max(args.latents, 2), progress=False)
    section = analyzer.analyze(ctx)
    layer = section.metrics["intervention.layer"]
    module = dict(gan.generator.named_modules())[layer]
    units = [row[1] for row in next(t for t in section.tables if t.name == "intervention_units").rows]
    units = sorted(units)[: args.units]
    z, base = ctx.latents[: args.latents], ctx.fakes[: args.latents]
    d_base = ctx.d_fake[: args.latents] if ctx.d_fake is not None else None

    def run(method):
        return lambda: ablate_units(ctx, layer, module, units, z, base, d_baseline=d_base,
                                    method=method)

    t_naive, naive = best_of(lambda: ablate_units_naive(ctx, layer, module, units, z, base,
                                                        d_baseline=d_base), args.repeat)
    t_shared, shared = best_of(run(SHARED_PREFIX), args.repeat)
    t_repl, repl = best_of(run(REPLICATED), args.repeat)
    agree = max(float((shared.pixel_effect - naive.pixel_effect).abs().max()),
                float((repl.pixel_effect - naive.pixel_effect).abs().max()))

    print()
    print(f"{'':44s}{'seconds':>10s}{'ratio':>10s}")
    print(f"{'plain decode + discriminate':44s}{t_plain:10.3f}{1.0:10.2f}")
    print(f"{'shared capture, no hooks':44s}{t_bare:10.3f}{t_bare / t_plain:10.2f}")
    print(f"{'shared capture with activations hooks':44s}{t_hooks:10.3f}{t_hooks / t_plain:10.2f}")
    print(f"  hooks' overhead over the same pass: x{t_hooks / t_bare:.2f}; stored "
          f"{stored / 2**20:.1f} MiB for {args.samples} samples")
    print(f"{f'naive ablation loop ({len(units)} runs)':44s}{t_naive:10.3f}{1.0:10.2f}")
    print(f"{f'batched, {shared.method} ({shared.passes} passes)':44s}{t_shared:10.3f}"
          f"{t_shared / t_naive:10.2f}")
    print(f"{f'batched, {repl.method} ({repl.passes} passes)':44s}{t_repl:10.3f}"
          f"{t_repl / t_naive:10.2f}")
    print(f"  layer G:{layer}; speed-up {t_naive / t_shared:.2f}x ({shared.method}), "
          f"{t_naive / t_repl:.2f}x (replicated); max |effect difference| vs naive {agree:.2e}")
    print()
    print(f"RATIO capture_with_hooks/plain_forward = {t_hooks / t_plain:.2f}")
    print(f"RATIO batched_interventions/naive_loop = {t_shared / t_naive:.2f}")


if __name__ == "__main__":
    main()
