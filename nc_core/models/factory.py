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

__all__ = ["MODELS", "MODEL_NAMES", "make_model"]

#: The model classes by name (case-insensitive in :func:`make_model`).
MODELS: dict[str, type[FeatureClassifier]] = {
    "resnet9": ResNet9, "vgg9": VGG9, "mlp": MLP, "ufm": UFM, "vit": ViT, "resnet50": ResNet50,
}  # fmt: skip
#: Names accepted by :func:`make_model` (case-insensitive).
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)


def make_model(
    name: str, *, num_classes: int = 10, in_channels: int = 3, width: float = 1.0, data: Any = None,
    **kwargs: Any,
) -> FeatureClassifier:  # fmt: skip
    """Build a :class:`FeatureClassifier` by name.

    Args:
        name: one of :data:`MODEL_NAMES` (case-insensitive, surrounding whitespace ignored).
        num_classes: ``K``.
        in_channels: input channels (1 for MNIST / FashionMNIST, 3 for CIFAR and ImageNet) of the image
            models; for ``"mlp"`` without ``in_features`` it sets ``in_features = in_channels * 32 * 32``;
            ignored by ``"ufm"``.
        width: width multiplier (> 0) scaling channel / feature counts.
        data: the training set, when the model is built for one: the arguments a model takes from its data
            (:meth:`FeatureClassifier.data_arguments`: the MLP's ``in_features`` of vector inputs, the UFM's
            ``num_samples``) come from it unless given in ``kwargs``.
        **kwargs: model-specific arguments: ``"mlp"``: ``in_features``, ``hidden``; ``"ufm"``:
            ``num_samples``, ``feature_dim``, ``init_std``, ``bias``; ``"vit"``: ``image_size``,
            ``patch_size``, ``hidden``, ``depth``, ``num_heads``, ``mlp_ratio``, ``final_norm``,
            ``init_std``. ResNet9, VGG9 and ResNet50 (torchvision's, see :class:`ResNet50`) take none.

    Raises:
        ValueError: unknown ``name``, ``width <= 0``, other invalid sizes, or a keyword argument the
            model does not take.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(MODEL_NAMES)}")
    width = check_width(width)
    check_positive_int(num_classes, "num_classes")
    check_positive_int(in_channels, "in_channels")
    cls = MODELS[key]
    accepted = set(inspect.signature(cls).parameters) - {"num_classes", "in_channels", "width"}
    if unknown := sorted(set(kwargs) - accepted):
        raise ValueError(
            f"model {key!r} does not take {unknown}; its arguments: {', '.join(sorted(accepted)) or 'none'}"
        )
    derived = cls.data_arguments(in_channels, data)
    given = {k: v for k, v in kwargs.items() if not (v is None and k in derived)}  # None: from the data
    return cls(num_classes=num_classes, width=width, **{**derived, **given})
