"""nc_core.analysis.weight_decay on hand-made summaries whose answers are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core.analysis import (
    compare_decoupled,
    coupled_decay_effect,
    means_by_weight_decay,
    run_counts,
    summary_cells,
)


def _summary(means: dict[str, dict[float, float]], metric: str = "NC0_code") -> pd.DataFrame:
    """A summarise_by-shaped frame: one row per (optimizer, weight decay), std 0.1 and n 2 everywhere."""
    rows = [
        {"optimizer": o, "weight_decay": w, "n": 2, f"{metric} mean": m, f"{metric} std": 0.1}
        for o, by_wd in means.items()
        for w, m in by_wd.items()
    ]
    return pd.DataFrame(rows)


# adam: 8 without decay, 4 at 1e-4, 2 at 1e-3. adamw: 8 at 0, 2 at 1e-4 (half of Adam's), 6 at 1e-3 (3x),
# 40 at 1e-2 (Adam has no run there). signumw is 40/3 and 15 times signum at 1e-4 and 1e-3; its lowest
# mean (20) is exactly 10x signum's lowest (2). sgdw only has weight decay 0.
MEANS = {
    "adam": {0.0: 8.0, 1e-4: 4.0, 1e-3: 2.0},
    "adamw": {0.0: 8.0, 1e-4: 2.0, 1e-3: 6.0, 1e-2: 40.0},
    "signum": {0.0: 5.0, 1e-4: 3.0, 1e-3: 2.0},
    "signumw": {1e-4: 40.0, 1e-3: 30.0, 1e-2: 20.0},
    "sgd": {1e-4: 3.0, 1e-3: 2.0},
    "sgdw": {0.0: 1.0},
}


def test_means_by_weight_decay_reads_one_optimizer():
    s = _summary(MEANS)
    assert means_by_weight_decay(s, "adam", "NC0_code") == {0.0: 8.0, 1e-4: 4.0, 1e-3: 2.0}
    assert means_by_weight_decay(s, "lion", "NC0_code") == {}
    with pytest.raises(ValueError, match="lacks column"):
        means_by_weight_decay(s, "adam", "NC3_code")


def test_compare_decoupled_above_at_the_largest_shared_decay_only():
    c = compare_decoupled(_summary(MEANS), "adamw", "adam", "NC0_code")
    # shared weight decays > 0: 1e-4 (2/4) and 1e-3 (6/2); 0 is left out, 1e-2 is adamw's alone
    assert c.ratios == {1e-4: 0.5, 1e-3: 3.0}
    assert c.largest_shared == 1e-3 and c.above_at_largest and not c.above_at_every
    assert c.lowest_decoupled == 2.0 and c.lowest_coupled == 2.0  # weight decay 0 counts here
    assert c.geometric_mean_ratio == pytest.approx(math.sqrt(0.5 * 3.0))


def test_compare_decoupled_above_everywhere_and_the_lowest_means():
    c = compare_decoupled(_summary(MEANS), "signumw", "signum", "NC0_code")
    assert c.ratios == pytest.approx({1e-4: 40 / 3, 1e-3: 15.0})
    assert c.above_at_largest and c.above_at_every
    assert (c.lowest_decoupled, c.lowest_coupled) == (20.0, 2.0)  # 20 >= 10 x 2: the boundary holds
    assert c.geometric_mean_ratio == pytest.approx(math.sqrt(40 / 3 * 15))


def test_compare_decoupled_without_a_shared_weight_decay():
    c = compare_decoupled(_summary(MEANS), "sgdw", "sgd", "NC0_code")
    assert c.ratios == {} and c.largest_shared is None
    assert not c.above_at_largest and not c.above_at_every
    assert math.isnan(c.geometric_mean_ratio) and c.lowest_decoupled == 1.0
    none = compare_decoupled(_summary(MEANS), "lion", "sgd", "NC0_code")
    assert math.isnan(none.lowest_decoupled) and not none.means_decoupled


def test_coupled_decay_effect():
    s = _summary(MEANS)
    e = coupled_decay_effect(s, "adam", "NC0_code")
    assert (e.largest, e.at_largest, e.at_zero, e.lowers) == (1e-3, 2.0, 8.0, True)
    e = coupled_decay_effect(s, "signumw", "NC0_code")  # no run without decay: not decided
    assert e.largest == 1e-2 and e.at_largest == 20.0 and math.isnan(e.at_zero) and not e.lowers
    e = coupled_decay_effect(s, "sgdw", "NC0_code")  # weight decay 0 only: the largest is not > 0
    assert e.largest == 0.0 and not e.lowers
    e = coupled_decay_effect(s, "lion", "NC0_code")
    assert math.isnan(e.largest) and math.isnan(e.at_largest) and not e.lowers
    higher = _summary({"sgd": {0.0: 1.0, 0.5: 1.5}})
    assert not coupled_decay_effect(higher, "sgd", "NC0_code").lowers


def test_summary_cells_text_order_and_gaps():
    s = pd.DataFrame({
        "optimizer": ["adamw", "adam", "adam", "sgd"],
        "weight_decay": [1e-5, 0.0, 1e-5, 0.0],
        "n": [1, 3, 2, 4],
        "NC3_code mean": [5.0, 1.23456, 0.5, 1234.5],
        "NC3_code std": [math.nan, 0.01234, 0.25, 100.0],
    })  # fmt: skip
    t = summary_cells(s, "NC3_code")
    assert list(t.columns) == ["sgd", "adam", "adamw"]  # the paper's order, not the frame's
    assert list(t.index) == ["0", "1e-05"] and t.index.name == "weight decay" and t.columns.name is None
    assert t.loc["0", "adam"] == "1.23 ± 0.012 (n=3)"
    assert t.loc["1e-05", "adamw"] == "5 (n=1)"  # a single run has no std
    assert t.loc["0", "sgd"] == "1.23e+03 ± 1e+02 (n=4)"
    assert t.loc["0", "adamw"] == "-" and t.loc["1e-05", "sgd"] == "-"


def test_run_counts():
    finals = pd.DataFrame({
        "run_id": list("abcde"),
        "optimizer": ["adamw", "sgd", "sgd", "sgd", "adamw"],
        "status": ["completed", "completed", "diverged", "completed", "failed"],
        "valid": [True, True, False, False, False],
        "train_acc": [0.995, 0.999, 0.1, 0.9, 0.5],
    })  # fmt: skip
    c = run_counts(finals)
    assert list(c.index) == ["sgd", "adamw"]
    assert c.loc["sgd"].to_dict() == {
        "runs": 3, "completed": 2, "diverged": 1, "valid": 1, "train_acc_min": 0.1, "train_acc_max": 0.999,
    }  # fmt: skip
    assert c.loc["adamw", ["runs", "completed", "diverged", "valid"]].tolist() == [2, 1, 0, 1]
    with pytest.raises(ValueError, match="lack column"):
        run_counts(finals.drop(columns="valid"))
