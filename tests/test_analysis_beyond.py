"""Beyond the paper (nc_core.analysis.beyond): LR pick and prediction-vs-measurement on hand-made runs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core.analysis.beyond import PREDICTIONS, nc0_verdicts, pick_lr
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
    assert got.loc["lion", "train_acc_at_pick"] == 0.995
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
