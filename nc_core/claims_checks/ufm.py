"""The UFM chapter's checks (Appendix D.4.2, Figure 15: AdamW's NC0 and NC3 "at least one order of
magnitude" above Adam's and SGD's), on the runs at the paper's 100% filter
(:func:`nc_core.profiles.valid_mask` with ``figure="fig15_ufm"``).

Per protocol (the main one and each one-change alternative) and metric: precondition, AdamW and the other
optimizer share a weight decay > 0 with valid runs; direction, AdamW's mean above the other's (ratio > 1.1) at
every shared weight decay; magnitude, the smallest ratio against :data:`ORDER` (10).
"""

from __future__ import annotations

import pandas as pd

from ..analysis.ufm import order_gap
from ..claims import Check, above, direction, magnitude, precondition
from ..plots import OPTIMIZER_LABELS as LABEL

__all__ = ["ORDER", "ufm_checks"]

#: "one order of magnitude"
ORDER = 10.0
_METRICS = {"NC0": "NC0_code", "NC3": "NC3_code"}


def _gap_checks(valid: pd.DataFrame, where: str, scale: str) -> list[Check]:
    out = []
    for name, col in _METRICS.items():
        gaps = order_gap(valid, col, factor=ORDER)
        for opt in ("adam", "sgd"):
            mine = gaps[gaps["optimizer"] == opt]
            runs = valid[valid["optimizer"].isin(["adamw", opt])]
            if mine.empty:
                out.append(
                    precondition(
                        f"{where}: AdamW and {LABEL[opt]} share a weight decay > 0 with valid runs",
                        "none",
                        False,
                        "ufm_adamw_no_nc",
                        runs=runs,
                        scale=scale,
                    )
                )
                continue
            ratios = {f"{w:g}": round(r, 3) for w, r in zip(mine["weight_decay"], mine["ratio"], strict=True)}
            out.append(
                direction(
                    f"{where}: AdamW's mean {name} above {LABEL[opt]}'s (ratio > 1.1) at every shared "
                    "weight decay > 0",
                    ratios,
                    all(above(r) for r in mine["ratio"]),
                    "ufm_adamw_no_nc",
                    runs=runs,
                    scale=scale,
                )
            )
            out.append(
                magnitude(
                    f"{where}: AdamW's mean {name} over {LABEL[opt]}'s, smallest over the shared weight "
                    "decays",
                    float(mine["ratio"].min()),
                    ORDER,
                    "ufm_adamw_no_nc",
                    runs=runs,
                    scale=scale,
                    paper="at least one order of magnitude",
                )
            )
    return out


def ufm_checks(main: pd.DataFrame, alternatives: pd.DataFrame, profile: str, scale: str) -> list[Check]:
    """The checks on ``main`` (the valid runs of grid ``ufm`` under its main protocol), decided at ``scale``,
    and on ``alternatives`` (valid runs at the alternatives' LRs and weight decays, with a ``protocol``
    column: :func:`nc_core.analysis.ufm.protocol_of`), each protocol other than ``main`` at
    ``"<profile>, <protocol>"``."""
    out = _gap_checks(main, "main protocol", scale)
    for proto in sorted(set(alternatives["protocol"]) - {"main"}):
        out += _gap_checks(
            alternatives[alternatives["protocol"] == proto], f"alternative '{proto}'", f"{profile}, {proto}"
        )
    return out
