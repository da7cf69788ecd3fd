"""The command line: outputs, exit codes, and one clear line for every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import ganlens
from ganlens import cli

ROOT_EXAMPLE = "examples/third_party_dcgan.py:Generator"


def run(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, match: str) -> None:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines[-1].startswith("ganlens: error:"), err
    assert match in lines[-1], lines[-1]
    assert "Traceback" not in err


def test_analyze_writes_every_format_and_a_summary(capsys, tmp_path, digits_run):
    code, out, _ = run(capsys, "analyze", digits_run.checkpoint, "--analyzers", "samples",
                       "--samples", "64", "--out", tmp_path, "--format", "html,json,md")
    assert code == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"report.html", "report.json", "report.md", "figures"}
    assert "samples" in out and "ok" in out and f"report: {tmp_path / 'report.html'}" in out
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["metadata"]["checkpoint"]["sha256"] and doc["metadata"]["samples"] == 64


def test_third_party_generator_through_the_cli(capsys, tmp_path, shared_data):
    ckpt = shared_data / "third_party" / "dcgan_mnist_generator.pth"
    code, out, err = run(capsys, "analyze", ckpt, "--arch", ROOT_EXAMPLE, "--analyzers", "samples",
                         "--samples", "64", "--out", tmp_path)
    assert code == 0, err
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["metadata"]["gan"]["latent"]["shape"] == [64, 1, 1]
    assert doc["metadata"]["gan"]["data"]["shape"] == [1, 28, 28]


def test_fail_on_gates_on_findings(capsys, tmp_path, digits_run):
    if "brightness" not in ganlens.make_host().analyzers:
        pytest.skip("examples/custom_analyzer is not installed")
    args = ["analyze", digits_run.checkpoint, "--analyzers", "brightness", "--samples", "64",
            "--out", tmp_path, "--option", "brightness.tolerance=0"]
    assert run(capsys, *args, "--fail-on", "warning")[0] == 1
    assert run(capsys, *args, "--fail-on", "alert")[0] == 0
    assert run(capsys, *args)[0] == 0


def test_a_failing_analyzer_gives_exit_code_3_and_a_report(capsys, tmp_path, digits_run, monkeypatch):
    import ganlens_samples

    def broken(self, ctx):
        raise RuntimeError("the analyzer broke")

    monkeypatch.setattr(ganlens_samples.Samples, "analyze", broken)
    code, out, _ = run(capsys, "analyze", digits_run.checkpoint, "--analyzers", "samples",
                       "--samples", "16", "--out", tmp_path)
    assert code == 3 and "failed" in out
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["sections"][0]["status"] == "failed"
    assert "the analyzer broke" in doc["sections"][0]["reason"]


def test_train_command(capsys, tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(3)  # the suite runs with 1: start elsewhere so --threads shows
    try:
        code, out, _ = run(capsys, "train", "ring8", "--epochs", "1", "--out", tmp_path,
                           "--no-progress", "--threads", "2")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert code == 0 and (tmp_path / "checkpoint.pt").exists() and "trained 1 epochs" in out
    assert (tmp_path / "samples" / "epoch_001.png").exists()


@pytest.mark.parametrize(("args", "match"), [
    (["analyze", "{tmp}/missing.pt"], "checkpoint not found"),
    (["analyze", "{tmp}/random.pt"], "not a PyTorch checkpoint"),
    (["analyze", "{tmp}/truncated.pt"], "truncated or corrupt"),
    (["analyze", "{tmp}/plain.pt"], "--arch MODULE:CALLABLE"),
    (["analyze", "{tmp}/plain.pt", "--arch", "nowhere_module_q:G"], "cannot import 'nowhere_module_q'"),
    (["analyze", "{ckpt}", "--analyzers", "nonexistent"], "unknown analyzer 'nonexistent'"),
    (["analyze", "{ckpt}", "--option", "samples.steps=many"], "option samples.steps: expected an integer"),
    (["analyze", "{ckpt}", "--option", "samples.colour=red"], "has no option 'colour'"),
    (["analyze", "{ckpt}", "--option", "oops"], "expected NAME.KEY=VALUE"),
    (["analyze", "{ckpt}", "--real", "{tmp}/nowhere"], "does not exist"),
    (["analyze", "{ckpt}", "--real", "{tmp}/empty_dir"], "no dataset format reads this folder; expected one of: folder (a folder of PNG/JPEG images"),
    (["analyze", "{ckpt}", "--real", "{shared}/mnist"], "generator makes 8x8"),
    (["analyze", "{ckpt}", "--format", "pdf"], "unknown report format 'pdf'"),
    (["train", "imagenet"], "unknown dataset 'imagenet'"),
    (["train", "digits", "--arch", "biggan"], "unknown architecture 'biggan'"),
])
def test_bad_input_is_one_line_and_exit_code_2(capsys, tmp_path, digits_run, request, args, match):
    (tmp_path / "random.pt").write_bytes(bytes(range(256)) * 8)
    raw = digits_run.checkpoint.read_bytes()
    (tmp_path / "truncated.pt").write_bytes(raw[: len(raw) // 3])
    torch.save({"w": torch.zeros(2)}, tmp_path / "plain.pt")
    (tmp_path / "empty_dir").mkdir()
    fmt = {"tmp": tmp_path, "ckpt": digits_run.checkpoint}
    if any("{shared}" in a for a in args):
        fmt["shared"] = request.getfixturevalue("shared_data")
    argv = [a.format(**fmt) for a in args] + ["--out", str(tmp_path / "out")]
    code, _, err = run(capsys, *argv)
    assert code == 2
    one_line_error(err, match)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(capsys, tmp_path, digits_run):
    code, _, err = run(capsys, "analyze", digits_run.checkpoint, "--device", "cuda", "--out", tmp_path)
    assert code == 2
    one_line_error(err, "CUDA is not available")


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze", "x.pt", "--samples", "-3"])
    assert info.value.code == 2
    assert "expected a positive integer" in capsys.readouterr().err


def test_debug_shows_the_traceback(capsys, tmp_path):
    code, _, err = run(capsys, "analyze", tmp_path / "missing.pt", "--debug")
    assert code == 2 and "Traceback" in err


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "ganlens.cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("ganlens ")
