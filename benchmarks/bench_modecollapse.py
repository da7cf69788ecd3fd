"""Benchmark: ganlens_modecollapse.metrics.compute_prdc beside the reference ``prdc`` package.

    python benchmarks/bench_modecollapse.py            # the issue's sizes (see below)
    python benchmarks/bench_modecollapse.py --quick    # a 1-minute smoke run at small sizes

Cases (each in its own child process, so peak memory is that case's alone):

1. N = 10,000 real and 10,000 fake features of dim 64, k = 5: prdc and ganlens on the same
   arrays. Prints both times and peak memories, their ratios, and the largest difference between
   the four numbers (the goal: ≥ 3× faster, identical numbers).
2. N = 50,000, dim 64: ganlens alone (prdc would need three 50,000² matrices, ~30 GB).
3. N = 50,000, dim 2048: ganlens alone. On a small CPU this takes hours, so by default it runs as
   a *memory probe*: every pass runs on the full arrays but stops after ``--probe-bands`` row
   bands. Memory is steady from the first band (the same block buffers are reused), so the probe's
   peak is the full run's peak; its time is extrapolated from the share of distances computed.
   ``--full`` runs it to the end.

Peak memory is the child's peak resident set size (``resource.getrusage``), which sees torch's
allocations (tracemalloc does not). "inputs" is the resident size right after the features were
created; "working" = peak − inputs is what the metric itself needs. Features are float32 except
where ``--half`` stores the dim-2048 inputs as float16 (computed in float64 block by block all
the same).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    """Current resident set size (Linux /proc), else the peak so far."""
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


def _features(n: int, dim: int, seed: int, half: bool, shift: float):
    """Gaussian features made in chunks, so no float64 or float32 temporary of full size."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = torch.empty((n, dim), dtype=torch.float16 if half else torch.float32)
    for start in range(0, n, 4096):
        stop = min(n, start + 4096)
        out[start:stop] = torch.randn((stop - start, dim), generator=gen) + shift
    return out


def child(spec: dict) -> dict:
    """Run one case in this (fresh) process and return its measurements."""
    import torch

    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    sys.path.insert(0, str(ROOT / "plugins"))
    from ganlens_modecollapse import metrics, neighbours

    rss_start = _rss_mb()
    real = _features(spec["n"], spec["dim"], 1, spec.get("half", False), 0.0)
    fake = _features(spec["n"], spec["dim"], 2, spec.get("half", False), 0.1)
    rss_inputs = _rss_mb()
    probe = spec.get("probe_bands")
    work = {"done": 0, "total": 0}
    if probe:
        # Stop every pass after `probe` row bands; count the distances done and due, so that the
        # full run's time can be extrapolated from the share of distances computed.
        def limit(method, upper):
            def limited(self):
                n = self.n_a
                work["total"] += n * (n + 1) // 2 if upper else n * self.n_b
                first = None
                for item in method(self):
                    r0, r1, c0, c1, _ = item
                    first = r0 if first is None else first
                    if r0 != first and (r0 - first) // (r1 - r0) >= probe:
                        return
                    work["done"] += (r1 - r0) * (c1 - c0)
                    yield item
            return limited

        neighbours.Scanner.__iter__ = limit(neighbours.Scanner.__iter__, False)
        neighbours.Scanner.upper_tiles = limit(neighbours.Scanner.upper_tiles, True)
    t0 = time.perf_counter()
    if spec["impl"] == "prdc":
        from prdc import compute_prdc

        with contextlib.redirect_stdout(io.StringIO()):
            result = compute_prdc(real.numpy(), fake.numpy(), spec["k"])
    else:
        result = metrics.compute_prdc(real, fake, nearest_k=spec["k"])
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "peak_mb": _peak_mb(), "rss_start_mb": rss_start,
           "rss_inputs_mb": rss_inputs, "result": {k: float(v) for k, v in result.items()},
           "threads": torch.get_num_threads()}
    if probe:
        out["share_done"] = work["done"] / max(1, work["total"])
        out["seconds_extrapolated"] = seconds / max(1e-12, out["share_done"])
    return out


def run_child(spec: dict, timeout: float | None) -> dict:
    cmd = [sys.executable, __file__, "--child", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "plugins")})
    if proc.returncode != 0:
        raise RuntimeError(f"case {spec} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def describe(name: str, r: dict) -> str:
    working = r["peak_mb"] - r["rss_inputs_mb"]
    extra = ""
    if "share_done" in r:
        extra = (f"  [probe: {r['share_done']:.1%} of the distances; full run ≈ "
                 f"{r['seconds_extrapolated']:.0f} s]")
    return (f"{name:<34} {r['seconds']:8.2f} s   peak {r['peak_mb']:7.0f} MB   inputs "
            f"{r['rss_inputs_mb']:6.0f} MB   working {working:6.0f} MB{extra}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--full", action="store_true", help="run the dim-2048 case to the end")
    ap.add_argument("--half", action="store_true", help="store the dim-2048 inputs as float16")
    ap.add_argument("--probe-bands", type=int, default=2, help="row bands per pass in the probe")
    ap.add_argument("--threads", type=int, default=0, help="torch threads for ganlens (0: default)")
    ap.add_argument("--cases", default="compare,large64,large2048",
                    help="comma-separated cases to run: compare (beside prdc), large64, large2048")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per case")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0

    n_cmp, n_big = (2000, 10000) if args.quick else (10000, 50000)
    k = 5
    cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    print(f"compute_prdc, k = {k}; each case in its own process; python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    ok = True
    if "compare" in cases:
        ours = run_child({"impl": "ganlens", "n": n_cmp, "dim": 64, "k": k,
                          "threads": args.threads}, args.timeout)
        ref = run_child({"impl": "prdc", "n": n_cmp, "dim": 64, "k": k}, args.timeout)
        print(describe(f"prdc     N={n_cmp:,} dim=64", ref))
        print(describe(f"ganlens  N={n_cmp:,} dim=64", ours))
        diff = max(abs(ours["result"][key] - ref["result"][key]) for key in ref["result"])
        ok = diff <= 1e-6
        work_ref = ref["peak_mb"] - ref["rss_inputs_mb"]
        work_ours = max(1.0, ours["peak_mb"] - ours["rss_inputs_mb"])
        print(f"  numbers: {json.dumps({key: round(v, 6) for key, v in ours['result'].items()})}")
        print(f"  largest difference from prdc: {diff:.2e} (goal: identical, ≤ 1e-6)")
        print(f"  speed-up: {ref['seconds'] / ours['seconds']:.1f}x (goal ≥ 3x); peak memory: "
              f"{ref['peak_mb'] / ours['peak_mb']:.1f}x less; working memory: "
              f"{work_ref / work_ours:.0f}x less")
    for case, dim in (("large64", 64), ("large2048", 2048)):
        if case not in cases:
            continue
        spec = {"impl": "ganlens", "n": n_big, "dim": dim, "k": k, "threads": args.threads,
                "half": args.half and dim == 2048}
        if dim == 2048 and not args.full:
            spec["probe_bands"] = args.probe_bands
        r = run_child(spec, args.timeout)
        print(describe(f"ganlens  N={n_big:,} dim={dim}{' fp16' if spec['half'] else ''}", r))
        print(f"  N={n_big:,} dim {dim}: peak {r['peak_mb'] / 1024:.2f} GB, working "
              f"{(r['peak_mb'] - r['rss_inputs_mb']) / 1024:.2f} GB (goal: under 1 GB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
