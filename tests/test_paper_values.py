"""The paper's Tables 2 and 5 as transcribed, checked for internal consistency (independent of the
transcription itself), and the paper-style number formatting against hand-written values."""

from __future__ import annotations

import math

import pytest
import scipy.stats

from nc_core import paper_values


@pytest.mark.parametrize("experiment", list(paper_values.TABLE5))
def test_table5_rows_are_consistent_simple_regressions(experiment):
    row = dict(zip(paper_values.TABLE5_COLUMNS, paper_values.TABLE5[experiment], strict=True))
    # one regressor: F = t^2 (both printed to 3-4 significant digits)
    assert row["F"] == pytest.approx(row["t"] ** 2, rel=2e-3)
    # t = slope / SE (SE printed to 1-2 significant digits); the 95% CI is slope +- t_{0.975, n-2} SE
    se = row["slope"] / row["t"]
    assert row["SE"] == pytest.approx(se, abs=6e-4)
    assert (row["CI low"] + row["CI high"]) / 2 == pytest.approx(row["slope"], abs=1.5e-3)
    quantile = scipy.stats.t.ppf(0.975, row["n"] - 2)
    assert (row["CI high"] - row["CI low"]) / (2 * se) == pytest.approx(quantile, abs=0.05)
    # R^2 of a simple regression from t and n: R^2 = t^2 / (t^2 + n - 2)
    assert row["R2"] == pytest.approx(row["t"] ** 2 / (row["t"] ** 2 + row["n"] - 2), abs=1.5e-3)
    assert row["adj R2"] <= row["R2"]


def test_table2_lists_four_optimizers_with_nc3_below_table1():
    assert set(paper_values.TABLE2) == {"sgd", "sgdw", "adam", "adamw"}
    for opt, metrics in paper_values.TABLE2.items():  # Table 2 picks the smallest-NC3 run of the grid
        assert metrics["NC3"][0] <= paper_values.TABLE1[opt]["NC3"][0], opt


@pytest.mark.parametrize(
    ("final", "init", "text"),
    [(0.5, 1.0, "-50.0%"), (1.5, 1.0, "+50.0%"), (3.0, 1.0, "+200%"), (200.0, 1.0, "200x"),
     (1e-6, 1.0, "< -99.9%"), (1.0, 0.0, "n/a"), (math.nan, 1.0, "n/a")],
)  # fmt: skip
def test_format_change(final, init, text):
    assert paper_values.format_change(final, init) == text


def test_format_value():
    assert [paper_values.format_value(v) for v in (0.123, 2.14e-4, 3185.69, math.inf)] == [
        "0.12", "2.14e-04", "3.19e+03", "n/a",
    ]  # fmt: skip
