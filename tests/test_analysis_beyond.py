"""Beyond the paper (nc_core.analysis.beyond): LR pick and prediction-vs-measurement on hand-made runs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core.analysis.beyond import (
    PREDICTIONS,
    findings,
    grid_lrs_agree,
    last_stage_deviation,
    layer_cost,
    layer_ratios,
    nc0_verdicts,
    pick_lr,
    stages_above,
)
from nc_core.optim import OPTIMIZER_NAMES, is_decoupled


def test_predictions_follow_each_optimizers_decay():
    for name, pred in PREDICTIONS.items():
        assert name in OPTIMIZER_NAMES
        assert pred.decay == ("decoupled" if is_decoupled(name) else "coupled"), name
        assert pred.nc0_falls == (pred.decay == "coupled"), name  # Theorems 3.1/3.4 vs 3.3


def test_pick_lr_is_the_largest_that_fits():
    finals = pd.DataFrame(
        [
            ("lion", 1e-4, "completed", 1.0),
            ("lion", 1e-3, "completed", 0.995),
            ("lion", 1e-2, "diverged", 0.1),  # diverged: never the pick
            ("sgd_schedulefree", 0.1, "completed", 0.999),
            ("sgd_schedulefree", 1.0, "completed", 0.80),  # runs, but does not fit
            ("muon", 0.1, "completed", 0.5),  # nothing fits
        ],
        columns=["optimizer", "lr", "status", "train_acc"],
    )
    got = pick_lr(finals, 0.99)
    assert got.loc["lion", "pick"] == 1e-3 and got.loc["lion", "largest_not_diverged"] == 1e-3
    assert got.loc["lion", "train_acc_at_pick"] == 0.995 and got.loc["lion", "below"] == 1e-4
    assert math.isnan(got.loc["sgd_schedulefree", "below"])  # the pick is its smallest candidate
    assert got.loc["lion", "candidates"] == [1e-4, 1e-3, 1e-2]
    assert (
        got.loc["sgd_schedulefree", "pick"] == 0.1
        and got.loc["sgd_schedulefree", "largest_not_diverged"] == 1.0
    )
    assert math.isnan(got.loc["muon", "pick"])
    with pytest.raises(ValueError, match="train_acc"):
        pick_lr(finals.drop(columns="train_acc"), 0.99)


def test_nc0_verdicts_against_hand_ratios():
    summary = pd.DataFrame(
        [
            ("lion", 0.0, 2.0), ("lion", 0.05, 4.0), ("lion", 5.0, 1.0),  # lowest 1 at 5: ratio 2, stays up
            ("lion_coupled", 0.0, 2.0), ("lion_coupled", 5e-4, 0.5), ("lion_coupled", 0.05, 0.01),  # 200
            ("sgd_schedulefree", 0.0, 1.0), ("sgd_schedulefree", 0.05, 0.2),  # 5: short of 10
            ("muon", 0.05, 3.0),  # no run without decay
        ],
        columns=["optimizer", "weight_decay", "NC0_code mean"],
    )  # fmt: skip
    v = nc0_verdicts(summary)
    assert list(v.index) == ["lion", "lion_coupled", "sgd_schedulefree", "muon"]
    assert v.loc["lion", "ratio"] == pytest.approx(2.0) and v.loc["lion", "at_weight_decay"] == 5.0
    assert v.loc["lion", "falls"] is False and v.loc["lion", "agrees"] is True
    assert v.loc["lion_coupled", "ratio"] == pytest.approx(200.0)
    assert v.loc["lion_coupled", "falls"] is True and v.loc["lion_coupled", "agrees"] is True
    assert v.loc["sgd_schedulefree", "falls"] is False and v.loc["sgd_schedulefree", "agrees"] is False
    assert nc0_verdicts(summary, factor=5.0).loc["sgd_schedulefree", "agrees"] is True
    assert math.isnan(v.loc["muon", "ratio"]) and v.loc["muon", "agrees"] is None


def test_layer_ratios_per_stage():
    rows = []
    for opt, nc1 in {
        "adamw": [4.0, 1.0],
        "adam": [2.0, 0.5],
        "signumw": [1.0, 1.0],
        "signum": [1.0, 0.25],
    }.items():
        for depth, (stage, v) in enumerate(zip(["prep", "features"], nc1, strict=True)):
            rows.append({"model": "resnet9", "optimizer": opt, "depth": depth, "stage": stage, "NC1": v})
    rows.append(
        {"model": "resnet9", "optimizer": "adam", "depth": 1, "stage": "features", "NC1": 1.5}
    )  # 2nd run
    got = layer_ratios(pd.DataFrame(rows))
    assert list(got.index) == [("resnet9", 0, "prep"), ("resnet9", 1, "features")]
    assert got["adamw/adam"].tolist() == pytest.approx([2.0, 1.0 / 1.0])  # adam at features: mean(0.5, 1.5)
    assert got["signumw/signum"].tolist() == pytest.approx([1.0, 4.0])
    assert got["sgdw/sgd"].isna().all()
    assert stages_above(got, "adamw/adam") == {"stages": 2, "above": 1, "smallest": 1.0, "holds": False}
    assert stages_above(got, "signumw/signum")["holds"] is False  # 1.0 at prep is not above 1
    assert stages_above(got.assign(**{"adamw/adam": [2.0, 3.0]}), "adamw/adam")["holds"] is True
    none = stages_above(got, "sgdw/sgd")
    assert none["stages"] == 0 and none["holds"] is False and math.isnan(none["smallest"])
    with pytest.raises(ValueError, match="NC2"):
        layer_ratios(pd.DataFrame(rows), "NC2")


def test_grid_lrs_agree_with_the_pick_and_the_candidate_below():
    picks = pd.DataFrame(
        {"pick": [1e-2, 0.1, math.nan], "below": [3e-3, math.nan, math.nan]},
        index=["lion", "sgd_schedulefree", "muon"],
    )
    got = grid_lrs_agree(picks, {"lion": [1e-2, 3e-3], "sgd_schedulefree": [0.1, 0.03], "muon": [0.1]})
    # sgd_schedulefree: the grid has an LR the probe did not pick; muon: nothing fitted
    assert got["agrees"].tolist() == [True, False, False]
    assert got.loc["lion", "grid uses"] == [3e-3, 1e-2] and got.loc["muon", "probe picks"] == []
    assert grid_lrs_agree(picks.loc[["lion"]], {})["agrees"].tolist() == [False]


def test_last_stage_deviation_and_layer_cost_by_hand():
    layers = pd.DataFrame(
        [("a", "prep", 9.0), ("a", "features", 2.0), ("b", "features", 0.99), ("c", "features", 5.0)],
        columns=["run_id", "stage", "NC1"],
    )
    runs = pd.DataFrame({"run_id": ["a", "b"], "NC1": [2.0, 1.0]})  # c has no record: not compared
    assert last_stage_deviation(layers, runs) == pytest.approx(0.01)  # |0.99 - 1| / 1
    with pytest.raises(ValueError, match="no run"):
        last_stage_deviation(layers[layers["run_id"] == "c"], runs)
    cost = layer_cost(
        pd.DataFrame(
            {
                "model": ["resnet9", "resnet9", "resnet9", "vgg9"],
                "status": ["completed", "completed", "diverged", "completed"],
                "train_seconds": [60.0, 120.0, 1.0, 30.0],
                "epochs": [60, 60, 60, 60],
                "layer_seconds": [0.5, 1.0, 100.0, 2.0],
            }
        )
    )
    # resnet9: epochs 1 s and 2 s (median 1.5), passes 0.5 and 1.0 (0.75), ratios 0.5 and 0.5
    assert cost.loc["resnet9"].tolist() == pytest.approx([1.5, 0.75, 0.5])
    assert cost.loc["vgg9"].tolist() == pytest.approx([0.5, 2.0, 4.0])


def test_findings_pair_the_variants_and_ask_muon_not_to_fall():
    summary = pd.DataFrame(
        [
            # Lion above its coupled variant at both shared decays (2/1 = 2, 1/0.01 = 100); coupled falls 200x
            ("lion", 0.0, 2.0), ("lion", 5e-4, 2.0), ("lion", 0.05, 1.0), ("lion", 5.0, 0.1),
            ("lion_coupled", 0.0, 2.0), ("lion_coupled", 5e-4, 1.0), ("lion_coupled", 0.05, 0.01),
            # Schedule-Free: the pair shares no decay; the coupled member falls only 2x
            ("adamw_schedulefree", 0.0, 3.0), ("adamw_schedulefree", 5.0, 3.0),
            ("sgd_schedulefree", 0.0, 1.0), ("sgd_schedulefree", 5e-4, 0.5),
            # muon: 4/2 = 2x (stays up); muon_all: 4/0.1 = 40x (falls)
            ("muon", 0.0, 4.0), ("muon", 0.5, 2.0), ("muon_all", 0.0, 4.0), ("muon_all", 0.5, 0.1),
        ],
        columns=["optimizer", "weight_decay", "NC0_code mean"],
    )  # fmt: skip
    f = findings(summary)
    assert f["finding"].tolist() == ["finding_lion"] * 3 + ["finding_schedulefree"] * 3 + ["finding_muon"] * 2
    assert f["optimizer"].tolist() == ["", "lion_coupled", "lion", "", "sgd_schedulefree",
                                       "adamw_schedulefree",
                                       "muon", "muon_all"]  # fmt: skip
    # Lion itself falls 2/0.1 = 20x against its prediction (stays up): the finding cannot pass on
    # the pair alone
    assert f["passed"].tolist() == [True, True, False, False, False, True, True, False]
    assert f.loc[0, "value"] == {"0.0005": 2.0, "0.05": 100.0}
    assert f.loc[3, "value"] == "no shared weight decay"
    assert (
        "ratio 200" in f.loc[1, "value"]
        and "ratio 20" in f.loc[2, "value"]
        and "ratio 40" in f.loc[7, "value"]
    )
    # a ratio within the tolerance is not "above"
    near = summary.copy()
    near.loc[near["optimizer"] == "lion", "NC0_code mean"] = [2.0, 1.05, 0.0105, 0.1]
    assert not findings(near).loc[0, "passed"]
    # a missing optimizer cannot pass its check
    without_muon = findings(summary[summary["optimizer"] != "muon"]).loc[6]
    assert not without_muon["passed"] and without_muon["value"] == "no valid runs with and without decay"
