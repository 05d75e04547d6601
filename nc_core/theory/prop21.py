"""Proposition 2.1 (NC2 and NC3 imply NC0) along a trajectory converging to an NC solution.

If ``M/||M|| -> Q M*`` (NC2, ``M*`` the simplex ETF Gram ``(I - J/K)/sqrt(K-1)``) and
``W^T/||W|| - M/||M|| -> 0`` (NC3), then ``W W^T/||W||_F^2 -> M*`` and ``1^T M* 1 = 0`` gives
``||W^T 1||^2/||W||_F^2 -> 0``: NC0 vanishes relative to the scale of ``W``. The trajectory used here is the
UFM of Appendix C.5 trained full-batch with SGD + momentum + coupled weight decay, which converges to
the NC global minimiser of the regularised UFM (Zhu et al., 2021).
"""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F

from nc_core.metrics import nc_metrics
from nc_core.models import make_model
from nc_core.optim import make_optimizer

__all__ = ["ufm_collapse_trajectory"]


def ufm_collapse_trajectory(
    K: int = 4,
    n_per_class: int = 5,
    p: int = 8,
    *,
    eta: float = 0.5,
    beta: float = 0.9,
    lam: float = 5e-3,
    steps: int = 2000,
    log_every: int = 50,
    seed: int = 0,
) -> pd.DataFrame:
    """Train the UFM (``N = K n_per_class`` free features in ``R^p``, bias-free classifier) with
    ``make_optimizer("sgd", lr=eta, momentum=beta, weight_decay=lam)`` on the mean CE loss, float64.

    Returns:
        DataFrame with ``step`` and the paper-convention ``NC0 = ||W^T 1||^2/K``, ``NC0_rel =
        ||W^T 1||^2/||W||_F^2`` (the scale-free quantity Proposition 2.1 controls), ``NC1``, ``NC2``,
        ``NC3`` (:func:`nc_core.metrics.nc_metrics`) every ``log_every`` steps.
    """
    torch.manual_seed(seed)
    net = make_model("ufm", num_classes=K, num_samples=K * n_per_class, feature_dim=p).double()
    idx, y = torch.arange(K * n_per_class), torch.arange(K).repeat_interleave(n_per_class)
    opt = make_optimizer("sgd", net.parameters(), lr=eta, momentum=beta, weight_decay=lam)
    W, rows = net.classifier.weight, []
    for t in range(steps + 1):
        if t % log_every == 0 or t == steps:
            with torch.no_grad():
                m = nc_metrics(net.features(idx), y, W.detach())
                rel = K * m["NC0"] / float(W.square().sum())
            rows.append(
                {
                    "step": t,
                    "NC0": m["NC0"],
                    "NC0_rel": rel,
                    "NC1": m["NC1"],
                    "NC2": m["NC2"],
                    "NC3": m["NC3"],
                }
            )
        opt.zero_grad()
        F.cross_entropy(net(idx), y).backward()
        opt.step()
    return pd.DataFrame(rows)
