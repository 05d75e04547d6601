"""The dynamics chapter's checks (Section 3.3; Figure 5, Table 1, Figures 6 and 16) on one run per optimizer.

* ``dynamics_decoupled_nc0`` - direction: AdamW's and SignumW's final NC0 above Adam's and Signum's (ratio >
  :data:`~nc_core.claims.MIN_EFFECT`), and the signs of Table 1 (NC0 rises from initialisation under AdamW,
  falls under SGD, SGDW, Adam and Signum); magnitude: the ratios against :data:`RATIO_REQUIRED` (the paper's
  15.7x and 4,084x, required to the same order), and SignumW's rise (final / initial NC0 >= 1: Theorem 3.3's
  fixed point, whose level relative to initialisation depends on the width);
* ``dynamics_w_sv_grows`` - direction: W's smallest singular value grows after its minimum (final > 1.5x
  minimum) under AdamW and SignumW, SGD and Adam end with a lower NC3 than those two; magnitude: it ends
  above its initial value.

Statements of the section without an entry in the claims registry (SGD's NC0 falls by > 99.5%, SGD ends
with the smallest NC0, NC1 falls under every optimizer) are recorded without a claim.
"""

from __future__ import annotations

import pandas as pd

from ..analysis.training_dynamics import dynamics_summary
from ..claims import Check, above, direction, magnitude
from ..paper_values import TABLE1_OPTIMIZERS
from ..plots import OPTIMIZER_LABELS as LABEL
from .common import runs_finished

__all__ = ["RATIO_REQUIRED", "SV_GROWTH", "dynamics_checks"]

#: decoupled/coupled final NC0 ratio required for the magnitude (paper's Table 1 in parentheses)
RATIO_REQUIRED = {"AdamW / Adam": (10.0, "15.7x"), "SignumW / Signum": (100.0, "4,084x")}
#: "grows after its minimum": final smallest singular value of W above this multiple of its minimum
SV_GROWTH = 1.5


def dynamics_checks(finals: pd.DataFrame, history: pd.DataFrame) -> list[Check]:
    """The checks of grid ``fig5_dynamics``: ``finals`` one final record per optimizer of Table 1, ``history``
    the measured epochs of those runs (``run_id``, ``epoch``, metrics)."""
    opts = list(TABLE1_OPTIMIZERS)
    out = [runs_finished(finals, len(opts), "all six Table 4 runs")]
    present = [o for o in opts if o in set(finals["optimizer"])]
    fin = finals.set_index("optimizer").loc[present]
    hist = history.assign(
        optimizer=history["run_id"].map(dict(zip(finals["run_id"], finals["optimizer"], strict=True)))
    ).dropna(subset=["NC1"])
    ends = dynamics_summary(fin, hist, opts, growth=SV_GROWTH)
    runs = finals[finals["optimizer"].isin(opts)]
    pair_runs = {
        "AdamW / Adam": finals[finals["optimizer"].isin(["adamw", "adam"])],
        "SignumW / Signum": finals[finals["optimizer"].isin(["signumw", "signum"])],
    }
    ratio = {"AdamW / Adam": ends.ratio_adam, "SignumW / Signum": ends.ratio_signum}
    for name, r in ratio.items():
        out.append(
            direction(
                f"final NC0: {name} above 1.1",
                f"ratio {r:.3g}",
                above(r),
                "dynamics_decoupled_nc0",
                runs=pair_runs[name],
            )
        )
    for name, r in ratio.items():
        need, paper = RATIO_REQUIRED[name]
        out.append(
            magnitude(
                f"final NC0 ratio {name} of the paper's order",
                r,
                need,
                "dynamics_decoupled_nc0",
                runs=pair_runs[name],
                paper=paper,
            )
        )
    changes = {LABEL[o]: f"{100 * ends.nc0_change[o]:+.0f}%" for o in opts}
    out.append(
        direction(
            "Table 1 signs: NC0 rises from initialisation under AdamW, falls under SGD, SGDW, Adam and "
            "Signum",
            changes,
            ends.signs_as_table1,
            "dynamics_decoupled_nc0",
            runs=runs,
        )
    )
    out.append(
        magnitude(
            "Table 1: SignumW's final NC0 over its initial NC0 (rises: >= 1; its level is Theorem 3.3's "
            "fixed "
            "point, which depends on the width)",
            ends.nc0["signumw"] / ends.nc0_init["signumw"],
            1.0,
            "dynamics_decoupled_nc0",
            runs=finals[finals["optimizer"] == "signumw"],
            paper=">> 100% in Table 1",
        )
    )
    out.append(
        direction(
            "NC0 under SGD falls from initialisation by > 99.5%",
            f"{100 * ends.sgd_drop:.2f}%",
            ends.sgd_drop > 0.995,
            runs=runs,
        )
    )
    out.append(
        direction(
            "SGD ends with the smallest NC0 of the six",
            ends.smallest_nc0,
            ends.smallest_nc0 == "sgd",
            runs=runs,
        )
    )
    for opt in ("adamw", "signumw"):
        w0, wmin, w1 = (ends.w_sv[opt][k] for k in ("init", "min", "final"))
        mine = finals[finals["optimizer"] == opt]
        out.append(
            direction(
                f"{LABEL[opt]}: the smallest singular value of W grows after its minimum (final > "
                f"{SV_GROWTH:g}x minimum)",
                f"init {w0:.3g}, min {wmin:.3g}, final {w1:.3g}",
                ends.w_sv_grows[opt],
                "dynamics_w_sv_grows",
                runs=mine,
            )
        )
        out.append(
            magnitude(
                f"{LABEL[opt]}: the smallest singular value of W, final over initial (>= 1)",
                w1 / w0,
                1.0,
                "dynamics_w_sv_grows",
                runs=mine,
            )
        )
    out.append(
        direction(
            "SGD and Adam end with a lower NC3 than AdamW and SignumW",
            {LABEL[o]: round(v, 3) for o, v in ends.nc3.items()},
            ends.coupled_below_nc3,
            "dynamics_w_sv_grows",
            runs=runs,
        )
    )
    fell = {LABEL[o]: ends.nc1_fell[o] for o in opts}
    out.append(
        direction("NC1 falls from initialisation under every optimizer", fell, all(fell.values()), runs=runs)
    )
    return out
