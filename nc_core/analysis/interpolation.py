"""Interpolating Adam and AdamW (Section 3.4, Figure 7): the NC metrics against the coupled share of a fixed
total weight decay.

A run of ``adam_adamw`` splits its total decay ``lambda`` into a coupled share ``lambda_c`` (added to the
gradient, as Adam's L2) and the decoupled rest ``lambda - lambda_c`` (``theta <- (1 - eta lambda_d) theta``,
as AdamW's): ``lambda_c = 0`` is AdamW, ``lambda_c = lambda`` is Adam. The paper reports that NC "improves
smoothly" as the coupled share grows while validation accuracy barely moves. Both statements are made
testable here against the seed-to-seed spread at each share:

* :func:`share_trend` - a monotone trend of a metric in the share: Spearman's rank correlation over all
  runs (each seed a sample), its p-value, and how many steps between neighbouring shares move the mean in
  the direction of the overall trend;
* :func:`accuracy_anova` - a one-way ANOVA (``statsmodels``) of accuracy on the share as a factor: the
  spread of accuracy across shares against the spread between seeds at one share;
* :func:`decoupled_shrink` - what the decoupled part can do at the run's horizon: the factor
  ``prod_t (1 - eta_t lambda_d)`` by which it alone shrinks an undisturbed weight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

__all__ = ["SHARE", "accuracy_anova", "decoupled_shrink", "share_summary", "share_trend"]

#: the column that holds a run's coupled share of the total weight decay
SHARE = "coupled_weight_decay"


def _completed(finals: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    missing = sorted({SHARE, "status", *columns} - set(finals.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    done = finals[finals["status"] == "completed"]
    if done[SHARE].nunique() < 2:
        raise ValueError(
            f"need completed runs at two or more coupled shares, got {sorted(done[SHARE].unique())}"
        )
    return done


def share_summary(finals: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Per coupled share (index, ascending): mean, standard deviation (``ddof = 1``) and number of the
    completed runs of each metric; columns ``(metric, "mean" | "std" | "n")``."""
    done = _completed(finals, metrics)
    return (
        done.groupby(SHARE)[list(metrics)]
        .agg(["mean", "std", "count"])
        .rename(columns={"count": "n"}, level=1)
    )


def share_trend(finals: pd.DataFrame, metric: str) -> dict[str, float | int]:
    """Is ``metric`` monotone in the coupled share?

    Returns:
        ``rho`` and ``p``: Spearman's rank correlation of the metric with the share over every completed run
        (ties in the share, i.e. the seeds of one share, get mid-ranks) and its two-sided p-value;
        ``ratio``: mean at the largest share / mean at the smallest; ``steps``: the number of steps between
        neighbouring shares; ``steps_with_trend``: how many of them move the mean in the direction of
        ``rho``'s sign (all of them: a smooth, monotone change of the means).
    """
    done = _completed(finals, [metric])
    result = stats.spearmanr(done[SHARE], done[metric])
    rho, p = float(result.statistic), float(result.pvalue)
    means = done.groupby(SHARE)[metric].mean().sort_index()
    diffs = np.diff(means.to_numpy())
    return {
        "rho": rho,
        "p": p,
        "ratio": float(means.iloc[-1] / means.iloc[0]),
        "steps": len(diffs),
        "steps_with_trend": int(np.sum(np.sign(diffs) == np.sign(rho))) if rho != 0 else 0,
    }


def accuracy_anova(finals: pd.DataFrame, column: str = "test_acc") -> dict[str, float]:
    """One-way ANOVA of ``column`` on the coupled share (a factor): does accuracy vary across shares more
    than between the seeds of one share?

    Returns:
        ``F`` and ``p`` of the share factor (``statsmodels`` ``ols(column ~ C(share))``, type-II table),
        ``range``: largest minus smallest per-share mean, and ``seed_sd``: the pooled within-share standard
        deviation, ``sqrt(residual mean square)``.

    Raises:
        ValueError: missing columns, fewer than two shares, or no share with two or more seeds (no
            within-share spread to compare with).
    """
    done = _completed(finals, [column])
    if done.groupby(SHARE).size().max() < 2:
        raise ValueError("accuracy_anova needs two or more seeds at some share (a within-share spread)")
    frame = pd.DataFrame({"y": done[column].astype(float), "share": done[SHARE].astype(float)})
    table = anova_lm(smf.ols("y ~ C(share)", data=frame).fit(), typ=2)
    means = frame.groupby("share")["y"].mean()
    return {
        "F": float(table.loc["C(share)", "F"]),
        "p": float(table.loc["C(share)", "PR(>F)"]),
        "range": float(means.max() - means.min()),
        "seed_sd": float(np.sqrt(table.loc["Residual", "sum_sq"] / table.loc["Residual", "df"])),
    }


def decoupled_shrink(etas: np.ndarray, decoupled_weight_decay: float) -> float:
    """``prod_t (1 - eta_t lambda_d)``: the factor by which the decoupled part of the decay alone shrinks a
    weight that no gradient moves, over a run whose per-step LRs are ``etas``
    (:func:`nc_core.analysis.horizons.lr_per_step`); 1 when ``lambda_d = 0``."""
    if decoupled_weight_decay < 0:
        raise ValueError(f"decoupled_weight_decay must be >= 0, got {decoupled_weight_decay}")
    return float(np.prod(1.0 - np.asarray(etas, dtype=np.float64) * decoupled_weight_decay))
