"""Figure 8: NC0 of an MLP's last layer on a linearly separable dataset under several optimizers.

Set-up (the paper gives no hyperparameters; these are this project's choices): ``K`` classes of
:func:`~nc_core.data.separable_data`, MLP with hidden widths ``hidden`` (default ``(32, 32)``) and a
down-scaled initial classifier weight, float64, full-batch steps on the mean CE loss, the same weight
decay ``lam`` on every parameter. The adaptive / sign rules share ``lr``; SGD (momentum 0.9) uses
``sgd_lr``. AdamU / AdamW0 are Adam / AdamW with ``beta1 = beta2 = 0`` (step ``g/(|g| + eps)``, close
to sign GD); SignSGD / SignSGDW are Signum / SignumW with momentum 0, the rules of Theorems 3.4 / 3.3.
Expected shapes (Section 3.3): coupled sign-like rules rise, then fall; decoupled ones plateau at a
positive value; SGD decays monotonically (Lemma E.5: its row sum obeys a linear recursion that does not
see the gradient). SignSGDW approaches its plateau only after ``~1/(lr * lam)`` steps (Theorem 3.3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nc_core.data import separable_data
from nc_core.metrics import nc0
from nc_core.models import make_model
from nc_core.optim import make_optimizer

__all__ = ["FIG8_OPTIMIZERS", "classify_curve", "fig8_nc0_curves"]

#: label -> (make_optimizer name, keyword arguments other than lr / weight_decay, coupled decay?)
FIG8_OPTIMIZERS: dict[str, tuple[str, dict[str, float], bool]] = {
    "SGD": ("sgd", {"momentum": 0.9}, True),
    "Adam": ("adam", {"momentum": 0.9, "beta2": 0.999}, True),
    "AdamW": ("adamw", {"momentum": 0.9, "beta2": 0.999}, False),
    "AdamU": ("adam", {"momentum": 0.0, "beta2": 0.0}, True),
    "AdamW0": ("adamw", {"momentum": 0.0, "beta2": 0.0}, False),
    "SignSGD": ("signum", {"momentum": 0.0}, True),
    "SignSGDW": ("signumw", {"momentum": 0.0}, False),
}


def fig8_nc0_curves(
    *,
    K: int = 4,
    n_per_class: int = 20,
    dim: int = 10,
    lr: float = 1e-3,
    sgd_lr: float = 0.1,
    lam: float = 0.05,
    steps: int = 2000,
    log_every: int = 20,
    seed: int = 0,
    hidden: tuple[int, ...] = (32, 32),
    w0_scale: float = 0.1,
    optimizers: list[str] | None = None,
) -> pd.DataFrame:
    """NC0 ``= ||W^T 1||^2/K`` (paper convention, Theorem 3.1's ``alpha_t``) of the last layer along
    full-batch training, one run per optimizer label of :data:`FIG8_OPTIMIZERS` (all by default), each
    from the same initial network, whose classifier weight is PyTorch's default scaled by ``w0_scale``
    (``0`` gives the ``W_0 = 0`` of Theorems 3.3 / 3.4, under which SGD keeps NC0 exactly 0 by Lemma E.5;
    the backbone keeps PyTorch's default initialisation).

    Returns:
        tidy DataFrame ``(optimizer, coupled, step, NC0)``.
    """
    data = separable_data(n_per_class, K, dim, seed=seed)
    x, y = data.x.double(), data.y
    torch.manual_seed(seed)
    init = make_model("mlp", num_classes=K, in_features=dim, hidden=hidden).double().state_dict()
    init["classifier.weight"].mul_(w0_scale)
    rows = []
    for label in optimizers or list(FIG8_OPTIMIZERS):
        name, kwargs, coupled = FIG8_OPTIMIZERS[label]
        net = make_model("mlp", num_classes=K, in_features=dim, hidden=hidden).double()
        net.load_state_dict(init)
        opt = make_optimizer(
            name, net.parameters(), lr=sgd_lr if name == "sgd" else lr, weight_decay=lam, **kwargs
        )
        for t in range(steps + 1):
            if t % log_every == 0:
                rows.append(
                    {"optimizer": label, "coupled": coupled, "step": t, "NC0": nc0(net.classifier.weight)}
                )
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
    return pd.DataFrame(rows)


def classify_curve(nc0: np.ndarray, *, rise: float = 0.5, fall: float = 0.5, flat: float = 0.1) -> str:
    """Shape of an NC0 curve, so that the claims of Section 3.3 are checkable.

    * ``"rise_then_fall"``: the peak exceeds the start by ``rise`` (relative), lies before the last
      quarter, and the end is below ``(1 - fall)`` times the peak;
    * ``"plateau"``: over the last quarter the relative range ``(max - min)/max`` is below ``flat`` and
      the end is at least half the peak (a positive limit);
    * ``"decreasing"``: never above the start by more than ``flat`` and ending below ``(1 - fall)`` times it;
    * ``"other"`` otherwise.
    """
    c = np.asarray(nc0, dtype=np.float64)
    peak, i_peak, tail = c.max(), int(c.argmax()), c[-max(2, len(c) // 4) :]
    if peak >= (1 + rise) * c[0] and i_peak < 0.75 * len(c) and c[-1] <= (1 - fall) * peak:
        return "rise_then_fall"
    if (tail.max() - tail.min()) <= flat * tail.max() and c[-1] >= 0.5 * peak and c[-1] > 0:
        return "plateau"
    if peak <= (1 + flat) * c[0] and c[-1] <= (1 - fall) * c[0]:
        return "decreasing"
    return "other"
