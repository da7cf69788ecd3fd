"""The run-wide budget presets, the per-analyzer progress lines with their estimates, the timing
history behind them, and each analyzer's measured peak memory."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import pytest
import torch

import ganlens
from ganlens import testing
from ganlens.core import resources
from ganlens.engine.runner import run_analyzer
from ganlens.engine.timings import KEEP, TimingHistory, line
from ganlens.errors import OptionError


class Budgeted(ganlens.Analyzer):
    name = "budgeted"
    title = "Budgeted"
    uses_samples = False

    @dataclass
    class Options:
        steps: int = ganlens.option(16, ge=1, budget={"fast": 4, "thorough": 64})
        paths: int = ganlens.option(10, ge=1, budget={"thorough": 40})
        plain: int = ganlens.option(3, ge=1)

    def analyze(self, ctx):
        s = self.new_section()
        for key, value in vars(self.options).items():
            s.metric(key, value, key)
        return s


def _run(tmp_path, **kw):
    host = ganlens.make_host(progress=False, cache_dir=tmp_path / "cache")
    return ganlens.analyze(testing.tiny_vector_gan(), analyzers=[Budgeted], samples=4,
                           host=host, **kw)


def test_presets_set_the_declared_options_and_nothing_else():
    assert Budgeted.budget_options("default") == {}
    assert Budgeted.budget_options("fast") == {"steps": 4}
    assert Budgeted.budget_options("thorough") == {"steps": 64, "paths": 40}
    described = {d["name"]: d["budget"] for d in Budgeted.describe_options()}
    assert described == {"steps": {"fast": 4, "thorough": 64}, "paths": {"thorough": 40},
                         "plain": None}


@pytest.mark.parametrize("budget, expected", [("fast", (4, 10, 3)), ("default", (16, 10, 3)),
                                              ("thorough", (64, 40, 3))])
def test_a_run_applies_its_budget(tmp_path, budget, expected):
    report = _run(tmp_path, budget=budget)
    m = report.sections[0].metrics
    assert (m["steps"], m["paths"], m["plain"]) == expected
    assert report.metadata["budget"] == budget
    assert report.metadata["options"]["budgeted"]["steps"] == expected[0]


def test_an_option_given_wins_over_the_budget(tmp_path):
    report = _run(tmp_path, budget="fast", options={"budgeted": {"steps": 7}})
    assert report.sections[0].metrics["steps"] == 7


def test_an_unknown_budget_is_one_clear_error(tmp_path):
    with pytest.raises(OptionError, match=r"budget 'quick': expected one of fast, default, thorough"):
        _run(tmp_path, budget="quick")
    with pytest.raises(OptionError, match="budget 'slow'"):
        Budgeted.budget_options("slow")


def test_an_option_declares_only_known_presets():
    with pytest.raises(ValueError, match=r"budget presets \['slow'\]"):
        ganlens.option(3, budget={"slow": 1})


def test_the_cli_rejects_an_unknown_budget(capsys):
    from ganlens.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["analyze", "x.pt", "--budget", "quick"])
    assert exc.value.code == 2
    assert "--budget: invalid choice: 'quick'" in capsys.readouterr().err


# -- estimates --------------------------------------------------------------------------------

def test_estimates_from_the_history(tmp_path):
    h = TimingHistory(tmp_path / "t.json")
    assert h.estimate("a", "k", 1000) is None
    h.record("a", "k", 1000, 10.0)
    assert h.estimate("a", "k", 2000) == pytest.approx(20.0)  # linear above the one run
    assert h.estimate("a", "k", 500) == pytest.approx(10.0)   # never cheaper below it
    h.record("a", "k", 4000, 40.0)
    assert h.estimate("a", "k", 2000) == pytest.approx(20.0)  # the power law through both: k=1
    h.record("b", "k", 1000, 5.0)
    h.record("b", "k", 8000, 5.0)
    assert h.estimate("b", "k", 100_000) == pytest.approx(5.0)  # a fixed cost stays fixed
    h.record("c", "k", 1000, 1.0)
    h.record("c", "k", 2000, 100.0)
    assert h.estimate("c", "k", 4000) == pytest.approx(100.0 * 2**1.5)  # exponent kept <= 1.5
    assert h.estimate("a", "other", 1000) is None  # another workload: no estimate
    h.save()
    again = TimingHistory(tmp_path / "t.json")
    assert again.estimate("a", "k", 2000) == pytest.approx(20.0)


def test_the_history_keeps_the_last_runs_and_survives_damage(tmp_path):
    h = TimingHistory(tmp_path / "t.json")
    for n in range(1, KEEP + 5):
        h.record("a", "k", n * 100, float(n))
    assert len(h.data["a"]["k"]) == KEEP
    h.record("a", "k", (KEEP + 4) * 100, 99.0)  # the same N replaces its run
    assert len(h.data["a"]["k"]) == KEEP and h.data["a"]["k"][-1] == [(KEEP + 4) * 100, 99.0]
    (tmp_path / "bad.json").write_text("{not json")
    assert TimingHistory(tmp_path / "bad.json").estimate("a", "k", 10) is None


def test_one_line_per_analyzer_with_its_estimate(tmp_path, capsys):
    host = ganlens.make_host(progress=True, cache_dir=tmp_path / "cache")
    gan = testing.tiny_vector_gan()
    ganlens.analyze(gan, analyzers=[Budgeted], samples=4, host=host)
    first = capsys.readouterr().err
    assert "[1/1] budgeted" in first and "ok" in first and "no estimate" not in first
    history = json.loads((tmp_path / "cache" / "timings.json").read_text())
    (n, seconds), = history["budgeted"]["2/cpu/default"]
    assert n == 4 and seconds >= 0
    ganlens.analyze(gan, analyzers=[Budgeted], samples=4, host=host)
    second = capsys.readouterr().err
    assert "(estimate" in second  # the second run knows the first one's time
    assert [ln for ln in second.splitlines() if "budgeted" in ln][0].count("\n") == 0


def test_no_lines_without_progress(tmp_path, capsys):
    _run(tmp_path)
    assert "budgeted" not in capsys.readouterr().err


def test_the_line_says_what_it_knows():
    assert line(2, 10, "scores", 8, None, None, None, None) == \
        "[ 2/10] scores    running… (no estimate yet)"
    done = line(2, 10, "scores", 8, "ok", 125.0, 100.0, 2048.0)
    assert done == "[ 2/10] scores    ok       2 min 05 s  peak 2.00 GB  (estimate 100 s)"
    assert line(1, 3, "a", 1, "failed", 3.25, None, None) == "[1/3] a  failed        3.2 s"


# -- peak memory ------------------------------------------------------------------------------

class Allocates(ganlens.Analyzer):
    name = "allocates"
    title = "Allocates"
    uses_samples = False

    def analyze(self, ctx):
        block = torch.ones(64 * 2**20 // 4 * 4)  # 256 MB, touched
        block += 1
        del block
        return self.new_section()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_each_analyzer_reports_its_own_peak_memory(tmp_path):
    ctx = ganlens.context(testing.tiny_vector_gan(), samples=4, progress=False,
                          host=ganlens.make_host(progress=False, cache_dir=tmp_path))
    base = resources.current_bytes() / 2**20
    big = run_analyzer(Allocates(), ctx)
    small = run_analyzer(Budgeted(), ctx)
    assert big.peak_memory_mb - base > 200
    assert small.peak_memory_mb - base < 100  # the reset: the first one's peak is not carried
    d = big.to_dict()
    assert d["peak_memory_mb"] == pytest.approx(big.peak_memory_mb, abs=0.1)
    assert ganlens.Section.from_dict(d).peak_memory_mb == d["peak_memory_mb"]
    assert "peak_memory_mb" not in big.to_dict(with_timing=False)
