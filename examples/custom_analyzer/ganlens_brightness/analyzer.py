"""The Brightness analyzer: its metadata, typed option, metric, finding and figure."""

from __future__ import annotations

from dataclasses import dataclass

import ganlens
from ganlens.plotting import new_figure


class Brightness(ganlens.Analyzer):
    """Compares the mean value of generated samples with the mean of the real data."""

    name = "brightness"
    title = "Brightness"
    description = "Mean brightness of generated samples against real samples."
    needs_real_data = True

    @dataclass
    class Options:
        tolerance: float = ganlens.option(0.1, ge=0)
        """Warn when the means differ by more than this fraction of the value range."""

    def analyze(self, ctx: ganlens.AnalysisContext) -> ganlens.Section:
        section = self.new_section()
        lo, hi = ctx.gan.data.value_range
        fake = ctx.fakes.flatten(1).mean(1)
        real = ctx.real.x.flatten(1).mean(1)
        gap = float(fake.mean() - real.mean()) / (hi - lo)
        section.metric("fake_mean", fake.mean(), "mean value of the generated samples")
        section.metric("real_mean", real.mean(), "mean value of the real samples")
        section.metric("gap", gap, "difference of the means, as a fraction of the value range",
                       f"|gap| below {self.options.tolerance}")
        if abs(gap) > self.options.tolerance:
            section.finding("warning", f"fakes are {'brighter' if gap > 0 else 'darker'} than "
                            f"reals by {abs(gap):.0%} of the value range",
                            metric="gap", value=gap, threshold=self.options.tolerance)
        fig, ax = new_figure(5, 3)
        ax.hist(real.numpy(), bins=30, alpha=0.6, label="real", color="grey")
        ax.hist(fake.numpy(), bins=30, alpha=0.6, label="generated")
        ax.set_xlabel("mean value of a sample")
        ax.set_ylabel("samples")
        ax.set_title("Per-sample brightness")
        ax.legend()
        section.figure(fig, "brightness", title="Per-sample brightness",
                       caption="Histogram of each sample's mean value, real (grey) and generated "
                               "(blue). Shifted histograms mean the generator gets the overall "
                               "brightness wrong.")
        section.summary = f"brightness gap {gap:+.1%} of the value range"
        return section

