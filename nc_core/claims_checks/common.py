"""Rules the chapter checks share: every planned run finished, and whether a weight decay acted at all.

A decoupled decay shrinks a weight by ``prod_t (1 - eta_t lambda) ~ exp(-B)`` over a run, with the decay
budget ``B = lambda * sum_t eta_t`` (:func:`nc_core.analysis.decay_budget.decay_budget`). The paper's Adam at
LR 0.001 and weight decay 0.05 over 93,800 steps has ``B = 1.74``; the ``cpu`` profile's 4,740 steps give
0.088. A comparison of decoupled against coupled decay can only show something where the decay acted: here,
where it alone would shrink an undisturbed weight by at least 10% (``B >= -ln 0.9``, :data:`ACTED_BUDGET`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..claims import Check, integrity

__all__ = ["ACTED_BUDGET", "budgets", "grid_finished", "runs_finished"]

#: The smallest decay budget at which a decay "acted": it alone shrinks a weight by at least 10%.
ACTED_BUDGET = -math.log(0.9)

_SUMS: dict[tuple, float] = {}


def _lr_sum(run: Mapping[str, Any]) -> float:
    """``sum_t eta_t / eta_0`` of a run's planned schedule (cached per schedule, horizon and data size)."""
    from ..analysis.horizons import optimizer_steps, planned_lr_per_step

    key = (str(run.get("lr_schedule", "step")), int(run["epochs"]), optimizer_steps(run, 1))
    if key not in _SUMS:
        _SUMS[key] = float(planned_lr_per_step({**run, "lr": 1.0}).sum())
    return _SUMS[key]


def budgets(runs: pd.DataFrame) -> pd.Series:
    """The decay budget ``B = lambda * sum_t eta_t`` of each run (final records or configurations with ``lr``,
    ``weight_decay``, ``epochs``, ``batch_size``, ``dataset``, ``subset_per_class``, ``lr_schedule``),
    from its
    planned schedule (:func:`nc_core.analysis.horizons.planned_lr_per_step`); the same number as
    :func:`nc_core.analysis.decay_budget.decay_budget`, computed once per schedule."""
    return pd.Series(
        [float(r["weight_decay"]) * float(r["lr"]) * _lr_sum(r) for r in runs.to_dict(orient="records")],
        index=runs.index,
        dtype=float,
    )


def runs_finished(finals: pd.DataFrame, planned: int, what: str = "every planned run") -> Check:
    """Integrity: ``planned`` runs are stored and each completed or diverged (none failed or missing)."""
    counts = dict(finals["status"].value_counts()) if len(finals) else {}
    ok = len(finals) == planned and bool(finals["status"].isin(["completed", "diverged"]).all())
    return integrity(f"{what} finished (completed or diverged, none failed)", counts or "no runs", ok)


def stored_runs_finished(finals: pd.DataFrame, planned: int) -> Check:
    """Integrity for a campaign still running: every *stored* run completed or diverged (none failed); the
    text says how many of the ``planned`` runs are stored, so a reader sees the checks are on a part."""
    counts = dict(finals["status"].value_counts()) if len(finals) else {}
    ok = bool(len(finals)) and bool(finals["status"].isin(["completed", "diverged"]).all())
    return integrity(
        f"every stored run finished (completed or diverged, none failed): {len(finals)} of {planned} planned",
        counts or "no runs",
        ok,
    )


def grid_finished(finals: pd.DataFrame, missing: int) -> Check:
    """Integrity: no planned run of a grid is missing from the store (``missing``) and each stored one
    completed or diverged."""
    ok = missing == 0 and bool(finals["status"].isin(["completed", "diverged"]).all())
    return integrity(
        "every planned run finished (completed or diverged, none failed)",
        dict(finals["status"].value_counts()),
        ok,
    )
