"""The unconstrained feature model at the paper's size (Appendix D.4.2, Figure 15).

The paper trains the UFM (d = 512, K = 10, N = 10,000) with Adam, AdamW and SGD (momentum 0.9, coupled
decay), keeps the runs at 100% training accuracy and reports that AdamW's NC0 and NC3 "remain at least one
magnitude of order larger" than Adam's and SGD's. This module labels the protocol of each run (the
grid's main protocol and its one-change alternatives) and measures that gap per weight decay.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import pandas as pd

from ..profiles import FIGURE_FILTERS
from .horizons import optimizer_steps

__all__ = ["UFM_VALID_TRAIN_ACC", "order_gap", "protocol_of"]

#: The paper's filter for Figure 15: "only including models which achieved 100% training accuracy"; its
#: one home is :data:`nc_core.profiles.FIGURE_FILTERS` (``profiles.valid_mask(..., figure="fig15_ufm")``).
UFM_VALID_TRAIN_ACC = FIGURE_FILTERS["fig15_ufm"]


def protocol_of(finals: pd.DataFrame, main: pd.Series | None = None) -> pd.Series:
    """A label per run naming how its protocol differs from ``main`` (the grid's main protocol).

    A run's protocol is its (optimizer steps, batch size, feature initialisation ``init_std``); the label
    is ``"main"`` where all three equal ``main``'s, else the changed parts, e.g. ``"4,000 steps"``,
    ``"batch 250"``, ``"init_std 1"``. ``main`` defaults to the most common protocol in ``finals``.
    """

    def key(run: pd.Series) -> tuple[int, int, str]:
        std = json.loads(run["model_kwargs"]).get("init_std")
        return optimizer_steps(run), int(run["batch_size"]), "1/sqrt(d)" if std is None else f"{float(std):g}"

    keys = finals.apply(key, axis=1)
    ref = key(main) if main is not None else keys.value_counts().index[0]

    def label(k: tuple[int, int, str]) -> str:
        parts = [
            f"{k[0]:,} steps" if k[0] != ref[0] else "",
            f"batch {k[1]}" if k[1] != ref[1] else "",
            f"init_std {k[2]}" if k[2] != ref[2] else "",
        ]
        return ", ".join(p for p in parts if p) or "main"

    return keys.map(label)


def order_gap(
    valid: pd.DataFrame,
    metric: str,
    *,
    above: str = "adamw",
    below: Sequence[str] = ("adam", "sgd"),
    factor: float = 10.0,
) -> pd.DataFrame:
    """How far ``above``'s mean ``metric`` stays above each of ``below``'s, per shared weight decay > 0.

    For every optimizer ``o`` in ``below`` and every weight decay ``lambda > 0`` at which both ``above`` and
    ``o`` have runs in ``valid``: the means over those runs (over learning rates, as Figure 15 pools them),
    their ratio ``mean_above / mean_o``, and ``holds = ratio >= factor`` (the paper's "at least one order
    of magnitude" for ``factor = 10``). Weight decay 0 is left out: without decay Adam and AdamW are the
    same algorithm.

    Returns:
        One row per (``below`` optimizer, weight decay): columns ``optimizer``, ``weight_decay``, ``n_above``,
        ``n_below``, ``mean_above``, ``mean_below``, ``ratio``, ``holds``; empty (with those columns) where
        no weight decay is shared.
    """
    cols = ["optimizer", "weight_decay", "n_above", "n_below", "mean_above", "mean_below", "ratio", "holds"]
    if metric not in valid.columns:
        raise ValueError(f"no column {metric!r} in the runs")
    top = valid[(valid["optimizer"] == above) & (valid["weight_decay"] > 0)].groupby("weight_decay")[metric]
    rows = []
    for opt in below:
        low = valid[(valid["optimizer"] == opt) & (valid["weight_decay"] > 0)].groupby("weight_decay")[metric]
        for wd in sorted(set(top.groups) & set(low.groups)):
            hi, lo = top.get_group(wd).astype(float), low.get_group(wd).astype(float)
            ratio = hi.mean() / lo.mean() if lo.mean() > 0 else math.inf
            rows.append([opt, wd, len(hi), len(lo), hi.mean(), lo.mean(), ratio, bool(ratio >= factor)])
    return pd.DataFrame(rows, columns=cols)
