"""Benchmark: ganlens_scores (FD + KID + Vendi) beside a straightforward numpy/scipy version.

    python benchmarks/bench_scores.py             # the issue's size: N = 50,000, d = 2048
    python benchmarks/bench_scores.py --quick     # N = 10,000, d = 2048 (about 2 minutes)
    python benchmarks/bench_scores.py --n 20000 --dim 512

Both compute, on the same float32 features (N generated, N real, d dimensions):

- the Fréchet distance FD(fake, real);
- KID(fake, real): 100 subset pairs of 1000 (the same row indices for both);
- the Vendi score of the fakes and of the reals.

The straightforward version is what one writes from the papers' reference code, in float64:
``numpy.cov`` and ``scipy.linalg.sqrtm`` for FD (pytorch-fid's recipe), the kernel matrices of
each subset pair for KID (torch-fidelity's recipe), and ``vendi_score.vendi.score_dual``
(the vendi-score package, on float64 features) for Vendi. Each runs in its own child process, so
its peak memory is its own; peak memory is the child's peak resident set size
(``resource.getrusage``), "inputs" the resident size once the features exist and "working"
= peak − inputs, what the metrics themselves needed.

It prints every number from both (they must agree: FD and Vendi to 1e-6 relative, KID to 1e-5
relative or 1e-9 absolute — ganlens's KID takes its inner products in float32), the time of each
metric, the time ratio and the peak and working memory ratios (the goal: at least 3x faster, at
most a third of the memory).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KID_SUBSETS, KID_SIZE = 100, 1000


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return _peak_mb()


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _features(n: int, dim: int, seed: int, shift: float):
    """Correlated, non-negative (ReLU-like) float32 features made in chunks."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    mix = torch.eye(dim) + 0.05 * torch.randn((dim, dim), generator=torch.Generator().manual_seed(7))
    out = torch.empty((n, dim), dtype=torch.float32)
    for start in range(0, n, 4096):
        stop = min(n, start + 4096)
        out[start:stop] = (torch.randn((stop - start, dim), generator=gen) @ mix + shift).relu()
    return out


def _subsets(n: int):
    import torch

    gen = torch.Generator().manual_seed(0)
    m = min(KID_SIZE, n)
    return [(torch.randperm(n, generator=gen)[:m].numpy(), torch.randperm(n, generator=gen)[:m].numpy())
            for _ in range(KID_SUBSETS)]


# ---------------------------------------------------------------------------------------------
# The straightforward version
# ---------------------------------------------------------------------------------------------


def reference(fake, real, pairs) -> tuple[dict, dict]:
    import numpy as np
    import scipy.linalg
    from vendi_score import vendi

    times, out = {}, {}
    t0 = time.perf_counter()
    mu1, mu2 = fake.mean(0, dtype=np.float64), real.mean(0, dtype=np.float64)
    s1, s2 = np.cov(fake, rowvar=False), np.cov(real, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    out["fd"] = float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    del s1, s2, covmean
    times["fd"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    d = fake.shape[1]
    values = []
    for ix, iy in pairs:
        x, y = fake[ix].astype(np.float64), real[iy].astype(np.float64)
        m = x.shape[0]
        k_xx = (x @ x.T / d + 1) ** 3
        k_yy = (y @ y.T / d + 1) ** 3
        k_xy = (x @ y.T / d + 1) ** 3
        values.append((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
                      + (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1)) - 2 * k_xy.mean())
    out["kid"], out["kid_std"] = float(np.mean(values)), float(np.std(values))
    times["kid"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    out["vendi_fake"] = float(vendi.score_dual(fake.astype(np.float64)))
    out["vendi_real"] = float(vendi.score_dual(real.astype(np.float64)))
    times["vendi"] = time.perf_counter() - t0
    return out, times


def ours(fake, real, pairs) -> tuple[dict, dict]:
    import torch
    from ganlens_scores import metrics

    times, out = {}, {}
    t0 = time.perf_counter()
    out["fd"] = metrics.frechet_distance(fake, real)
    times["fd"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = metrics.kid(fake, real, pairs=[(torch.from_numpy(a), torch.from_numpy(b))
                                          for a, b in pairs])
    out["kid"], out["kid_std"] = res.mean, res.std
    times["kid"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    out["vendi_fake"] = metrics.vendi_score(fake)
    out["vendi_real"] = metrics.vendi_score(real)
    times["vendi"] = time.perf_counter() - t0
    return out, times


def child(spec: dict) -> dict:
    import torch

    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    sys.path.insert(0, str(ROOT / "plugins"))
    rss_start = _rss_mb()
    fake = _features(spec["n"], spec["dim"], 1, 0.05)
    real = _features(spec["n"], spec["dim"], 2, 0.0)
    pairs = _subsets(spec["n"])
    if spec["impl"] == "reference":
        fake, real = fake.numpy(), real.numpy()
    rss_inputs = _rss_mb()
    t0 = time.perf_counter()
    result, times = (reference if spec["impl"] == "reference" else ours)(fake, real, pairs)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "times": times, "peak_mb": _peak_mb(), "rss_start_mb": rss_start,
            "rss_inputs_mb": rss_inputs, "result": result, "threads": torch.get_num_threads()}


def run_child(spec: dict, timeout: float | None) -> dict:
    cmd = [sys.executable, __file__, "--child", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "plugins")})
    if proc.returncode != 0:
        raise RuntimeError(f"case {spec} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def describe(name: str, r: dict) -> str:
    t = r["times"]
    return (f"{name:<10} {r['seconds']:8.1f} s (FD {t['fd']:6.1f}, KID {t['kid']:6.1f}, Vendi "
            f"{t['vendi']:6.1f})   peak {r['peak_mb']:7.0f} MB   inputs {r['rss_inputs_mb']:6.0f} MB"
            f"   working {r['peak_mb'] - r['rss_inputs_mb']:6.0f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="N = 10,000 instead of 50,000")
    ap.add_argument("--n", type=int, default=None, help="samples per set")
    ap.add_argument("--dim", type=int, default=2048, help="feature dimension")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per child")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each side this many times, alternating, and keep each side's "
                         "fastest run (for a machine that other work shares)")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    n = args.n or (10_000 if args.quick else 50_000)
    print(f"FD + KID ({KID_SUBSETS} subsets of {min(KID_SIZE, n)}) + Vendi (fake and real), "
          f"N = {n:,} per set, d = {args.dim}; python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; each in its own process")
    spec = {"n": n, "dim": args.dim, "threads": args.threads}
    refs, mines = [], []
    for _ in range(max(1, args.repeat)):
        refs.append(run_child({**spec, "impl": "reference"}, args.timeout))
        mines.append(run_child({**spec, "impl": "ganlens"}, args.timeout))
    if args.repeat > 1:
        times = [", ".join(f"{r['seconds']:.1f}" for r in runs) for runs in (refs, mines)]
        print(f"  {args.repeat} runs each; total seconds: reference {times[0]}; ganlens "
              f"{times[1]} (the fastest of each is shown)")
    ref = min(refs, key=lambda r: r["seconds"])
    mine = min(mines, key=lambda r: r["seconds"])
    print(describe("reference", ref))
    print(describe("ganlens", mine))
    ok = True
    print(f"  {'number':<11} {'reference':>22} {'ganlens':>22} {'relative difference':>20}")
    for key in ("fd", "kid", "kid_std", "vendi_fake", "vendi_real"):
        a, b = ref["result"][key], mine["result"][key]
        rel = abs(a - b) / max(abs(a), 1e-300)
        tol_ok = rel <= 1e-6 if key in ("fd", "vendi_fake", "vendi_real") else (
            rel <= 1e-5 or abs(a - b) <= 1e-9)
        ok &= tol_ok
        print(f"  {key:<11} {a:22.12g} {b:22.12g} {rel:20.2e}{'' if tol_ok else '  <- differs'}")
    speed = ref["seconds"] / mine["seconds"]
    peak = ref["peak_mb"] / mine["peak_mb"]
    work = (ref["peak_mb"] - ref["rss_inputs_mb"]) / max(1.0, mine["peak_mb"] - mine["rss_inputs_mb"])
    print(f"  numbers equal: {'yes' if ok else 'NO'} (FD, Vendi to 1e-6 relative; KID to 1e-5 "
          "relative or 1e-9 absolute)")
    print(f"  time: {speed:.2f}x faster (goal >= 3x); per metric: FD "
          f"{ref['times']['fd'] / mine['times']['fd']:.1f}x, KID "
          f"{ref['times']['kid'] / mine['times']['kid']:.1f}x, Vendi "
          f"{ref['times']['vendi'] / mine['times']['vendi']:.1f}x")
    print(f"  peak memory: {1 / peak:.2f} of the reference's ({peak:.1f}x less; goal <= 1/3); "
          f"working memory: {1 / work:.3f} of it ({work:.0f}x less)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
