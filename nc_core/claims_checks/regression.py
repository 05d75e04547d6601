"""The regression chapter's checks (Appendix D.3, Table 5 pooled over the pages; Section 4.3, partial
collapse).

* ``nc0_tracks_nc3`` - precondition: at least three valid runs; direction: the pooled OLS slope of NC3 on NC0
  > 0 with p < 0.01 (classical and HC3 errors); magnitude: R^2 >= 0.7 (paper 0.730);
* ``partial_collapse`` - direction: some AdamW or SignumW run reaches the coupled optimizers' NC1 and NC2
  level while its NC0 and NC3 stay above it; Table 2's AdamW run (its smallest NC3) is one of them.
"""

from __future__ import annotations

import pandas as pd

from ..analysis.partial import partial_collapse
from ..analysis.regression import fit_nc3_on_nc0
from ..claims import Check, direction, magnitude, precondition
from .weight_decay import R2_PAPER

__all__ = ["regression_checks"]


def regression_checks(valid: pd.DataFrame, scale: str) -> list[Check]:
    """The checks on ``valid``, the valid runs of grid ``main`` over every page (NC0, NC3 > 0, with ``model``
    and ``dataset``), decided at ``scale`` (e.g. ``"cpu, pooled over 4 page(s)"``)."""
    if len(valid) < 3:
        return [
            precondition(
                "at least three valid runs to fit", len(valid), False, claim, runs=valid, scale=scale
            )
            for claim in ("nc0_tracks_nc3", "partial_collapse")
        ]
    out = [
        precondition(
            "at least three valid runs to fit", len(valid), True, "nc0_tracks_nc3", runs=valid, scale=scale
        )
    ]
    for robust in (False, True):
        r = fit_nc3_on_nc0(valid, robust=robust)
        out.append(
            direction(
                f"NC3 grows with NC0 over the pooled valid runs (slope > 0, p < 0.01, "
                f"{'HC3' if robust else 'classical'} errors)",
                f"slope {r['slope']:.3g}, p {r['p']:.2g}, n {r['n']}",
                r["slope"] > 0 and r["p"] < 0.01,
                "nc0_tracks_nc3",
                runs=valid,
                scale=scale,
            )
        )
    r = fit_nc3_on_nc0(valid)
    out.append(
        magnitude(
            "NC0 explains more than 70% of NC3's variation, pooled (R^2)",
            r["R2"],
            R2_PAPER,
            "nc0_tracks_nc3",
            runs=valid,
            scale=scale,
            paper="R^2 0.730",
        )
    )
    flagged = partial_collapse(valid)
    decoupled = flagged[flagged["optimizer"].isin(["adamw", "signumw"])]
    out.append(
        direction(
            "partial collapse occurs: some AdamW or SignumW runs reach the coupled NC1 and NC2 level while "
            "NC0 and "
            "NC3 stay above it",
            f"{int(decoupled['partial'].sum())} of {len(decoupled)} valid runs",
            bool(decoupled["partial"].any()),
            "partial_collapse",
            runs=valid,
            scale=scale,
        )
    )
    adamw = flagged[flagged["optimizer"] == "adamw"]
    if len(adamw):
        b = adamw.loc[adamw["NC3_code"].idxmin()]
        out.append(
            direction(
                "Table 2's AdamW: its smallest-NC3 valid run has NC1 and NC2 at the coupled level and NC0 "
                "above it",
                f"NC1 {b['NC1']:.3g} (coupled {b['NC1 coupled']:.3g}), NC2 {b['NC2_code']:.3g} "
                f"({b['NC2_code coupled']:.3g}), NC0 {b['NC0_code']:.3g} ({b['NC0_code coupled']:.3g})",
                bool(
                    b["NC1"] <= b["NC1 coupled"]
                    and b["NC2_code"] <= b["NC2_code coupled"]
                    and b["NC0_code"] > b["NC0_code coupled"]
                ),
                "partial_collapse",
                runs=valid,
                scale=scale,
            )
        )
    return out
