"""Analyses that turn stored runs into the book's tables, fits and verdicts (one module per kind).

* :mod:`~nc_core.analysis.horizons` - training length: optimizer steps, per-step LR, the exact row-sum
  prediction for SGD/SGDW (Theorem 3.1), the ``1/(eta lambda)`` scale of decoupled decay (Theorem 3.3),
  decoupled/coupled NC0 ratios per horizon and whether the gaps close.
* :mod:`~nc_core.analysis.regression` - the regression of NC3 on NC0 (Table 5) under named specifications,
  classical or HC3 standard errors.
* :mod:`~nc_core.analysis.precision` - fp32 against bf16 runs over seeds: do the final metrics agree within
  the seed-to-seed spread?
"""

from .horizons import (
    PAIRS,
    decay_time_scale,
    decoupled_ratios,
    gap_verdicts,
    lr_per_step,
    optimizer_steps,
    paper_ratios,
    predicted_row_sum,
)
from .precision import LOG_METRICS, precision_agreement
from .regression import SPECIFICATIONS, TABLE5_COLUMNS, fit_nc3_on_nc0, table5

__all__ = [
    "LOG_METRICS",
    "PAIRS",
    "SPECIFICATIONS",
    "TABLE5_COLUMNS",
    "decay_time_scale",
    "decoupled_ratios",
    "fit_nc3_on_nc0",
    "gap_verdicts",
    "lr_per_step",
    "optimizer_steps",
    "paper_ratios",
    "precision_agreement",
    "predicted_row_sum",
    "table5",
]
