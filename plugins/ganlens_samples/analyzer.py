"""The Samples analyzer: its metadata, options and ``analyze``; see the package's README."""

from __future__ import annotations

from dataclasses import dataclass

import torch

import ganlens
from ganlens.images import display_images, make_grid
from ganlens.maths import interpolate, nearest, plane_2d
from ganlens.plotting import new_figure, show_image, wrapped_title

from .classes import COLLAPSE_FRACTION, class_grid, class_names, shown_classes

SAMPLE_GRID = "sample_grid"
CLASS_GRID = "class_grid"
CLASS_GRID_CLASSES = "class_grid_classes"
CLASS_DIVERSITY = "class_diversity"
CLASS_DIVERSITY_MIN = "class_diversity_min"
LABEL_EFFECT = "label_effect"
CLOSEST_CLASSES = "closest_classes"
CLOSEST_CLASS_DISTANCE = "closest_class_distance"
D_FAKE_MEAN = "d_fake_mean"
D_REAL_MEAN = "d_real_mean"
D_SCORE_GAP = "d_score_gap"
NEAREST_REAL_RATIO = "nearest_real_ratio"


class Samples(ganlens.Analyzer):
    """What the GAN generates: sample grids, real beside fake, interpolations, D's scores, and
    each sample beside its nearest training images."""

    name = "samples"
    title = "Samples"
    description = "What the generator produces, side by side with the real data."

    @dataclass
    class Options:
        grid: int = ganlens.option(64, ge=1)
        """Samples in the grid (from the first latents of the shared pass)."""
        pairs: int = ganlens.option(4, ge=1)
        """Latent pairs to interpolate between."""
        steps: int = ganlens.option(9, ge=2)
        """Images per interpolation strip, the end points included."""
        neighbours: int = ganlens.option(5, ge=1)
        """Nearest training images shown per sample."""
        queries: int = ganlens.option(6, ge=1)
        """Samples shown beside their nearest training images."""
        classes_shown: int = ganlens.option(20, ge=2)
        """Conditional GANs: at most this many classes (rows) in the per-class grid, evenly
        spaced over the classes when there are more."""
        class_columns: int = ganlens.option(8, ge=2)
        """Conditional GANs: latents (columns) of the per-class grid, the first of the shared
        pass, each shown under every class."""

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        section = self.new_section()
        gan = ctx.gan
        section.metric("samples", ctx.n_samples, "generated samples in the shared pass")
        if gan.data.is_image:
            self._grid(ctx, section)
            self._interpolations(ctx, section)
        else:
            self._scatter(ctx, section)
        if ctx.conditional:
            self._class_grid(ctx, section)
        if ctx.d_fake is not None:
            self._scores(ctx, section)
        if ctx.real is not None:
            self._nearest(ctx, section)
        shape = "x".join(map(str, gan.data.shape))
        section.summary = f"{ctx.n_samples} samples of shape {shape}" + (
            f"; mean D(G(z)) {section.metrics[D_FAKE_MEAN]:.2f} vs D(x) {section.metrics[D_REAL_MEAN]:.2f}"
            if D_REAL_MEAN in section.metrics and D_FAKE_MEAN in section.metrics else ""
        ) + (f"; conditional on {gan.num_classes} classes" if ctx.conditional else "")
        return section

    # -- views ---------------------------------------------------------------------------
    def _grid(self, ctx: ganlens.AnalysisContext, section: ganlens.Section) -> None:
        n = min(self.options.grid, ctx.n_samples)
        vr = ctx.gan.data.value_range
        fakes = display_images(ctx.fakes[:n], vr)
        cols = 2 if ctx.real is not None else 1
        fig, axes = new_figure(5.2 * cols, 5.4, 1, cols)
        axes = [axes] if cols == 1 else list(axes)
        show_image(axes[0], make_grid(fakes, nrow=int(n**0.5) or 1))
        axes[0].set_title(f"Generated ({n} fixed latents)")
        if ctx.real is not None:
            reals = display_images(ctx.real.x[:n], vr)
            show_image(axes[1], make_grid(reals, nrow=int(n**0.5) or 1))
            axes[1].set_title(f"Real ({ctx.real.name}, random {n})")
        cond = (" Each generated sample has its latent's class label (the shared pass's labels; "
                "the per-class grid below shows the classes one by one)." if ctx.conditional else "")
        section.figure(
            fig, SAMPLE_GRID, title="Generated and real samples",
            caption="Left: samples from the first latents of the run's seed (the same seed gives "
                    "the same grid). Right, when real data are given: random real images. Look "
                    "for repeated samples (collapse), artefacts, and whether fakes look like reals."
                    + cond,
        )

    def _interpolations(self, ctx: ganlens.AnalysisContext, section: ganlens.Section) -> None:
        opts = self.options
        pairs, steps = max(1, opts.pairs), max(2, opts.steps)
        ends = ctx.latents_for(2 * pairs, "samples/interpolation")
        t = torch.linspace(0, 1, steps)
        paths = []
        for kind in ("linear", "spherical"):
            strips = interpolate(ends[0::2], ends[1::2], t, kind)  # (pairs, steps, ...)
            paths.extend((kind, p, strips[p]) for p in range(pairs))
        z = torch.cat([path for _, _, path in paths])
        # A conditional GAN: one class per pair, kept along both of its paths (linear and
        # spherical), so a strip shows what the latent does within one class.
        pair_labels = ctx.labels_for(pairs, "samples/interpolation")
        labels = None if pair_labels is None else \
            pair_labels.repeat_interleave(steps).repeat(2)
        names = class_names(ctx, ctx.gan.num_classes) if pair_labels is not None else None
        images = display_images(ctx.generate(z, labels=labels),
                                ctx.gan.data.value_range)  # one batched pass
        fig, axes = new_figure(1.0 * steps + 1.2, 0.95 * len(paths) + 0.6, len(paths), 1)
        axes = [axes] if len(paths) == 1 else list(axes)
        for row, (kind, p, _path) in enumerate(paths):
            strip = images[row * steps : (row + 1) * steps]
            show_image(axes[row], make_grid(strip, nrow=steps))
            name = f"{kind[:3]} {p + 1}"
            if names is not None:
                name += f"\nclass {names[int(pair_labels[p])]}"
            axes[row].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        axes[0].set_title("Interpolations: t = 0 (left) to 1 (right)")
        axes[-1].set_xlabel("interpolation step")
        section.figure(
            fig, "interpolations", title="Latent interpolations (linear and spherical)",
            caption=f"Each row walks from one random latent to another in {steps} steps; the first "
                    f"{pairs} rows are linear ('lin'), the last {pairs} spherical ('sph', along the "
                    "great circle, which keeps the latent norm typical of a Gaussian prior). Smooth "
                    "morphs suggest a well-organised latent space; sudden jumps or garbage in the "
                    "middle suggest holes."
                    + (" The generator is conditional: each pair has one random class, written "
                       "under the row's name and kept along the whole strip, so the strip shows "
                       "what the latent changes within that class." if names is not None else ""),
        )

    def _class_grid(self, ctx: ganlens.AnalysisContext, section: ganlens.Section) -> None:
        """A conditional GAN: the first latents of the shared pass under each class (one
        batched pass), the per-class numbers, and for images the grid itself."""
        opts = self.options
        k = ctx.gan.require_classes()
        classes = shown_classes(k, opts.classes_shown)
        cols = min(opts.class_columns, ctx.n_samples)
        z = ctx.latents[:cols]
        zs = z.repeat(len(classes), *([1] * (z.ndim - 1)))
        ys = torch.tensor(classes, dtype=torch.long).repeat_interleave(cols)
        out = ctx.generate(zs, labels=ys)
        grid = class_grid(out.reshape(len(classes), cols, *out.shape[1:]), classes)
        names = class_names(ctx, k)
        shown = (f"all {k} classes" if len(classes) == k else
                 f"{len(classes)} of the {k} classes, evenly spaced (at most "
                 f"{opts.classes_shown}, option classes_shown)")
        section.metric(CLASS_GRID_CLASSES, classes,
                       f"the classes of the per-class grid, one row each ({shown})")
        section.metric(CLASS_DIVERSITY, [float(v) for v in grid.diversity],
                       f"per class shown: the mean root-mean-square difference per data value "
                       f"between the class's images of {cols} different latents (within-row "
                       "diversity of the per-class grid)",
                       "similar across classes; 0 (or far below the others): the class collapsed "
                       "to one image")
        section.metric(CLASS_DIVERSITY_MIN, float(grid.diversity.min()),
                       "the lowest within-row diversity over the classes shown",
                       f"not far below the median ({grid.reference():.3g})")
        section.metric(LABEL_EFFECT, grid.label_effect,
                       "the mean root-mean-square difference per data value between the images of "
                       "one latent under two different classes (same column, different rows)",
                       "clearly above 0, of the order of the within-row diversity; near 0: the "
                       "generator ignores its class label")
        if len(classes) >= 2:
            a, b, dist = grid.closest_pair()
            section.metric(CLOSEST_CLASSES, [classes[a], classes[b]],
                           "the two classes shown whose rows look most alike (same latents)")
            section.metric(CLOSEST_CLASS_DISTANCE, dist,
                           "their mean root-mean-square difference per data value, column by "
                           "column", f"not far below the label effect ({grid.label_effect:.3g})")
        self._class_findings(section, grid, names)
        rows = []
        for r, c in enumerate(classes):
            other = min((b for b in range(len(classes)) if b != r),
                        key=lambda b: (float(grid.distances[r, b]), b), default=None)
            rows.append([c, names[c], round(float(grid.diversity[r]), 5),
                         None if other is None else classes[other],
                         None if other is None else round(float(grid.distances[r, other]), 5)])
        section.table(
            CLASS_GRID, "Per-class samples: diversity and the closest other class",
            ["class", "name", "within-row diversity", "closest class", "distance to it"], rows,
            caption=f"One row per class shown ({shown}), each generated from the same {cols} "
                    "latents (the first of the shared pass). Within-row diversity: the mean RMS "
                    "difference per data value between the class's images (0: the class "
                    "collapsed). Distance: the mean RMS difference to the closest other class's "
                    "images of the same latents (0: the two classes look alike).",
        )
        if ctx.gan.data.is_image:
            self._class_grid_figure(ctx, section, grid, names, shown)

    @staticmethod
    def _class_findings(section: ganlens.Section, grid, names: list[str]) -> None:
        classes, ref = grid.classes, grid.reference()
        collapsed = grid.collapsed()
        if collapsed and len(collapsed) == len(classes):
            section.finding(
                "warning", f"Every class shown collapsed: within a class the generator draws "
                           f"(nearly) the same image for every latent (median within-row "
                           f"diversity {ref:.3g})",
                metric=CLASS_DIVERSITY_MIN, value=float(grid.diversity.min()))
        elif collapsed:
            which = ", ".join(names[classes[r]] for r in collapsed[:10])
            section.finding(
                "warning", f"{len(collapsed)} of {len(classes)} classes look collapsed (within-row "
                           f"diversity at most {COLLAPSE_FRACTION:g} of the median {ref:.3g}): "
                           f"{which}",
                metric=CLASS_DIVERSITY_MIN, value=float(grid.diversity.min()),
                threshold=COLLAPSE_FRACTION * ref)
        if len(classes) < 2:
            return
        a, b, dist = grid.closest_pair()
        if grid.label_effect <= COLLAPSE_FRACTION * ref or grid.label_effect == 0.0:
            section.finding(
                "warning", f"The class label hardly changes the samples (label effect "
                           f"{grid.label_effect:.3g} against a within-class diversity of "
                           f"{ref:.3g}): the rows of the per-class grid look alike, so "
                           "conditioning failed",
                metric=LABEL_EFFECT, value=grid.label_effect, threshold=COLLAPSE_FRACTION * ref)
        elif dist <= COLLAPSE_FRACTION * ref:
            section.finding(
                "warning", f"Classes {names[classes[a]]} and {names[classes[b]]} look alike: the "
                           f"same latents give nearly the same images under both (distance "
                           f"{dist:.3g}, within-class diversity {ref:.3g}), so conditioning fails "
                           "between them",
                metric=CLOSEST_CLASS_DISTANCE, value=dist, threshold=COLLAPSE_FRACTION * ref)

    @staticmethod
    def _class_grid_figure(ctx: ganlens.AnalysisContext, section: ganlens.Section, grid,
                           names: list[str], shown: str) -> None:
        rows, cols = len(grid.classes), grid.columns
        flat = grid.images.reshape(rows * cols, *grid.images.shape[2:])
        image = make_grid(display_images(flat, ctx.gan.data.value_range), nrow=cols)
        h, w = grid.images.shape[-2:]
        fig, ax = new_figure(min(0.75 * cols + 1.8, 12.0), min(0.75 * rows + 1.2, 16.0))
        show_image(ax, image)
        ax.set_yticks([1 + r * (h + 1) + (h - 1) / 2 for r in range(rows)])
        ax.set_yticklabels([f"class {names[c]}" for c in grid.classes], fontsize=7)
        ax.set_xticks([1 + j * (w + 1) + (w - 1) / 2 for j in range(cols)])
        ax.set_xticklabels([f"z{j + 1}" for j in range(cols)], fontsize=7)
        ax.tick_params(length=0)
        ax.set_xlabel("latent (the same down each column: the first latents of the shared pass)",
                      fontsize=8)
        ax.set_ylabel("class given to the generator", fontsize=8)
        wrapped_title(ax, f"One row per class ({shown}), one latent per column")
        section.figure(
            fig, CLASS_GRID, title="Samples per class (conditional generator)",
            caption=f"Row: a class ({shown}); column: one latent, the same in every row, so a "
                    "column shows one latent under each class. Each row should look like its "
                    "class and vary along the row. A row that looks like another class's row "
                    "means conditioning failed; a row whose images are all the same means that "
                    "class collapsed (see the table and the metrics class_diversity and "
                    "closest_classes).",
        )

    def _scatter(self, ctx: ganlens.AnalysisContext, section: ganlens.Section) -> None:
        fakes = ctx.fakes
        reals = ctx.real.x if ctx.real is not None else None
        project, axis = plane_2d(reals if reals is not None else fakes)
        fig, ax = new_figure(5, 5)
        if reals is not None:
            r = project(reals[: len(fakes)]).numpy()
            ax.scatter(r[:, 0], r[:, 1], s=4, alpha=0.35, c="grey", label="real")
        f = project(fakes).numpy()
        ax.scatter(f[:, 0], f[:, 1], s=4, alpha=0.5, c="tab:blue", label="generated")
        if ctx.real is not None and ctx.real.modes is not None and fakes.shape[1] == 2:
            m = ctx.real.modes.numpy()
            ax.scatter(m[:, 0], m[:, 1], marker="x", c="red", s=40, label="mode centres")
        ax.set_xlabel(axis[0])
        ax.set_ylabel(axis[1])
        ax.set_title("Generated and real samples")
        ax.legend(fontsize=8)
        section.figure(
            fig, "scatter", title="Generated samples over the real data",
            caption="Blue: generated samples; grey: real samples"
                    + (" projected on the real data's first two principal components" if fakes.shape[1] > 2 else "")
                    + ". Blue clouds away from grey ones are samples the data do not support; grey "
                      "regions without blue are parts of the data the generator misses.",
        )

    def _scores(self, ctx: ganlens.AnalysisContext, section: ganlens.Section) -> None:
        gan = ctx.gan
        if gan.d_is_probabilistic:
            fake, real = torch.sigmoid(ctx.d_fake), None
            if ctx.d_real is not None:
                real = torch.sigmoid(ctx.d_real)
            what, axis = "sigmoid(D)", "sigmoid(D) (1 = judged real)"
            bins = torch.linspace(0, 1, 41).numpy()
            good_fake = "near D_real_mean: D cannot tell fakes apart; near 0: D wins easily"
            good_real = "near 0.5 late in training; near 1 with fakes near 0: D wins outright"
            good_gap = "small (< 0.2); large gaps mean D separates fakes easily"
        else:  # an unbounded critic: its raw scores, which only order samples
            fake, real = ctx.d_fake, ctx.d_real
            what, axis = "D's score", "D's score (higher = judged more real; not a probability)"
            both = fake if real is None else torch.cat([fake, real])
            bins = torch.linspace(float(both.min()), float(both.max()) + 1e-6, 41).numpy()
            good_fake = "near D_real_mean: the critic cannot tell fakes apart"
            good_real = "on the critic's own scale; compare with D_fake_mean, not with 0.5"
            good_gap = ("small relative to the spread of the scores; large gaps mean the critic "
                        "separates fakes easily")
        given = (" (D, conditional, was given each sample's class: a generated sample's "
                 "conditioning label)") if gan.d_conditional else ""
        section.metric(D_FAKE_MEAN, fake.mean(), f"mean {what} over the generated samples{given}",
                       good_fake)
        fig, ax = new_figure(6, 3.6)
        ax.hist(fake.numpy(), bins=bins, alpha=0.6, label="generated", color="tab:blue")
        if real is not None:
            section.metric(D_REAL_MEAN, real.mean(), f"mean {what} over real samples"
                           + (" (D, conditional, was given each real sample's own label)"
                              if gan.d_conditional else ""), good_real)
            section.metric(D_SCORE_GAP, real.mean() - fake.mean(),
                           f"mean {what} on reals minus on fakes", good_gap)
            ax.hist(real.numpy(), bins=bins, alpha=0.6, label="real", color="grey")
        ax.set_xlabel(axis)
        ax.set_ylabel("samples")
        ax.set_title("Discriminator scores")
        ax.legend(fontsize=8)
        read = f" ({gan.d_note})" if gan.d_note else ""
        cond = ""
        if gan.d_conditional:
            cond = (" The discriminator is conditional: it was given each sample's class (a "
                    "generated sample's conditioning label, a real sample's own label), so it "
                    "judges whether the sample is a real image of that class.")
            if real is None and ctx.real is not None:
                cond += (" It was not run on the real data: they have no labels to give it.")
        section.figure(
            fig, "d_scores", title="Discriminator scores on real and generated samples",
            caption=f"Histogram of {what} on generated (blue) and real (grey) samples{read}. "
                    "Overlapping histograms mean the discriminator cannot separate them; two "
                    "separated humps mean the discriminator wins and fakes are easy to spot."
                    + cond,
        )

    def _nearest(self, ctx: ganlens.AnalysisContext, section: ganlens.Section) -> None:
        opts = self.options
        real = ctx.real.x
        q = min(opts.queries, ctx.n_samples)
        k = max(1, min(opts.neighbours, len(real) - 1))
        dist, idx = nearest(ctx.fakes[:q], real, k)
        # The typical distance between real samples, as a scale for the fake-to-real distances.
        # (k=2 against all reals: the first neighbour of a real image is itself.)
        ref_n = min(len(real), ctx.n_samples, 500)
        real_d = nearest(real[:ref_n], real, 2)[0][:, 1]
        fake_all, _ = nearest(ctx.fakes[:ref_n], real, 1)
        ratio = float(fake_all.median() / real_d.median().clamp_min(1e-12))
        section.metric(
            NEAREST_REAL_RATIO, ratio,
            "median distance (pixels) from a sample to its nearest real image, divided by the "
            "median distance between real images and their nearest other real image",
            "about 1; far below 1: samples copy training images; far above: unrealistic samples",
        )
        if not ctx.gan.data.is_image:
            return
        vr = ctx.gan.data.value_range
        fig, axes = new_figure(1.1 * (k + 1) + 0.4, 1.15 * q + 0.4, q, k + 1)
        axes = axes.reshape(q, k + 1) if hasattr(axes, "reshape") else [[axes]]
        for r in range(q):
            show_image(axes[r][0], display_images(ctx.fakes[r : r + 1], vr)[0],
                       title="sample" if r == 0 else None)
            for j in range(k):
                show_image(axes[r][j + 1], display_images(real[idx[r, j]][None], vr)[0],
                           title=f"d={dist[r, j]:.2f}")
        section.figure(
            fig, "nearest_real", title="Samples beside their nearest real images",
            caption=f"Each row: a generated sample (left) and its {k} nearest real images in pixel "
                    "space, with their Euclidean distances. Near-identical neighbours (distance "
                    "close to 0) suggest the generator memorised training images.",
        )
