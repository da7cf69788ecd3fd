"""The command line: ``ganlens train | analyze | demo | plugins``.

Exit codes: 0 done; 1 a finding at or above ``--fail-on``; 2 a usage or input error (one clear
line on stderr, no traceback unless ``--debug``); 3 the report was written but an analyzer failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from ._version import __version__
from .api import make_host
from .engine.host import PluginHost
from .errors import GanlensError, InputError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 2
        self.print_usage(sys.stderr)
        print(f"ganlens: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 1,28,28, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers like 1,28,28, got {text!r}")
    return values


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH like -1,1, got {text!r}") from None
    if not lo < hi:
        raise argparse.ArgumentTypeError(f"expected LOW < HIGH, got {text!r}")
    return lo, hi


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("general")
    g.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    g.add_argument("--disable", action="append", default=[], metavar="PLUGIN",
                   help="block a plugin by name (repeatable; also GANLENS_DISABLE_PLUGINS=a,b)")
    g.add_argument("--no-progress", action="store_true", help="hide progress bars")
    g.add_argument("--threads", type=_positive, metavar="N",
                   help="CPU threads for torch (default: torch's choice; 1 is fastest on a busy "
                        "machine)")


def _load_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("loading weights that ganlens did not write")
    g.add_argument("--arch", metavar="MODULE:CALLABLE",
                   help="the generator's architecture for a plain state_dict (MODULE: importable "
                        "name or path to a .py file; CALLABLE returns the nn.Module)")
    g.add_argument("--latent-dim", type=_positive, help="latent size, for (B, d) latents")
    g.add_argument("--latent-shape", type=_ints, metavar="D,1,1", help="latent shape, e.g. 64,1,1")
    g.add_argument("--latent-distribution", choices=("normal", "uniform"), default="normal")
    g.add_argument("--output-shape", type=_ints, metavar="C,H,W",
                   help="data shape for flat generator outputs, e.g. 1,28,28")
    g.add_argument("--output-range", type=_range, metavar="LOW,HIGH",
                   help="the generator's value range, e.g. -1,1 (0,255 for 8-bit pixels)")
    g.add_argument("--output-index", type=int, metavar="I",
                   help="for a generator returning a tuple: which output is the data (default 0)")
    g.add_argument("--output-key", metavar="KEY",
                   help="for a generator returning a dict: the key of the data")
    g.add_argument("--output-layout", choices=("auto", "nchw", "nhwc"), default="auto",
                   help="image layout of the generator's output (auto: channels last when the "
                        "last dimension is 1, 3 or 4 and the first is not)")
    g.add_argument("--discriminator", metavar="PATH", help="a discriminator state_dict or .pt2")
    g.add_argument("--discriminator-arch", metavar="MODULE:CALLABLE",
                   help="the discriminator's architecture")
    g.add_argument("--d-output", choices=("auto", "logit", "probability", "score", "two-class"),
                   default="auto",
                   help="how to read the discriminator: auto (default: from its last module and "
                        "output width; the report says what was inferred), logit, probability, "
                        "score (an unbounded critic: WGAN, least-squares, hinge), two-class")
    g.add_argument("--d-train-mode", action="store_true",
                   help="run the discriminator in train mode (dropout on, batch-norm batch "
                        "statistics); default: eval mode")
    g.add_argument("--d-real-index", type=int, choices=(0, 1),
                   help="for a two-class discriminator, the output column meaning real (default 1)")
    g.add_argument("--num-classes", type=_positive,
                   help="classes of the training data (a conditional GAN: default from G's "
                        "nn.Embedding, else the real data's labels)")
    g.add_argument("--conditional", action="store_true", default=None,
                   help="the generator takes (z, y) (default: when its forward takes two "
                        "required arguments)")
    g.add_argument("--mapping", metavar="MODULE",
                   help="the generator's mapping network z -> w (a dotted submodule name; "
                        "default: a submodule named mapping beside one named synthesis)")
    g.add_argument("--label-format", choices=("auto", "index", "onehot"), default="auto",
                   help="how a conditional GAN takes labels (auto: found by probing)")
    g.add_argument("--sha256", metavar="HEX",
                   help="refuse the checkpoint unless its sha256 is HEX (as its publisher gives it)")
    g.add_argument("--trust-pickle", action="store_true",
                   help="allow unpickling a whole module (runs code from the file)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganlens", description="Explain trained GANs.")
    parser.add_argument("--version", action="version", version=f"ganlens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a GAN on a dataset and write a checkpoint")
    t.add_argument("dataset", help="digits, ring8, grid25, a registered name, or a path")
    t.add_argument("--arch", default="auto", help="auto (default), dcgan, mlp or a registered name")
    t.add_argument("--epochs", type=int, default=20, help="epochs to run (on top of --resume's)")
    t.add_argument("--batch-size", type=_positive, default=64)
    t.add_argument("--lr", type=float, default=2e-4)
    t.add_argument("--latent-dim", type=_positive)
    t.add_argument("--width", type=_positive, help="architecture width")
    t.add_argument("--loss", choices=("ns", "hinge"), default="ns")
    t.add_argument("--image-size", type=_positive, help="resize square images to this side")
    t.add_argument("--conditional", action="store_true",
                   help="train a class-conditional GAN on the data's labels: G(z, y) with a class "
                        "embedding, a projection discriminator D(x, y)")
    t.add_argument("--holdout", type=float, default=0.1, metavar="FRACTION",
                   help="share of the data held out of training and recorded in the checkpoint, "
                        "so analyses score D on reals it never saw (default 0.1; 0: none)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    t.add_argument("--out", default="ganlens-run", help="output folder (default: ganlens-run)")
    t.add_argument("--resume", nargs="?", const=True, default=None, metavar="CHECKPOINT",
                   help="continue from CHECKPOINT (default: OUT/checkpoint.pt)")
    _common(t)

    a = sub.add_parser("analyze", help="analyze a checkpoint and write a report")
    a.add_argument("checkpoint", help="a ganlens checkpoint, a state_dict (with --arch) or a .pt2")
    a.add_argument("--analyzers", help="comma-separated analyzer names (default: all)")
    a.add_argument("--skip", help="comma-separated analyzer names to leave out")
    a.add_argument("--real", help="real data: a dataset name or path (default: the checkpoint's)")
    a.add_argument("--real-resize", choices=("resize", "crop"),
                   help="convert real images of another size or channel count (grey, RGB, RGBA, "
                        "mixed) to the generator's shape: resize (antialiased) or crop (centre)")
    a.add_argument("--real-samples", type=_positive, metavar="N",
                   help="the most real samples used (default max(10000, 2N)); a larger image "
                        "folder, IDX, .npy or .npz source is sampled when read, not loaded whole")
    a.add_argument("--held-out", metavar="DATASET|PATH",
                   help="real data the GAN never trained on (a test split): D is scored on "
                        "them and the data-copying tests use them (default: the held-out split "
                        "the checkpoint records, when --real is its training data)")
    a.add_argument("--truncation", type=float, metavar="PSI",
                   help="truncation trick for a generator with a mapping network: every w becomes "
                        "w_mean + PSI (w - w_mean), 0 < PSI <= 1 (default 1: none)")
    a.add_argument("--label-distribution", choices=("uniform", "real"), default="uniform",
                   help="a conditional GAN's labels: uniform over the classes (default) or with "
                        "the real data's class frequencies")
    a.add_argument("--samples", type=_positive, default=1000, help="generated samples N (1000)")
    a.add_argument("--budget", choices=("fast", "default", "thorough"), default="default",
                   help="scale the expensive analyses together: fast (a quick look), default, "
                        "thorough (larger samples and more steps); --option values win")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--device", default=None, help="auto, cpu or cuda (default: auto)")
    a.add_argument("--out", default="ganlens-report", help="report folder (default: ganlens-report)")
    a.add_argument("--format", default="html,json", help="report formats: html,json,md")
    a.add_argument("--option", action="append", default=[], metavar="NAME.KEY=VALUE",
                   help="an analyzer option (repeatable), e.g. mode_collapse.k=5")
    a.add_argument("--fail-on", choices=("warning", "alert"),
                   help="exit 1 when a finding is at or above this level")
    a.add_argument("--batch-size", type=_positive)
    _load_flags(a)
    _common(a)

    d = sub.add_parser("demo", help="train a small GAN on the bundled digits and analyze it")
    d.add_argument("--out", default="ganlens-demo", help="output folder (default: ganlens-demo)")
    d.add_argument("--epochs", type=_positive, default=None, help="training epochs (default 40)")
    d.add_argument("--samples", type=_positive, default=1000)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--device", default="auto")
    _common(d)

    pl = sub.add_parser("plugins", help="list analyzers, loaders, datasets, feature spaces, writers")
    pl.add_argument("--json", action="store_true", help="print JSON")
    _common(pl)
    return parser


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace, host: PluginHost) -> int:
    from .engine.train import train

    result = train(
        args.dataset, arch=args.arch, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        latent_dim=args.latent_dim, width=args.width, loss=args.loss, seed=args.seed,
        device=args.device, out_dir=args.out, resume=args.resume, image_size=args.image_size,
        holdout=args.holdout, conditional=args.conditional, progress=not args.no_progress,
        host=host,
    )
    hist = result.history["epochs"]
    if hist["epoch"]:
        print(f"trained {hist['epoch'][-1]} epochs: D loss {hist['d_loss'][-1]:.3f}, "
              f"G loss {hist['g_loss'][-1]:.3f}, D(x) {hist['d_real'][-1]:.2f}, "
              f"D(G(z)) {hist['d_fake'][-1]:.2f}")
    print(f"checkpoint: {result.checkpoint}")
    if result.out_dir is not None:
        print(f"samples per epoch: {result.out_dir / 'samples'}; curves: {result.out_dir / 'losses.png'}")
    return 0


def _load_options(args: argparse.Namespace):
    from .core.checkpoint import LoadOptions

    return LoadOptions(
        arch=args.arch, latent_dim=args.latent_dim, latent_shape=args.latent_shape,
        latent_distribution=args.latent_distribution, output_shape=args.output_shape,
        output_range=args.output_range, discriminator=args.discriminator,
        discriminator_arch=args.discriminator_arch, d_output=args.d_output,
        d_real_index=args.d_real_index, d_train_mode=args.d_train_mode,
        trust_pickle=args.trust_pickle, device=args.device, num_classes=args.num_classes,
        expected_sha256=args.sha256, output_index=args.output_index,
        output_key=args.output_key, output_layout=args.output_layout,
        conditional=args.conditional, label_format=args.label_format, mapping=args.mapping,
    )


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [n.strip() for n in text.split(",") if n.strip()]


def cmd_analyze(args: argparse.Namespace, host: PluginHost) -> int:
    from .core.analyzer import parse_option_strings
    from .engine.runner import analyze

    formats = _names(args.format) or ["html", "json"]
    report = analyze(
        args.checkpoint, analyzers=_names(args.analyzers), skip=_names(args.skip), real=args.real,
        samples=args.samples, seed=args.seed, device=args.device,
        options=parse_option_strings(args.option), out_dir=args.out, formats=formats,
        batch_size=args.batch_size, load_options=_load_options(args),
        progress=not args.no_progress, real_resize=args.real_resize,
        real_samples=args.real_samples, held_out=args.held_out,
        label_distribution=args.label_distribution, truncation=args.truncation, budget=args.budget,
        host=host,
    )
    print_summary(report, Path(args.out), formats)
    return report.exit_code(args.fail_on)


def cmd_demo(args: argparse.Namespace, host: PluginHost) -> int:
    from .engine.runner import analyze
    from .engine.train import train

    out = Path(args.out)
    epochs = args.epochs or 40
    print(f"ganlens demo: training a DCGAN on the bundled 8x8 digits ({epochs} epochs)...")
    result = train("digits", epochs=epochs, seed=args.seed, device=args.device,
                   out_dir=out / "run", progress=not args.no_progress, host=host)
    print(f"checkpoint: {result.checkpoint}")
    print("analyzing it with every installed analyzer...")
    report = analyze(result.checkpoint, real="digits", samples=args.samples, seed=args.seed,
                     device=args.device, out_dir=out / "report", progress=not args.no_progress,
                     host=host)
    print_summary(report, out / "report", ["html", "json"])
    return report.exit_code(None)


def cmd_plugins(args: argparse.Namespace, host: PluginHost) -> int:
    data = host.to_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for title, key in (("Analyzers", "analyzers"), ("Checkpoint loaders", "loaders"),
                       ("Architectures", "architectures"), ("Datasets", "datasets"),
                       ("Dataset file formats", "dataset_formats"),
                       ("Feature spaces", "feature_spaces"),
                       ("Attribution targets", "attribution_targets"),
                       ("Report writers", "writers")):
        print(f"{title}:")
        for row in data[key]:
            print(f"  {row['name']:<16} {row['distribution']} {row['version']:<8} {row['description'][:70]}")
    bad = [r for r in data["plugins"] if r["status"] != "loaded"]
    if bad:
        print("Plugins not loaded:")
        for r in bad:
            print(f"  {r['name']:<16} {r['distribution']} {r['version']}: {r['status']}"
                  f"{': ' + r['error'] if r['error'] else ''}")
    return 0


def print_summary(report: Any, out: Path, formats: list[str]) -> None:
    """One line per section: status, headline, worst finding; then the report's path."""
    rows = []
    for s in report.sections:
        worst = s.worst_finding
        rows.append((s.name, s.status, s.headline, f"{worst.level}: {worst.message}" if worst else ""))
    w = max((len(r[0]) for r in rows), default=8)
    print()
    print(f"{'section':<{w}}  {'status':<7}  headline / worst finding")
    for name, status, headline, worst in rows:
        print(f"{name:<{w}}  {status:<7}  {_clip(headline, 90)}")
        if worst:
            print(f"{'':<{w}}  {'':<7}  {_clip(worst, 90)}")
    main_file = "report.html" if "html" in formats else f"report.{formats[0]}"
    print(f"\nreport: {out / main_file}")


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


COMMANDS = {"train": cmd_train, "analyze": cmd_analyze, "demo": cmd_demo, "plugins": cmd_plugins}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        # The edge: flags and environment become the host's settings, passed down from here.
        host = make_host(disable=args.disable, progress=False if args.no_progress else None,
                         debug=True if args.debug else None)
        code = COMMANDS[args.command](args, host)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except (GanlensError, InputError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"ganlens: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ganlens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ganlens plugins --json | head`): stop quietly, as cat does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
