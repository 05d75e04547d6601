"""nc_core.analysis.nc4 (Figure 44) on hand-made runs whose answers are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core.analysis import nc4_at_full_accuracy, nc4_correlations


def _runs(nc1, nc2, nc3) -> pd.DataFrame:
    return pd.DataFrame({"NC4": [0.91, 0.92, 0.93, 0.94], "NC1": nc1, "NC2_code": nc2, "NC3_code": nc3})


def test_spearman_by_hand():
    # NC4's ranks are 1..4. NC1 reversed: rho -1; NC2 in order: +1; NC3 ranks 1,3,2,4: sum d^2 = 2,
    # rho = 1 - 6 * 2 / (4 * 15) = 0.8
    c = nc4_correlations(_runs([4, 3, 2, 1], [1, 2, 3, 4], [1, 3, 2, 4]))
    assert c.rho == pytest.approx({"NC1": -1.0, "NC2": 1.0, "NC3": 0.8})
    assert (c.nc4_min, c.nc4_max) == (0.91, 0.94) and not c.uncorrelated


def test_uncorrelated_when_every_rho_is_small():
    # ranks 2,4,1,3 and 3,1,4,2: sum d^2 = 10, rho = 1 - 60/60 = 0; ranks 1,4,3,2: sum d^2 = 8, rho = 0.2
    c = nc4_correlations(_runs([2, 4, 1, 3], [3, 1, 4, 2], [1, 4, 3, 2]))
    assert c.rho == pytest.approx({"NC1": 0.0, "NC2": 0.0, "NC3": 0.2}, abs=1e-12)
    assert c.uncorrelated
    assert not nc4_correlations(_runs([2, 4, 1, 3], [3, 1, 4, 2], [1, 4, 3, 2]), bound=0.1).uncorrelated
    with pytest.raises(ValueError, match="lack column"):
        nc4_correlations(_runs([1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]).drop(columns="NC1"))


def test_nc4_at_full_accuracy_counts_completed_runs_from_the_accuracy_on():
    finals = pd.DataFrame({
        "status": ["completed", "completed", "completed", "diverged"],
        "train_acc": [0.995, 0.99, 0.98, 1.0],  # 0.99 is in (>=), 0.98 out, the diverged run out
        "NC4": [0.97, 0.95, 0.5, 0.1],
    })  # fmt: skip
    r = nc4_at_full_accuracy(finals)
    assert (r.n, r.nc4_min, r.holds) == (2, 0.95, True)  # 0.95 reaches the level 0.95
    low = pd.concat([finals, pd.DataFrame({"status": ["completed"], "train_acc": [1.0], "NC4": [0.949]})])
    r = nc4_at_full_accuracy(low)
    assert (r.n, r.nc4_min, r.holds) == (3, 0.949, False)
    r = nc4_at_full_accuracy(finals, min_train_acc=0.999)
    assert r.n == 0 and math.isnan(r.nc4_min) and not r.holds
