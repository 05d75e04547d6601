"""The Figure 7 analyses on hand-made runs whose answers are worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from nc_core.analysis.interpolation import accuracy_anova, decoupled_shrink, share_summary, share_trend


def runs(values: dict[float, list[float]], column: str = "NC0_code") -> pd.DataFrame:
    rows = [
        {"coupled_weight_decay": share, "seed": seed, column: v, "status": "completed"}
        for share, vals in values.items()
        for seed, v in enumerate(vals)
    ]
    return pd.DataFrame(rows)


def test_summary_means_and_sample_std():
    s = share_summary(runs({0.0: [1.0, 3.0], 5e-4: [4.0, 4.0, 7.0]}), ["NC0_code"])
    assert list(s.index) == [0.0, 5e-4]
    assert s.loc[0.0, ("NC0_code", "mean")] == 2.0 and s.loc[0.0, ("NC0_code", "std")] == pytest.approx(
        math.sqrt(2)
    )
    assert s.loc[5e-4, ("NC0_code", "mean")] == 5.0 and s.loc[5e-4, ("NC0_code", "std")] == pytest.approx(
        math.sqrt(3)
    )
    assert s.loc[5e-4, ("NC0_code", "n")] == 3


def test_trend_of_a_strictly_falling_metric():
    # every value at a larger share is below every value at a smaller one: ranks are exactly reversed
    t = share_trend(runs({0.0: [9.0, 8.0], 1e-4: [6.0, 5.0], 2e-4: [3.0, 2.0]}), "NC0_code")
    # Spearman on (share ranks 1.5,1.5,3.5,3.5,5.5,5.5) vs (metric ranks 6,5,4,3,2,1): hand computation
    x = np.array([1.5, 1.5, 3.5, 3.5, 5.5, 5.5])
    y = np.array([6, 5, 4, 3, 2, 1], dtype=float)
    expected = np.corrcoef(x, y)[0, 1]
    assert t["rho"] == pytest.approx(expected) and t["rho"] < -0.9
    assert t["ratio"] == pytest.approx(2.5 / 8.5)
    assert t["steps"] == 2 and t["steps_with_trend"] == 2


def test_trend_counts_steps_against_the_trend():
    t = share_trend(runs({0.0: [5.0], 1e-4: [6.0], 2e-4: [2.0], 3e-4: [1.0]}), "NC0_code")
    assert t["rho"] < 0 and t["steps"] == 3 and t["steps_with_trend"] == 2


def test_anova_by_hand():
    # two shares, two seeds each: means 1 and 3, within-share deviations +-1
    f = runs({0.0: [0.0, 2.0], 5e-4: [2.0, 4.0]}, column="test_acc")
    out = accuracy_anova(f)
    # SS_between = 4 * (1)^2 = 4 (df 1); SS_within = 4 * 1 = 4 (df 2): F = 4 / (4 / 2) = 2
    assert out["F"] == pytest.approx(2.0)
    assert out["range"] == pytest.approx(2.0) and out["seed_sd"] == pytest.approx(math.sqrt(2.0))
    # F(1, 2) = t_2^2 and P(|t_2| > t) = 1 - t / sqrt(t^2 + 2): p = 1 - sqrt(F / (F + 2))
    assert out["p"] == pytest.approx(1 - math.sqrt(2 / 4))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="two or more coupled shares"):
        share_trend(runs({0.0: [1.0, 2.0]}), "NC0_code")
    with pytest.raises(ValueError, match=r"lack column\(s\) \['NC3_code'\]"):
        share_trend(runs({0.0: [1.0], 1e-4: [2.0]}), "NC3_code")
    with pytest.raises(ValueError, match="two or more seeds"):
        accuracy_anova(runs({0.0: [1.0], 1e-4: [2.0]}, column="test_acc"))
    with pytest.raises(ValueError, match="must be >= 0"):
        decoupled_shrink(np.ones(3), -1.0)


def test_failed_runs_are_left_out():
    f = runs({0.0: [1.0, 100.0], 1e-4: [0.5, 0.4]})
    f.loc[1, "status"] = "diverged"
    assert share_summary(f, ["NC0_code"]).loc[0.0, ("NC0_code", "mean")] == 1.0


def test_decoupled_shrink_is_the_product_of_the_steps():
    etas = np.array([0.1] * 10 + [0.01] * 10)
    assert decoupled_shrink(etas, 0.5) == pytest.approx(0.95**10 * 0.995**10)
    assert decoupled_shrink(etas, 0.0) == 1.0
