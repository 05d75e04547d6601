"""Convolutional models of the paper: ResNet9 and VGG9 (Appendix D.4).

Both take 32x32 images (MNIST / FashionMNIST are resized to 32x32 by the data code), have
``in_channels`` input channels (1 or 3) and, at full width, ``p = 512`` penultimate features that come
out of a 1x1 spatial map after the last max-pool. A ``width`` multiplier scales every channel count
(``round(c * width)``, at least 1), so ``p = round(512 * width)``; ``width=0.125`` gives
8-16-32-64 channels for ResNet9 and is small enough for CPU runs.

Initialisation: PyTorch defaults throughout (``Conv2d`` / ``Linear``: Kaiming-uniform weights with
``a = sqrt(5)`` and uniform biases in ``+-1/sqrt(fan_in)``; ``BatchNorm2d``: weight 1, bias 0), as in
the authors' code, which does not re-initialise.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import torch
from torch import nn

from .base import FeatureClassifier, check_positive_int, check_width, scale_width

__all__ = ["ResNet9", "VGG9", "VGG9_LAYERS", "conv_bn"]

#: VGG11's layer list (ints: 3x3 conv output channels, ``"M"``: 2x2 max-pool): 8 convs + 1 linear.
VGG9_LAYERS: tuple[int | str, ...] = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


def conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    """``Conv2d(c_in, c_out, 3, padding=1, bias=True) -> BatchNorm2d(c_out) -> ReLU``."""
    return nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=True),
            bn=nn.BatchNorm2d(c_out),
            relu=nn.ReLU(),
        )
    )


class Residual(nn.Module):
    """``x + block(x)`` with ``block = conv_bn(c, c) -> conv_bn(c, c)`` (no activation after the sum)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(conv_bn(channels, channels), conv_bn(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResNet9(FeatureClassifier):
    """ResNet9 as in the paper authors' code (Appendix D.4; the DAWNBench "ResNet9" of Myrtle.ai /
    David Page, with conv biases and a plain linear head).

    Layers (channel counts at ``width=1``; ``conv_bn`` = Conv3x3(bias) + BatchNorm + ReLU)::

        prep    conv_bn(in_channels -> 64)                          32x32
        layer1  conv_bn(64 -> 128), MaxPool2d(2)                    16x16
        res1    x + conv_bn(128 -> 128)(conv_bn(128 -> 128)(x))     16x16
        layer2  conv_bn(128 -> 256), MaxPool2d(2)                   8x8
        layer3  conv_bn(256 -> 512), MaxPool2d(2)                   4x4
        res3    x + conv_bn(512 -> 512)(conv_bn(512 -> 512)(x))     4x4
        pool    MaxPool2d(4), flatten                               512 = p
        classifier  Linear(512, K, bias=True)

    Unlike Page's original there is no ``1/8`` logit scaling and the convs have biases. Input must be
    32x32 (the final ``MaxPool2d(4)`` turns the 4x4 map into 1x1).

    Stages (layer-by-layer metrics): the outputs of ``prep, layer1, res1, layer2, layer3, res3`` and
    ``features`` (the backbone's ``flatten``, whose output is ``model.features(x)``).
    """

    stages: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            **{name: f"backbone.{name}" for name in ("prep", "layer1", "res1", "layer2", "layer3", "res3")},
            "features": "backbone.flatten",
        }
    )

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> None:
        width = check_width(width)
        check_positive_int(in_channels, "in_channels")
        c1, c2, c3, c4 = (scale_width(c, width) for c in (64, 128, 256, 512))
        backbone = nn.Sequential(
            OrderedDict(
                prep=conv_bn(in_channels, c1),
                layer1=nn.Sequential(conv_bn(c1, c2), nn.MaxPool2d(2)),
                res1=Residual(c2),
                layer2=nn.Sequential(conv_bn(c2, c3), nn.MaxPool2d(2)),
                layer3=nn.Sequential(conv_bn(c3, c4), nn.MaxPool2d(2)),
                res3=Residual(c4),
                pool=nn.MaxPool2d(4),
                flatten=nn.Flatten(1),
            )
        )
        super().__init__(backbone, c4, num_classes)
        self.in_channels = in_channels
        self.width = width


class VGG9(FeatureClassifier):
    """VGG9 (Appendix D.4): VGG11's layer list, i.e. 8 conv layers + 1 linear layer = 9 weight layers.

    Layers (``width=1``; every conv = Conv3x3(padding 1, bias) + BatchNorm + ReLU, ``M`` = MaxPool2d(2))::

        64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M     32x32 -> 1x1x512
        flatten -> p = 512
        classifier  Linear(512, K, bias=True)

    Input must be 32x32 (five 2x2 pools reduce it to 1x1).

    Stages (layer-by-layer metrics): the outputs of the first four ``MaxPool2d`` (``pool1`` ... ``pool4``)
    and ``features`` (the final ``Flatten``: the fifth pool's 1x1 map, flattened, i.e. ``model.features(x)``).
    """

    stages: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            **{
                f"pool{k}": f"backbone.{i}"
                for k, i in enumerate([i for i, item in enumerate(VGG9_LAYERS) if item == "M"][:-1], start=1)
            },
            "features": f"backbone.{len(VGG9_LAYERS)}",  # the Flatten after the layer list
        }
    )

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: float = 1.0) -> None:
        width = check_width(width)
        check_positive_int(in_channels, "in_channels")
        layers: list[nn.Module] = []
        c_in = in_channels
        for item in VGG9_LAYERS:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                c_out = scale_width(int(item), width)
                layers.append(conv_bn(c_in, c_out))
                c_in = c_out
        layers.append(nn.Flatten(1))
        super().__init__(nn.Sequential(*layers), c_in, num_classes)
        self.in_channels = in_channels
        self.width = width
