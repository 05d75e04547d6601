"""Beyond the paper (its Section 4.5): the theory's prediction on Lion, Schedule-Free and Muon.

Theorem 3.3 says a sign-based update with *decoupled* decay keeps NC0 bounded away from zero; Theorem 3.4
(sign GD) and Theorem 3.1 (SGD) say *coupled* decay lets NC0 fall. This module states that prediction
per optimizer (:data:`PREDICTIONS`), picks each optimizer's LR from the probe the way the paper picked its
LRs (:func:`pick_lr`) and decides the measured verdict (:func:`nc0_verdicts`). These are the project's
findings, not the paper's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .weight_decay import means_by_weight_decay

__all__ = ["PREDICTIONS", "Prediction", "nc0_verdicts", "pick_lr"]


@dataclass(frozen=True)
class Prediction:
    """What the theory predicts for one optimizer: ``decay`` ("coupled" / "decoupled"), ``nc0_falls``
    (NC0 falls with weight decay) and ``why`` (the theorem or analogy behind it)."""

    decay: str
    nc0_falls: bool
    why: str


PREDICTIONS: dict[str, Prediction] = {
    "lion": Prediction("decoupled", False, "sign update + decoupled decay: SignumW's case (Theorem 3.3)"),
    "lion_coupled": Prediction("coupled", True, "decay inside the sign: Signum's case (Theorem 3.4)"),
    "sgd_schedulefree": Prediction("coupled", True, "coupled SGD (Theorem 3.1), averaged iterates"),
    "adamw_schedulefree": Prediction("decoupled", False, "AdamW's decoupled decay (Figure 1, Theorem 3.3)"),
    "muon": Prediction("decoupled", False, "the classifier is trained by AdamW with decoupled decay"),
    "muon_all": Prediction(
        "decoupled", False, "by analogy only: an orthogonalised step of fixed size (the sign of the "
        "classifier's singular values) + decoupled decay, Theorem 3.3's structure"
    ),
}  # fmt: skip


def pick_lr(finals: pd.DataFrame, min_train_acc: float) -> pd.DataFrame:
    """Each optimizer's LR the way the paper picked its LRs: the largest candidate that does not diverge,
    here also required to fit the training set (completed with ``train_acc >= min_train_acc``) so that
    its runs count.

    Returns:
        One row per optimizer (index): ``candidates`` (sorted LRs tried), ``largest_not_diverged``,
        ``pick`` (NaN where no candidate fits) and ``train_acc_at_pick``.
    """
    missing = sorted({"optimizer", "lr", "status", "train_acc"} - set(finals.columns))
    if missing:
        raise ValueError(f"the runs lack column(s) {missing}")
    rows = {}
    for opt, g in finals.groupby("optimizer", sort=False):
        done = g[g["status"] == "completed"]
        fits = done[done["train_acc"] >= min_train_acc]
        pick = float(fits["lr"].max()) if len(fits) else math.nan
        rows[opt] = {
            "candidates": sorted(float(x) for x in g["lr"]),
            "largest_not_diverged": float(done["lr"].max()) if len(done) else math.nan,
            "pick": pick,
            "train_acc_at_pick": float(fits.loc[fits["lr"] == pick, "train_acc"].iloc[0])
            if len(fits)
            else math.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def nc0_verdicts(summary: pd.DataFrame, metric: str = "NC0_code", factor: float = 10.0) -> pd.DataFrame:
    """Prediction against measurement for every optimizer of :data:`PREDICTIONS` in ``summary``
    (:func:`nc_core.sweep.summarise_by` over ``["optimizer", "weight_decay"]`` of the valid runs).

    Measured: ``ratio`` = mean ``metric`` at weight decay 0 / the lowest mean at a weight decay > 0;
    ``falls`` = ``ratio >= factor`` (NC0 falls by at least ``factor`` somewhere on the decay axis);
    ``agrees`` = ``falls == prediction``. NaN / ``None`` where weight decay 0 or every weight decay > 0 has
    no valid run.

    Returns:
        One row per optimizer (index): ``decay``, ``predicted``, ``why``, ``at_zero``, ``lowest``,
        ``at_weight_decay`` (where the lowest is), ``ratio``, ``falls``, ``agrees``.
    """
    rows = {}
    for opt, pred in PREDICTIONS.items():
        m = means_by_weight_decay(summary, opt, metric)
        if not m:
            continue
        positive = {w: v for w, v in m.items() if w > 0}
        at_zero = m.get(0.0, math.nan)
        best = min(positive, key=positive.get) if positive else None
        lowest = positive[best] if best is not None else math.nan
        ratio = at_zero / lowest if lowest > 0 else (math.inf if lowest == 0 else math.nan)
        falls = None if math.isnan(ratio) else bool(ratio >= factor)
        rows[opt] = {
            "decay": pred.decay,
            "predicted": "NC0 falls" if pred.nc0_falls else "NC0 stays up",
            "why": pred.why,
            "at_zero": at_zero,
            "lowest": lowest,
            "at_weight_decay": best,
            "ratio": ratio,
            "falls": falls,
            "agrees": None if falls is None else falls == pred.nc0_falls,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
