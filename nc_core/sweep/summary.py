"""Summaries of a sweep's final records: which runs count (the paper's "valid" runs, by the rule of
:mod:`nc_core.profiles`) and the mean and
standard deviation of a metric over the runs sharing (optimizer, weight decay) -- what Figures 1 and 3
(and their appendix variants) plot: "averages computed over runs with varying learning rates and momentum;
shaded regions show +- 1 standard deviation".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..profiles import mask_at

__all__ = ["valid_runs", "summarise_by"]


def valid_runs(finals: pd.DataFrame, min_train_acc: float, metrics: Sequence[str] = ()) -> pd.Series:
    """Boolean mask of the runs at or above an explicit training accuracy ``min_train_acc`` (completed, every
    one of ``metrics`` finite). The rule of a profile is :func:`nc_core.profiles.valid_mask`; this form is for
    a threshold given by hand (a page's ``min_train_acc`` parameter) and applies the same test."""
    return mask_at(finals, min_train_acc, metrics)


def summarise_by(finals: pd.DataFrame, by: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """Per group of ``by`` (e.g. ``["optimizer", "weight_decay"]``): ``n`` runs and, for each metric ``m``,
    ``m mean`` and ``m std`` (sample standard deviation, ddof = 1; NaN for a single run) and ``m gmean``
    (geometric mean, for metrics plotted on a log axis; NaN if any value is <= 0)."""
    missing = sorted((set(by) | set(metrics)) - set(finals.columns))
    if missing:
        raise ValueError(f"final records lack column(s) {missing}")
    rows = []
    for key, g in finals.groupby(list(by), sort=True):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row["n"] = len(g)
        for m in metrics:
            x = g[m].astype(float).to_numpy()
            row[f"{m} mean"] = float(np.mean(x))
            row[f"{m} std"] = float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")
            row[f"{m} gmean"] = float(np.exp(np.mean(np.log(x)))) if (x > 0).all() else float("nan")
        rows.append(row)
    cols = [*by, "n", *(f"{m} {s}" for m in metrics for s in ("mean", "std", "gmean"))]
    return pd.DataFrame(rows, columns=cols)
