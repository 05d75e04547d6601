"""Weight-decay parameter groups: no decay on biases and normalisation-layer parameters.

The paper trains its ViT without weight decay on LayerNorm parameters and biases (Appendix D.4.5);
:func:`param_groups_for_decay` applies the same split to any model, as an option.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch import nn

__all__ = ["NORM_TYPES", "param_groups_for_decay"]

#: Module types whose parameters (affine weight and bias) are never decayed.
NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,  # BatchNorm{1,2,3}d, SyncBatchNorm, InstanceNorm{1,2,3}d
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.RMSNorm,
)


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
