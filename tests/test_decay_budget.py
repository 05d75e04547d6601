"""The decay budget B = lambda * sum_t eta_t (issue 22): closed forms of the step schedule, and the collapse
and ratio-trend tests on hand-made runs whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nc_core.analysis.decay_budget import (
    budget_frame,
    decay_budget,
    matched_ratios,
    one_curve_test,
    paper_budgets,
    ratio_trend,
)

SCALE = {"dataset": "fashionmnist", "subset_per_class": 250, "batch_size": 32, "lr_schedule": "step"}


def test_budget_of_the_step_schedule_by_hand() -> None:
    # 250 x 10 images / batch 32 = 79 steps per epoch (last batch smaller); 60 epochs: LR for epochs 1-20,
    # LR/10 for 21-40, LR/100 for 41-60: sum eta = 0.001 * 79 * 20 * (1 + 0.1 + 0.01)
    run = {**SCALE, "lr": 0.001, "weight_decay": 0.05, "epochs": 60}
    assert decay_budget(run) == pytest.approx(0.05 * 0.001 * 79 * 20 * 1.11, rel=1e-12)
    assert decay_budget({**run, "epochs": 240}) == pytest.approx(4 * decay_budget(run), rel=1e-12)
    assert decay_budget({**run, "weight_decay": 0.0}) == 0.0
    # the paper: 200 epochs x 469 steps, thirds of 66 / 67 / 67 epochs (the engine's milestones 66 and 133)
    paper = {"dataset": "fashionmnist", "subset_per_class": None, "batch_size": 128, "lr_schedule": "step",
             "lr": 0.001, "weight_decay": 0.05, "epochs": 200}  # fmt: skip
    assert decay_budget(paper) == pytest.approx(0.05 * 0.001 * 469 * (66 + 6.7 + 0.67), rel=1e-9)


def test_paper_budgets_cover_figure_1_and_table_4() -> None:
    pb = paper_budgets()
    t4 = pb[pb["source"] == "table 4"].set_index("optimizer")
    assert list(t4.index) == ["sgd", "sgdw", "adam", "adamw", "signum", "signumw"]
    assert t4.loc["adamw", "B"] / t4.loc["adam", "B"] == pytest.approx(100.0)  # wd 5 vs 0.05 at one LR
    assert (pb["B"] > 0).all()


def _runs(rows: list[dict]) -> pd.DataFrame:
    base = {**SCALE, "status": "completed", "momentum": 0.9, "model": "resnet9", "width": 0.0625,
            "train_acc": 1.0, "seed": 0}  # fmt: skip
    return pd.DataFrame([{**base, "run_id": f"r{i}", **r} for i, r in enumerate(rows)])


def test_one_curve_holds_when_nc0_is_a_function_of_b_and_fails_with_group_shifts() -> None:
    rows = []
    for epochs in (60, 240):
        for lr in (0.001, 0.005):
            for wd in (5e-4, 5e-3, 0.05, 0.5):
                rows.append({"optimizer": "adam", "lr": lr, "weight_decay": wd, "epochs": epochs})
    frame = budget_frame(_runs([{**r, "NC0_code": 1.0} for r in rows]))
    x = np.log10(frame["B"])
    rng = np.random.default_rng(3)  # a fixed draw of the noise (the F-test's p is uniform under the null)
    frame["NC0_code"] = 10 ** (-0.5 - 0.8 * x + 0.05 * x**2 + rng.normal(0, 0.01, len(x)))
    same = one_curve_test(frame).iloc[0]
    assert same["groups"] == 4 and same["resid_sd"] < 0.02 and same["p"] > 0.05
    shifted = frame.copy()
    shifted.loc[shifted["epochs"] == 240, "NC0_code"] *= 10  # the long runs sit a decade higher at equal B
    diff = one_curve_test(shifted).iloc[0]
    assert diff["p"] < 1e-6 and diff["group_shift_max"] == pytest.approx(1.0, abs=0.05)


def test_matched_ratios_pair_runs_at_one_budget_and_mark_invalid_members() -> None:
    rows = [
        {"optimizer": "adamw", "lr": 0.001, "weight_decay": 0.05, "epochs": 60, "NC0_code": 4.0, "seed": 0},
        {"optimizer": "adamw", "lr": 0.001, "weight_decay": 0.05, "epochs": 60, "NC0_code": 2.0, "seed": 1},
        {"optimizer": "adam", "lr": 0.001, "weight_decay": 0.05, "epochs": 60, "NC0_code": 0.5, "seed": 0},
        {
            "optimizer": "adam",
            "lr": 0.001,
            "weight_decay": 0.5,
            "epochs": 60,
            "NC0_code": 0.1,
            "train_acc": 0.4,
        },
        {"optimizer": "adamw", "lr": 0.001, "weight_decay": 0.5, "epochs": 60, "NC0_code": 5.0},
        {"optimizer": "adamw", "lr": 0.001, "weight_decay": 5.0, "epochs": 60, "NC0_code": 6.0},  # no partner
    ]
    mr = matched_ratios(budget_frame(_runs(rows))).set_index("weight_decay")
    assert list(mr.index) == [0.05, 0.5]
    assert mr.loc[0.05, "ratio"] == pytest.approx(3.0 / 0.5) and mr.loc[0.05, "n_dec"] == 2
    assert bool(mr.loc[0.05, "valid"]) and not bool(mr.loc[0.5, "valid"])
    assert mr.loc[0.5, "B"] == pytest.approx(10 * mr.loc[0.05, "B"])


def test_ratio_trend_recovers_a_power_law_and_extrapolates() -> None:
    b = np.array([0.01, 0.03, 0.1, 0.3])
    ratios = pd.DataFrame({"pair": "AdamW / Adam", "B": b, "ratio": 2.0 * b**0.5, "valid": True})
    ratios.loc[len(ratios)] = {"pair": "AdamW / Adam", "B": 1.0, "ratio": 1e6, "valid": False}  # ignored
    row = ratio_trend(ratios, at={"AdamW / Adam": 100.0}).iloc[0]
    assert row["slope"] == pytest.approx(0.5) and row["r2"] == pytest.approx(1.0)
    assert row["predicted"] == pytest.approx(20.0) and bool(row["extrapolated"])
    assert row["n"] == 4 and row["B_max"] == pytest.approx(0.3)


def test_ratio_trend_without_enough_points_has_its_columns_and_no_line() -> None:
    """Two valid budgets of one pair (and none of another): no fit, but a frame a page can index (the smoke
    profile's training-length page met this with two horizons)."""
    ratios = pd.DataFrame({"pair": "AdamW / Adam", "B": [0.01, 0.1], "ratio": [1.0, 2.0], "valid": True})
    trend = ratio_trend(ratios, at={"AdamW / Adam": 1.0})
    assert list(trend["pair"]) == ["AdamW / Adam"] and trend["n"].iloc[0] == 2
    assert trend[["slope", "intercept", "r2", "predicted"]].isna().all().all()
    assert {"slope", "predicted"} <= set(ratio_trend(ratios.iloc[:0]).columns)
