"""nc_core.analysis.training_length (Appendix D.4.1, Figures 13, 14; Theorem 3.1) on hand-made runs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core.analysis import order_kept, pair_ratios, prediction_agreement, shared_decay_ratios


def test_prediction_agreement_over_the_resolved_epochs():
    predicted = [1.0, 0.1, 0.01, 0.001, 0.0001]
    ratio = [1.0, 1.002, 0.99, 1.005, 3.0]  # the last epoch is below 1e-3 of the start: not compared
    pred = pd.DataFrame({"predicted": predicted, "ratio": ratio,
                         "measured": [p * r for p, r in zip(predicted, ratio, strict=True)]})  # fmt: skip
    a = prediction_agreement(pred)
    assert a["epochs"] == 4 and a["deviation"] == pytest.approx(0.01)
    assert a["final_predicted"] == 0.0001 and a["final_measured"] == pytest.approx(0.0003)
    assert prediction_agreement(pred, resolved=1e-5)["deviation"] == pytest.approx(2.0)
    # the measurement leaves the prediction (3x > 2x) at the epoch where it has fallen to 1e-4 of its start
    assert a["departs_at"] == pytest.approx(1e-4)
    assert math.isnan(prediction_agreement(pred, factor=4.0)["departs_at"])  # 3x is within 4x: never leaves


def test_prediction_agreement_departure_below_and_bad_factor():
    pred = pd.DataFrame({"predicted": [2.0, 0.2, 0.02], "ratio": [1.0, 0.4, 1.0],
                         "measured": [2.0, 0.08, 0.02]})  # fmt: skip
    assert prediction_agreement(pred)["departs_at"] == pytest.approx(0.1)  # 0.4 < 1/2: below counts too
    with pytest.raises(ValueError, match="factor must be > 1"):
        prediction_agreement(pred, factor=1.0)


def _horizons() -> pd.DataFrame:
    rows = [  # (epochs, optimizer, status, NC0, train_acc)
        (15, "adam", "completed", 2.0, 0.995), (15, "adamw", "completed", 6.0, 0.995),
        (15, "signum", "completed", 5.0, 0.995), (15, "signumw", "completed", 10.0, 0.995),
        (15, "sgd", "completed", 4.0, 0.98), (15, "sgdw", "completed", 1.0, 0.995),
        (60, "adam", "completed", 1.0, 1.0), (60, "adamw", "diverged", float("nan"), 0.1),
        (60, "signum", "completed", 3.0, 1.0), (60, "signumw", "completed", 30.0, 1.0),
        (60, "sgd", "completed", 1.0, 1.0), (60, "sgdw", "completed", 2.0, 1.0),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["epochs", "optimizer", "status", "NC0_code", "train_acc"])


def test_pair_ratios_per_horizon():
    r = pair_ratios(_horizons())
    # 15 epochs: 6/2, 10/5, 1/4 (SGD at 98%: not terminal); 60 epochs: AdamW diverged -> no AdamW/Adam row
    assert r[["epochs", "pair", "ratio", "terminal"]].values.tolist() == [
        [15, "AdamW / Adam", 3.0, True], [15, "SignumW / Signum", 2.0, True], [15, "SGDW / SGD", 0.25, False],
        [60, "SignumW / Signum", 10.0, True], [60, "SGDW / SGD", 2.0, True],
    ]  # fmt: skip
    assert r.loc[0, "decoupled"] == "adamw" and r.loc[0, "coupled"] == "adam"


def _fig13(adamw_1e3: float = 6.0) -> pd.DataFrame:
    rows = [  # (epochs, optimizer, weight decay, NC0)
        (2, "adam", 1e-4, 2.0), (2, "adamw", 1e-4, 1.0),
        (20, "adam", 0.0, 1.0), (20, "adamw", 0.0, 3.0),
        (20, "adam", 1e-4, 2.0), (20, "adamw", 1e-4, 3.0),
        (20, "adam", 1e-3, 4.0), (20, "adamw", 1e-3, adamw_1e3),
        (20, "adam", 1e-2, float("nan")), (20, "adamw", 1e-2, 0.5),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["epochs", "optimizer", "weight_decay", "NC0_code"])


def test_shared_decay_ratios_at_one_horizon():
    # 20 epochs: 3/2 and 6/4 at 1e-4 and 1e-3; 0 is left out, and 1e-2 (Adam's value is NaN)
    s = shared_decay_ratios(_fig13(), 20, "NC0_code")
    assert s.ratios == {1e-4: 1.5, 1e-3: 1.5} and s.above_at_every
    s = shared_decay_ratios(_fig13(), 2, "NC0_code")
    assert s.ratios == {1e-4: 0.5} and not s.above_at_every
    s = shared_decay_ratios(_fig13(4.00001), 20, "NC0_code")  # 1.0000025, shown and decided as 1.0
    assert s.ratios[1e-3] == 1.0 and not s.above_at_every
    assert shared_decay_ratios(_fig13(), 200, "NC0_code").ratios == {}


def _fig14(long: list[float]) -> pd.DataFrame:
    points = [(0.0, 0.0), (0.0, 5e-4), (0.9, 0.0), (0.9, 5e-4)]
    rows = [(m, w, 2, v) for (m, w), v in zip(points, [4.0, 3.0, 2.0, 1.0], strict=True)]
    rows += [(m, w, 20, v) for (m, w), v in zip(points, long, strict=True)]
    rows.append((0.5, 0.05, 2, 9.0))  # a point without a longer run: left out
    return pd.DataFrame(rows, columns=["momentum", "weight_decay", "epochs", "NC3_code"])


def test_order_kept_by_hand():
    o = order_kept(_fig14([3.0, 2.5, 1.0, 0.5]), "NC3_code", 2, 20)
    assert (o.rho, o.n, o.fell) == (pytest.approx(1.0), 4, 1.0)
    # long ranks 4,3,1,2 against 4,3,2,1: sum d^2 = 2, rho = 1 - 6 * 2 / (4 * 15) = 0.8; 1.5 > 1: 3 of 4 fell
    o = order_kept(_fig14([3.0, 2.5, 1.0, 1.5]), "NC3_code", 2, 20)
    assert o.rho == pytest.approx(0.8) and o.fell == 0.75
    two = _fig14([3.0, 2.5, 1.0, 0.5])
    two = two[two["momentum"] == 0.0]
    o = order_kept(two, "NC3_code", 2, 20)
    assert math.isnan(o.rho) and o.n == 2 and o.fell == 1.0
