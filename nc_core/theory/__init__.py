"""Closed forms and exact simulations of the paper's theory (Section 3, Appendix E), in float64.

* :mod:`~nc_core.theory.ufm_sign` - sign GD on the UFM with ``H = M*``: :func:`simulate_ufm_sign_gd`
  (real CE loss, the project's ``signum`` / ``signumw``) and the closed form :func:`thm33_nc0` (Thm 3.3).
* :mod:`~nc_core.theory.thm34` - Theorem 3.4: exact switch conditions (Eq. 22 with the ``1/sqrt(K-1)``
  factors), simulated / predicted switch times ``T1 < T2``, oscillation band vs ``eta``.
* :mod:`~nc_core.theory.sgd_rate` - Theorem 3.1 / Lemma E.5: NC0 of a real network under SGD, fitted vs
  theorem vs exact spectral decay rates.
* :mod:`~nc_core.theory.lemma_e6` - Lemma E.6: closed form (26) vs a numerical solution of (24).
* :mod:`~nc_core.theory.prop21` - Proposition 2.1: NC0, NC2, NC3 along a UFM run converging to NC.
* :mod:`~nc_core.theory.fig8` - Figure 8: NC0 curves of an MLP under SGD / Adam / AdamW / sign rules.

NC0 is ``(1/K)||W^T 1||^2`` throughout (the paper convention of :func:`nc_core.metrics.nc_metrics`).
"""

from .fig8 import FIG8_OPTIMIZERS, classify_curve, fig8_nc0_curves
from .lemma_e6 import lemma_e6_closed_form, lemma_e6_solutions, solve_lemma_e6
from .prop21 import ufm_collapse_trajectory
from .sgd_rate import (
    exact_rate,
    fit_decay_rate,
    lemma_e5_max_deviation,
    rate_table,
    row_sum_factors,
    simulate_sgd_nc0,
    theorem_condition,
    theorem_rate,
)
from .thm34 import (
    loglog_slope,
    oscillation_band,
    predicted_switch_times,
    sign_conditions,
    switch_times,
    thm34_band_scaling,
)
from .ufm_sign import simulate_ufm_sign_gd, thm33_nc0

__all__ = [
    "FIG8_OPTIMIZERS",
    "classify_curve",
    "exact_rate",
    "fig8_nc0_curves",
    "fit_decay_rate",
    "lemma_e5_max_deviation",
    "lemma_e6_closed_form",
    "lemma_e6_solutions",
    "loglog_slope",
    "oscillation_band",
    "predicted_switch_times",
    "rate_table",
    "row_sum_factors",
    "sign_conditions",
    "simulate_sgd_nc0",
    "simulate_ufm_sign_gd",
    "solve_lemma_e6",
    "switch_times",
    "theorem_condition",
    "theorem_rate",
    "thm33_nc0",
    "thm34_band_scaling",
    "ufm_collapse_trajectory",
]
