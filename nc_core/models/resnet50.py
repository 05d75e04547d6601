"""ResNet50 (Appendix D.4.4): torchvision's ``resnet50``, randomly initialised, as a FeatureClassifier.

The backbone is torchvision's ``ResNet`` with its ``fc`` replaced by ``nn.Identity``, so it returns the
globally average-pooled output of ``layer4`` (``p = 2048`` at full width); torchvision's ``fc``
(``nn.Linear(2048, K)``, its default initialisation) is the ``classifier`` whose weight is the ``W`` of the
NC metrics. At ``width = 1`` and 3 input channels the network *is* ``torchvision.models.resnet50(weights=None,
num_classes=K)`` (same modules, same initialisation, same random draws).

``width != 1`` (the small profiles) rebuilds every convolution, BatchNorm and the ``fc`` of that network with
each channel count ``c`` scaled to :func:`~nc_core.models.base.scale_width` ``(c, width)`` (stem 64, stage
widths 64-128-256-512, expansion 4: ``p = scale_width(2048, width)``), re-initialised as torchvision does
(Kaiming-normal ``fan_out`` convolutions, BatchNorm weight 1 / bias 0, default ``nn.Linear``); the block
structure and forward pass are torchvision's. ``in_channels != 3`` replaces the stem convolution likewise.
"""

from __future__ import annotations

from torch import nn

from .base import FeatureClassifier, check_positive_int, check_width, scale_width

__all__ = ["ResNet50"]


def _rescale(net: nn.Module, width: float, in_channels: int) -> None:
    """Rebuild ``net``'s convolutions, BatchNorms and linear layer at ``width`` (stem: ``in_channels``)."""
    stem = net.conv1
    for module in list(net.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Conv2d):
                c_in = in_channels if child is stem else scale_width(child.in_channels, width)
                new: nn.Module = nn.Conv2d(
                    c_in, scale_width(child.out_channels, width), child.kernel_size, stride=child.stride,
                    padding=child.padding, dilation=child.dilation, groups=child.groups,
                    bias=child.bias is not None,
                )  # fmt: skip
                nn.init.kaiming_normal_(new.weight, mode="fan_out", nonlinearity="relu")  # torchvision's init
            elif isinstance(child, nn.BatchNorm2d):
                new = nn.BatchNorm2d(scale_width(child.num_features, width))  # weight 1, bias 0
            elif isinstance(child, nn.Linear):
                new = nn.Linear(scale_width(child.in_features, width), child.out_features)
            else:
                continue
            setattr(module, child_name, new)


class ResNet50(FeatureClassifier):
    """torchvision's ResNet50 (Bottleneck blocks 3-4-6-3), random initialisation.

    Args:
        num_classes: ``K``.
        in_channels: input channels (3 for ImageNet).
        width: width multiplier (> 0) of every channel count; ``p = scale_width(2048, width)``.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0) -> None:
        from torchvision.models import resnet50

        width = check_width(width)
        check_positive_int(num_classes, "num_classes")
        check_positive_int(in_channels, "in_channels")
        net = resnet50(weights=None, num_classes=num_classes)
        if width != 1.0 or in_channels != 3:
            _rescale(net, width, in_channels)
        fc = net.fc
        net.fc = nn.Identity()  # the backbone ends with torchvision's avgpool + flatten: (B, p)
        super().__init__(net, fc.in_features, num_classes)
        self.classifier = fc  # torchvision's own fc (FeatureClassifier's fresh Linear is discarded)
        self.width = width
