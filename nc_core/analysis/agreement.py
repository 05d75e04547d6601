"""Does a faster way of running the same computation change a run's results? Runs of the same
configurations over seeds, with and without the variant (bf16 autocast, torch's fused optimizer kernel).

The decision rule (issues 26 and before: adopt a speed-up where it is faster *and* its final metrics agree
with the baseline within the seed-to-seed spread): for every configuration and metric, the difference of
the variant's and the baseline's means over seeds must not exceed the larger of the two seed-to-seed
standard deviations. NC metrics span orders of magnitude and are compared as ``log10``; accuracies as they
are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["LOG_METRICS", "variant_agreement"]

#: metrics compared on a log10 scale (the rest linearly)
LOG_METRICS = ("NC0_code", "NC1", "NC2_code", "NC3_code")


def variant_agreement(
    finals: pd.DataFrame,
    variant: str,
    metrics: Sequence[str] = (*LOG_METRICS, "train_acc", "test_acc"),
    by: Sequence[str] = ("optimizer",),
) -> pd.DataFrame:
    """One row per configuration (``by``) and metric, comparing the runs whose boolean column ``variant``
    is true with those where it is false: ``n`` seeds per side (the smaller), the ``base`` and ``variant``
    means (of ``log10`` for :data:`LOG_METRICS`), their seed-to-seed standard deviations (ddof 1),
    ``diff`` = variant mean - base mean, ``spread`` = the larger std, and ``agrees`` = ``|diff| <= spread``.

    Raises:
        ValueError: a missing column, or a configuration without at least two seeds on each side.
    """
    missing = sorted({variant, "seed", *by, *metrics} - set(finals.columns))
    if missing:
        raise ValueError(f"final records lack column(s) {missing}")
    rows = []
    for key, g in finals.groupby(list(by), sort=True):
        config = dict(zip(by, np.atleast_1d(key), strict=True))
        on = g[variant].astype(bool)
        counts = g.groupby(on)["seed"].nunique()
        if counts.get(False, 0) < 2 or counts.get(True, 0) < 2:
            raise ValueError(f"{config}: need >= 2 seeds with and without {variant}, got "
                             f"{counts.get(False, 0)} and {counts.get(True, 0)}")  # fmt: skip
        for m in metrics:
            x = g[m].astype(float)
            x = np.log10(x) if m in LOG_METRICS else x
            a, b = x[~on], x[on]
            spread = max(float(a.std(ddof=1)), float(b.std(ddof=1)))
            diff = float(b.mean() - a.mean())
            rows.append({
                **config, "metric": m, "scale": "log10" if m in LOG_METRICS else "linear",
                "n": int(min(len(a), len(b))), "base mean": float(a.mean()), "variant mean": float(b.mean()),
                "base std": float(a.std(ddof=1)), "variant std": float(b.std(ddof=1)),
                "diff": diff, "spread": spread, "agrees": abs(diff) <= spread,
            })  # fmt: skip
    return pd.DataFrame(rows)
