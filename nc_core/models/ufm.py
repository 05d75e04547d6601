"""Unconstrained feature model (UFM) of the paper, Appendix C.5 and D.4.2."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .base import FeatureClassifier, check_positive_int, check_width, scale_width

__all__ = ["UFM"]


class UFM(FeatureClassifier):
    """Unconstrained feature model: the features are free parameters (paper Appendix C.5, D.4.2).

    The backbone is a trainable matrix ``H`` of shape ``(N, p)`` (an ``nn.Embedding(N, p)``; one row per
    training sample) and the input is a ``LongTensor`` of sample indices ``(B,)``, so
    ``features(idx) = H[idx]`` and ``forward(idx) = W H[idx]^T`` (paper Eq. 13, ``z_n = W h_n``).
    Gradients reach only the rows of ``H`` that were indexed (as a dense gradient with zero rows; the
    embedding is not ``sparse`` so every optimizer can use it).

    The paper's defaults are ``N = 10000``, ``p = 512``, ``K = 10``; ``p`` is scaled by ``width``.

    Choices made here (document them when reporting results):

    * ``classifier = nn.Linear(p, K, bias=False)``: Eq. 13 has no bias. Pass ``bias=True`` for the
      biased variant.
    * ``H`` is initialised i.i.d. ``N(0, init_std^2)`` with ``init_std = 1/sqrt(p)`` by default, so each
      row has expected squared norm 1 (``nn.Embedding``'s default ``N(0, 1)`` would give norm ``sqrt(p)``).
      ``W`` keeps PyTorch's ``nn.Linear`` default (uniform in ``+-1/sqrt(p)``).
    * Weight decay on ``H`` and ``W`` (the ``lambda_H``, ``lambda_W`` of the UFM objective) is the
      optimizer's job; :func:`~nc_core.models.param_groups_for_decay` puts both in the decay group.
    """

    def __init__(
        self,
        num_classes: int = 10,
        num_samples: int = 10000,
        feature_dim: int = 512,
        width: float = 1.0,
        init_std: float | None = None,
        bias: bool = False,
    ) -> None:
        width = check_width(width)
        check_positive_int(num_samples, "num_samples")
        check_positive_int(feature_dim, "feature_dim")
        p = scale_width(feature_dim, width)
        std = 1.0 / math.sqrt(p) if init_std is None else float(init_std)
        if not (math.isfinite(std) and std >= 0):
            raise ValueError(f"init_std must be a finite number >= 0, got {init_std!r}")
        embedding = nn.Embedding(num_samples, p)
        with torch.no_grad():
            embedding.weight.normal_(0.0, std)
        super().__init__(embedding, p, num_classes, bias=bias)
        self.num_samples = num_samples
        self.init_std = std
        self.width = width

    @classmethod
    def data_arguments(cls, in_channels: int, data: Any = None) -> dict[str, Any]:
        """``num_samples``: one free feature per training sample (``len(data)``); the inputs are sample
        indices, so ``in_channels`` plays no part."""
        del in_channels
        return {} if data is None else {"num_samples": len(data)}

    @property
    def H(self) -> nn.Parameter:
        """The ``(N, p)`` feature matrix (``backbone.weight``)."""
        return self.backbone.weight
