"""NC4 against NC1-NC3 (Section 4, Figure 44): the agreement of the classifier with the nearest class mean.

The paper finds NC4 met whenever training accuracy approaches 100% (claim ``nc4_at_full_accuracy``) and
"largely uncorrelated" with NC1-NC3 (claim ``nc4_uncorrelated``). NC4 is measured on the test set (paper
convention: the share of test images on which the two agree).

* :func:`nc4_correlations` - Spearman's rank correlation of NC4 with NC1, NC2 and NC3 over runs, and the
  range NC4 spans;
* :func:`nc4_at_full_accuracy` - NC4 over the completed runs at or above a training accuracy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

__all__ = ["NC4_AGAINST", "Nc4Correlations", "Nc4AtFullAccuracy", "nc4_at_full_accuracy", "nc4_correlations"]

#: the metrics NC4 is set against: display name -> column (authors' code convention)
NC4_AGAINST: dict[str, str] = {"NC1": "NC1", "NC2": "NC2_code", "NC3": "NC3_code"}


@dataclass(frozen=True)
class Nc4Correlations:
    """``rho``: Spearman's rank correlation of NC4 with each metric of :data:`NC4_AGAINST` (display name ->
    rho); ``nc4_min``, ``nc4_max``: the range NC4 spans over the runs; ``uncorrelated``: every
    ``|rho| < bound``."""

    rho: dict[str, float]
    nc4_min: float
    nc4_max: float
    uncorrelated: bool


def nc4_correlations(runs: pd.DataFrame, bound: float = 0.5) -> Nc4Correlations:
    """Is NC4 "largely uncorrelated" with NC1-NC3 over ``runs`` (the valid runs of a page)? Spearman's rank
    correlation of ``NC4`` with each of :data:`NC4_AGAINST`; uncorrelated when every ``|rho| < bound``
    (NaN, e.g. a constant NC4, counts as not shown uncorrelated)."""
    missing = sorted({"NC4", *NC4_AGAINST.values()} - set(runs.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    rho = {m: float(runs["NC4"].corr(runs[c], method="spearman")) for m, c in NC4_AGAINST.items()}
    return Nc4Correlations(
        rho, float(runs["NC4"].min()), float(runs["NC4"].max()), all(abs(r) < bound for r in rho.values())
    )


@dataclass(frozen=True)
class Nc4AtFullAccuracy:
    """``n``: completed runs at or above the training accuracy; ``nc4_min``: their smallest NC4 (NaN if
    none); ``holds``: there are such runs and every one has NC4 >= the level."""

    n: int
    nc4_min: float
    holds: bool


def nc4_at_full_accuracy(
    finals: pd.DataFrame, min_train_acc: float = 0.99, level: float = 0.95
) -> Nc4AtFullAccuracy:
    """NC4 of the completed runs of ``finals`` (all runs, not only the valid ones) whose final training
    accuracy is >= ``min_train_acc`` (the paper's "~100%"): does every one reach ``level``?"""
    missing = sorted({"NC4", "status", "train_acc"} - set(finals.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    full = finals[(finals["status"] == "completed") & (finals["train_acc"] >= min_train_acc)]
    if full.empty:
        return Nc4AtFullAccuracy(0, math.nan, False)
    return Nc4AtFullAccuracy(len(full), float(full["NC4"].min()), bool((full["NC4"] >= level).all()))
