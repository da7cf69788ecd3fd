"""The architecture of the third-party CelebA least-squares GAN in ``../shared/data/third_party/
celeba_lsgan/`` (32×32 RGB faces), written from its key names and shapes.

Usage::

    ganlens analyze ../shared/data/third_party/celeba_lsgan/generator.pt \\
        --arch examples/celeba_lsgan.py:Generator \\
        --discriminator ../shared/data/third_party/celeba_lsgan/discriminator.pt \\
        --discriminator-arch examples/celeba_lsgan.py:Discriminator

The classes declare what their weights cannot show: the latent prior is uniform on [-1, 1]
(``ganlens_latent_distribution``), and the discriminator is a least-squares critic whose raw
output is a score, not a logit (``ganlens_d_output``).
"""

from __future__ import annotations

from torch import nn


class Generator(nn.Module):
    """z (B, 100, 1, 1) → (B, 3, 32, 32) in [-1, 1]."""

    ganlens_latent_distribution = "uniform"

    def __init__(self, nz: int = 100) -> None:
        super().__init__()
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        self.generator_deconv = nn.Sequential(
            nn.Sequential(nn.ConvTranspose2d(nz, 256, 4, 1, 0, bias=False), nn.BatchNorm2d(256)),
            nn.Sequential(nn.Conv2d(256, 128, 3, 1, 1, bias=False), nn.BatchNorm2d(128), act()),
            nn.Sequential(nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64),
                          act()),
            nn.Sequential(nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32),
                          act()),
            nn.Sequential(nn.ConvTranspose2d(32, 3, 4, 2, 1, bias=True), nn.Tanh()),
        )

    def forward(self, z):
        return self.generator_deconv(z)


class Discriminator(nn.Module):
    """(B, 3, 32, 32) → (B, 1): a raw least-squares score (trained towards 1 on real faces)."""

    ganlens_d_output = "score"

    def __init__(self) -> None:
        super().__init__()

        def block(cin: int, cout: int, norm: bool) -> nn.Sequential:
            layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
            if norm:
                layers.append(nn.BatchNorm2d(cout))
            return nn.Sequential(*layers, nn.LeakyReLU(0.2))

        self.discriminator = nn.Sequential(
            block(3, 32, False), block(32, 64, True), block(64, 128, True), block(128, 256, True),
            nn.Flatten(), nn.Linear(1024, 1),
        )

    def forward(self, x):
        return self.discriminator(x)
