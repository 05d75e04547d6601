"""Neural collapse layer by layer: NC1, NC2 and nearest-class-centre accuracy after every stage.

The paper measures collapse only in the last-layer features ``h`` (Section 2, Appendix B). This module
measures the same NC1 and NC2 on the output of every *stage* of a model, plus the accuracy of the
nearest-class-centre (NCC) classifier built on that stage's features, over a dataset (the training set, at
the end of training; ``RunConfig.layer_metrics``). A model names its stages itself: its ``stages``
attribute maps stage names to dotted module names (:func:`stage_outputs`; the project's ResNet9 and VGG9
have them, see :class:`~nc_core.models.FeatureClassifier`). Any other network is measured with
``nc_core.metrics.measure(model, loader, classifier, layers=[names])``: both go through the same forward
hooks (:func:`~nc_core.metrics.measure.stage_table`).

Reduction (the project's choice, not the paper's): a stage output ``a`` of shape ``(B, C, H, W)`` is
reduced to ``(B, C)`` features by **global average pooling**, ``h_c = (1/HW) sum_{i,j} a_{c,i,j}``
(computed in float64). A ``(B, p)`` output is taken as it is: the last stage of the project's models is
their own penultimate features ``model.features(x)``, so its NC1 and NC2 are exactly the last-layer values
of :func:`nc_core.train.evaluate.measure`.

Per stage, with ``N`` samples, ``K`` classes, class means ``mu_k``, ``mu_G`` the mean of the class means
and ``M = [mu_k - mu_G]`` (``p x K``), all in float64 (:class:`~nc_core.metrics.FeatureAccumulator`):

* ``NC1 = Tr(Sigma_W Sigma_B^+) / K`` (paper eq. 2, Appendix B), ``Sigma_W = (1/N) sum_n (h_n -
  mu_{y_n})(h_n - mu_{y_n})^T``, ``Sigma_B = M M^T / K``, ``+`` the Moore-Penrose pseudo-inverse;
* ``NC2 = || M^T M / ||M^T M||_F - M* ||_F / K^2`` (eq. 5, the paper convention that ``measure``
  reports as ``NC2``), ``M* = (I - J/K)/sqrt(K-1)`` the simplex-ETF Gram matrix;
* ``ncc_acc = (1/N) #{n : argmin_k ||h_n - mu_k|| = y_n}``: the nearest-class-centre rule of eq. 11
  (Papyan et al. 2020), scored against the labels, with the class means of the same data.

NC1 and NC2 are undefined at a stage whose class means all coincide: they are reported as NaN there (the
last-layer pass raises :class:`~nc_core.metrics.DegenerateFeaturesError` instead, which ends a run as
diverged; the stage table of a completed run is never lost to one degenerate stage).

Two forward passes over the data, in eval mode and without gradients: forward hooks on the stage modules
feed one accumulator per stage (pass 1), then the NCC predictions are scored against each stage's class
means (pass 2).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pandas as pd
import torch
from torch import nn

from ..data import ImageFolderData, TensorData
from ..models import FeatureClassifier
from .measure import LAYER_COLUMNS, resolve_layer, stage_table

__all__ = ["LAYER_COLUMNS", "layer_metrics", "stage_outputs"]


def _models_with_stages() -> list[str]:
    """The project's model classes that name their stages (for the error message of :func:`stage_outputs`)."""
    found, todo = set(), list(FeatureClassifier.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("nc_core.models") and getattr(cls, "stages", None):
            found.add(cls.__name__)
    return sorted(found)


def stage_outputs(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules whose outputs are the stages of ``model``, as ``(name, module)`` in depth order.

    The model names them in its ``stages`` attribute: a mapping ``{stage name: dotted module name}`` (or a
    sequence of dotted module names, each its own stage name), e.g. ResNet9's ``prep, layer1, res1, layer2,
    layer3, res3, features`` (7 stages) and VGG9's ``pool1`` ... ``pool4``, ``features`` (5 stages).

    Raises:
        ValueError: a model without stages (the UFM, MLP, ViT and ResNet50 expose none), or a stage naming
            a module the model does not have.
    """
    stages = getattr(model, "stages", None)
    if not stages:
        raise ValueError(
            f"layer metrics need a model with stages: {type(model).__name__} has none (supported: "
            f"{', '.join(_models_with_stages())}); for any other network name its stages: "
            "nc_core.metrics.measure(model, loader, classifier, layers=[module names])"
        )
    pairs = stages.items() if isinstance(stages, Mapping) else ((name, name) for name in stages)
    return [(str(label), resolve_layer(model, name, "stage")[1]) for label, name in pairs]


class _Batches:
    """``(x, y)`` batches of ``data`` in order, without augmentation (as the last-layer metric pass); a
    new pass at every iteration."""

    def __init__(self, data: TensorData | ImageFolderData, batch_size: int) -> None:
        self.data, self.batch_size = data, batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if isinstance(self.data, TensorData):
            return zip(self.data.x.split(self.batch_size), self.data.y.split(self.batch_size), strict=True)
        return self.data.eval_batches(self.batch_size)


def layer_metrics(
    model: FeatureClassifier, data: TensorData | ImageFolderData, *, batch_size: int = 1024
) -> pd.DataFrame:
    """NC1, NC2 and NCC accuracy of every stage of ``model`` over ``data`` (module docstring: the maths).

    Args:
        model: a model that names its stages (:func:`stage_outputs`); ``K = model.num_classes``.
        data: the samples (the training set at the end of training), on the model's device; every class
            must occur.
        batch_size: samples per forward pass.

    Returns:
        One row per stage in depth order, columns :data:`LAYER_COLUMNS`: ``stage`` (name), ``depth``
        (0-based), ``dim`` (feature width of the stage), ``NC1``, ``NC2``, ``ncc_acc``.

    Raises:
        ValueError: a model without stages, an empty class, labels outside ``[0, K)``.

    The model is put in eval mode for both passes and restored to its previous mode afterwards.
    """
    stages = stage_outputs(model)
    return stage_table(model, _Batches(data, batch_size), stages, model.num_classes, device=data.device)
