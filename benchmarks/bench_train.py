"""Training throughput: ``ganlens.train`` against a plain PyTorch loop of the same architecture,
batch size, optimiser and loss, on the same data, in one run. Prints samples/s and the ratio
(goal: ganlens ≥ 0.95 of the plain loop).

    python benchmarks/bench_train.py [--dataset digits] [--epochs 5] [--repeats 3] [--threads 1]

The plain loop does only the GAN updates; ganlens also records the history (losses, D outputs,
gradient norms), a per-epoch sample grid and its diversity. Without ``--out`` neither writes files.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

import ganlens
from ganlens.builtin.architectures import DCGAN, MLP


def plain_loop(data, arch: str, latent_dim: int, epochs: int, batch_size: int, seed: int) -> float:
    info = {"dcgan": DCGAN, "mlp": MLP}[arch]
    g_kw, d_kw = info.default_kwargs(data.spec, latent_dim, None)
    torch.manual_seed(seed)
    g, d = info.generator(**g_kw), info.discriminator(**d_kw)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x_all, n = data.x, len(data)
    steps = n // batch_size
    t0 = time.perf_counter()
    for epoch in range(epochs):
        rng = torch.Generator().manual_seed(seed * 100_003 + epoch)
        perm = torch.randperm(n, generator=rng)
        g.train()
        d.train()
        for s in range(steps):
            real = x_all[perm[s * batch_size : (s + 1) * batch_size]]
            z = torch.randn(real.shape[0], latent_dim, generator=rng)
            fake = g(z).reshape(real.shape)
            rl, fl = d(real).reshape(-1), d(fake.detach()).reshape(-1)
            loss_d = F.binary_cross_entropy_with_logits(rl, torch.ones_like(rl)) + \
                F.binary_cross_entropy_with_logits(fl, torch.zeros_like(fl))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            out = d(fake).reshape(-1)
            loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
    return epochs * steps * batch_size / (time.perf_counter() - t0)


def ganlens_loop(data, arch: str, latent_dim: int, epochs: int, batch_size: int, seed: int) -> float:
    t0 = time.perf_counter()
    result = ganlens.train(data, arch=arch, epochs=epochs, batch_size=batch_size,
                           latent_dim=latent_dim, seed=seed, progress=False, device="cpu")
    steps = len(result.history["steps"]["g_loss"])
    return steps * batch_size / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="digits")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = ganlens.load_dataset(args.dataset)
    arch = "dcgan" if data.spec.is_image else "mlp"
    latent = 32 if data.spec.is_image else 16
    best = {"plain": 0.0, "ganlens": 0.0}
    for _ in range(args.repeats):  # interleaved, best of N: the machine's noise hits both alike
        best["plain"] = max(best["plain"], plain_loop(data, arch, latent, args.epochs,
                                                      args.batch_size, 0))
        best["ganlens"] = max(best["ganlens"], ganlens_loop(data, arch, latent, args.epochs,
                                                            args.batch_size, 0))
    print(f"dataset {args.dataset}, arch {arch}, batch {args.batch_size}, {args.epochs} epochs, "
          f"{args.threads} thread(s), best of {args.repeats}")
    print(f"plain PyTorch loop : {best['plain']:9.1f} samples/s")
    print(f"ganlens.train      : {best['ganlens']:9.1f} samples/s")
    print(f"ratio ganlens/plain: {best['ganlens'] / best['plain']:.3f}  (goal >= 0.95)")


if __name__ == "__main__":
    main()
