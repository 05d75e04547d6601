"""``make_model``: build any model of the paper by name."""

from __future__ import annotations

import inspect
from typing import Any

from .base import FeatureClassifier, check_positive_int, check_width
from .convnets import VGG9, ResNet9
from .mlp import MLP
from .resnet50 import ResNet50
from .ufm import UFM
from .vit import ViT

__all__ = ["MODEL_NAMES", "make_model"]

#: Names accepted by :func:`make_model` (case-insensitive).
MODEL_NAMES: tuple[str, ...] = ("resnet9", "vgg9", "mlp", "ufm", "vit", "resnet50")


def make_model(
    name: str, *, num_classes: int = 10, in_channels: int = 3, width: float = 1.0, **kwargs: Any
) -> FeatureClassifier:
    """Build a :class:`FeatureClassifier` by name.

    Args:
        name: one of :data:`MODEL_NAMES` (case-insensitive, surrounding whitespace ignored).
        num_classes: ``K``.
        in_channels: input channels (1 for MNIST / FashionMNIST, 3 for CIFAR and ImageNet) of the image
            models; for ``"mlp"`` without ``in_features`` it sets ``in_features = in_channels * 32 * 32``;
            ignored by ``"ufm"``.
        width: width multiplier (> 0) scaling channel / feature counts.
        **kwargs: model-specific arguments: ``"mlp"``: ``in_features``, ``hidden``; ``"ufm"``:
            ``num_samples``, ``feature_dim``, ``init_std``, ``bias``; ``"vit"``: ``image_size``,
            ``patch_size``, ``hidden``, ``depth``, ``num_heads``, ``mlp_ratio``, ``final_norm``,
            ``init_std``. ResNet9, VGG9 and ResNet50 (torchvision's, see :class:`ResNet50`) take none.

    Raises:
        ValueError: unknown ``name``, ``width <= 0``, other invalid sizes, or a keyword argument the
            model does not take.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    width = check_width(width)
    check_positive_int(num_classes, "num_classes")
    check_positive_int(in_channels, "in_channels")
    cls = {"resnet9": ResNet9, "vgg9": VGG9, "mlp": MLP, "ufm": UFM, "vit": ViT, "resnet50": ResNet50}[key]
    accepted = set(inspect.signature(cls).parameters) - {"num_classes", "in_channels", "width"}
    if unknown := sorted(set(kwargs) - accepted):
        raise ValueError(
            f"model {key!r} does not take {unknown}; its arguments: {', '.join(sorted(accepted)) or 'none'}"
        )
    if key == "resnet9":
        return ResNet9(num_classes=num_classes, in_channels=in_channels, width=width, **kwargs)
    if key == "resnet50":
        return ResNet50(num_classes=num_classes, in_channels=in_channels, width=width, **kwargs)
    if key == "vgg9":
        return VGG9(num_classes=num_classes, in_channels=in_channels, width=width, **kwargs)
    if key == "mlp":
        if kwargs.get("in_features") is None:
            kwargs["in_features"] = in_channels * 32 * 32
        return MLP(num_classes=num_classes, width=width, **kwargs)
    if key == "ufm":
        return UFM(num_classes=num_classes, width=width, **kwargs)
    return ViT(num_classes=num_classes, in_channels=in_channels, width=width, **kwargs)
