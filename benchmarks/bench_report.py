"""The whole default report against one bare sampling pass, at realistic image sizes, in one run.

    python benchmarks/bench_report.py [--samples 1000,10000] [--side 64] [--untrained]
                                      [--device cpu] [--budget default] [--keep DIR]

It builds its own workload: 5,000 synthetic RGB images of ten classes (a coloured shape on a
textured background, written as an .npz), a DCGAN trained on them for two epochs with
``ganlens train`` (or left untrained with ``--untrained``), then for each N:

- the bare pass: G on N latents, D on the fakes and on N reals, batched, no hooks, no gradients;
- ``ganlens analyze CHECKPOINT --samples N`` with every built-in analyzer, in a child process
  whose peak resident memory is read from the kernel (``wait4``).

It prints the times, their ratio, each analyzer's share and the peak RSS. Goals (issue "The full
report at realistic sizes"): N = 10,000 at 64x64, report <= 2x the bare pass and peak RSS <= 2 GB;
N = 1,000, report <= 5x the bare pass; N = 100,000, peak RSS <= 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import ganlens


def synthetic_images(n: int, side: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` RGB images (uint8, NHWC) of ten classes: class c is a shape (disc, square, ring,
    bar, cross) in one of two colour families on a smooth random background."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    out = np.empty((n, side, side, 3), np.uint8)
    hues = np.array([[0.9, 0.2, 0.2], [0.2, 0.4, 0.95]], np.float32)
    for start in range(0, n, 500):
        c = y[start : start + 500]
        m = len(c)
        cx = rng.uniform(0.3, 0.7, (m, 1, 1)).astype(np.float32)
        cy = rng.uniform(0.3, 0.7, (m, 1, 1)).astype(np.float32)
        r = rng.uniform(0.12, 0.22, (m, 1, 1)).astype(np.float32)
        dx, dy = np.abs(xx - cx), np.abs(yy - cy)
        d = np.sqrt(dx**2 + dy**2)
        shape = c[:, None, None] % 5
        mask = np.select(
            [shape == 0, shape == 1, shape == 2, shape == 3],
            [d < r, np.maximum(dx, dy) < r, np.abs(d - r) < r / 3, (dx < r) & (dy < r / 3)],
            ((dx < r / 4) & (dy < r)) | ((dy < r / 4) & (dx < r)),
        )
        phase = rng.uniform(0, 6.28, (m, 1, 1, 1)).astype(np.float32)
        bg = 0.35 + 0.15 * np.sin(6 * xx[None, :, :, None] + phase) * np.cos(5 * yy[None, :, :, None])
        bg = np.broadcast_to(bg, (m, side, side, 3)).copy()
        color = hues[(c // 5)][:, None, None, :]
        img = np.where(mask[..., None], color, bg)
        img += rng.normal(0, 0.03, img.shape).astype(np.float32)
        out[start : start + m] = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    return out, y


def bare_pass(gan, real_x: torch.Tensor, n: int, batch_size: int) -> float:
    """Seconds for G on n latents and D on the fakes and on n reals: no hooks, no gradients."""
    z = gan.latents(n, seed=0)
    t0 = time.perf_counter()
    with torch.no_grad():
        for start in range(0, n, batch_size):
            x = gan.forward(z[start : start + batch_size])
            gan.score(x)
        for start in range(0, min(n, len(real_x)), batch_size):
            gan.score(real_x[start : start + batch_size].to(gan.device))
    if gan.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def run_report(ckpt: Path, n: int, out: Path, device: str, budget: str | None) -> tuple[dict, float, float]:
    """``ganlens analyze`` in a child process: (report.json, wall seconds, peak RSS in GB)."""
    cmd = [sys.executable, "-m", "ganlens", "analyze", str(ckpt), "--samples", str(n),
           "--out", str(out), "--format", "json", "--no-progress", "--device", device]
    if budget:
        cmd += ["--budget", budget]
    # A fresh cache: the classifier's training is part of the cost of a first report.
    env = {**os.environ, "GANLENS_CACHE_DIR": tempfile.mkdtemp(prefix="ganlens-cache-")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"ganlens analyze failed:\n{err[-3000:]}")
    report = json.loads((out / "report.json").read_text())
    return report, wall, usage.ru_maxrss / 1024**2  # KiB -> GiB


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", default="1000,10000", help="comma-separated N values")
    p.add_argument("--side", type=int, default=64)
    p.add_argument("--images", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--untrained", action="store_true", help="skip training (an untrained DCGAN)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--budget", default=None, help="pass --budget to ganlens analyze")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--keep", default=None, help="a folder to keep the data, checkpoint, reports")
    args = p.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="ganlens-bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"shapes{args.side}.npz"
    if not data.exists():
        x, y = synthetic_images(args.images, args.side)
        np.savez(data, x=x, y=y)
    run_dir = work / f"run{args.side}{'-untrained' if args.untrained else ''}"
    ckpt = run_dir / "checkpoint.pt"
    if not ckpt.exists():
        t0 = time.perf_counter()
        ganlens.train(str(data), arch="dcgan", epochs=0 if args.untrained else args.epochs,
                      out_dir=run_dir, device=args.device, progress=False)
        print(f"trained {args.epochs if not args.untrained else 0} epochs in "
              f"{time.perf_counter() - t0:.0f} s")
    gan = ganlens.load(ckpt, device=args.device)
    real = ganlens.load_dataset(str(data), value_range=gan.data.value_range).x
    print(f"workload: DCGAN {gan.data.shape}, {sum(p.numel() for p in gan.generator.parameters()):,} "
          f"G parameters, {args.images} real images, device {args.device}, "
          f"{torch.get_num_threads()} threads")
    for n in [int(s) for s in args.samples.split(",")]:
        bare = min(bare_pass(gan, real, n, args.batch_size) for _ in range(2))
        report, wall, rss = run_report(ckpt, n, work / f"report-{args.side}-{n}", args.device,
                                       args.budget)
        timings = report["metadata"]["timings"]
        total = timings["total_s"]
        print(f"\nN = {n:,} at {args.side}x{args.side}")
        print(f"  bare pass          : {bare:8.1f} s")
        print(f"  whole report       : {total:8.1f} s  (process wall {wall:.1f} s)")
        print(f"  ratio report/bare  : {total / bare:8.2f}")
        print(f"  peak RSS           : {rss:8.2f} GB")
        print(f"  capture            : {timings['capture_s']:8.1f} s")
        for s in sorted(report["sections"], key=lambda s: -s.get("duration_s", 0)):
            d = s.get("duration_s", 0)
            mem = s.get("peak_memory_mb")
            mem_text = f"peak {mem / 1024:5.2f} GB" if mem is not None else ""
            print(f"  {s['name']:<19}: {d:8.1f} s  {100 * d / total:5.1f}%  {mem_text}  "
                  f"{s['status']}")
    print(f"\nfiles in {work}")


if __name__ == "__main__":
    main()
