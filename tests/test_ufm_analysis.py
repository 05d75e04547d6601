"""The UFM chapter's analysis (nc_core.analysis.ufm) on hand-made runs with hand-derived answers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nc_core.analysis import optimizer_steps
from nc_core.analysis.ufm import order_gap, protocol_of


def runs(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["optimizer", "weight_decay", "NC0_code"])


def test_order_gap_means_over_lrs_and_factor():
    valid = runs(
        [
            ("adamw", 1e-3, 10.0), ("adamw", 1e-3, 20.0),  # mean 15
            ("adam", 1e-3, 0.5), ("adam", 1e-3, 1.0),  # mean 0.75 -> ratio 20
            ("sgd", 1e-3, 3.0),  # ratio 5: short of 10
            ("adamw", 0.0, 1.0), ("adam", 0.0, 1.0),  # weight decay 0 never counts
            ("adamw", 5e-2, 4.0),  # no partner at 0.05
        ]
    )  # fmt: skip
    gap = order_gap(valid, "NC0_code")
    assert list(gap["optimizer"]) == ["adam", "sgd"]
    assert list(gap["weight_decay"]) == [1e-3, 1e-3]
    assert gap["ratio"].tolist() == pytest.approx([20.0, 5.0])
    assert gap["holds"].tolist() == [True, False]
    assert gap[["n_above", "n_below"]].values.tolist() == [[2, 2], [2, 1]]
    assert order_gap(valid, "NC0_code", factor=4.0)["holds"].tolist() == [True, True]


def test_order_gap_empty_and_bad_metric():
    valid = runs([("adamw", 1e-3, 1.0), ("adam", 5e-3, 1.0)])
    gap = order_gap(valid, "NC0_code")
    assert gap.empty and "ratio" in gap.columns
    with pytest.raises(ValueError, match="NC9"):
        order_gap(valid, "NC9")


def test_order_gap_zero_below_is_infinite_ratio():
    gap = order_gap(runs([("adamw", 1e-3, 1.0), ("adam", 1e-3, 0.0)]), "NC0_code", below=("adam",))
    assert gap["ratio"].iloc[0] == float("inf") and gap["holds"].iloc[0]


def ufm_run(epochs: int, batch: int, init_std: float | None = None, n: int = 10000) -> dict:
    kwargs = {"feature_dim": 512} | ({} if init_std is None else {"init_std": init_std})
    return {
        "dataset": "ufm",
        "epochs": epochs,
        "batch_size": batch,
        "model_kwargs": json.dumps(kwargs),
        "data_kwargs": json.dumps({"num_samples": n, "num_classes": 10}),
    }


def test_steps_and_protocol_labels():
    assert optimizer_steps(pd.Series(ufm_run(200, 1000))) == 2000
    assert optimizer_steps(pd.Series(ufm_run(3, 128, n=200))) == 6  # ceil(200 / 128) = 2 steps per epoch
    assert optimizer_steps({**ufm_run(3, 128), "data_kwargs": {}}) == 3 * 79  # N defaults to 10,000
    finals = pd.DataFrame(
        [ufm_run(200, 1000)] * 3 + [ufm_run(400, 1000), ufm_run(50, 250), ufm_run(200, 1000, 1.0)]
    )
    assert protocol_of(finals).tolist() == ["main"] * 3 + ["4,000 steps", "batch 250", "init_std 1"]
    # against an explicit main protocol
    assert protocol_of(finals, main=finals.iloc[3]).tolist()[:2] == ["2,000 steps", "2,000 steps"]
