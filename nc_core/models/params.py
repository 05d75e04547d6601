"""Weight-decay parameter groups: no decay on biases and normalisation-layer parameters; Muon groups.

The paper trains its ViT without weight decay on LayerNorm parameters and biases (Appendix D.4.5);
:func:`param_groups_for_decay` applies the same split to any model, as an option.
:func:`param_groups_for_muon` tags a model's parameters for the Muon optimizers beyond the paper
(``muon`` / ``muon_all`` of :func:`nc_core.optim.make_optimizer`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch import nn

from .base import FeatureClassifier

__all__ = ["MUON_MATRIX_TYPES", "NORM_TYPES", "param_groups_for_decay", "param_groups_for_muon"]

#: Module types whose parameters (affine weight and bias) are never decayed.
NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,  # BatchNorm{1,2,3}d, SyncBatchNorm, InstanceNorm{1,2,3}d
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.RMSNorm,
)

#: Module types whose ``weight`` is a hidden matrix for Muon (a conv kernel is stepped as ``out x rest``).
MUON_MATRIX_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def param_groups_for_decay(
    model: nn.Module, weight_decay: float, *, no_decay_names: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Split ``model``'s parameters into a decayed and a non-decayed optimizer parameter group.

    No decay (``weight_decay = 0``): every parameter registered under the name ``bias`` on any module,
    every parameter of a normalisation module (:data:`NORM_TYPES`: BatchNorm, LayerNorm, GroupNorm,
    ...), and any parameter whose full name is listed in ``no_decay_names`` (e.g.
    ``["backbone.cls_token", "backbone.pos_embed"]`` for the common ViT convention; the paper's ViT
    rule, "no decay on LayerNorm and biases", decays them, so that is the default).

    Decay (``weight_decay``): everything else - conv and linear weights, the UFM's feature matrix ``H``,
    the ViT's CLS token and position embeddings.

    Every parameter appears exactly once (shared parameters are listed once, under their first name);
    frozen parameters (``requires_grad=False``) are included too, optimizers skip them as they have no
    gradient. Returns ``[decay_group, no_decay_group]`` in that order, each
    ``{"params": [...], "weight_decay": ...}``, leaving out a group that would be empty.
    """
    wd = float(weight_decay)
    extra = set(no_decay_names)
    names = {name for name, _ in model.named_parameters()}
    unknown = extra - names
    if unknown:
        raise ValueError(f"no_decay_names not found among the model's parameters: {sorted(unknown)}")
    seen: set[int] = set()
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for module_name, module in model.named_modules():
        is_norm = isinstance(module, NORM_TYPES)
        for param_name, param in module.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            full = f"{module_name}.{param_name}" if module_name else param_name
            if is_norm or param_name == "bias" or full in extra:
                no_decay.append(param)
            else:
                decay.append(param)
    groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def param_groups_for_muon(
    model: FeatureClassifier, weight_decay: float, *, decay_norm_and_bias: bool = True
) -> list[dict[str, Any]]:
    """Split ``model``'s parameters into optimizer groups tagged with a ``role`` for the Muon optimizers.

    * ``"hidden"``: the ``weight`` of every ``nn.Linear`` / ``nn.Conv{1,2,3}d`` (:data:`MUON_MATRIX_TYPES`)
      except the classifier - the hidden matrices that both ``muon`` and ``muon_all`` step with Muon.
    * ``"classifier"``: ``model.classifier.weight``, the ``W`` of the NC metrics - AdamW under ``muon``
      (the usual recipe: Muon for hidden layers only), Muon under ``muon_all``.
    * ``"other"``: everything else, always AdamW - biases (the classifier's too), normalisation
      parameters, and matrices that are not layer weights (the UFM's features ``H``, an
      ``nn.Embedding``; the ViT's CLS token and position embeddings). The ViT's patch embedding is a
      ``Conv2d`` and counts as hidden.

    Every group gets ``weight_decay``, except that with ``decay_norm_and_bias=False`` the ``"other"``
    parameters :func:`param_groups_for_decay` would not decay (biases, normalisation layers) form an
    ``"other"`` group of their own with ``weight_decay = 0``. Every parameter appears exactly once
    (shared ones under their first name). Returns the non-empty groups among hidden, classifier, other
    (decayed), other (not decayed), in that order, each ``{"params": [...], "role": ...,
    "weight_decay": ...}``.
    """
    wd = float(weight_decay)
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, nn.Linear):
        raise ValueError(
            f"param_groups_for_muon needs a model with an nn.Linear 'classifier' (a FeatureClassifier), "
            f"got {type(model).__name__}"
        )
    no_decay: set[int] = set()
    if not decay_norm_and_bias:  # the parameters param_groups_for_decay leaves undecayed
        split = param_groups_for_decay(model, 1.0)
        no_decay = {id(p) for g in split if g["weight_decay"] == 0.0 for p in g["params"]}
    seen: set[int] = set()
    names = ("hidden", "classifier", "other", "other_no_decay")
    groups: dict[str, list[nn.Parameter]] = {name: [] for name in names}
    for module in model.modules():
        for param_name, param in module.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            if param_name == "weight" and module is classifier:
                groups["classifier"].append(param)
            elif param_name == "weight" and isinstance(module, MUON_MATRIX_TYPES) and param.ndim >= 2:
                groups["hidden"].append(param)
            elif id(param) in no_decay:
                groups["other_no_decay"].append(param)
            else:
                groups["other"].append(param)
    out = [
        {"params": groups["hidden"], "role": "hidden", "weight_decay": wd},
        {"params": groups["classifier"], "role": "classifier", "weight_decay": wd},
        {"params": groups["other"], "role": "other", "weight_decay": wd},
        {"params": groups["other_no_decay"], "role": "other", "weight_decay": 0.0},
    ]
    return [g for g in out if g["params"]]
