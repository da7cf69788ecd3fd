"""ganlens from Python: train, load, analyze, read the report, and run one analyzer on its own.

    python examples/python_api.py [OUT_DIR]

Runs in well under a minute on a laptop CPU (a few epochs on the bundled digits).
"""

from __future__ import annotations

import sys
from pathlib import Path

import ganlens


def main(out: Path) -> ganlens.Report:
    # 1. Train a small GAN on the bundled 8x8 digits; the checkpoint lands in out/run.
    result = ganlens.train("digits", epochs=3, seed=0, out_dir=out / "run", progress=False)

    # 2. Load it back (any checkpoint works the same way; see ganlens.load's arguments for
    #    state_dicts from elsewhere: arch="module:Callable", output_shape=(1, 28, 28), ...).
    gan = ganlens.load(result.checkpoint)
    print(f"latent {gan.latent.shape}, data {gan.data.shape}, discriminator: {gan.has_discriminator}")

    # 3. Analyze it with two analyzers; options are plain keyword arguments.
    report = ganlens.analyze(
        gan, analyzers=["samples", "training"], real="digits", samples=300, seed=0,
        out_dir=out / "report", formats=["html", "json"], progress=False,
    )
    for section in report.sections:
        print(f"{section.name:<10} {section.status:<8} {section.headline}")
    print("metrics of 'samples':", {k: round(v, 3) for k, v in report["samples"].metrics.items()
                                    if isinstance(v, float)})

    # 4. One analyzer on its own, e.g. inside a training loop: build a context once, then call.
    analyzer_cls = ganlens.available_analyzers()["samples"]
    analyzer = analyzer_cls(grid=16, pairs=2)
    ctx = ganlens.context(gan, real="digits", samples=200, analyzers=[analyzer])
    section = analyzer.analyze(ctx)
    print(f"on its own: {section.headline} ({len(section.figures)} figures)")
    return report


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "ganlens-python-api"))
