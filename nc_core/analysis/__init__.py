"""Analyses that turn stored runs into the book's tables, fits and verdicts (one module per kind).

* :mod:`~nc_core.analysis.horizons` - training length: optimizer steps, per-step LR, the exact row-sum
  prediction for SGD/SGDW (Theorem 3.1), the ``1/(eta lambda)`` scale of decoupled decay (Theorem 3.3),
  decoupled/coupled NC0 ratios per horizon and whether the gaps close.
* :mod:`~nc_core.analysis.regression` - the regression of NC3 on NC0 (Table 5) under named specifications,
  classical or HC3 standard errors.
* :mod:`~nc_core.analysis.interpolation` - Adam <-> AdamW (Figure 7): metrics against the coupled share of a
  fixed total decay, a monotone-trend test and an ANOVA of accuracy against the seed-to-seed spread.
* :mod:`~nc_core.analysis.partial` - partial neural collapse (Section 4.3): features at the coupled
  optimizers' level of collapse, classifier not.
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
from .interpolation import accuracy_anova, decoupled_shrink, share_summary, share_trend
from .partial import COUPLED, partial_collapse, partial_counts
from .precision import LOG_METRICS, precision_agreement
from .regression import SPECIFICATIONS, TABLE5_COLUMNS, fit_nc3_on_nc0, table5

__all__ = [
    "COUPLED",
    "LOG_METRICS",
    "PAIRS",
    "SPECIFICATIONS",
    "TABLE5_COLUMNS",
    "accuracy_anova",
    "decay_time_scale",
    "decoupled_shrink",
    "decoupled_ratios",
    "fit_nc3_on_nc0",
    "gap_verdicts",
    "lr_per_step",
    "optimizer_steps",
    "partial_collapse",
    "partial_counts",
    "paper_ratios",
    "precision_agreement",
    "predicted_row_sum",
    "share_summary",
    "share_trend",
    "table5",
]
