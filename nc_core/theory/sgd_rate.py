"""NC0 under SGD with momentum and coupled weight decay (Theorem 3.1, Lemmas E.4 / E.5).

Rows of the CE gradient sum to zero (Lemma E.4: ``1^T grad_W L = 0``), so with the update of Eq. 14,
``V_{t+1} = beta V_t + grad L + lambda W_t``, ``W_{t+1} = W_t - eta V_{t+1}`` (torch SGD, dampening 0),
the row sum ``r_t = W_t^T 1`` and ``v_t = V_t^T 1`` follow a data-independent linear recursion:

    ``v_{t+1} = beta v_t + lambda r_t``,
    ``r_{t+1} = r_t - eta v_{t+1} = (1 - eta lambda) r_t - eta beta v_t``.

Its matrix ``[[1 - eta lambda, -eta beta], [lambda, beta]]`` has characteristic polynomial
``z^2 - (1 + beta - eta lambda) z + beta``; with ``rho = max|z|``, ``NC0_t = ||r_t||^2/K ~ rho^(2t)``, so the
exact per-step decay rate of NC0 is ``-2 log rho`` (``-2 log(1 - eta lambda)`` for ``beta = 0``,
``-log beta`` when the roots are complex). Theorem 3.1 bounds NC0 by
``C exp(-lambda eta t/log(1/beta)) + O(eta)`` (``beta > 0``, under ``2 lambda/log(1/beta) < 1``) and by
``C (1 - lambda eta)^t`` (``beta = 0``): rates ``lambda eta/log(1/beta)`` and ``-log(1 - lambda eta)``,
which lie below the exact rate (the bound holds but is not tight: for small ``eta lambda`` the exact rate is
``~2 eta lambda/(1 - beta)``, and ``log(1/beta) >= 1 - beta``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nc_core.data import separable_data
from nc_core.metrics import nc0
from nc_core.models import make_model
from nc_core.optim import make_optimizer

__all__ = [
    "exact_rate",
    "fit_decay_rate",
    "lemma_e5_max_deviation",
    "rate_table",
    "row_sum_factors",
    "simulate_sgd_nc0",
    "theorem_condition",
    "theorem_rate",
]


def exact_rate(beta: float, lam: float, eta: float) -> float:
    """Exact asymptotic per-step decay rate of NC0 under Lemma E.5's recursion: ``-2 log max|z|`` over the
    roots of ``z^2 - (1 + beta - eta lambda) z + beta = 0`` (see module docstring)."""
    rho = float(np.abs(np.roots([1.0, -(1.0 + beta - eta * lam), beta])).max())
    return -2.0 * math.log(rho)


def theorem_rate(beta: float, lam: float, eta: float) -> float:
    """Theorem 3.1's rate: ``lambda eta/log(1/beta)`` (``beta > 0``), ``-log(1 - lambda eta)`` (0)."""
    return lam * eta / math.log(1.0 / beta) if beta > 0 else -math.log1p(-lam * eta)


def theorem_condition(beta: float, lam: float) -> bool:
    """Theorem 3.1's hypothesis ``2 lambda/log(1/beta) < 1`` (vacuous for ``beta = 0``)."""
    return beta == 0 or 2.0 * lam / math.log(1.0 / beta) < 1.0


def _problem(
    model: str, K: int, n_per_class: int, dim: int, seed: int
) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    if model == "mlp":
        data = separable_data(n_per_class, K, dim, seed=seed)
        net = make_model("mlp", num_classes=K, in_features=dim, hidden=(32, 32))
        x, y = data.x.double(), data.y
    elif model == "ufm":
        net = make_model("ufm", num_classes=K, num_samples=K * n_per_class, feature_dim=dim)
        x, y = torch.arange(K * n_per_class), torch.arange(K).repeat_interleave(n_per_class)
    else:
        raise ValueError(f"model must be 'mlp' or 'ufm', got {model!r}")
    return net.double(), x, y


def simulate_sgd_nc0(
    beta: float,
    lam: float,
    eta: float,
    steps: int,
    *,
    model: str = "mlp",
    K: int = 4,
    n_per_class: int = 10,
    dim: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Train a real network (``"mlp"``: MLP (32, 32) on :func:`~nc_core.data.separable_data`; ``"ufm"``:
    the UFM) full-batch with ``make_optimizer("sgd", momentum=beta, weight_decay=lam)`` (coupled decay on
    every parameter), float64, and track NC0 of the last layer (Theorem 3.1).

    Alongside, Lemma E.5's recursion is iterated from ``r_0 = W_0^T 1``, ``v_0 = 0``.

    Returns:
        DataFrame indexed by ``step`` with ``nc0 = ||W_t^T 1||^2/K``, ``nc0_recursion = ||r_t||^2/K`` and
        ``row_sum_dev = max|W_t^T 1 - r_t|``.
    """
    net, x, y = _problem(model, K, n_per_class, dim, seed)
    opt = make_optimizer("sgd", net.parameters(), lr=eta, momentum=beta, weight_decay=lam)
    W = net.classifier.weight
    r0 = W.detach().sum(0).clone()
    factors = row_sum_factors(np.full(steps, eta), beta, lam)
    rows = []
    for t in range(steps + 1):
        r = float(factors[t]) * r0
        rows.append(
            {
                "step": t,
                "nc0": nc0(W),
                "nc0_recursion": float(r.square().sum()) / K,
                "row_sum_dev": float((W.detach().sum(0) - r).abs().max()),
            }
        )
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return pd.DataFrame(rows).set_index("step")


def row_sum_factors(etas: np.ndarray, beta: float, lam: float, *, decoupled: bool = False) -> np.ndarray:
    """The exact path of the classifier's row sum under SGD, for any per-step LR schedule ``etas``.

    Because ``1^T grad_W L = 0`` for cross-entropy (Lemma E.4), ``r_t = W_t^T 1`` obeys a data-independent
    linear recursion, so ``r_t = c_t r_0`` with scalars ``c_t`` (``c_0 = 1``):

    * coupled decay (``torch.optim.SGD``, Eq. 14; Lemma E.5): ``v_t = beta v_{t-1} + lambda c_{t-1}``,
      ``c_t = c_{t-1} - eta_t v_t``, ``v_0 = 0``; for ``beta = 0`` this is ``prod_s (1 - eta_s lambda)``,
      Theorem 3.1's ``(1 - eta lambda)^t`` at a constant LR;
    * decoupled decay (SGDW): the momentum buffer never sees the decay and carries no row-sum component,
      so ``c_t = prod_{s <= t} (1 - eta_s lambda)`` whatever ``beta``.

    Hence ``NC0_t = c_t^2 NC0_0`` (paper convention, ``||W^T 1||^2/K``) and ``|c_t| NC0_0`` in the authors'
    code convention (``||W^T 1||``), exactly, for every network whose last layer is trained this way.

    Returns:
        ``c_0, ..., c_T`` (length ``len(etas) + 1``), float64.
    """
    etas = np.asarray(etas, dtype=np.float64)
    if decoupled:
        return np.concatenate([[1.0], np.cumprod(1.0 - etas * lam)])
    c = np.empty(len(etas) + 1)
    c[0], v = 1.0, 0.0
    for t, eta in enumerate(etas, start=1):
        v = beta * v + lam * c[t - 1]
        c[t] = c[t - 1] - eta * v
    return c


def lemma_e5_max_deviation(beta: float, lam: float, eta: float, steps: int, **kwargs: object) -> float:
    """``max_t max|W_t^T 1 - r_t|`` between a real SGD run and Lemma E.5's recursion (``kwargs`` go to
    :func:`simulate_sgd_nc0`); zero up to float64 rounding because ``1^T grad_W L = 0`` (Lemma E.4).

    No page calls it: it exists for its test (``tests/test_theory.py``), which checks with it that Lemma
    E.5's recursion holds exactly on a real network (an MLP and the UFM), the premise of the exact NC0
    prediction :func:`row_sum_factors` that the training-length page relies on."""
    return float(simulate_sgd_nc0(beta, lam, eta, steps, **kwargs)["row_sum_dev"].max())


def fit_decay_rate(nc0: np.ndarray, start: float = 0.5) -> float:
    """Per-step exponential decay rate of a curve: minus the least-squares slope of ``log`` of its upper
    envelope (running maximum from the right, which equals the curve when it decreases and follows
    the peaks when it oscillates) over the steps from ``start * len`` on."""
    env = np.maximum.accumulate(np.asarray(nc0, float)[::-1])[::-1]
    t = np.arange(len(env))[int(start * len(env)) :]
    return float(-np.polyfit(t, np.log(env[t]), 1)[0])


def rate_table(
    betas: list[float], lams: list[float], eta: float, steps: int, **kwargs: object
) -> pd.DataFrame:
    """Theorem 3.1 over a ``(beta, lambda)`` grid: NC0 decay rate fitted on a real run
    (:func:`simulate_sgd_nc0`, ``kwargs`` passed on) next to :func:`theorem_rate`, :func:`exact_rate`,
    :func:`theorem_condition` and whether the recursion's roots are complex (oscillating NC0)."""
    rows = []
    for beta in betas:
        for lam in lams:
            sim = simulate_sgd_nc0(beta, lam, eta, steps, **kwargs)
            rows.append(
                {
                    "beta": beta,
                    "lam": lam,
                    "eta": eta,
                    "fitted_rate": fit_decay_rate(sim["nc0"].to_numpy()),
                    "theorem_rate": theorem_rate(beta, lam, eta),
                    "exact_rate": exact_rate(beta, lam, eta),
                    "condition_holds": theorem_condition(beta, lam),
                    "complex_roots": (1 + beta - eta * lam) ** 2 < 4 * beta,
                    "lemma_e5_dev": float(sim["row_sum_dev"].max()),
                }
            )
    return pd.DataFrame(rows)
