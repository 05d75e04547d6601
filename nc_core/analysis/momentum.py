"""Momentum and weight decay under SGD (Section 3.2, Figure 4): does momentum accelerate neural collapse?

Figure 4 of the paper is a momentum x weight-decay grid of SGD runs (one run per cell); its message is that
at the same weight decay a larger momentum ends with smaller NC metrics (claim ``momentum_accelerates_sgd``)
and that weight decay is needed for the metrics to fall (``coupled_wd_lowers_nc``).
:func:`momentum_effect` compares, per weight decay, the run at the largest momentum with the run without
momentum, and at the largest momentum the largest weight decay with none.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["MomentumEffect", "momentum_effect"]


@dataclass(frozen=True)
class MomentumEffect:
    """``metric`` of the completed runs of a momentum x weight-decay grid.

    * ``top``: the largest momentum; ``largest``: the largest weight decay;
    * ``ratios``: per weight decay > 0, the metric at momentum ``top`` / at momentum 0, rounded to
      ``decimals`` (as shown); ``below_at_every``: there is such a weight decay and every rounded ratio < 1;
    * ``ratio_at_largest``: that ratio at the largest weight decay (not rounded);
    * ``at_largest``, ``at_zero``: the metric at momentum ``top`` at the largest weight decay and at 0;
      ``decay_lowers``: ``at_largest < at_zero``.
    """

    metric: str
    top: float
    largest: float
    ratios: dict[float, float]
    below_at_every: bool
    ratio_at_largest: float
    at_largest: float
    at_zero: float
    decay_lowers: bool


def momentum_effect(finals: pd.DataFrame, metric: str, decimals: int = 4) -> MomentumEffect:
    """Momentum against none, per weight decay, over the completed runs of ``finals`` (one run per
    (momentum, weight decay) cell; several are averaged). The grid must hold momentum 0 and weight decay 0
    among its completed runs (a KeyError names the one it lacks)."""
    missing = sorted({"status", "momentum", "weight_decay", metric} - set(finals.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    done = finals[finals["status"] == "completed"]
    top = done["momentum"].max()
    at = done.pivot_table(index="momentum", columns="weight_decay", values=metric)
    ratios = {w: round(float(at.loc[top, w] / at.loc[0.0, w]), decimals) for w in at.columns if w > 0}
    largest = at.columns.max()
    by_wd = at.loc[top]
    return MomentumEffect(
        metric=metric,
        top=float(top),
        largest=float(largest),
        ratios=ratios,
        below_at_every=bool(ratios) and max(ratios.values()) < 1,
        ratio_at_largest=float(at.loc[top, largest] / at.loc[0.0, largest]),
        at_largest=float(by_wd[largest]),
        at_zero=float(by_wd[0.0]),
        decay_lowers=bool(by_wd[largest] < by_wd[0.0]),
    )
