"""The architecture of ``../shared/data/third_party/dcgan_mnist_generator.pth``, a DCGAN generator
trained on MNIST by a third party (MIT licence), written from its key names and shapes.

Load it with the command line::

    ganlens analyze ../shared/data/third_party/dcgan_mnist_generator.pth \
        --arch examples/third_party_dcgan.py:Generator --real ../shared/data/mnist

or from Python::

    gan = ganlens.load(path, arch="examples/third_party_dcgan.py:Generator")

The latent (64 values, N(0, I)) is fed as (B, 64, 1, 1), which ganlens infers from the first
transposed convolution; the Tanh output gives the range [-1, 1].
"""

from __future__ import annotations

from torch import nn


def _block(c_in: int, c_out: int, kernel: int, stride: int, last: bool = False) -> nn.Sequential:
    if last:
        return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, kernel, stride), nn.Tanh())
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, kernel, stride), nn.BatchNorm2d(c_out), nn.ReLU(True)
    )


class Generator(nn.Module):
    """z (B, 64, 1, 1) → 1×28×28 in [-1, 1]: 1 → 3 → 6 → 13 → 28."""

    def __init__(self, z_dim: int = 64, hidden: int = 64) -> None:
        super().__init__()
        self.gen = nn.Sequential(
            _block(z_dim, hidden * 4, 3, 2),
            _block(hidden * 4, hidden * 2, 4, 1),
            _block(hidden * 2, hidden, 3, 2),
            _block(hidden, 1, 4, 2, last=True),
        )

    def forward(self, z):
        return self.gen(z.view(len(z), -1, 1, 1))
