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
* :mod:`~nc_core.analysis.agreement` - runs with and without a speed-up (bf16 autocast, a fused optimizer)
  over seeds: do the final metrics agree within the seed-to-seed spread?
* :mod:`~nc_core.analysis.weight_decay` - weight decay sweeps (Figures 1, 3): mean metrics per weight decay,
  decoupled against coupled at each shared weight decay, the largest decay against none, the tables' cells.
* :mod:`~nc_core.analysis.paper_tables` - Tables 1 and 2 in the paper's format: the smallest-NC3 run per
  optimizer, ``"value (change)"`` cells, this project's rows beside the paper's.
* :mod:`~nc_core.analysis.nc4` - NC4 against NC1-NC3 (Figure 44): rank correlations, NC4 at full accuracy.
* :mod:`~nc_core.analysis.momentum` - momentum x weight decay under SGD (Figure 4): momentum against none
  per weight decay.
* :mod:`~nc_core.analysis.training_dynamics` - one run per optimizer through training (Table 1, Figures 5,
  6): final against initial NC0-NC3, the decoupled/coupled NC0 ratios, W's smallest singular value.
* :mod:`~nc_core.analysis.training_length` - the training-length verdicts (Figures 13, 14, Theorem 3.1):
  agreement with the exact NC0 prediction, pair ratios per horizon, order kept at a longer horizon.
"""

from .agreement import LOG_METRICS, variant_agreement
from .horizons import (
    PAIRS,
    decay_time_scale,
    decoupled_ratios,
    gap_verdicts,
    lr_per_step,
    optimizer_steps,
    paper_ratios,
    planned_lr_per_step,
    predicted_row_sum,
)
from .interpolation import accuracy_anova, decoupled_shrink, share_summary, share_trend
from .momentum import MomentumEffect, momentum_effect
from .nc4 import Nc4AtFullAccuracy, Nc4Correlations, nc4_at_full_accuracy, nc4_correlations
from .paper_tables import best_run_cells, best_runs, paper_cells, side_by_side, value_change_cells
from .partial import COUPLED, partial_collapse, partial_counts
from .regression import SPECIFICATIONS, TABLE5_COLUMNS, fit_nc3_on_nc0, table5
from .training_dynamics import DynamicsSummary, dynamics_summary, endpoints
from .training_length import (
    OrderKept,
    SharedDecayRatios,
    order_kept,
    pair_ratios,
    prediction_agreement,
    shared_decay_ratios,
)
from .weight_decay import (
    DecayEffect,
    DecoupledComparison,
    compare_decoupled,
    coupled_decay_effect,
    means_by_weight_decay,
    run_counts,
    seed_ratios,
    summary_cells,
)

__all__ = [
    "COUPLED",
    "DecayEffect",
    "DecoupledComparison",
    "DynamicsSummary",
    "LOG_METRICS",
    "MomentumEffect",
    "Nc4AtFullAccuracy",
    "Nc4Correlations",
    "OrderKept",
    "PAIRS",
    "SPECIFICATIONS",
    "seed_ratios",
    "SharedDecayRatios",
    "TABLE5_COLUMNS",
    "accuracy_anova",
    "best_run_cells",
    "best_runs",
    "compare_decoupled",
    "coupled_decay_effect",
    "decay_time_scale",
    "decoupled_ratios",
    "decoupled_shrink",
    "dynamics_summary",
    "endpoints",
    "fit_nc3_on_nc0",
    "gap_verdicts",
    "lr_per_step",
    "means_by_weight_decay",
    "momentum_effect",
    "nc4_at_full_accuracy",
    "nc4_correlations",
    "optimizer_steps",
    "order_kept",
    "pair_ratios",
    "paper_cells",
    "paper_ratios",
    "partial_collapse",
    "partial_counts",
    "planned_lr_per_step",
    "predicted_row_sum",
    "prediction_agreement",
    "run_counts",
    "share_summary",
    "share_trend",
    "shared_decay_ratios",
    "side_by_side",
    "summary_cells",
    "table5",
    "value_change_cells",
    "variant_agreement",
]
