"""Switch times and oscillation band of sign GD with coupled decay (Theorem 3.4, Theorem E.3).

Along the run ``W_t = (a_t + b_t) I - b_t J`` (diagonal ``a_t``, off-diagonal ``-b_t``), the logits are
``W_t M* = (a_t + b_t) M*``, whose diagonal exceeds the off-diagonal by ``(a_t + b_t)/sqrt(K-1)``, and
the summed CE gradient is ``(S - I)/sqrt(K-1)``. With the exact off-diagonal softmax entry
``s_off = 1/(exp((a+b)/sqrt(K-1)) + K - 1)`` the sign of ``grad L + lambda W`` is that of ``J - 2I``
(entries ``+1`` off the diagonal, ``-1`` on it) as long as (Eq. 22)

    ``phi > lambda * b``  (off-diagonal)  and  ``(K-1) * phi > lambda * a``  (diagonal),
    with ``phi = s_off / sqrt(K-1)``.

The paper prints ``phi = 1/(exp(a + b) + K - 1)``, dropping both ``1/sqrt(K-1)`` factors; it
therefore puts the first switch ``T1`` (first ``t`` with ``phi(t) <= lambda*eta*t`` on ``a = b = eta*t``)
at the wrong step. ``exact=False`` evaluates the printed version for comparison.

Also differing from the proof: after ``T1`` the off-diagonal sign alternates, but not with period 2
throughout, so ``b_t`` drifts down instead of staying in ``{eta(T1-1), eta*T1}``, and ``alpha_t``
decreases only every second step (it zigzags). After ``T2`` the run settles on a 2-cycle with
``a_t ~ (K-1) b_t``, where ``alpha_t = (1/K)||W_t^T 1||^2 = (a_t - (K-1) b_t)^2`` oscillates in a band of
order ``K^2 eta^2`` (the theorem: ``O(d^3 eta^2)``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .ufm_sign import simulate_ufm_sign_gd

__all__ = [
    "loglog_slope",
    "oscillation_band",
    "predicted_switch_times",
    "sign_conditions",
    "switch_times",
    "thm34_band_scaling",
]


def sign_conditions(
    a: np.ndarray, b: np.ndarray, K: int, lam: float, *, exact: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The two conditions of Eq. 22 at ``W = (a + b) I - b J`` (proof of Theorem E.3).

    Returns boolean arrays ``(phi > lambda*b, (K-1)*phi > lambda*a)`` with, when ``exact``,
    ``phi = 1/(sqrt(K-1) (exp((a+b)/sqrt(K-1)) + K - 1))`` (the true off-diagonal entry of the gradient),
    otherwise the paper's printed ``phi = 1/(exp(a+b) + K - 1)``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    c = math.sqrt(K - 1) if exact else 1.0
    with np.errstate(over="ignore"):  # exp overflow -> phi = 0, the correct limit
        phi = 1.0 / (c * (np.exp((a + b) / c) + K - 1))
    return phi > lam * b, (K - 1) * phi > lam * a


def switch_times(sim: pd.DataFrame) -> dict[str, int]:
    """``T1`` (first step whose off-diagonal sign is ``-1``: alpha stops increasing) and ``T2`` (first step
    whose diagonal sign is ``+1``: ``a_t`` stops increasing, the oscillation starts) of a coupled run of
    :func:`~nc_core.theory.simulate_ufm_sign_gd` (Theorem 3.4). ``-1`` where a switch does not occur."""
    off, diag = sim["sign_off"].to_numpy(), sim["sign_diag"].to_numpy()
    T1 = int(np.argmax(off < 0)) if (off < 0).any() else -1
    T2 = int(np.argmax(diag > 0)) if (diag > 0).any() else -1
    return {"T1": T1, "T2": T2}


def predicted_switch_times(K: int, eta: float, lam: float, *, exact: bool = True, t_max: int = 10**5) -> dict:
    """Switch times predicted by the proof of Theorem E.3.

    ``T1 = min{t : phi(t) <= lambda*eta*t}`` on ``a_t = b_t = eta*t`` (exact with ``phi`` of
    :func:`sign_conditions`, i.e. ``s_off(t)/sqrt(K-1) <= lambda*eta*t``,
    ``s_off(t) = 1/(exp(2 t eta/sqrt(K-1)) + K - 1)``); ``T2 = min{t > T1 : (K-1) phi <= lambda*eta*t}`` on
    ``a_t = eta*t``, ``b_t = eta(T1 - 1)`` (the proof's frozen ``b``; only an approximation, see module).
    """
    t = np.arange(t_max, dtype=np.float64)
    c1, _ = sign_conditions(eta * t, eta * t, K, lam, exact=exact)
    T1 = int(np.argmax(~c1))
    _, c2 = sign_conditions(eta * t, np.full_like(t, eta * (T1 - 1)), K, lam, exact=exact)
    c2[: T1 + 1] = True
    return {"T1": T1, "T2": int(np.argmax(~c2))}


def oscillation_band(sim: pd.DataFrame, tail: int = 50) -> tuple[float, float]:
    """``(max - min, max)`` of ``nc0 = (1/K)||W_t^T 1||^2`` over the last ``tail`` steps (Theorem 3.4).

    The range depends on where the final 2-cycle of ``x_t = a_t - (K-1) b_t`` (``nc0 = x_t^2``) sits on
    the ``eta``-lattice (it is ~0 when the cycle is ``x = +-c``), so the sup is the steadier measure of
    the ``O(eta^2)`` scale; both are bounded by ``sup``."""
    nc0 = sim["nc0"].to_numpy()[-tail:]
    return float(nc0.max() - nc0.min()), float(nc0.max())


def loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope ``p`` of ``log y = p log x + c`` (the exponent of ``y ~ x^p``)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def thm34_band_scaling(
    K: int, lam: float, etas: list[float], *, horizon: float = 4.0, tail: int = 50
) -> pd.DataFrame:
    """Theorem 3.4 over step sizes: for each ``eta`` run ``steps = horizon/eta + tail`` coupled sign-GD steps
    and report the simulated and predicted (exact and printed) switch times and the final band and sup
    of ``nc0`` (:func:`oscillation_band`); fit the exponent with :func:`loglog_slope` (the theorem
    predicts ``band = O(eta^2)``).
    ``horizon`` must exceed ``eta*T2`` (about ``a`` at the fixed point ``lambda a = (K-1) phi``)."""
    rows = []
    for eta in etas:
        sim = simulate_ufm_sign_gd(K, eta, lam, int(round(horizon / eta)) + tail, coupled=True)
        sw, ex, pr = (
            switch_times(sim),
            predicted_switch_times(K, eta, lam),
            predicted_switch_times(K, eta, lam, exact=False),
        )
        rows.append(
            {
                "K": K,
                "eta": eta,
                "lam": lam,
                "T1": sw["T1"],
                "T2": sw["T2"],
                "T1_exact": ex["T1"],
                "T2_proof": ex["T2"],
                "T1_printed": pr["T1"],
                **dict(zip(("band", "sup"), oscillation_band(sim, tail), strict=True)),
                "structure_err": float(sim["structure_err"].max()),
            }
        )
    return pd.DataFrame(rows)
