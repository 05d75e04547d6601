"""The uniform interface every model of :mod:`nc_core.models` implements.

A :class:`FeatureClassifier` is a ``backbone`` that maps an input batch to penultimate-layer features
``h`` of shape ``(B, p)``, followed by one linear ``classifier`` ``z = W h + b`` with ``W`` of shape
``(K, p)``. ``classifier.weight`` is the ``W`` of the paper's NC metrics (Section 2, Appendix B), and
``features`` are the ``h`` the class means and covariances are computed from, so metric code needs no
per-model glue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import torch
from torch import nn

__all__ = ["FeatureClassifier", "scale_width"]


def scale_width(channels: int, width: float) -> int:
    """Scale a channel / feature count by the width multiplier.

    Rounds half up (``floor(channels * width + 0.5)``) and never returns less than 1, e.g.
    ``scale_width(64, 0.125) == 8`` and ``scale_width(512, 0.125) == 64``.
    """
    return max(1, int(math.floor(channels * width + 0.5)))


def check_width(width: float) -> float:
    """Return ``float(width)`` or raise ``ValueError`` unless it is a finite number > 0."""
    try:
        w = float(width)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"width must be a positive number, got {width!r}") from exc
    if not (math.isfinite(w) and w > 0):
        raise ValueError(f"width must be a finite number > 0, got {width!r}")
    return w


def check_positive_int(value: int, name: str) -> int:
    """Return ``value`` or raise ``ValueError`` unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


class FeatureClassifier(nn.Module):
    """A feature extractor followed by a linear last layer.

    Attributes:
        backbone: maps an input batch to penultimate features of shape ``(B, p)``.
        classifier: ``nn.Linear(p, K)``; its ``weight`` (``K x p``) is ``W`` of the NC metrics.
        feature_dim: ``p``.
        num_classes: ``K``.
        stages: the stages of the network whose outputs the layer-by-layer metrics measure
            (:func:`nc_core.metrics.layer_metrics`), in depth order: stage name -> dotted module name in the
            model (for ``model.get_submodule``); empty for a model without stages.

    Subclasses build their backbone and hand it to ``FeatureClassifier.__init__``; the classifier is
    created here with PyTorch's default ``nn.Linear`` initialisation (subclasses may re-initialise).
    """

    feature_dim: int
    num_classes: int
    stages: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int, *, bias: bool = True) -> None:
        super().__init__()
        self.feature_dim = check_positive_int(feature_dim, "feature_dim")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.backbone = backbone
        self.classifier = nn.Linear(self.feature_dim, self.num_classes, bias=bias)

    @classmethod
    def data_arguments(cls, in_channels: int, data: Any = None) -> dict[str, Any]:
        """The constructor arguments this model takes from its data, not from its configuration: what
        differs between models in how they meet their inputs lives here, with each model. Image models take
        the images' ``in_channels``; :class:`~nc_core.models.MLP` and :class:`~nc_core.models.UFM` override
        this. ``data``: the training set (anything with ``input_shape`` and ``len``), when there is one.
        Arguments given explicitly (a run's ``model_kwargs``) take precedence (:func:`make_model`)."""
        del data
        return {"in_channels": in_channels}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features ``h`` of shape ``(B, p)``."""
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``classifier(features(x))`` of shape ``(B, K)``."""
        return self.classifier(self.features(x))

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, features)`` from a single forward pass (for evaluation / metric passes)."""
        h = self.features(x)
        return self.classifier(h), h

    def extra_repr(self) -> str:
        return f"feature_dim={self.feature_dim}, num_classes={self.num_classes}"
