"""nc_core.analysis.regression on synthetic data with known coefficients, against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nc_core.analysis import fit_nc3_on_nc0, table5


def _runs(nc0, nc3, lr=0.01):
    return pd.DataFrame({"NC0_code": nc0, "NC3_code": nc3, "lr": lr})


def test_exact_line_is_recovered_with_zero_error():
    x = np.array([0.5, 1.0, 2.0, 4.0])
    r = fit_nc3_on_nc0(_runs(x, 0.2 + 0.15 * x))
    assert r["slope"] == pytest.approx(0.15) and r["R2"] == pytest.approx(1.0) and r["SE"] < 1e-12


def test_slope_se_t_and_r2_match_the_closed_forms():
    # hand-checkable: x = 1..5, y = (1, 3, 2, 5, 4): slope = Sxy/Sxx = 8/10, residual SS = 3.6, n = 5
    x, y = np.arange(1.0, 6.0), np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    r = fit_nc3_on_nc0(_runs(x, y))
    se = math.sqrt(3.6 / 3 / 10)
    assert r["slope"] == pytest.approx(0.8) and r["SE"] == pytest.approx(se)
    assert r["t"] == pytest.approx(0.8 / se) and r["F"] == pytest.approx((0.8 / se) ** 2)
    assert r["R2"] == pytest.approx(1 - 3.6 / 10.0)  # total SS of y = 10
    assert r["adj R2"] == pytest.approx(1 - (1 - 0.64) * 4 / 3)
    t975 = 3.182446305284263  # Student t, 3 degrees of freedom
    assert (r["CI low"], r["CI high"]) == pytest.approx((0.8 - t975 * se, 0.8 + t975 * se))


def test_loglog_recovers_a_power_law_and_the_specifications_differ():
    rng = np.random.default_rng(0)
    x = 10 ** rng.uniform(-4, 1, 200)
    y = 0.3 * x**0.25 * 10 ** rng.normal(0, 0.01, 200)
    assert fit_nc3_on_nc0(_runs(x, y), "loglog")["slope"] == pytest.approx(0.25, abs=0.01)
    assert fit_nc3_on_nc0(_runs(x, y), "semilog")["R2"] < fit_nc3_on_nc0(_runs(x, y), "loglog")["R2"]


def test_robust_errors_react_to_heteroskedasticity():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 400)
    y = 1 + 0.5 * x + rng.normal(0, 0.05 + 0.3 * x)  # noise grows with x
    classical, robust = fit_nc3_on_nc0(_runs(x, y)), fit_nc3_on_nc0(_runs(x, y), robust=True)
    assert robust["slope"] == classical["slope"] and robust["SE"] > 1.2 * classical["SE"]
    assert robust["F"] == pytest.approx(robust["t"] ** 2)


def test_table5_layout_and_bad_input():
    x = np.linspace(0.1, 2, 12)
    runs = pd.concat([_runs(x[:6], 0.1 + 0.2 * x[:6], 0.001), _runs(x[6:], 0.3 * x[6:], 0.01),
                      _runs([1.0, 2.0], [0.5, 0.6], 0.0679)])  # fmt: skip
    t = table5(runs)
    assert list(t.index) == ["LR=0.001", "LR=0.01", "all"]  # LR 0.0679 has only 2 runs
    assert t.loc["LR=0.001", "slope"] == pytest.approx(0.2) and t.loc["all", "n"] == 14
    with pytest.raises(ValueError, match="unknown specification"):
        fit_nc3_on_nc0(runs, "cubic")
    with pytest.raises(ValueError, match="at least 3 runs"):
        fit_nc3_on_nc0(runs.iloc[:2])
    with pytest.raises(ValueError, match="must be > 0"):
        fit_nc3_on_nc0(_runs([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]), "semilog")
