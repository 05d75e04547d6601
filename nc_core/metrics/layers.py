"""Neural collapse layer by layer: NC1, NC2 and nearest-class-centre accuracy after every stage.

The paper measures collapse only in the last-layer features ``h`` (Section 2, Appendix B). This module
measures the same NC1 and NC2 on the output of every *stage* of ResNet9 and VGG9 (:func:`stage_outputs`),
plus the accuracy of the nearest-class-centre (NCC) classifier built on that stage's features, over a
dataset (the training set, at the end of training; ``RunConfig.layer_metrics``).

Reduction (the project's choice, not the paper's): a stage output ``a`` of shape ``(B, C, H, W)`` is
reduced to ``(B, C)`` features by **global average pooling**, ``h_c = (1/HW) sum_{i,j} a_{c,i,j}``
(computed in float64). The last stage is the model's own penultimate features ``model.features(x)``
``(B, p)``, taken as they are, so its NC1 and NC2 are exactly the last-layer values of
:func:`nc_core.train.evaluate.measure`.

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

from collections.abc import Callable, Iterator

import pandas as pd
import torch
from torch import nn

from ..data import ImageFolderData, TensorData
from ..models import VGG9, FeatureClassifier, ResNet9
from .accumulator import ClassStats, FeatureAccumulator
from .formulas import _etf_distance, _nc1, _unit_scale

__all__ = ["LAYER_COLUMNS", "layer_metrics", "stage_outputs"]

#: Columns of :func:`layer_metrics`, in order.
LAYER_COLUMNS = ("stage", "depth", "dim", "NC1", "NC2", "ncc_acc")

# ResNet9's stages before its last-layer features, by their names in the backbone
_RESNET9_STAGES = ("prep", "layer1", "res1", "layer2", "layer3", "res3")


def stage_outputs(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules whose outputs are the stages of ``model``, as ``(name, module)`` in depth order.

    * :class:`~nc_core.models.ResNet9`: ``prep, layer1, res1, layer2, layer3, res3`` and ``features``
      (the backbone's ``flatten``, whose output is ``model.features(x)``): 7 stages.
    * :class:`~nc_core.models.VGG9`: the outputs of the first four ``MaxPool2d`` (``pool1`` ... ``pool4``)
      and ``features`` (the final ``Flatten``: the fifth pool's 1x1 map, flattened, i.e.
      ``model.features(x)``): 5 stages.

    Raises:
        ValueError: any other model (the UFM, MLP, ViT and ResNet50 expose no stages).
    """
    if isinstance(model, ResNet9):
        backbone = model.backbone
        stages = [(name, getattr(backbone, name)) for name in _RESNET9_STAGES]
        return [*stages, ("features", backbone.flatten)]
    if isinstance(model, VGG9):
        pools = [m for m in model.backbone if isinstance(m, nn.MaxPool2d)]
        stages = [(f"pool{i}", m) for i, m in enumerate(pools[:-1], start=1)]
        return [*stages, ("features", model.backbone[-1])]
    raise ValueError(
        f"layer metrics need a model with stages: {type(model).__name__} has none (supported: ResNet9, VGG9)"
    )


def _batches(
    data: TensorData | ImageFolderData, batch_size: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(x, y)`` batches of ``data`` in order, without augmentation (as the last-layer metric pass)."""
    if isinstance(data, TensorData):
        return zip(data.x.split(batch_size), data.y.split(batch_size), strict=True)
    return data.eval_batches(batch_size)


def _pooled(output: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, C)`` by global average pooling in float64; ``(B, p)`` as it is."""
    return output.mean(dim=(2, 3), dtype=torch.float64) if output.dim() == 4 else output


def _collapse(stats: ClassStats) -> tuple[float, float]:
    """``(NC1, NC2)`` of one stage, computed as :func:`~nc_core.metrics.metrics_from_stats` does (on
    unit-scaled statistics, paper convention); ``(nan, nan)`` if all class means coincide."""
    if not bool((stats.centered_means != 0).any()):
        return float("nan"), float("nan")
    scaled = _unit_scale(stats)
    Mt = scaled.centered_means
    return _nc1(scaled), _etf_distance(Mt @ Mt.T) / stats.num_classes**2


def _ncc_correct(features: torch.Tensor, means: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Rows whose nearest class mean ``argmin_k ||h - mu_k||`` is their label (0-d int64, no host sync).

    ``||h - mu_k||^2 = ||h||^2 - 2 <mu_k, h> + ||mu_k||^2``, and ``||h||^2`` does not depend on ``k``.
    """
    h = features.to(torch.float64)
    predicted = ((means * means).sum(dim=1) - 2.0 * h @ means.T).argmin(dim=1)
    return (predicted == labels).sum()


@torch.no_grad()
def layer_metrics(
    model: FeatureClassifier, data: TensorData | ImageFolderData, *, batch_size: int = 1024
) -> pd.DataFrame:
    """NC1, NC2 and NCC accuracy of every stage of ``model`` over ``data`` (module docstring: the maths).

    Args:
        model: a ResNet9 or VGG9 (:func:`stage_outputs`); ``K = model.num_classes``.
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
    captured: dict[str, torch.Tensor] = {}

    def keep(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...], torch.Tensor], None]:
        def hook(_module: nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            captured[name] = _pooled(output)

        return hook

    handles = [module.register_forward_hook(keep(name)) for name, module in stages]
    was_training = model.training
    model.eval()
    try:
        accs = {name: FeatureAccumulator(model.num_classes) for name, _ in stages}
        for x, y in _batches(data, batch_size):
            model.features(x)
            for name, acc in accs.items():
                acc.update(captured[name], y)
        stats = {name: acc.finalize() for name, acc in accs.items()}
        correct = {name: torch.zeros((), dtype=torch.int64, device=data.device) for name in stats}
        for x, y in _batches(data, batch_size):
            model.features(x)
            for name, s in stats.items():
                correct[name] += _ncc_correct(captured[name], s.means, y)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    rows = []
    for depth, (name, s) in enumerate(stats.items()):
        nc1, nc2 = _collapse(s)
        rows.append((name, depth, s.feature_dim, nc1, nc2, float(correct[name]) / len(data)))
    return pd.DataFrame(rows, columns=list(LAYER_COLUMNS))
