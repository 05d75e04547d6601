"""``make_optimizer``: the paper's optimizers by name, with validated hyperparameters.

==============  ==================================  ================================================
name            weight decay                        implementation
==============  ==================================  ================================================
``sgd``         coupled                             ``torch.optim.SGD`` (dampening 0, no Nesterov)
``sgdw``        decoupled                           :class:`~nc_core.optim.rules.SGDW`
``adam``        coupled (L2)                        ``torch.optim.Adam``, ``betas=(momentum, beta2)``
``adamw``       decoupled                           ``torch.optim.AdamW``, ``betas=(momentum, beta2)``
``signum``      coupled                             :class:`~nc_core.optim.rules.Signum`
``signumw``     decoupled                           :class:`~nc_core.optim.rules.SignumW`
``adam_adamw``  split (Section 3.4)                 :class:`~nc_core.optim.rules.AdamAdamW`
==============  ==================================  ================================================

In ``adam_adamw`` the share ``coupled_weight_decay`` of ``weight_decay`` is coupled and the rest decoupled.

``momentum = 0`` gives plain SGD / signSGD with coupled or decoupled decay; ``momentum = beta2 = 0`` gives
the paper's "AdamU" / "AdamW0" (Figure 8), whose step ``g / (|g| + eps)`` is close to ``sign(g)``.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT

from .rules import (
    SGDW,
    AdamAdamW,
    Signum,
    SignumW,
    check_coupled_share,
    check_nonnegative,
    check_unit_interval,
)

__all__ = [
    "COUPLED_DECOUPLED_PAIRS",
    "OPTIMIZER_NAMES",
    "decay_counterpart",
    "is_decoupled",
    "make_optimizer",
]

# name -> whether its weight decay is decoupled. ``adam_adamw`` counts as decoupled: with its default
# ``coupled_weight_decay`` (0) it is exactly AdamW; a run with a nonzero coupled share is a mixture.
_DECOUPLED: dict[str, bool] = {
    "sgd": False,
    "sgdw": True,
    "adam": False,
    "adamw": True,
    "signum": False,
    "signumw": True,
    "adam_adamw": True,
}

OPTIMIZER_NAMES: tuple[str, ...] = tuple(_DECOUPLED)
"""Every name :func:`make_optimizer` accepts (lower case)."""

COUPLED_DECOUPLED_PAIRS: tuple[tuple[str, str], ...] = (
    ("sgd", "sgdw"),
    ("adam", "adamw"),
    ("signum", "signumw"),
)
"""``(coupled, decoupled)`` variants of the same rule, for side-by-side comparisons."""


def _canonical(name: str) -> str:
    key = name.strip().lower()
    if key not in _DECOUPLED:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZER_NAMES)}")
    return key


def is_decoupled(name: str) -> bool:
    """Whether optimizer ``name`` (case-insensitive) applies its weight decay decoupled (AdamW-style).

    ``adam_adamw`` reports ``True`` (its default, ``coupled_weight_decay = 0``, is AdamW).
    """
    return _DECOUPLED[_canonical(name)]


def decay_counterpart(name: str) -> str | None:
    """The same rule with the other decay coupling (``"sgd"`` <-> ``"sgdw"``, ...); ``None`` for
    ``adam_adamw``, which interpolates between ``adam`` and ``adamw`` itself."""
    key = _canonical(name)
    for coupled, decoupled in COUPLED_DECOUPLED_PAIRS:
        if key == coupled:
            return decoupled
        if key == decoupled:
            return coupled
    return None


def make_optimizer(
    name: str,
    params: ParamsT,
    *,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    coupled_weight_decay: float | None = None,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> Optimizer:
    """Build optimizer ``name`` (see the module table) over ``params`` (tensors or param-group dicts).

    Args:
        name: one of :data:`OPTIMIZER_NAMES`, case-insensitive.
        params: as for any ``torch.optim.Optimizer``; per-group dicts may override the hyperparameters.
        lr: learning rate; every decay term uses the current (scheduled) ``group["lr"]``.
        momentum: heavy-ball momentum (``sgd``, ``sgdw``), EMA coefficient (``signum*``) or ``beta1``
            (``adam*``); in ``[0, 1)``.
        weight_decay: total weight decay ``lambda >= 0``.
        coupled_weight_decay: ``adam_adamw`` only: the share of ``weight_decay`` added to the gradient,
            in ``[0, weight_decay]``; ``None`` means 0 (pure AdamW).
        beta2: second-moment coefficient of the Adam family, in ``[0, 1)``; unused by the others.
        eps: Adam denominator epsilon, ``>= 0``; unused by the others.

    Raises:
        ValueError: unknown name or an invalid hyperparameter (the message names it).
    """
    key = _canonical(name)
    check_nonnegative("lr", lr)
    check_unit_interval("momentum", momentum)
    check_nonnegative("weight_decay", weight_decay)
    check_unit_interval("beta2", beta2)
    check_nonnegative("eps", eps)
    if coupled_weight_decay is not None and key != "adam_adamw":
        raise ValueError(f"coupled_weight_decay is only accepted by 'adam_adamw', not by {key!r}")

    betas = (momentum, beta2)
    match key:
        case "sgd":
            return torch.optim.SGD(
                params, lr=lr, momentum=momentum, dampening=0.0, weight_decay=weight_decay, nesterov=False
            )
        case "sgdw":
            return SGDW(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        case "adam":
            return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        case "adamw":
            return torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        case "signum":
            return Signum(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        case "signumw":
            return SignumW(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        case _:  # "adam_adamw"
            coupled = 0.0 if coupled_weight_decay is None else coupled_weight_decay
            check_coupled_share(coupled, weight_decay)
            return AdamAdamW(
                params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, coupled_weight_decay=coupled
            )
