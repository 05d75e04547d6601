"""The training-length chapter's verdicts (Appendix D.4.1, Figures 13 and 14; Theorem 3.1 on the same runs),
on top of the numbers of :mod:`nc_core.analysis.horizons`.

* :func:`prediction_agreement` - how far the measured NC0 of an SGD / SGDW run stays from its exact
  prediction (:func:`~nc_core.analysis.horizons.predicted_row_sum`) while the prediction is resolved
  (claim ``thm31_sgd_nc0_decay``);
* :func:`pair_ratios` - per horizon and decoupled/coupled pair (:data:`~nc_core.analysis.horizons.PAIRS`):
  the final NC0 ratio and whether both runs are in the terminal phase (``dynamics_decoupled_nc0``);
* :func:`shared_decay_ratios` - Figure 13: a decoupled optimizer's metric over its coupled counterpart's at
  every weight decay > 0 both have at one horizon (``longer_training_keeps_gap``);
* :func:`order_kept` - Figure 14: do runs keep their order by a metric from a shorter to a longer horizon,
  and does the metric fall in every run (``epochs_200_suffice``)?
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..profiles import terminal_phase
from .horizons import PAIRS

__all__ = [
    "OrderKept",
    "SharedDecayRatios",
    "order_kept",
    "pair_ratios",
    "prediction_agreement",
    "shared_decay_ratios",
]


def prediction_agreement(
    prediction: pd.DataFrame, resolved: float = 1e-3, factor: float = 2.0
) -> dict[str, float | int]:
    """The largest relative deviation ``max |measured / predicted - 1|`` of a
    :func:`~nc_core.analysis.horizons.predicted_row_sum` frame over the epochs whose prediction is still
    >= ``resolved`` x the prediction at its first epoch (the decay has not yet reached float32 rounding), and
    where the measurement leaves the prediction.

    Returns:
        ``epochs``: how many epochs were compared; ``deviation``: the largest deviation over them (NaN if
        none); ``final_predicted``, ``final_measured``: the prediction and the measurement at the last epoch;
        ``departs_at``: ``predicted / predicted[0]`` at the first epoch whose ``measured / predicted`` lies
        outside ``[1/factor, factor]`` (how far the prediction had fallen when the measurement left it; NaN
        if it never does).
    """
    if factor <= 1:
        raise ValueError(f"factor must be > 1, got {factor}")
    start = prediction["predicted"].iloc[0]
    kept = prediction[prediction["predicted"] >= resolved * start]
    off = prediction[(prediction["ratio"] > factor) | (prediction["ratio"] < 1 / factor)]
    return {
        "epochs": len(kept),
        "deviation": float((kept["ratio"] - 1).abs().max()),
        "final_predicted": float(prediction["predicted"].iloc[-1]),
        "final_measured": float(prediction["measured"].iloc[-1]),
        "departs_at": float(off["predicted"].iloc[0] / start) if len(off) else math.nan,
    }


def pair_ratios(finals: pd.DataFrame, metric: str = "NC0_code") -> pd.DataFrame:
    """Per horizon (``epochs``, ascending) and pair of :data:`~nc_core.analysis.horizons.PAIRS` (in its
    order) whose two runs completed: ``ratio``, the decoupled run's final ``metric`` / the coupled run's, and
    ``terminal``, both runs in the terminal phase (:func:`nc_core.profiles.terminal_phase`). Columns
    ``epochs``, ``pair``, ``decoupled``, ``coupled``, ``ratio``, ``terminal``; one run per (horizon,
    optimizer)
    is expected."""
    missing = sorted({"status", "epochs", "optimizer", "train_acc", metric} - set(finals.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    done = finals[finals["status"] == "completed"].set_index(["epochs", "optimizer"])
    rows = []
    for epochs in sorted(finals["epochs"].unique()):
        for name, (dec, cou) in PAIRS.items():
            if (epochs, dec) not in done.index or (epochs, cou) not in done.index:
                continue
            both = done.loc[[(epochs, dec), (epochs, cou)]].reset_index()
            rows.append({
                "epochs": epochs, "pair": name, "decoupled": dec, "coupled": cou,
                "ratio": float(done.loc[(epochs, dec), metric] / done.loc[(epochs, cou), metric]),
                "terminal": bool(terminal_phase(both)),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["epochs", "pair", "decoupled", "coupled", "ratio", "terminal"])


@dataclass(frozen=True)
class SharedDecayRatios:
    """``ratios``: per weight decay > 0 with a finite value for both optimizers (ascending), decoupled /
    coupled, rounded to the given decimals (as shown); ``above_at_every``: there is one and every rounded
    ratio > 1."""

    ratios: dict[float, float]
    above_at_every: bool


def shared_decay_ratios(
    runs: pd.DataFrame,
    epochs: int,
    metric: str,
    decoupled: str = "adamw",
    coupled: str = "adam",
    decimals: int = 4,
) -> SharedDecayRatios:
    """Figure 13 at one horizon: ``decoupled``'s ``metric`` / ``coupled``'s at every weight decay > 0 where
    both have a finite value among ``runs`` at ``epochs`` epochs (runs sharing a point are averaged). The
    paper: at ten times the epochs AdamW's NC0 and NC3 stay above Adam's."""
    missing = sorted({"weight_decay", "epochs", "optimizer", metric} - set(runs.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    at = runs.pivot_table(index="weight_decay", columns=["epochs", "optimizer"], values=metric)
    hi, lo = (epochs, decoupled), (epochs, coupled)
    shared = [
        w
        for w in at.index
        if w > 0 and np.isfinite(at.loc[w].get(hi, np.nan)) and np.isfinite(at.loc[w].get(lo, np.nan))
    ]
    ratios = {w: round(float(at.loc[w, hi] / at.loc[w, lo]), decimals) for w in shared}
    return SharedDecayRatios(ratios, bool(ratios) and min(ratios.values()) > 1)


@dataclass(frozen=True)
class OrderKept:
    """``rho``: Spearman's rank correlation of the runs' metric at the shorter horizon with the longer
    (NaN with fewer than three runs); ``n``: runs with a value at both; ``fell``: the share of them whose
    metric is lower at the longer horizon (NaN without runs)."""

    rho: float
    n: int
    fell: float


def order_kept(runs: pd.DataFrame, metric: str, short: int, long: int) -> OrderKept:
    """Figure 14: the runs of ``runs`` (one per (momentum, weight decay) point and horizon) at ``short`` and
    ``long`` epochs, paired by their (momentum, weight decay). The paper: longer training lowers the metrics
    "in all cases" with "the overall trend for increasing weight decay unchanged"."""
    missing = sorted({"momentum", "weight_decay", "epochs", metric} - set(runs.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    p = runs.pivot_table(index=["momentum", "weight_decay"], columns="epochs", values=metric).dropna()
    rho = float(p[short].rank().corr(p[long].rank())) if len(p) > 2 else math.nan
    fell = float((p[long] < p[short]).mean()) if len(p) else math.nan
    return OrderKept(rho, len(p), fell)
