"""Sign GD on the UFM with fixed NC features (Theorems 3.3 / 3.4, Appendix E Theorems E.2 / E.3).

Set-up of the paper: ``K`` classes, one sample per class, features ``H = M* = (I - J/K)/sqrt(K-1)``
fixed (``K x K``, column ``n`` is ``h_n``), ``W_0 = 0`` and the *summed* loss
``L(W) = sum_n CE(W h_n, e_n)``. The simulation steps the project's own optimizers on that loss
through torch autograd (float64): ``signumw`` with momentum 0 is
``W <- (1 - eta*lambda) W - eta*sign(grad L)`` (decoupled, Thm 3.3) and ``signum`` with momentum 0 is
``W <- W - eta*sign(grad L + lambda W)`` (coupled, Thm 3.4).

NC0 normalisation: ``nc0 = (1/K)||W^T 1||^2 = <W W^T, J/K>_F`` - the ``alpha_t`` of Theorem 3.1 and
of the appendix proofs, and the paper-convention NC0 of :func:`nc_core.metrics.nc_metrics`. The main
text of Theorem 3.3 writes ``alpha = ||W^T 1||^2`` but states the limit ``(K-2)^2/lambda^2``, which
holds for ``(1/K)||W^T 1||^2`` only; ``||W^T 1||^2`` itself tends to ``K (K-2)^2/lambda^2``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nc_core.metrics import nc0, simplex_etf_gram
from nc_core.optim import make_optimizer

__all__ = ["simulate_ufm_sign_gd", "thm33_nc0"]


def simulate_ufm_sign_gd(K: int, eta: float, lam: float, steps: int, *, coupled: bool) -> pd.DataFrame:
    """Run sign GD (momentum 0) with coupled or decoupled decay on the UFM of Theorems 3.3 / 3.4.

    The loss ``sum_n CE(W h_n, e_n)`` with ``H = M*`` is differentiated by autograd and the step is
    taken by ``make_optimizer("signum" if coupled else "signumw", momentum=0)``. Every ``W_t`` is
    decomposed as in the proof of Theorem E.3, ``W_t = (a_t + b_t) I - b_t J``:
    ``a_t = mean diag(W_t)``, ``b_t = -mean offdiag(W_t)``, and ``structure_err`` is
    ``max |W_t - ((a_t + b_t) I - b_t J)|``. ``sign_diag`` / ``sign_off`` are the signs of the
    diagonal / off-diagonal entries of the step direction taken at ``W_t`` (the sign of
    ``grad L + lambda W_t`` when coupled, of ``grad L`` when decoupled).

    Returns:
        DataFrame indexed by ``step = 0..steps`` with ``a, b, structure_err, nc0`` (``(1/K)||W^T 1||^2``),
        ``row_sum_sq`` (``||W^T 1||^2``) and ``sign_diag, sign_off`` (NaN at the last step).
    """
    H = simplex_etf_gram(K)
    W = torch.zeros(K, K, dtype=torch.float64, requires_grad=True)
    labels = torch.arange(K)
    opt = make_optimizer("signum" if coupled else "signumw", [W], lr=eta, momentum=0.0, weight_decay=lam)
    eye, off = torch.eye(K, dtype=torch.bool), ~torch.eye(K, dtype=torch.bool)
    rows = []
    for t in range(steps + 1):
        with torch.no_grad():
            Wd = W.detach()
            a, b = float(Wd[eye].mean()), -float(Wd[off].mean())
            recon = (a + b) * torch.eye(K, dtype=torch.float64) - b
            row_sum_sq = K * nc0(Wd)
            row = {
                "step": t,
                "a": a,
                "b": b,
                "structure_err": float((Wd - recon).abs().max()),
                "nc0": row_sum_sq / K,
                "row_sum_sq": row_sum_sq,
                "sign_diag": np.nan,
                "sign_off": np.nan,
            }
        if t < steps:
            opt.zero_grad()
            F.cross_entropy((W @ H).T, labels, reduction="sum").backward()
            with torch.no_grad():
                direction = torch.sign(W.grad + lam * W if coupled else W.grad)
                row["sign_diag"], row["sign_off"] = float(direction[eye].mean()), float(direction[off].mean())
            opt.step()
        rows.append(row)
    return pd.DataFrame(rows).set_index("step")


def thm33_nc0(K: int, eta: float, lam: float, t: np.ndarray | int) -> np.ndarray:
    """Exact NC0 of sign GD with decoupled decay (Theorem 3.3; proof of Theorem E.2).

    The signed gradient is ``J - 2I`` for every ``W`` (the column softmaxes lie in ``(0, 1)``), so
    ``W_t = w_t (J - 2I)`` with ``w_{t+1} = (1 - eta*lambda) w_t - eta``, ``w_0 = 0``, i.e.
    ``w_t = -(1 - (1 - eta*lambda)^t)/lambda``, and ``(J - 2I)^T 1 = (K - 2) 1`` gives

        ``(1/K)||W_t^T 1||^2 = ((K-2)^2/lambda^2) (1 - (1 - eta*lambda)^t)^2  ->  (K-2)^2/lambda^2``.

    Multiply by ``K`` for the unnormalised ``||W_t^T 1||^2`` of the main-text statement.
    """
    t = np.asarray(t, dtype=np.float64)
    return (K - 2) ** 2 / lam**2 * (1.0 - (1.0 - eta * lam) ** t) ** 2
