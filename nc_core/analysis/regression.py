"""The regression of NC3 on NC0 (Section 2, Appendix D.3, Table 5), one implementation for every page.

The paper fits NC3 against NC0 over the valid runs, per learning rate and over all of them, and reports n,
the slope, its standard error, t, p, the 95% confidence interval, R^2, adjusted R^2 and F (Table 5). It does
not state the specification, so three candidates are offered by name (:data:`SPECIFICATIONS`): NC3 on NC0
(``linear``), NC3 on log10 NC0 (``semilog``) and log10 NC3 on log10 NC0 (``loglog``), each an OLS with an
intercept (``statsmodels`` formulas), with classical standard errors or heteroskedasticity-robust HC3 ones.
"""

from __future__ import annotations

import numpy as np  # noqa: F401 - the formulas' np.log10 is evaluated in this module's namespace
import pandas as pd
import statsmodels.formula.api as smf

__all__ = ["SPECIFICATIONS", "TABLE5_COLUMNS", "fit_nc3_on_nc0", "table5"]

#: name -> (statsmodels formula, what it means); x = NC0, y = NC3 (authors' code convention columns).
SPECIFICATIONS: dict[str, tuple[str, str]] = {
    "linear": ("y ~ x", "NC3 = a + b NC0"),
    "semilog": ("y ~ np.log10(x)", "NC3 = a + b log10 NC0"),
    "loglog": ("np.log10(y) ~ np.log10(x)", "log10 NC3 = a + b log10 NC0"),
}
#: The columns of Table 5, in the paper's order.
TABLE5_COLUMNS = ("n", "slope", "SE", "t", "p", "CI low", "CI high", "R2", "adj R2", "F")


def fit_nc3_on_nc0(
    runs: pd.DataFrame,
    specification: str = "linear",
    *,
    robust: bool = False,
    x: str = "NC0_code",
    y: str = "NC3_code",
) -> dict[str, float]:
    """One row of Table 5: OLS of ``y`` on ``x`` under ``specification`` over the rows of ``runs``.

    Returns the :data:`TABLE5_COLUMNS` (slope, SE, t, p, 95% CI of the slope; R^2, adjusted R^2 and F of
    the fit); with ``robust`` the SE, t, p and CI are heteroskedasticity-robust (HC3) and F is the robust
    Wald test of the slope.

    Raises:
        ValueError: an unknown specification, a missing column, fewer than 3 runs, or non-positive values
            where the specification takes a logarithm.
    """
    if specification not in SPECIFICATIONS:
        raise ValueError(f"unknown specification {specification!r}; choose from {', '.join(SPECIFICATIONS)}")
    missing = sorted({x, y} - set(runs.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    data = pd.DataFrame({"x": runs[x].astype(float), "y": runs[y].astype(float)}).dropna()
    if len(data) < 3:
        raise ValueError(f"a regression needs at least 3 runs, got {len(data)}")
    formula = SPECIFICATIONS[specification][0]
    logged = {"linear": [], "semilog": ["x"], "loglog": ["x", "y"]}[specification]
    if any((data[c] <= 0).any() for c in logged):
        raise ValueError(f"specification {specification!r} takes logarithms: {x}/{y} must be > 0")
    fit = smf.ols(formula, data=data).fit(cov_type="HC3" if robust else "nonrobust")
    slope = fit.params.index[1]
    lo, hi = fit.conf_int().loc[slope]
    f_value = float(fit.tvalues[slope] ** 2) if robust else float(fit.fvalue)
    return {
        "n": int(fit.nobs), "slope": float(fit.params[slope]), "SE": float(fit.bse[slope]),
        "t": float(fit.tvalues[slope]), "p": float(fit.pvalues[slope]),
        "CI low": float(lo), "CI high": float(hi),
        "R2": float(fit.rsquared), "adj R2": float(fit.rsquared_adj), "F": f_value,
    }  # fmt: skip


def table5(
    runs: pd.DataFrame, specification: str = "linear", *, robust: bool = False, by: str = "lr"
) -> pd.DataFrame:
    """Table 5's layout: one fit per value of ``by`` (``"LR=0.001"``, ...) with at least 3 runs, and one over
    all runs (``"all"``); columns :data:`TABLE5_COLUMNS`."""
    rows = {
        f"LR={value:g}": fit_nc3_on_nc0(g, specification, robust=robust)
        for value, g in runs.groupby(by, sort=True)
        if len(g.dropna(subset=["NC0_code", "NC3_code"])) >= 3
    }
    rows["all"] = fit_nc3_on_nc0(runs, specification, robust=robust)
    return pd.DataFrame.from_dict(rows, orient="index")[list(TABLE5_COLUMNS)]
