"""The momentum chapter's checks (Section 3.2, Figure 4: SGD over momentum x weight decay, one run per cell).

* ``momentum_accelerates_sgd`` - direction: at the largest weight decay, and at every weight decay > 0, the
  metric with the largest momentum below the metric without (ratio < 1 / :data:`~nc_core.claims.MIN_EFFECT`);
* ``coupled_wd_lowers_nc`` - direction: with the largest momentum, the metric at the largest weight decay
  below the metric without decay.

Each check records the terminal phase of the runs it compares (:func:`nc_core.profiles.terminal_phase`).
"""

from __future__ import annotations

import pandas as pd

from ..analysis.momentum import momentum_effect
from ..claims import Check, below, direction
from .common import runs_finished

__all__ = ["METRICS", "momentum_checks"]

METRICS = {"NC0": "NC0_code", "NC3": "NC3_code"}


def momentum_checks(finals: pd.DataFrame, planned: int) -> list[Check]:
    """The checks of grid ``fig4_heatmap`` from its runs ``finals`` (``planned`` runs planned)."""
    out = [runs_finished(finals, planned)]
    done = finals[finals["status"] == "completed"]
    for name, col in METRICS.items():
        e = momentum_effect(finals, col, decimals=4)
        top, w_top = e.top, e.largest
        ends = done[done["momentum"].isin([0.0, top])]
        out.append(
            direction(
                f"at every weight decay > 0, {name} with momentum {top:g} below {name} without momentum "
                "(ratio < "
                "1/1.1)",
                {f"{w:g}": r for w, r in e.ratios.items()},
                bool(e.ratios) and all(below(r) for r in e.ratios.values()),
                "momentum_accelerates_sgd",
                runs=ends[ends["weight_decay"] > 0],
            )
        )
        out.append(
            direction(
                f"at the largest weight decay ({w_top:g}), {name} with momentum {top:g} below {name} without",
                f"ratio {e.ratio_at_largest:.3g}",
                below(e.ratio_at_largest),
                "momentum_accelerates_sgd",
                runs=ends[ends["weight_decay"] == w_top],
            )
        )
        out.append(
            direction(
                f"with momentum {top:g}, {name} at the largest weight decay below {name} at weight decay 0",
                f"{e.at_largest:.3g} vs {e.at_zero:.3g}",
                below(e.at_largest / e.at_zero),
                "coupled_wd_lowers_nc",
                runs=done[(done["momentum"] == top) & done["weight_decay"].isin([0.0, w_top])],
            )
        )
    return out
