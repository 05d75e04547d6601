"""Training dynamics (Section 3.3; Figure 5, Table 1, Figures 6 and 16): one run per optimizer followed
through training, its final values against its values at initialisation.

The paper's statements on these runs: AdamW and SignumW end with NC0 far above Adam's and Signum's (Table 1:
15.7x and 4,084x; claim ``dynamics_decoupled_nc0``) and above their own initial NC0, while SGD, SGDW, Adam and
Signum lower it; SGD ends with the smallest NC0; the smallest singular value of the last-layer weights ``W``
grows under AdamW and SignumW, and SGD and Adam end with a lower NC3 than those two (``dynamics_w_sv_grows``);
NC1 falls under every optimizer.

* :func:`endpoints` - per optimizer, a column's value at initialisation, its smallest over the measured
  epochs and its final value;
* :func:`dynamics_summary` - the numbers and verdicts of those statements (:class:`DynamicsSummary`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..paper_values import TABLE1_OPTIMIZERS

__all__ = ["DECOUPLED_ADAPTIVE", "DynamicsSummary", "dynamics_summary", "endpoints"]

#: the decoupled optimizers whose NC0 the paper finds rising and whose smallest singular value of W grows
DECOUPLED_ADAPTIVE: tuple[str, ...] = ("adamw", "signumw")


def endpoints(
    finals: pd.DataFrame, history: pd.DataFrame, column: str, optimizers: Sequence[str] = TABLE1_OPTIMIZERS
) -> pd.DataFrame:
    """Per optimizer (index, in the order of ``optimizers``): ``init``, ``column`` at epoch 0 of its history
    (the first such row); ``min``, its smallest value over the history; ``final``, its final record's value.

    ``finals`` is indexed by optimizer (one run each); ``history`` has columns ``optimizer``, ``epoch`` and
    ``column`` (the measured epochs). NaN where an optimizer has no run, no epoch 0 or no history.
    """
    rows = {}
    for opt in optimizers:
        g = history[history["optimizer"] == opt]
        first = g[g["epoch"] == 0]
        rows[opt] = {
            "init": float(first[column].iloc[0]) if len(first) else math.nan,
            "min": float(g[column].min()),
            "final": float(finals.loc[opt, column]) if opt in finals.index else math.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["init", "min", "final"])


@dataclass(frozen=True)
class DynamicsSummary:
    """The numbers and verdicts behind the dynamics chapter's claims (every dict keyed by optimizer).

    * ``nc0``, ``nc0_init``: final NC0 and NC0 at initialisation (code convention);
    * ``ratio_adam``, ``ratio_signum``: final NC0 of AdamW / Adam and of SignumW / Signum;
    * ``nc0_change``: ``final / init - 1``; ``nc0_rises``: ``final > init``; ``signs_as_table1``: NC0 rises
      under AdamW and under none of SGD, SGDW, Adam, Signum (the signs of the paper's Table 1 but SignumW's);
    * ``sgd_drop``: ``1 - final / init`` of SGD's NC0; ``smallest_nc0``: the optimizer with the smallest final
      NC0 (the first of ``optimizers`` on a tie);
    * ``w_sv``: for AdamW and SignumW, the smallest singular value of ``W`` (``init``, ``min``, ``final``, as
      :func:`endpoints`); ``w_sv_grows``: final > ``growth`` x its minimum over training;
      ``w_sv_above_init``: final > init;
    * ``nc3``: final NC3; ``coupled_below_nc3``: SGD's and Adam's are both below AdamW's and SignumW's;
    * ``nc1_fell``: final NC1 < NC1 at initialisation.
    """

    nc0: dict[str, float]
    nc0_init: dict[str, float]
    ratio_adam: float
    ratio_signum: float
    nc0_change: dict[str, float]
    nc0_rises: dict[str, bool]
    signs_as_table1: bool
    sgd_drop: float
    smallest_nc0: str
    w_sv: dict[str, dict[str, float]]
    w_sv_grows: dict[str, bool]
    w_sv_above_init: dict[str, bool]
    nc3: dict[str, float]
    coupled_below_nc3: bool
    nc1_fell: dict[str, bool]


def dynamics_summary(
    finals: pd.DataFrame,
    history: pd.DataFrame,
    optimizers: Sequence[str] = TABLE1_OPTIMIZERS,
    growth: float = 1.5,
) -> DynamicsSummary:
    """The dynamics chapter's claims on one run per optimizer: ``finals`` indexed by optimizer, ``history``
    the measured epochs of those runs with an ``optimizer`` column (see :func:`endpoints`). ``optimizers``
    must include the six of the paper's Table 1; a missing run gives NaN numbers and failed verdicts."""
    nc0_ends = endpoints(finals, history, "NC0_code", optimizers)
    nc0, nc0_init = nc0_ends["final"].to_dict(), nc0_ends["init"].to_dict()
    rises = {o: bool(nc0[o] > nc0_init[o]) for o in optimizers}
    sv = endpoints(finals, history, "W_sv_min", DECOUPLED_ADAPTIVE)
    nc3 = endpoints(finals, history, "NC3_code", optimizers)["final"].to_dict()
    nc1 = endpoints(finals, history, "NC1", optimizers)
    return DynamicsSummary(
        nc0=nc0,
        nc0_init=nc0_init,
        ratio_adam=nc0["adamw"] / nc0["adam"],
        ratio_signum=nc0["signumw"] / nc0["signum"],
        nc0_change={o: nc0[o] / nc0_init[o] - 1 for o in optimizers},
        nc0_rises=rises,
        signs_as_table1=rises["adamw"] and not any(rises[o] for o in ("sgd", "sgdw", "adam", "signum")),
        sgd_drop=1 - nc0["sgd"] / nc0_init["sgd"],
        smallest_nc0=min(nc0, key=nc0.get),
        w_sv={o: sv.loc[o].to_dict() for o in DECOUPLED_ADAPTIVE},
        w_sv_grows={o: bool(sv.loc[o, "final"] > growth * sv.loc[o, "min"]) for o in DECOUPLED_ADAPTIVE},
        w_sv_above_init={o: bool(sv.loc[o, "final"] > sv.loc[o, "init"]) for o in DECOUPLED_ADAPTIVE},
        nc3=nc3,
        coupled_below_nc3=bool(max(nc3["sgd"], nc3["adam"]) < min(nc3["adamw"], nc3["signumw"])),
        nc1_fell={o: bool(nc1.loc[o, "final"] < nc1.loc[o, "init"]) for o in optimizers},
    )
