"""The Vision Transformer (Appendix D.4.5, Figure 45): the shape of NC0 and NC3 along the weight-decay axis.

The paper reports that with SGD the NC metrics fall as weight decay grows, while with Adam and AdamW NC0
first rises and then falls and NC3 is U-shaped. :func:`decay_shape` classifies one optimizer's mean
metric over its weight decays so that a page can check those shapes on its own runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["DecayShape", "decay_shape"]


@dataclass(frozen=True)
class DecayShape:
    """The shape of a metric's means over ascending weight decays.

    ``rho``: Spearman correlation of the means with the weight decay (NaN for fewer than 3 points);
    ``falls``: the mean at the largest weight decay is below the mean at the smallest and ``rho < 0``;
    ``peak_inside`` / ``dip_inside``: the largest / smallest mean lies strictly between the two ends ("rises
    then falls" / "U-shaped"); ``argmax`` / ``argmin``: the weight decays where they are.
    """

    weight_decays: tuple[float, ...]
    means: tuple[float, ...]
    rho: float
    falls: bool
    peak_inside: bool
    dip_inside: bool
    argmax: float
    argmin: float


def decay_shape(means: dict[float, float]) -> DecayShape:
    """Classify ``{weight decay: mean metric}`` (e.g.
    :func:`~nc_core.analysis.weight_decay.means_by_weight_decay`) along ascending weight decay.

    Raises:
        ValueError: fewer than two weight decays.
    """
    if len(means) < 2:
        raise ValueError(f"a shape needs at least two weight decays, got {sorted(means)}")
    wds = tuple(sorted(means))
    vals = np.array([means[w] for w in wds], dtype=float)
    rho = float(stats.spearmanr(wds, vals).statistic) if len(wds) >= 3 else float("nan")
    i_max, i_min = int(np.argmax(vals)), int(np.argmin(vals))
    last = len(vals) - 1
    return DecayShape(
        weight_decays=wds,
        means=tuple(float(v) for v in vals),
        rho=rho,
        falls=bool(vals[-1] < vals[0] and (np.isnan(rho) or rho < 0)),
        peak_inside=0 < i_max < last,
        dip_inside=0 < i_min < last,
        argmax=wds[i_max],
        argmin=wds[i_min],
    )
