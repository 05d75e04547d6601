"""The optimizers compared in the paper (Sections 3.1, 3.4; Theorems 3.1, 3.3, 3.4; Appendix D).

* :func:`make_optimizer` - any of :data:`OPTIMIZER_NAMES` by name: ``sgd``, ``adam``, ``adamw`` are
  torch's own optimizers; ``sgdw``, ``signum``, ``signumw`` and ``adam_adamw`` are the classes below.
* :func:`is_decoupled`, :func:`decay_counterpart`, :data:`COUPLED_DECOUPLED_PAIRS` - which names use
  decoupled weight decay, and the coupled/decoupled pairs (sgd/sgdw, adam/adamw, signum/signumw).
* :class:`SGDW`, :class:`Signum`, :class:`SignumW`, :class:`AdamAdamW` - ``torch.optim.Optimizer``
  subclasses with vectorised (``torch._foreach_*``) updates; see :mod:`nc_core.optim.rules`.
"""

from __future__ import annotations

from .factory import COUPLED_DECOUPLED_PAIRS, OPTIMIZER_NAMES, decay_counterpart, is_decoupled, make_optimizer
from .rules import SGDW, AdamAdamW, Signum, SignumW

__all__ = [
    "AdamAdamW",
    "COUPLED_DECOUPLED_PAIRS",
    "OPTIMIZER_NAMES",
    "SGDW",
    "Signum",
    "SignumW",
    "decay_counterpart",
    "is_decoupled",
    "make_optimizer",
]
