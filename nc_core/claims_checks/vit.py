"""The ViT chapter's checks (Appendix D.4.5, Figure 45): the shape of SGD's, Adam's and AdamW's mean NC0
and NC3
along the weight-decay axis, on the runs at the paper's filter for that figure (50% training accuracy,
:func:`nc_core.profiles.valid_mask` with ``figure="fig45_vit"``).

Preconditions of both claims: the data is the paper's CIFAR-10 (a FashionMNIST substitute cannot decide a
claim about CIFAR-10), and the runs behind each shape are in the terminal phase (recorded per check).

* ``vit_sgd_wd_lowers_nc`` - direction: SGD's mean NC0 and NC3 fall with weight decay (largest < none,
  rho < 0);
* ``vit_adaptive_shapes`` - direction: Adam's and AdamW's mean NC0 peaks inside the range, NC3 dips inside it.
"""

from __future__ import annotations

import pandas as pd

from ..analysis.vit import decay_shape
from ..analysis.weight_decay import means_by_weight_decay
from ..claims import Check, direction, precondition
from ..plots import OPTIMIZER_LABELS as LABEL
from ..sweep.summary import summarise_by

__all__ = ["vit_checks"]

_CLAIMS = ("vit_sgd_wd_lowers_nc", "vit_adaptive_shapes")


def vit_checks(
    valid: pd.DataFrame, substitute: bool, scale: str, data: str = "CIFAR-10", missing: int = 0
) -> list[Check]:
    """The checks on ``valid`` (the valid runs of grid ``vit``, or ``vit_fashionmnist`` when
    ``substitute``); ``data`` names the CIFAR-10 the runs of grid ``vit`` read (e.g. ``"CIFAR-10 (JPEG
    copy)"``: the paper's images, recompressed, which decide the claims and say so); ``missing``: planned
    runs not stored yet (a campaign in progress decides nothing)."""
    out = [
        precondition(
            "every planned run is stored (the campaign is complete)",
            f"{missing} missing",
            False,
            claim,
            scale=scale,
        )  # fmt: skip
        for claim in _CLAIMS
        if missing
    ]
    out += [
        precondition(
            "the data is the paper's CIFAR-10 images, not another dataset",
            "FashionMNIST substitute" if substitute else data,
            not substitute,
            claim,
            scale=scale,
        )
        for claim in _CLAIMS
    ]
    wd = summarise_by(valid, ["optimizer", "weight_decay"], ["NC0_code", "NC3_code"])
    shapes = {}
    for opt in ("sgd", "adam", "adamw"):
        for metric in ("NC0_code", "NC3_code"):
            means = means_by_weight_decay(wd, opt, metric)
            if len(means) >= 2:
                shapes[(opt, metric)] = decay_shape(means)
    none = "fewer than two weight decays with valid runs"
    for metric in ("NC0_code", "NC3_code"):
        s = shapes.get(("sgd", metric))
        out.append(
            direction(
                f"SGD's mean {metric[:3]} falls with weight decay (largest < none, rho < 0)",
                none
                if s is None
                else f"{s.means[0]:.3g} at {s.weight_decays[0]:g} -> {s.means[-1]:.3g} at "
                f"{s.weight_decays[-1]:g}; rho {s.rho:.2f}",
                s is not None and s.falls,
                "vit_sgd_wd_lowers_nc",
                runs=valid[valid["optimizer"] == "sgd"],
                scale=scale,
            )
        )
    for opt in ("adam", "adamw"):
        s0, s3 = shapes.get((opt, "NC0_code")), shapes.get((opt, "NC3_code"))
        runs = valid[valid["optimizer"] == opt]
        out.append(
            direction(
                f"{LABEL[opt]}'s mean NC0 rises then falls over weight decay (peak inside the range)",
                none
                if s0 is None
                else f"peak at {s0.argmax:g} of {s0.weight_decays[0]:g}..{s0.weight_decays[-1]:g}",
                s0 is not None and s0.peak_inside,
                "vit_adaptive_shapes",
                runs=runs,
                scale=scale,
            )
        )
        out.append(
            direction(
                f"{LABEL[opt]}'s mean NC3 is U-shaped over weight decay (minimum inside the range)",
                none
                if s3 is None
                else f"minimum at {s3.argmin:g} of {s3.weight_decays[0]:g}..{s3.weight_decays[-1]:g}",
                s3 is not None and s3.dip_inside,
                "vit_adaptive_shapes",
                runs=runs,
                scale=scale,
            )
        )
    return out
