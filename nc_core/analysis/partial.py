"""Partial neural collapse (Section 4.3): runs whose features collapse (NC1, NC2) while the classifier does
not (NC0, NC3).

The paper's example: in its Table 2 AdamW reaches the smallest NC1 and NC2 of all optimizers while its NC0
diverges and NC3 is not met. Made measurable here without free thresholds: on each architecture x dataset
page, the *coupled level* of a metric is the median over the valid runs of the coupled optimizers (SGD, Adam,
Signum); a run shows partial collapse when its NC1 and NC2 are at or below the coupled level while its NC0
and NC3 are above it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

__all__ = ["COUPLED", "FEATURE_METRICS", "CLASSIFIER_METRICS", "partial_collapse", "partial_counts"]

COUPLED: tuple[str, ...] = ("sgd", "adam", "signum")
#: metrics of the features (collapse reached) and of the classifier (collapse missed), code convention
FEATURE_METRICS: tuple[str, ...] = ("NC1", "NC2_code")
CLASSIFIER_METRICS: tuple[str, ...] = ("NC0_code", "NC3_code")


def partial_collapse(valid: pd.DataFrame, by: Sequence[str] = ("model", "dataset")) -> pd.DataFrame:
    """``valid`` with, per run, the coupled level of each metric on its page (``<metric> coupled``) and
    ``partial``: NC1 and NC2 <= their coupled level and NC0 and NC3 > theirs.

    Raises:
        ValueError: a missing column, or a page without valid runs of a coupled optimizer.
    """
    metrics = [*FEATURE_METRICS, *CLASSIFIER_METRICS]
    missing = sorted({"optimizer", *by, *metrics} - set(valid.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    frames = []
    for key, page in valid.groupby(list(by), sort=True):
        coupled = page[page["optimizer"].isin(COUPLED)]
        if coupled.empty:
            raise ValueError(f"page {key}: no valid run of a coupled optimizer ({', '.join(COUPLED)})")
        page = page.copy()
        for m in metrics:
            page[f"{m} coupled"] = float(coupled[m].median())
        features = [page[m] <= page[f"{m} coupled"] for m in FEATURE_METRICS]
        classifier = [page[m] > page[f"{m} coupled"] for m in CLASSIFIER_METRICS]
        page["partial"] = pd.concat(features + classifier, axis=1).all(axis=1)
        frames.append(page)
    return pd.concat(frames) if frames else valid.assign(partial=pd.Series(dtype=bool))


def partial_counts(flagged: pd.DataFrame) -> pd.DataFrame:
    """Per optimizer: valid runs, runs with partial collapse, and their share."""
    out = flagged.groupby("optimizer").agg(valid=("partial", "size"), partial=("partial", "sum"))
    out["share"] = out["partial"] / out["valid"]
    return out
