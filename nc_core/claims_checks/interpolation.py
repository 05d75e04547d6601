"""The interpolation chapter's checks (Section 3.4, Figure 7: Adam <-> AdamW over the coupled share of a fixed
total weight decay).

Precondition of both claims: the decoupled part of the decay acted at this horizon -- at the smallest coupled
share (AdamW) its budget ``B = lambda_d * sum_t eta_t`` reaches
:data:`~nc_core.claims_checks.common.ACTED_BUDGET` (it alone shrinks a weight by at least 10%). Otherwise
moving decay between the coupled and the decoupled part varies nothing and the claims are not testable.

* ``coupled_share_restores_nc`` - direction: NC0, NC2 and NC3 fall as the share grows (Spearman rho < 0,
  p < 0.05) and every step to a larger share lowers the mean (smooth);
* ``coupled_share_accuracy`` - direction (no effect): the per-share mean validation accuracies within
  :data:`ACCURACY_RANGE`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.interpolation import SHARE, accuracy_anova, decoupled_shrink, share_trend
from ..claims import Check, direction, precondition
from .common import ACTED_BUDGET, grid_finished

__all__ = ["ACCURACY_RANGE", "METRICS", "interpolation_checks"]

METRICS = {"NC0": "NC0_code", "NC2": "NC2_code", "NC3": "NC3_code", "NC1": "NC1"}
#: "largely unaffected": per-share mean validation accuracies within one point
ACCURACY_RANGE = 0.01
_CLAIMS = ("coupled_share_restores_nc", "coupled_share_accuracy")


def interpolation_checks(finals: pd.DataFrame, etas: np.ndarray, missing: int, scale: str) -> list[Check]:
    """The checks of grid ``fig7_adam_adamw`` from its runs ``finals``; ``etas`` the per-step LRs of its runs
    (:func:`nc_core.analysis.horizons.lr_per_step`), ``missing`` the planned runs not stored, ``scale`` the
    horizon in words."""
    out = [grid_finished(finals, missing)]
    done = finals[finals["status"] == "completed"]
    decoupled = float(done["weight_decay"].max() - done[SHARE].min())
    budget = decoupled * float(np.sum(etas))
    shrink = 1 - decoupled_shrink(etas, decoupled)
    for claim in _CLAIMS:
        out.append(
            precondition(
                f"the decoupled part of the decay acted: at the smallest coupled share its budget B >= "
                f"{ACTED_BUDGET:.3f} (a 10% shrink)",
                f"B {budget:.3g}: shrinks a weight by {shrink:.2%}",
                budget >= ACTED_BUDGET,
                claim,
                runs=done,
                scale=scale,
            )
        )
    for name, col in METRICS.items():
        t = share_trend(finals, col)
        claim = "coupled_share_restores_nc" if name != "NC1" else ""
        out.append(
            direction(
                f"{name} falls as the coupled share grows (Spearman rho < 0, p < 0.05)",
                f"rho {t['rho']:.3f}, p {t['p']:.3g}; Adam/AdamW mean ratio {t['ratio']:.3g}",
                t["rho"] < 0 and t["p"] < 0.05,
                claim,
                runs=done,
                scale=scale,
            )
        )
        out.append(
            direction(
                f"{name}: every step to a larger share lowers the mean (smooth)",
                f"{t['steps_with_trend'] if t['rho'] < 0 else 0} of {t['steps']} steps",
                t["rho"] < 0 and t["steps_with_trend"] == t["steps"],
                claim,
                runs=done,
                scale=scale,
            )
        )
    acc = accuracy_anova(finals, "test_acc")
    out.append(
        direction(
            f"validation accuracy largely unaffected: per-share means within {100 * ACCURACY_RANGE:g} point",
            f"range {acc['range'] * 100:.2f} points (seed sd {acc['seed_sd'] * 100:.2f}); ANOVA F "
            f"{acc['F']:.2f}, "
            f"p {acc['p']:.3g}",
            acc["range"] <= ACCURACY_RANGE,
            "coupled_share_accuracy",
            runs=done,
            scale=scale,
        )
    )
    return out
