"""The optimizers compared in the paper (Sections 3.1, 3.4; Theorems 3.1, 3.3, 3.4; Appendix D), and
newer ones to test its weight-decay prediction beyond it.

* :func:`make_optimizer` - any of :data:`OPTIMIZER_NAMES` by name: ``sgd``, ``adam``, ``adamw`` are
  torch's own optimizers; ``sgdw``, ``signum``, ``signumw`` and ``adam_adamw`` are the classes below;
  beyond the paper, ``lion`` / ``lion_coupled``, ``sgd_schedulefree`` / ``adamw_schedulefree`` (the
  ``schedulefree`` package) and ``muon`` / ``muon_all``.
* :func:`is_decoupled`, :data:`COUPLED_DECOUPLED_PAIRS` - which names use
  decoupled weight decay, and the coupled/decoupled pairs (sgd/sgdw, adam/adamw, signum/signumw,
  lion_coupled/lion, sgd_schedulefree/adamw_schedulefree).
* :class:`SGDW`, :class:`Signum`, :class:`SignumW`, :class:`AdamAdamW` - ``torch.optim.Optimizer``
  subclasses with vectorised (``torch._foreach_*``) updates; see :mod:`nc_core.optim.rules`.
* :class:`Lion`, :class:`LionCoupled`, :class:`MuonAdamW` - see :mod:`nc_core.optim.beyond`.
"""

from __future__ import annotations

from .beyond import LION_BETA2, MUON_AUX_LR_RATIO, Lion, LionCoupled, MuonAdamW
from .factory import (
    COUPLED_DECOUPLED_PAIRS,
    FUSED_NAMES,
    MUON_NAMES,
    MUON_ROLES,
    OPTIMIZER_NAMES,
    PAPER_OPTIMIZER_NAMES,
    SCHEDULE_FREE_NAMES,
    is_decoupled,
    make_optimizer,
)
from .rules import SGDW, AdamAdamW, Signum, SignumW

__all__ = [
    "AdamAdamW",
    "COUPLED_DECOUPLED_PAIRS",
    "FUSED_NAMES",
    "LION_BETA2",
    "Lion",
    "LionCoupled",
    "MUON_AUX_LR_RATIO",
    "MUON_NAMES",
    "MUON_ROLES",
    "MuonAdamW",
    "OPTIMIZER_NAMES",
    "PAPER_OPTIMIZER_NAMES",
    "SCHEDULE_FREE_NAMES",
    "SGDW",
    "Signum",
    "SignumW",
    "is_decoupled",
    "make_optimizer",
]
