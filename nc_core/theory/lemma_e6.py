"""Lemma E.6: the integro-differential equation behind Theorem 3.1 and its closed-form solution (26).

    ``alpha'(t) = -lambda * int_0^t beta^(t - tau) alpha(tau) dtau``,   ``alpha(0) = alpha_0``   (Eq. 24)

Laplace transform: ``A(s) = alpha_0 (s - log beta)/(s^2 - s log beta + lambda)``, hence (Eq. 26)

    ``alpha(t) = alpha_0 (A e^(r1 t) + B e^(r2 t))``,
    ``r_{1,2} = (log beta +- sqrt(log^2 beta - 4 lambda))/2``,  ``A = r2/(r2 - r1)``, ``B = -r1/(r2 - r1)``.

The roots are real iff ``lambda <= log^2(beta)/4``; the lemma's hypothesis ``2 lambda/log(1/beta) < 1``
does not imply this when ``log(1/beta) < 2`` (``beta > e^-2``), in which case (26) still holds with
complex-conjugate roots (a damped oscillation, decaying like ``beta^(t/2)``) and the proof's expansion
``r1 = -lambda/log(1/beta) + O(lambda^2)`` does not apply. With ``L = log(1/beta)``, the decay rate of (26)
is ``(L - Re sqrt(L^2 - 4 lambda))/2``, which is ``>= lambda/L`` (the lemma's bound) iff ``lambda <= L^2/2``;
for ``L^2/2 < lambda < L/2`` the hypothesis holds but the bound fails for large ``t`` (e.g.
``beta = 0.9, lambda = 0.02``: ``alpha(40) = 0.020`` against ``exp(-40 lambda/L) = 5e-4``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["lemma_e6_closed_form", "lemma_e6_solutions", "solve_lemma_e6"]


def lemma_e6_closed_form(t: np.ndarray, lam: float, beta: float, alpha0: float = 1.0) -> np.ndarray:
    """Eq. (26) of Lemma E.6 evaluated on ``t`` (complex roots allowed; the result is real)."""
    L = math.log(beta)
    disc = np.sqrt(complex(L * L - 4.0 * lam))
    r1, r2 = (L + disc) / 2, (L - disc) / 2
    t = np.asarray(t, dtype=np.float64)
    return (alpha0 * (r2 * np.exp(r1 * t) - r1 * np.exp(r2 * t)) / (r2 - r1)).real


def solve_lemma_e6(
    lam: float, beta: float, t_max: float, h: float, alpha0: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Numerical solution of Eq. (24) on ``t_n = n h`` by the trapezoidal rule, second order in ``h``.

    The memory integral ``I(t) = int_0^t beta^(t - tau) alpha(tau) dtau`` obeys, exactly,
    ``I(t + h) = beta^h I(t) + int_t^(t+h) beta^(t + h - tau) alpha(tau) dtau``; the last integral and
    ``alpha(t + h) = alpha(t) - lambda int_t^(t+h) I`` are both taken by the trapezoidal rule:

        ``I_{n+1} = beta^h I_n + (h/2)(beta^h alpha_n + alpha_{n+1})``,
        ``alpha_{n+1} = alpha_n - (lambda h/2)(I_n + I_{n+1})``,

    a 2 x 2 linear system per step, solved in closed form. Returns ``(t, alpha)``.
    """
    n = int(round(t_max / h))
    q = beta**h
    alpha, integral = np.empty(n + 1), 0.0
    alpha[0] = alpha0
    c = lam * h / 2
    for k in range(n):
        # substitute I_{n+1} into the alpha update and solve for alpha_{n+1}
        a_next = (alpha[k] - c * (integral + q * integral + (h / 2) * q * alpha[k])) / (1 + c * h / 2)
        integral = q * integral + (h / 2) * (q * alpha[k] + a_next)
        alpha[k + 1] = a_next
    return np.arange(n + 1) * h, alpha


def lemma_e6_solutions(lam: float, beta: float, t_max: float, h: float, alpha0: float = 1.0) -> pd.DataFrame:
    """Both solutions of Lemma E.6 on the grid ``t = 0, h, ..., t_max``: columns ``t``, ``closed_form``
    (Eq. 26), ``numerical`` (:func:`solve_lemma_e6`) and ``bound = alpha0 exp(-lambda t/log(1/beta))``
    (the lemma's rate, without its constant ``C``)."""
    t, num = solve_lemma_e6(lam, beta, t_max, h, alpha0)
    return pd.DataFrame(
        {
            "t": t,
            "closed_form": lemma_e6_closed_form(t, lam, beta, alpha0),
            "numerical": num,
            "bound": alpha0 * np.exp(-lam * t / math.log(1 / beta)),
        }
    )
