"""Conditional GANs: found from the forward signature, their classes and label format inferred,
labels drawn from the seed, bad labels refused, and trained by ``ganlens train --conditional``."""

from __future__ import annotations

import textwrap

import pytest
import torch
from conftest import load_module_file

import ganlens
from ganlens.errors import CheckpointError, InputError

ARCH = textwrap.dedent('''
    import torch
    from torch import nn

    class EmbedG(nn.Module):
        """The PyTorch-GAN cgan layout: label embedding concatenated before z."""
        def __init__(self, latent_dim=12, n_classes=4):
            super().__init__()
            self.label_emb = nn.Embedding(n_classes, n_classes)
            self.model = nn.Sequential(nn.Linear(latent_dim + n_classes, 32), nn.ReLU(),
                                       nn.Linear(32, 64), nn.Tanh())
        def forward(self, noise, labels):
            h = torch.cat((self.label_emb(labels), noise), -1)
            return self.model(h).view(-1, 1, 8, 8)

    class OneHotG(nn.Module):
        """z concatenated with a one-hot label; no embedding."""
        def __init__(self, latent_dim=10, n_classes=3):
            super().__init__()
            self.model = nn.Sequential(nn.Linear(latent_dim + n_classes, 16), nn.Tanh())
        def forward(self, z, y):
            return self.model(torch.cat([z, y], 1))

    class LabelD(nn.Module):
        """A conditional D whose score is its label's index: it ignores the image."""
        def __init__(self, n_classes=4):
            super().__init__()
            self.body = nn.Linear(64, 1)
            self.emb = nn.Embedding(n_classes, 1)
            with torch.no_grad():
                self.body.weight.zero_(); self.body.bias.zero_()
                self.emb.weight.copy_(torch.arange(n_classes, dtype=torch.float).reshape(-1, 1))
        def forward(self, x, y):
            return self.body(x.flatten(1)) + self.emb(y)
''')


@pytest.fixture(scope="module")
def arch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cond")
    path = tmp / "arch.py"
    path.write_text(ARCH)
    mod = load_module_file(path, "cond_arch")
    torch.manual_seed(0)
    torch.save(mod.EmbedG().state_dict(), tmp / "embed_g.pth")
    torch.save(mod.OneHotG().state_dict(), tmp / "onehot_g.pth")
    torch.save(mod.LabelD().state_dict(), tmp / "label_d.pth")
    return tmp, path


def test_a_generator_taking_z_and_y_is_conditional_with_its_embedding_classes(arch):
    tmp, path = arch
    gan = ganlens.load(tmp / "embed_g.pth", arch=f"{path}:EmbedG")
    assert gan.conditional and gan.num_classes == 4 and gan.label_format == "index"
    assert gan.latent.shape == (12,)  # 16 inputs less the embedding's 4
    assert gan.data.shape == (1, 8, 8) and "conditional GAN" in gan.describe()["conditioning"]
    x = gan.sample(6, seed=1)
    assert x.shape == (6, 1, 8, 8)
    # Same z, different classes: different images; the labels come from their own stream.
    z = gan.latents(2, seed=3)
    a, b = gan.decode(z, torch.tensor([0, 0])), gan.decode(z, torch.tensor([1, 1]))
    assert not torch.allclose(a, b)
    assert not torch.equal(gan.labels(50, seed=0), gan.labels(50, seed=1))


def test_one_hot_labels_are_found_by_probing_given_the_class_count(arch):
    tmp, path = arch
    with pytest.raises(CheckpointError, match="--num-classes"):
        ganlens.load(tmp / "onehot_g.pth", arch=f"{path}:OneHotG")
    gan = ganlens.load(tmp / "onehot_g.pth", arch=f"{path}:OneHotG", num_classes=3)
    assert gan.label_format == "onehot" and gan.latent.shape == (10,) and gan.num_classes == 3
    assert gan.sample(5, seed=0).shape == (5, 16)


def test_a_conditional_discriminator_gets_each_samples_label(arch):
    tmp, path = arch
    gan = ganlens.load(tmp / "embed_g.pth", arch=f"{path}:EmbedG",
                       discriminator=tmp / "label_d.pth", discriminator_arch=f"{path}:LabelD")
    assert gan.d_conditional
    ctx = ganlens.context(gan, samples=40, seed=2, progress=False)
    # D's score is the label itself: the shared pass gave D the label each fake was made with.
    assert torch.allclose(ctx.d_fake, ctx.labels.float())


def test_bad_labels_are_one_line_errors(arch):
    tmp, path = arch
    gan = ganlens.load(tmp / "embed_g.pth", arch=f"{path}:EmbedG")
    z = gan.latents(3)
    with pytest.raises(InputError, match="from 0 to 3; got values from 0 to 7"):
        gan.decode(z, torch.tensor([0, 7, 1]))
    with pytest.raises(InputError, match="2 labels for 3 samples"):
        gan.decode(z, torch.tensor([0, 1]))
    with pytest.raises(InputError, match="one class index per sample"):
        gan.forward(z, torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(InputError, match="needs a class label per sample"):
        gan.forward(z)
    gan.num_classes = None
    with pytest.raises(InputError, match="--num-classes"):
        gan.sample(3)


def test_real_labels_give_the_class_count_and_must_fit(arch):
    gan = ganlens.testing.tiny_conditional_gan(num_classes=10, discriminator=False)
    gan.num_classes = None
    data = ganlens.testing.random_images(60, classes=10)
    ctx = ganlens.context(gan, real=data, samples=30, progress=False)
    assert gan.num_classes == 10 and ctx.labels.max() < 10
    small = ganlens.testing.tiny_conditional_gan(num_classes=4, discriminator=False)
    with pytest.raises(InputError, match="labels up to 9, but the conditional generator has 4"):
        ganlens.context(small, real=data, samples=30, progress=False)


def test_labels_can_follow_the_real_class_frequencies():
    gan = ganlens.testing.tiny_conditional_gan(num_classes=3, discriminator=False)
    data = ganlens.testing.random_images(300, classes=3)
    data.labels = torch.tensor([0] * 240 + [1] * 60, dtype=torch.long)  # class 2 never occurs
    ctx = ganlens.context(gan, real=data, samples=1000, progress=False,
                          label_distribution="real")
    share = torch.bincount(ctx.labels, minlength=3).float() / 1000
    assert abs(share[0] - 0.8) < 0.05 and share[2] == 0
    uniform = ganlens.context(gan, real=data, samples=1000, progress=False)
    assert (torch.bincount(uniform.labels, minlength=3) > 250).all()
    with pytest.raises(ganlens.errors.OptionError, match="label_distribution"):
        ganlens.analyze(gan, real=data, samples=10, label_distribution="skewed", progress=False)


def test_a_conditional_d_without_real_labels_is_not_run_on_reals():
    gan = ganlens.testing.tiny_conditional_gan(num_classes=10)
    unlabelled = ganlens.testing.random_images(40)
    ctx = ganlens.context(gan, real=unlabelled, samples=20, progress=False)
    assert ctx.d_real is None and ctx.d_fake is not None
    assert "no labels" in ctx.capture.notes[0]


def test_conditional_training_on_digits(tmp_path):
    result = ganlens.train("digits", conditional=True, epochs=1, batch_size=128, width=8,
                           out_dir=tmp_path, progress=False)
    gan = ganlens.load(result.checkpoint)
    assert gan.conditional and gan.d_conditional and gan.num_classes == 10
    assert gan.metadata["architecture"] == "cdcgan"
    y = torch.arange(10)
    assert gan.decode(gan.latents(10), y).shape == (10, 1, 8, 8)
    assert gan.discriminate(gan.decode(gan.latents(10), y), y).shape == (10,)
    with pytest.raises(InputError, match="needs labelled data"):
        ganlens.train("ring8", conditional=True, epochs=0, progress=False)
    with pytest.raises(InputError, match="is conditional: train it with --conditional"):
        ganlens.train("digits", arch="cdcgan", epochs=0, progress=False)
