"""nc_core.analysis.agreement on hand-made records with and without a variant (bf16)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core.analysis import variant_agreement


def _runs(values_fp32, values_bf16, metric="NC0_code"):
    rows = [{"optimizer": "sgd", "bf16": False, "seed": s, metric: v} for s, v in enumerate(values_fp32)]
    rows += [{"optimizer": "sgd", "bf16": True, "seed": s, metric: v} for s, v in enumerate(values_bf16)]
    return pd.DataFrame(rows)


def test_agreement_on_log10_within_the_seed_spread():
    # log10 fp32: 0, 1, 2 -> mean 1, std 1; bf16: 1, 2, 3 -> mean 2, std 1: diff 1 <= spread 1 -> agrees
    out = variant_agreement(_runs([1, 10, 100], [10, 100, 1000]), "bf16", metrics=["NC0_code"]).iloc[0]
    assert (out["base mean"], out["variant mean"], out["diff"], out["spread"]) == pytest.approx((1, 2, 1, 1))
    assert out["agrees"] and out["scale"] == "log10" and out["n"] == 3
    # bf16 10x further away: diff 2 > spread 1
    far = variant_agreement(_runs([1, 10, 100], [100, 1000, 10000]), "bf16", metrics=["NC0_code"])
    assert not far["agrees"][0]


def test_accuracy_is_compared_linearly():
    runs = _runs([0.90, 0.92], [0.93, 0.95], "train_acc")
    out = variant_agreement(runs, "bf16", metrics=["train_acc"]).iloc[0]
    assert out["scale"] == "linear" and out["diff"] == pytest.approx(0.03)
    assert out["spread"] == pytest.approx(math.sqrt(2 * 0.01**2))  # std of two values 0.02 apart
    assert not out["agrees"]  # 0.03 > 0.0141


def test_needs_two_seeds_per_side_and_the_columns():
    with pytest.raises(ValueError, match="need >= 2 seeds"):
        variant_agreement(_runs([1, 10], [10]), "bf16", metrics=["NC0_code"])
    with pytest.raises(ValueError, match="lack column"):
        variant_agreement(_runs([1, 10], [10, 1]), "bf16", metrics=["NC3_code"])
