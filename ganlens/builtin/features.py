"""Feature spaces in which metrics compare fakes and reals.

Built in: ``pixels`` (the flattened data), ``discriminator`` (the input of D's last layer, its
penultimate features), ``classifier`` (the penultimate layer of a classifier trained on one half
of the labelled real data; the reals of that half are left out of the space's real set) and ``random-conv`` (a fixed random CNN, for images). Plugins add more through
``ganlens_register_feature_spaces``. The analysis context computes each space once per run and
shares it between analyzers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn

from ..core.capture import UNIT_LAYERS
from ..core.errors import FeatureUnavailable
from ..core.extensions import FeatureSpaceInfo
from ..markers import hookimpl

if TYPE_CHECKING:
    from ..core.context import AnalysisContext

Embed = Callable[[torch.Tensor], torch.Tensor]
RANDOM_CONV_SEED = 12345


def _pixels(ctx: AnalysisContext) -> Embed:
    return lambda x: x.flatten(1)


def last_layer(net: nn.Module) -> nn.Module:
    """The last linear or convolutional layer of ``net`` (its output layer)."""
    layers = [m for _, m in net.named_modules() if isinstance(m, UNIT_LAYERS)]
    if not layers:
        raise FeatureUnavailable("the discriminator has no linear or convolutional layer")
    return layers[-1]


def penultimate(net: nn.Module, call: Callable[[torch.Tensor], object]) -> Embed:
    """An embedding that returns the input of ``net``'s last layer while ``call`` runs it."""
    head = last_layer(net)

    def embed(x: torch.Tensor) -> torch.Tensor:
        seen: list[torch.Tensor] = []
        handle = head.register_forward_pre_hook(lambda _m, inputs: seen.append(inputs[0].detach()))
        try:
            call(x)
        finally:
            handle.remove()
        if not seen:
            raise FeatureUnavailable("the discriminator's last layer was not called")
        return seen[-1].flatten(1)

    return embed


def _discriminator(ctx: AnalysisContext) -> Embed:
    gan = ctx.gan
    if gan.discriminator is None:
        raise FeatureUnavailable("this GAN has no discriminator")
    if gan.d_conditional:
        # A feature space embeds a sample alone: a conditional D is given class 0 for every
        # sample (a projection D's penultimate features do not depend on the class at all).
        return penultimate(gan.discriminator, lambda x: gan.score(
            x, torch.zeros(len(x), dtype=torch.long)))
    return penultimate(gan.discriminator, gan.score)


def _classifier(ctx: AnalysisContext) -> Embed:
    clf = ctx.classifier
    if clf is None:
        raise FeatureUnavailable(ctx.classifier_reason or "no classifier")
    return clf.held_out_embedding()


class RandomConv(nn.Module):
    """A fixed random CNN (seeded): three convolutions, then 2×2 average pooling → 512 values."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(RANDOM_CONV_SEED)
        self.net = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        )
        with torch.no_grad():
            for m in self.net:
                if isinstance(m, nn.Conv2d):
                    fan_in = m.weight[0].numel()
                    m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                    m.bias.zero_()
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _random_conv(ctx: AnalysisContext) -> Embed:
    if not ctx.gan.data.is_image:
        raise FeatureUnavailable("random-conv needs image data")
    net = RandomConv(ctx.gan.data.shape[0]).to(ctx.device)
    return net


@hookimpl
def ganlens_register_feature_spaces() -> list[FeatureSpaceInfo]:
    return [
        FeatureSpaceInfo("pixels", _pixels, "the data values, flattened"),
        FeatureSpaceInfo("discriminator", _discriminator,
                         "the discriminator's penultimate layer (the input of its last layer)"),
        FeatureSpaceInfo("classifier", _classifier,
                         "the penultimate layer (128 units) of a classifier trained on half of "
                         "the labelled real data (the reals it trained on are left out)"),
        FeatureSpaceInfo("random-conv", _random_conv,
                         "a fixed random 3-layer CNN with 2x2 pooling (512 values), for images"),
    ]
