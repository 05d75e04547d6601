"""Small fully connected network for the paper's Figure 8 ("a simple MLP on a separable dataset")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .base import FeatureClassifier, check_positive_int, check_width, scale_width

__all__ = ["MLP"]


class MLPBackbone(nn.Module):
    """``flatten -> [Linear -> ReLU] * len(hidden)``; the output is the last hidden activation."""

    def __init__(self, in_features: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.in_features = in_features
        layers: list[nn.Module] = []
        d = in_features
        for h in hidden:
            layers += [nn.Linear(d, h), nn.ReLU()]
            d = h
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, d) stays (B, d); images (B, C, H, W) are flattened to (B, C*H*W).
        return self.layers(x.flatten(1))


class MLP(FeatureClassifier):
    """Multi-layer perceptron (paper Figure 8).

    ``x (B, in_features) -> Linear(in_features, h1) -> ReLU -> ... -> Linear(h_{L-1}, h_L) -> ReLU``
    gives the features (``p = h_L``, post-ReLU), then ``classifier = Linear(h_L, K, bias=True)``.
    Inputs with more than two dimensions (images) are flattened, so ``in_features`` must equal their
    number of elements per sample.

    Args:
        num_classes: ``K``.
        in_features: input dimension ``d``.
        hidden: hidden widths at ``width=1``, default ``(64, 64)``; each is scaled by ``width``
            (``round(h * width)``, at least 1).
        width: width multiplier.

    Initialisation: PyTorch defaults for ``nn.Linear``.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_features: int = 2,
        hidden: Sequence[int] = (64, 64),
        width: float = 1.0,
    ) -> None:
        width = check_width(width)
        check_positive_int(in_features, "in_features")
        hidden = tuple(hidden)
        if not hidden:
            raise ValueError("MLP needs at least one hidden layer (features = last hidden activation)")
        for h in hidden:
            check_positive_int(h, "every hidden width")
        scaled = tuple(scale_width(h, width) for h in hidden)
        super().__init__(MLPBackbone(in_features, scaled), scaled[-1], num_classes)
        self.in_features = in_features
        self.hidden = scaled
        self.width = width

    @classmethod
    def data_arguments(cls, in_channels: int, data: Any = None) -> dict[str, Any]:
        """``in_features``: the dimension of vector inputs (``data`` of input shape ``(d,)``), else the
        ``in_channels * 32 * 32`` elements of a 32x32 image."""
        shape = tuple(getattr(data, "input_shape", ()))
        return {"in_features": int(shape[0]) if len(shape) == 1 else in_channels * 32 * 32}
