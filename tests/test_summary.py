"""Valid-run selection and per-(optimizer, weight decay) mean / std, against hand-computed values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core.sweep import summarise_by, valid_runs


def _finals() -> pd.DataFrame:
    return pd.DataFrame({
        "optimizer": ["adam", "adam", "adam", "adamw", "adamw", "adamw"],
        "weight_decay": [0.05, 0.05, 0.5, 0.05, 0.05, 0.05],
        "status": ["completed", "completed", "completed", "completed", "diverged", "completed"],
        "train_acc": [0.99, 0.995, 0.50, 1.0, 0.1, 0.999],
        "NC0": [1.0, 3.0, 2.0, 4.0, float("nan"), 16.0],
    })  # fmt: skip


def test_valid_runs_need_completion_accuracy_and_finite_metrics():
    f = _finals()
    assert valid_runs(f, 0.99, ["NC0"]).tolist() == [True, True, False, True, False, True]
    assert valid_runs(f, 0.0, ["NC0"]).tolist() == [True, True, True, True, False, True]
    with pytest.raises(ValueError, match="min_train_acc"):
        valid_runs(f, 99.0)
    with pytest.raises(ValueError, match="lack column"):
        valid_runs(f, 0.9, ["NC3"])


def test_mean_std_and_geometric_mean_by_group():
    f = _finals()
    s = summarise_by(f[valid_runs(f, 0.0, ["NC0"])], ["optimizer", "weight_decay"], ["NC0"])
    assert len(s) == 3
    adam = s.iloc[0]
    assert (adam["optimizer"], adam["weight_decay"], adam["n"]) == ("adam", 0.05, 2)
    assert adam["NC0 mean"] == pytest.approx(2.0)
    assert adam["NC0 std"] == pytest.approx(math.sqrt(2.0))  # (1-2)^2 + (3-2)^2 over ddof 1
    assert adam["NC0 gmean"] == pytest.approx(math.sqrt(3.0))
    single = s[(s["optimizer"] == "adam") & (s["weight_decay"] == 0.5)].iloc[0]
    assert single["n"] == 1 and math.isnan(single["NC0 std"]) and single["NC0 mean"] == 2.0
    adamw = s[s["optimizer"] == "adamw"].iloc[0]
    assert adamw["NC0 mean"] == pytest.approx(10.0) and adamw["NC0 gmean"] == pytest.approx(8.0)
    assert adamw["NC0 std"] == pytest.approx(math.sqrt(72.0))
    with pytest.raises(ValueError, match="lack column"):
        summarise_by(f, ["optimizer", "lr"], ["NC0"])
