"""The figures: every score beside its real baseline in every feature space, the data-copying
test's per-cell z-scores, and (with ``fd_infinity``) the FD-against-1/N fit. matplotlib is
imported inside the ganlens.plotting helpers, never at import."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ganlens.plotting import new_figure

from .compute import SpaceScores

if TYPE_CHECKING:
    import ganlens

FAKE, REAL, COPY, OFF = "tab:blue", "tab:grey", "tab:red", "#d0d4db"


def add_figures(section: ganlens.Section, scores: list[SpaceScores], threshold: float) -> None:
    done = [sc for sc in scores if sc.computed]
    if done:
        _by_space(section, done)
    tested = [sc for sc in done if sc.copying is not None]
    if tested:
        _copying_cells(section, tested, threshold)
    fitted = [sc for sc in done if sc.fd_inf is not None]
    if fitted:
        _fd_infinity(section, fitted)


def _bars(ax, values: list[float | None], errors: list[tuple[float, float] | None],
          labels: list[str], colours: list[str]) -> None:
    x = np.arange(len(values))
    heights = np.array([np.nan if v is None else v for v in values], dtype=float)
    lo = np.array([0.0 if e is None else max(0.0, h - e[0]) for h, e in zip(heights, errors)])
    hi = np.array([0.0 if e is None else max(0.0, e[1] - h) for h, e in zip(heights, errors)])
    yerr = None if all(e is None for e in errors) else np.vstack([lo, hi])
    ax.bar(x, np.nan_to_num(heights), 0.6, color=colours, yerr=yerr, capsize=4,
           error_kw={"lw": 1})
    ax.set_xticks(x, labels, fontsize=8)
    for xi, h in zip(x, heights):
        if np.isfinite(h):
            ax.annotate(f"{h:.3g}", (xi, h), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7)


def _by_space(section: ganlens.Section, scores: list[SpaceScores]) -> None:
    cols = len(scores)
    fig, axes = new_figure(max(4.0, 2.6 * cols), 7.2, nrows=3, ncols=cols, squeeze=False)
    for j, sc in enumerate(scores):
        ax = axes[0][j]
        _bars(ax, [sc.fd, sc.fd_baseline], [sc.fd_ci, sc.fd_baseline_ci],
              ["generated", "real"], [FAKE, REAL])
        ax.set_title(f"{sc.space} (d = {sc.dim})", fontsize=9)
        ax = axes[1][j]
        if sc.kid is not None:
            kid, base = sc.kid, sc.kid_baseline
            _bars(ax, [kid.mean, base.mean],
                  [(kid.mean - kid.std, kid.mean + kid.std),
                   (base.mean - base.std, base.mean + base.std)], ["generated", "real"],
                  [FAKE, REAL])
            ax.axhline(0.0, color="black", lw=0.6)
        else:
            ax.text(0.5, 0.5, "not computed", ha="center", va="center", transform=ax.transAxes)
        ax = axes[2][j]
        _bars(ax, [sc.vendi_fake, sc.vendi_real], [None, None], ["generated", "real"],
              [FAKE, REAL])
    for i, label in enumerate(["Fréchet distance", "KID (MMD²)", "Vendi score"]):
        axes[i][0].set_ylabel(label)
    for j in range(cols):
        axes[2][j].set_xlabel("samples")
    fig.suptitle("Scores per feature space, generated beside real", fontsize=10)
    section.figure(
        fig, "scores_by_space", title="Scores per feature space, generated beside real",
        caption=("One column per feature space. Top: Fréchet distance of the generated samples "
                 "(blue) and of held-out real samples of the same size (grey) to the same real "
                 "reference, with bootstrap intervals. Middle: KID, mean ± std over the subsets. "
                 "Bottom: Vendi score (effective number of distinct samples) of the generated "
                 "and of real samples. A perfect generator's blue bars match the grey ones; "
                 "blue FD and KID far above grey mean the distributions differ in that space, "
                 "a blue Vendi bar far below grey means too little diversity. Compare bars "
                 "within a column only: the scales of the spaces differ."),
    )


def _copying_cells(section: ganlens.Section, scores: list[SpaceScores], threshold: float) -> None:
    rows = len(scores)
    fig, axes = new_figure(8.0, 2.6 * rows + 0.6, nrows=rows, ncols=1, squeeze=False)
    for i, sc in enumerate(scores):
        cp = sc.copying
        ax = axes[i][0]
        order = np.argsort(np.nan_to_num(cp.z, nan=np.inf))
        z = cp.z[order]
        inc = cp.included[order]
        colours = [OFF if not ok else (COPY if v < threshold else FAKE) for v, ok in zip(z, inc)]
        x = np.arange(cp.cells)
        ax.bar(x, np.nan_to_num(z), 0.8, color=colours)
        empty = ~np.isfinite(z)
        if empty.any():
            ax.plot(x[empty], np.zeros(int(empty.sum())), "x", color="tab:grey", ms=5,
                    label="no generated sample")
        ax.axhline(0.0, color="black", lw=0.6)
        ax.axhline(threshold, color=COPY, lw=0.8, ls="--", label=f"Z = {threshold:g}")
        ax.set_xticks(x, [str(c) for c in order], fontsize=6 if cp.cells > 30 else 8)
        ax.set_ylabel("Z_U of the cell")
        stat = "n/a" if not np.isfinite(cp.statistic) else f"{cp.statistic:.2f}"
        ax.set_title(f"{sc.space}: C_T = {stat} over {int(cp.included.sum())} of {cp.cells} cells",
                     fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    axes[-1][0].set_xlabel("k-means cell of the training data (sorted by Z_U)")
    section.figure(
        fig, "ct_cells", title="Data-copying test: z-score per cell",
        caption=("For each k-means cell of the training data, the Mann-Whitney z-score Z_U of "
                 "the generated samples' distances to their nearest training sample against the "
                 "held-out samples' distances (Meehan et al. 2020). Below 0: generated samples "
                 "sit closer to the training data than new data do; red bars, below the dashed "
                 "line, are cells that copy. Light grey bars are cells with too few generated or "
                 "held-out samples and grey crosses cells with no generated sample at all, both "
                 "left out of C_T (the held-out-weighted mean of the others). "
                 "A healthy generator's bars scatter around 0, mostly within ±3."),
    )


def _fd_infinity(section: ganlens.Section, scores: list[SpaceScores]) -> None:
    cols = len(scores)
    fig, axes = new_figure(max(4.0, 3.4 * cols), 3.4, nrows=1, ncols=cols, squeeze=False)
    for j, sc in enumerate(scores):
        ax = axes[0][j]
        for fit, colour, label in ((sc.fd_inf, FAKE, "generated"),
                                   (sc.fd_inf_baseline, REAL, "real")):
            inv = 1.0 / np.asarray(fit.sizes, dtype=float)
            ax.plot(inv, fit.values, "o", ms=3, color=colour, label=f"{label}: FD of subsets")
            line = np.array([0.0, inv.max()])
            ax.plot(line, fit.value + fit.slope * line, "-", color=colour, lw=1,
                    label=f"{label}: FD∞ = {fit.value:.3g}")
        ax.set_xlabel("1 / N (subset size N)")
        ax.set_ylabel("Fréchet distance")
        ax.set_title(sc.space, fontsize=9)
        ax.legend(fontsize=7)
    section.figure(
        fig, "fd_infinity", title="FD∞: Fréchet distance extrapolated to infinitely many samples",
        caption=("Dots: FD of random subsets of N generated (blue) or held-out real (grey) "
                 "samples against the same real reference, plotted against 1/N; lines: the "
                 "least-squares fit FD = FD∞ + c/N, whose value at 1/N = 0 is FD∞ (Chong & "
                 "Forsyth 2020). FD falls as N grows; FD∞ removes that bias so models scored "
                 "with different N compare."),
    )
