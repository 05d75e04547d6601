"""Does bf16 autocast change a run's results? fp32 and bf16 runs of the same configurations over seeds.

The decision rule (issue: adopt bf16 where it is faster *and* its final metrics agree with fp32 within the
seed-to-seed spread): for every configuration and metric, the difference of the bf16 and fp32 means over
seeds must not exceed the larger of the two seed-to-seed standard deviations. NC metrics span orders of
magnitude and are compared as ``log10``; accuracies as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["LOG_METRICS", "precision_agreement"]

#: metrics compared on a log10 scale (the rest linearly)
LOG_METRICS = ("NC0_code", "NC1", "NC2_code", "NC3_code")


def precision_agreement(
    finals: pd.DataFrame,
    metrics: Sequence[str] = (*LOG_METRICS, "train_acc", "test_acc"),
    by: Sequence[str] = ("optimizer",),
) -> pd.DataFrame:
    """One row per configuration (``by``) and metric: ``n`` seeds per precision, the fp32 and bf16 means
    (of ``log10`` for :data:`LOG_METRICS`), their seed-to-seed standard deviations (ddof 1), ``diff`` =
    bf16 mean - fp32 mean, ``spread`` = the larger std, and ``agrees`` = ``|diff| <= spread``.

    Raises:
        ValueError: a missing column, or a configuration without at least two seeds in each precision.
    """
    missing = sorted({"bf16", "seed", *by, *metrics} - set(finals.columns))
    if missing:
        raise ValueError(f"final records lack column(s) {missing}")
    rows = []
    for key, g in finals.groupby(list(by), sort=True):
        counts = g.groupby("bf16")["seed"].nunique()
        if counts.get(False, 0) < 2 or counts.get(True, 0) < 2:
            raise ValueError(f"{dict(zip(by, np.atleast_1d(key), strict=True))}: need >= 2 seeds in fp32 and "
                             f"bf16, got {counts.to_dict()}")  # fmt: skip
        for m in metrics:
            x = g[m].astype(float)
            x = np.log10(x) if m in LOG_METRICS else x
            a, b = x[~g["bf16"].astype(bool)], x[g["bf16"].astype(bool)]
            spread = max(float(a.std(ddof=1)), float(b.std(ddof=1)))
            diff = float(b.mean() - a.mean())
            rows.append({
                **dict(zip(by, np.atleast_1d(key), strict=True)), "metric": m,
                "scale": "log10" if m in LOG_METRICS else "linear", "n": int(min(len(a), len(b))),
                "fp32 mean": float(a.mean()), "bf16 mean": float(b.mean()),
                "fp32 std": float(a.std(ddof=1)), "bf16 std": float(b.std(ddof=1)),
                "diff": diff, "spread": spread, "agrees": abs(diff) <= spread,
            })  # fmt: skip
    return pd.DataFrame(rows)
