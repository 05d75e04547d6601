"""The ImageNet chapter's checks (Figures 17, 18: ResNet50 on ImageNet-1K): the grid and protocol as the paper
gives them, and, where runs exist, AdamW's NC0 and NC3 above Adam's (``adamw_above_adam``)."""

from __future__ import annotations

import pandas as pd

from ..claims import Check, above, direction, integrity
from .common import runs_finished

__all__ = ["PAPER_POINTS", "PAPER_PROTOCOL", "imagenet_checks"]

#: (optimizer, momentum, weight decay) of the paper's ImageNet grid
PAPER_POINTS = sorted(
    (o, m, w) for o in ("adam", "adamw") for m in (0.0, 0.5, 0.9) for w in (0.0, 1e-5, 1e-4, 1e-3)
)
#: (model, dataset, epochs, lr, schedule, width, subset per class) of every paper run
PAPER_PROTOCOL = {("resnet50", "imagenet", 90, 3e-4, "step", 1.0, None)}


def imagenet_checks(paper_configs: list, finals: pd.DataFrame, planned: int) -> list[Check]:
    """``paper_configs``: the RunConfigs of grid ``resnet50_imagenet`` at profile ``paper``; ``finals`` the
    runs
    in the store at the page's profile (``planned`` of them planned)."""
    points = sorted({(c.optimizer, c.momentum, c.weight_decay) for c in paper_configs})
    protocol = {
        (c.model, c.dataset, c.epochs, c.lr, c.lr_schedule, c.width, c.subset_per_class)
        for c in paper_configs
    }
    out = [
        integrity(
            "grid: Adam and AdamW x momentum {0, 0.5, 0.9} x weight decay {0, 1e-5, 1e-4, 1e-3}",
            len(points),
            points == PAPER_POINTS,
        ),
        integrity(
            "protocol: ResNet50 on all of ImageNet-1K at full width, 90 epochs, LR 3e-4, x0.1 at 1/3 and 2/3",
            sorted(map(str, protocol)),
            protocol == PAPER_PROTOCOL,
        ),
    ]
    if not len(finals):
        return out
    out.append(runs_finished(finals, planned))
    done = finals[finals["status"] == "completed"]
    for name in ("NC0", "NC3"):
        at = done.pivot_table(index=["momentum", "weight_decay"], columns="optimizer", values=f"{name}_code")
        at = at[at.index.get_level_values("weight_decay") > 0].dropna()
        ratios = (at["adamw"] / at["adam"]).round(3) if {"adam", "adamw"} <= set(at.columns) else pd.Series()
        out.append(
            direction(
                f"ImageNet: AdamW's final {name} above Adam's (ratio > 1.1) at every (momentum, weight "
                "decay > 0)",
                {f"{m:g}/{w:g}": float(v) for (m, w), v in ratios.items()},
                bool(len(ratios)) and all(above(r) for r in ratios),
                "adamw_above_adam",
                runs=done,
            )
        )
    return out
