"""``make_optimizer``: the paper's optimizers, and newer ones beyond it, by name, with validated
hyperparameters.

======================  ==================================  ==================================================
name                    weight decay                        implementation
======================  ==================================  ==================================================
``sgd``                 coupled                             ``torch.optim.SGD`` (dampening 0, no Nesterov)
``sgdw``                decoupled                           :class:`~nc_core.optim.rules.SGDW`
``adam``                coupled (L2)                        ``torch.optim.Adam``, ``betas=(momentum, beta2)``
``adamw``               decoupled                           ``torch.optim.AdamW``, ``betas=(momentum, beta2)``
``signum``              coupled                             :class:`~nc_core.optim.rules.Signum`
``signumw``             decoupled                           :class:`~nc_core.optim.rules.SignumW`
``adam_adamw``          split (Section 3.4)                 :class:`~nc_core.optim.rules.AdamAdamW`
``lion``                decoupled: ``theta (1 - lr wd)``    :class:`~nc_core.optim.beyond.Lion` (lion-pytorch)
``lion_coupled``        coupled: ``g + wd theta`` before    :class:`~nc_core.optim.beyond.LionCoupled`
                        the sign
``sgd_schedulefree``    coupled: ``g + wd y`` (L2 gradient  ``schedulefree.SGDScheduleFree``
                        at y)
``adamw_schedulefree``  decoupled: ``+ wd y`` after the     ``schedulefree.AdamWScheduleFree``
                        Adam normalisation
``muon``                decoupled (Muon and AdamW groups)   :class:`~nc_core.optim.beyond.MuonAdamW`,
                                                            classifier on AdamW
``muon_all``            decoupled (Muon and AdamW groups)   :class:`~nc_core.optim.beyond.MuonAdamW`,
                                                            classifier weight on Muon
======================  ==================================  ==================================================

In ``adam_adamw`` the share ``coupled_weight_decay`` of ``weight_decay`` is coupled and the rest decoupled.

``fused=True`` (``adam``, ``adamw``: :data:`FUSED_NAMES`) takes torch's fused kernel of the same update (CPU
and CUDA): the same mathematics as torch's per-tensor loop, different float32 rounding, 1.05x faster per
step at the ``cpu`` scale (``benchmarks/step_profile.py``). torch's fused SGD measured no faster there
(0.999x and 1.015x, within noise), so ``sgd`` keeps its loop.

``momentum = 0`` gives plain SGD / signSGD with coupled or decoupled decay; ``momentum = beta2 = 0`` gives
the paper's "AdamU" / "AdamW0" (Figure 8), whose step ``g / (|g| + eps)`` is close to ``sign(g)``.

Beyond the paper (:mod:`nc_core.optim.beyond` has the maths):

* Lion: ``momentum`` is ``beta1``; ``beta2`` defaults to Lion's own 0.99 (:data:`LION_BETA2`) when not
  given, and a given ``beta2`` is always used as it is (a :class:`~nc_core.train.RunConfig` always gives
  one, 0.999 by default: set ``beta2=0.99`` in Lion runs for Lion's usual value). ``lr`` must be ``> 0``.
  ``momentum = 0`` is exactly ``signumw`` / ``signum`` at momentum 0.
* Schedule-Free: ``momentum`` is the interpolation ``beta`` (``beta1`` of AdamW-SF), in ``(0, 1)``
  (their ``eval()`` divides by it). ``warmup_steps`` (default 0: no warm-up, as every other optimizer
  of the paper's protocol; the package's linear warm-up otherwise) is theirs; ``r = 0`` and
  ``weight_lr_power = 2`` are the package defaults. They must be put in ``train()`` mode before steps
  and ``eval()`` mode (parameters = the average ``x``) before measuring or checkpointing - the training
  engine does both. They need no LR schedule: train them with ``lr_schedule="constant"`` (any schedule
  still multiplies their ``lr``). The pair ``(sgd_schedulefree, adamw_schedulefree)`` is coupled vs
  decoupled, but the base rules differ too (plain vs Adam-normalised steps).
* Muon: ``params`` must be parameter groups tagged with a ``role`` - ``"hidden"`` (Muon), ``"classifier"``
  (AdamW in ``muon``, Muon in ``muon_all``) or ``"other"`` (AdamW) - as
  :func:`nc_core.models.params.param_groups_for_muon` builds them. ``lr`` is Muon's LR (usually 0.02) and
  ``aux_lr`` the AdamW groups' (default ``lr * MUON_AUX_LR_RATIO`` = ``lr / 20``); ``momentum`` is
  Muon's momentum (Nesterov) and AdamW's ``beta1``; ``beta2`` (default 0.999) and ``eps`` are AdamW's.
"""

from __future__ import annotations

from typing import Any

import schedulefree
import torch
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT

from .beyond import LION_BETA2, Lion, LionCoupled, MuonAdamW, check_positive
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
    "FUSED_NAMES",
    "MUON_NAMES",
    "MUON_ROLES",
    "OPTIMIZER_NAMES",
    "PAPER_OPTIMIZER_NAMES",
    "SCHEDULE_FREE_NAMES",
    "is_decoupled",
    "make_optimizer",
]

# name -> whether its weight decay is decoupled. ``adam_adamw`` counts as decoupled: with its default
# ``coupled_weight_decay`` (0) it is exactly AdamW; a run with a nonzero coupled share is a mixture.
# The schedule-free entries were read off the schedulefree 1.4.1 source: SGD adds wd * y to the gradient
# (coupled), AdamW adds it after the Adam normalisation (decoupled), both at y and into z.
_DECOUPLED: dict[str, bool] = {
    "sgd": False,
    "sgdw": True,
    "adam": False,
    "adamw": True,
    "signum": False,
    "signumw": True,
    "adam_adamw": True,
    "lion": True,
    "lion_coupled": False,
    "sgd_schedulefree": False,
    "adamw_schedulefree": True,
    "muon": True,
    "muon_all": True,
}

OPTIMIZER_NAMES: tuple[str, ...] = tuple(_DECOUPLED)
"""Every name :func:`make_optimizer` accepts (lower case)."""

PAPER_OPTIMIZER_NAMES: tuple[str, ...] = ("sgd", "sgdw", "adam", "adamw", "signum", "signumw", "adam_adamw")
"""The paper's optimizers; the rest of :data:`OPTIMIZER_NAMES` goes beyond it."""

SCHEDULE_FREE_NAMES: tuple[str, ...] = ("sgd_schedulefree", "adamw_schedulefree")
"""Names whose optimizers need ``train()`` / ``eval()`` (schedule-free)."""

FUSED_NAMES: tuple[str, ...] = ("adam", "adamw")
"""Names that take torch's fused kernel (``make_optimizer(..., fused=True)``), where it is faster."""

MUON_NAMES: tuple[str, ...] = ("muon", "muon_all")
"""Names that take role-tagged parameter groups (:func:`nc_core.models.params.param_groups_for_muon`)."""

MUON_ROLES: tuple[str, ...] = ("hidden", "classifier", "other")
"""The ``role`` tags of a Muon name's parameter groups."""

COUPLED_DECOUPLED_PAIRS: tuple[tuple[str, str], ...] = (
    ("sgd", "sgdw"),
    ("adam", "adamw"),
    ("signum", "signumw"),
    ("lion_coupled", "lion"),
    ("sgd_schedulefree", "adamw_schedulefree"),
)
"""``(coupled, decoupled)`` variants, for side-by-side comparisons: of the same rule, except the
schedule-free pair, whose members also differ in their base rule (SGD vs Adam-normalised steps), as the
schedulefree package offers no other coupled/decoupled pair."""


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


def _route_muon_groups(key: str, params: ParamsT) -> list[dict[str, Any]]:
    """The role-tagged groups of ``params`` with ``use_muon`` set by role and name (``muon_all`` sends the
    classifier to Muon, ``muon`` to AdamW)."""
    groups = list(params)
    if not groups or not all(isinstance(g, dict) and "role" in g for g in groups):
        raise ValueError(
            f"optimizer {key!r} needs parameter groups tagged with a 'role' ({', '.join(MUON_ROLES)}): build "
            "them from the model with nc_core.models.params.param_groups_for_muon(model, weight_decay)"
        )
    routed = []
    for group in groups:
        role = group["role"]
        if role not in MUON_ROLES:
            raise ValueError(f"parameter-group role must be one of {MUON_ROLES}, got {role!r}")
        use_muon = role == "hidden" or (role == "classifier" and key == "muon_all")
        routed.append({**group, "use_muon": use_muon})
    return routed


def _check_only_for(argument: str, value: object, key: str, names: tuple[str, ...]) -> None:
    if value is not None and key not in names:
        raise ValueError(f"{argument} is only accepted by {' / '.join(map(repr, names))}, not by {key!r}")


def make_optimizer(
    name: str,
    params: ParamsT,
    *,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    coupled_weight_decay: float | None = None,
    beta2: float | None = None,
    eps: float = 1e-8,
    warmup_steps: int | None = None,
    aux_lr: float | None = None,
    fused: bool | None = None,
) -> Optimizer:
    """Build optimizer ``name`` (see the module table) over ``params`` (tensors or param-group dicts).

    Args:
        name: one of :data:`OPTIMIZER_NAMES`, case-insensitive.
        params: as for any ``torch.optim.Optimizer``; per-group dicts may override the hyperparameters.
            ``muon`` / ``muon_all`` take role-tagged groups only (see the module docstring).
        lr: learning rate; every decay term uses the current (scheduled) ``group["lr"]``. Muon's LR for
            the Muon names; ``> 0`` for Lion.
        momentum: heavy-ball momentum (``sgd``, ``sgdw``), EMA coefficient (``signum*``), ``beta1``
            (``adam*``, ``lion*``, AdamW groups of ``muon*``), Muon's momentum, or the schedule-free
            interpolation weight; in ``[0, 1)`` (``(0, 1)`` for the schedule-free names).
        weight_decay: total weight decay ``lambda >= 0``.
        coupled_weight_decay: ``adam_adamw`` only: the share of ``weight_decay`` added to the gradient,
            in ``[0, weight_decay]``; ``None`` means 0 (pure AdamW).
        beta2: second-moment coefficient of the Adam family (and the AdamW groups of ``muon*``), or
            Lion's momentum-EMA coefficient, in ``[0, 1)``; ``None`` means 0.999, or 0.99 for Lion
            (:data:`~nc_core.optim.beyond.LION_BETA2`). Unused by the others.
        eps: Adam denominator epsilon, ``>= 0``; unused by the others.
        warmup_steps: schedule-free names only: linear LR warm-up steps, an integer ``>= 0``; ``None``
            means 0.
        aux_lr: ``muon`` / ``muon_all`` only: the AdamW groups' LR, ``>= 0``; ``None`` means
            ``lr * MUON_AUX_LR_RATIO`` (``lr / 20``).
        fused: :data:`FUSED_NAMES` only: ``True`` takes torch's fused kernel, ``False`` its per-tensor
            loop; ``None`` leaves torch's default (on the CPU the loop, on CUDA ``foreach``).

    Raises:
        ValueError: unknown name or an invalid hyperparameter (the message names it).
    """
    key = _canonical(name)
    check_nonnegative("lr", lr)
    check_unit_interval("momentum", momentum)
    check_nonnegative("weight_decay", weight_decay)
    if beta2 is None:
        beta2 = LION_BETA2 if key in ("lion", "lion_coupled") else 0.999
    check_unit_interval("beta2", beta2)
    check_nonnegative("eps", eps)
    if coupled_weight_decay is not None and key != "adam_adamw":
        raise ValueError(f"coupled_weight_decay is only accepted by 'adam_adamw', not by {key!r}")
    _check_only_for("warmup_steps", warmup_steps, key, SCHEDULE_FREE_NAMES)
    _check_only_for("aux_lr", aux_lr, key, MUON_NAMES)
    _check_only_for("fused", fused, key, FUSED_NAMES)
    if key in ("lion", "lion_coupled"):
        check_positive("lr", lr)
    if key in SCHEDULE_FREE_NAMES:
        if momentum == 0.0:
            raise ValueError(f"momentum must lie in (0, 1) for {key!r} (its eval() divides by it), got 0.0")
        warmup_steps = 0 if warmup_steps is None else warmup_steps
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    if aux_lr is not None:
        check_nonnegative("aux_lr", aux_lr)

    betas = (momentum, beta2)
    match key:
        case "sgd":
            return torch.optim.SGD(
                params, lr=lr, momentum=momentum, dampening=0.0, weight_decay=weight_decay, nesterov=False
            )
        case "sgdw":
            return SGDW(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        case "adam":
            return torch.optim.Adam(
                params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, fused=fused
            )
        case "adamw":
            return torch.optim.AdamW(
                params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, fused=fused
            )
        case "signum":
            return Signum(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        case "signumw":
            return SignumW(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        case "adam_adamw":
            coupled = 0.0 if coupled_weight_decay is None else coupled_weight_decay
            check_coupled_share(coupled, weight_decay)
            return AdamAdamW(
                params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, coupled_weight_decay=coupled
            )
        case "lion":
            return Lion(params, lr=lr, betas=betas, weight_decay=weight_decay)
        case "lion_coupled":
            return LionCoupled(params, lr=lr, betas=betas, weight_decay=weight_decay)
        case "sgd_schedulefree":
            return schedulefree.SGDScheduleFree(
                params, lr=lr, momentum=momentum, weight_decay=weight_decay, warmup_steps=warmup_steps,
                r=0.0, weight_lr_power=2.0,
            )  # fmt: skip
        case "adamw_schedulefree":
            return schedulefree.AdamWScheduleFree(
                params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, warmup_steps=warmup_steps,
                r=0.0, weight_lr_power=2.0,
            )  # fmt: skip
        case _:  # "muon", "muon_all"
            return MuonAdamW(
                _route_muon_groups(key, params), lr=lr, aux_lr=aux_lr, momentum=momentum, betas=betas,
                eps=eps, weight_decay=weight_decay,
            )  # fmt: skip
