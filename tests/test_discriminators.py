"""Every common discriminator read right: a logit D, a Sigmoid D, a two-class D (either real
column, logits or softmax), an MLP D over flattened images, an auxiliary-classifier D, and a
declared critic; the same logits come out of the first five, and the report says how D was read."""

from __future__ import annotations

import textwrap

import pytest
import torch
from conftest import load_module_file

import ganlens
from ganlens.errors import CheckpointError

ARCH = textwrap.dedent('''
    import torch
    from torch import nn

    def G():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 12), nn.Tanh(), nn.Unflatten(1, (3, 2, 2)))

    class Logit(nn.Module):  # conv features, then one logit
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(3, 4, 2), nn.Flatten(), nn.Linear(4, 1))
        def forward(self, x):
            return self.net(x)

    class Sigmoid(Logit):
        def forward(self, x):
            return torch.sigmoid(self.net(x))

    class Sequential(nn.Module):  # the same, with the Sigmoid as the last module
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(3, 4, 2), nn.Flatten(), nn.Linear(4, 1), nn.Sigmoid())
        def forward(self, x):
            return self.net(x)

    class TwoClass(Logit):  # logits (fake, real): the log-odds of real is the Logit's logit
        def forward(self, x):
            l = self.net(x)
            return torch.cat([torch.zeros_like(l), l], 1)

    class TwoClassFirst(Logit):  # the real column first
        def forward(self, x):
            l = self.net(x)
            return torch.cat([l / 2, -l / 2], 1)

    class Softmax(nn.Module):  # softmax probabilities (fake, real)
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(3, 4, 2), nn.Flatten(), nn.Linear(4, 1))
            self.soft = nn.Softmax(dim=1)
        def forward(self, x):
            l = self.net(x)
            return self.soft(torch.cat([torch.zeros_like(l), l], 1))

    class MLP(nn.Module):  # wants flattened images: its first layer is Linear(12, ...)
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(12, 8), nn.LeakyReLU(0.2), nn.Dropout(0.5),
                                     nn.Linear(8, 1))
        def forward(self, x):
            return self.net(x)

    class AC(Logit):  # (score, class logits)
        def __init__(self):
            super().__init__()
            self.cls = nn.Linear(12, 5)
        def forward(self, x):
            return self.net(x), self.cls(x.flatten(1))

    class Critic(Logit):
        ganlens_d_output = "score"

    class Three(Logit):
        def forward(self, x):
            return self.net(x).repeat(1, 3)
''')


@pytest.fixture()
def files(tmp_path):
    arch = tmp_path / "darch.py"
    arch.write_text(ARCH)
    mod = load_module_file(arch, "darch_for_weights")
    torch.save(mod.G().state_dict(), tmp_path / "g.pth")
    torch.manual_seed(1)
    ref = mod.Logit()
    for name in ("Logit", "Sigmoid", "Sequential", "TwoClass", "TwoClassFirst", "Softmax", "AC",
                 "Critic", "Three"):
        d = getattr(mod, name)()
        d.load_state_dict(ref.state_dict(), strict=False)
        torch.save(d.state_dict(), tmp_path / f"{name}.pth")
    torch.manual_seed(2)
    torch.save(mod.MLP().state_dict(), tmp_path / "MLP.pth")
    return tmp_path, arch, ref, mod


def _load(files, name, **kw):
    tmp, arch, _ref, _mod = files
    return ganlens.load(tmp / "g.pth", arch=f"{arch}:G", discriminator=tmp / f"{name}.pth",
                        discriminator_arch=f"{arch}:{name}", **kw)


def test_every_reading_gives_the_same_logits(files):
    _tmp, _arch, ref, _mod = files
    x = torch.randn(16, 3, 2, 2)
    with torch.no_grad():
        want = ref(x).reshape(-1)
    expected = {"Logit": "logit", "Sigmoid": "logit", "Sequential": "probability",
                "TwoClass": "two-class", "Softmax": "two-class", "AC": "logit"}
    for name, kind in expected.items():
        gan = _load(files, name)
        assert gan.d_output == kind, (name, gan.d_note)
        got = gan.discriminate(x)
        if name == "Sigmoid":  # a sigmoid inside forward: no module shows it, so say it
            gan = _load(files, name, d_output="probability")
            got = gan.discriminate(x)
        assert torch.allclose(got, want, atol=1e-4), name
    first = _load(files, "TwoClassFirst", d_real_index=0)
    assert torch.allclose(first.discriminate(x), want, atol=1e-5)
    assert "column 1 meaning real" in _load(files, "TwoClass").d_note
    assert "softmax probabilities" in _load(files, "Softmax").d_note
    assert "auxiliary-classifier" in _load(files, "AC").d_note
    assert "last module is Sigmoid" in _load(files, "Sequential").d_note


def test_an_mlp_discriminator_is_fed_flattened_images(files):
    tmp, _arch, _ref, mod = files
    gan = _load(files, "MLP")
    assert gan.d_flatten and "fed flattened images" in gan.d_note
    assert "evaluated in eval mode (Dropout: dropout off" in gan.d_note
    torch.manual_seed(2)
    mlp = mod.MLP().eval()
    x = torch.randn(5, 3, 2, 2)
    with torch.no_grad():
        assert torch.allclose(gan.discriminate(x), mlp(x.flatten(1)).reshape(-1), atol=1e-6)
    assert not gan.discriminator.training  # dropout off: eval mode
    train = _load(files, "MLP", d_train_mode=True)
    assert train.discriminator.training and "run in train mode as asked" in train.d_note
    train.eval()  # what the runner calls after every analyzer: D stays in train mode
    assert train.discriminator.training and not train.generator.training
    torch.manual_seed(0)
    a = train.discriminate(x)
    torch.manual_seed(1)
    assert not torch.allclose(a, train.discriminate(x))  # dropout is on


def test_a_declared_critic_is_read_as_a_score_and_reported(files, tmp_path):
    gan = _load(files, "Critic")
    assert gan.d_output == "score" and not gan.d_is_probabilistic
    report = ganlens.analyze(gan, analyzers=["samples"], samples=16, progress=False)
    assert report.metadata["gan"]["d_output"] == "score"
    assert "as its class declares" in report.metadata["gan"]["d_read_as"]
    info = report["samples"].metric_info["d_fake_mean"].description
    assert "D's score" in info and "sigmoid" not in info


def test_readings_that_do_not_fit_are_refused(files, tmp_path):
    from torch import nn

    torch.save(nn.Sequential(nn.Linear(5, 1)).state_dict(), tmp_path / "wrong.pth")
    (tmp_path / "wrong_arch.py").write_text("from torch import nn\n"
                                            "def D():\n    return nn.Sequential(nn.Linear(5, 1))\n")
    tmp, arch, _ref, _mod = files
    with pytest.raises(CheckpointError, match=r"the discriminator fails on data of shape "
                                              r"\(B, 3, 2, 2\).*it must take what the generator"):
        ganlens.load(tmp / "g.pth", arch=f"{arch}:G", discriminator=tmp_path / "wrong.pth",
                     discriminator_arch=f"{tmp_path / 'wrong_arch.py'}:D")
    with pytest.raises(CheckpointError, match="returns 3 values per sample.*expected 1"):
        _load(files, "Three")
    with pytest.raises(CheckpointError, match="returns 2 values per sample, which --d-output "
                                              "logit cannot read"):
        _load(files, "TwoClass", d_output="logit")
    with pytest.raises(CheckpointError, match="--d-real-index applies to a two-class"):
        _load(files, "Logit", d_real_index=0)


def test_the_third_party_celeba_lsgan_with_only_its_architecture_file(shared_data):
    from pathlib import Path

    root = shared_data / "third_party" / "celeba_lsgan"
    arch = Path(__file__).resolve().parents[1] / "examples" / "celeba_lsgan.py"
    gan = ganlens.load(root / "generator.pt", arch=f"{arch}:Generator",
                       discriminator=root / "discriminator.pt",
                       discriminator_arch=f"{arch}:Discriminator")
    assert gan.latent.distribution == "uniform" and gan.latent.shape == (100, 1, 1)
    assert gan.data.shape == (3, 32, 32) and gan.data.value_range == (-1.0, 1.0)
    assert gan.d_output == "score"
    report = ganlens.analyze(gan, analyzers=["samples"], samples=64, progress=False)
    s = report["samples"]
    assert s.status == "ok" and "d_fake_mean" in s.metrics
    # A least-squares critic trained towards 1 on reals and 0 on fakes scores its own fakes
    # between the two.
    assert -0.5 < s.metrics["d_fake_mean"] < 1.0


def test_an_acgan_discriminator_with_a_sigmoid_head_reads_probabilities(tmp_path):
    """The common AC-GAN layout: the adversarial head (Linear, Sigmoid) is registered before the
    class head (Linear, Softmax); the score's own last module decides, not the last registered."""
    from conftest import load_module_file

    (tmp_path / "ac.py").write_text(textwrap.dedent('''
        from torch import nn
        def G():
            return nn.Sequential(nn.Linear(4, 12), nn.Tanh(), nn.Unflatten(1, (3, 2, 2)))
        class D(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.LeakyReLU(0.2))
                self.adv_layer = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
                self.aux_layer = nn.Sequential(nn.Linear(8, 5), nn.Softmax(dim=1))
            def forward(self, x):
                h = self.body(x)
                return self.adv_layer(h), self.aux_layer(h)
    '''))
    mod = load_module_file(tmp_path / "ac.py", "ac_arch")
    torch.manual_seed(0)
    torch.save(mod.G().state_dict(), tmp_path / "g.pth")
    d = mod.D().eval()
    torch.save(d.state_dict(), tmp_path / "d.pth")
    gan = ganlens.load(tmp_path / "g.pth", arch=f"{tmp_path / 'ac.py'}:G",
                       discriminator=tmp_path / "d.pth", discriminator_arch=f"{tmp_path / 'ac.py'}:D")
    assert gan.d_output == "probability", gan.d_note
    x = torch.randn(4, 3, 2, 2)
    with torch.no_grad():
        p = d(x)[0].reshape(-1)
    assert torch.allclose(gan.discriminate(x), torch.logit(p), atol=1e-5)


def test_an_acgan_class_head_labels_classes_when_the_real_data_have_none(tmp_path):
    """D's class head says "bright" (1) or "dark" (0) by the mean pixel; G makes only dark
    images: class coverage, labelled by the head, finds one of the two classes, and says who
    labelled."""
    from conftest import load_module_file

    (tmp_path / "ac2.py").write_text(
        "import torch\nfrom torch import nn\n"
        "class G(nn.Module):\n"
        "    def __init__(self):\n        super().__init__(); self.fc = nn.Linear(4, 64)\n"
        "    def forward(self, z):\n"
        "        return -0.5 - 0.1 * torch.sigmoid(self.fc(z)).view(-1, 1, 8, 8)\n"
        "class D(nn.Module):\n"
        "    def __init__(self):\n        super().__init__(); self.fc = nn.Linear(64, 1)\n"
        "    def forward(self, x):\n"
        "        m = x.flatten(1).mean(1, keepdim=True)\n"
        "        return self.fc(x.flatten(1)), torch.cat([-m, m], 1)\n")
    mod = load_module_file(tmp_path / "ac2.py", "ac2_arch")
    torch.save(mod.G().state_dict(), tmp_path / "g.pth")
    torch.save(mod.D().state_dict(), tmp_path / "d.pth")
    gan = ganlens.load(tmp_path / "g.pth", arch=f"{tmp_path / 'ac2.py'}:G",
                       discriminator=tmp_path / "d.pth",
                       discriminator_arch=f"{tmp_path / 'ac2.py'}:D")
    assert gan.d_aux_classes == 2 and "class head" in gan.d_note
    real = ganlens.testing.random_images(200)  # no labels; mean pixel either side of 0
    real.x[:100] = real.x[:100].abs()
    real.x[100:] = -real.x[100:].abs()
    ModeCollapse = ganlens.available_analyzers()["mode_collapse"]
    section = ModeCollapse(bootstrap=0, figures=False).run(gan, real=real, samples=100)
    m = section.metrics
    assert m["class_labeller"] == "discriminator class head"
    assert m["classes_covered"] == 1 and m["classes_total"] == 2
    assert m["classes_covered_baseline"] == 2
    assert any("auxiliary class head" in f.message for f in section.findings)
    # The head itself: every sample is dark (class 0), every bright real is class 1.
    assert (gan.class_logits(gan.sample(20)).argmax(1) == 0).all()
    assert (gan.class_logits(real.x[:100]).argmax(1) == 1).all()
