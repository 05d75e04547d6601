"""nc_core.analysis.paper_tables: Tables 1 and 2 in the paper's format, on hand-made runs."""

from __future__ import annotations

import pandas as pd
import pytest

from nc_core import paper_values
from nc_core.analysis import best_run_cells, best_runs, paper_cells, side_by_side, value_change_cells

COLS = {"NC0": "NC0_code", "NC3": "NC3_code"}


def _valid() -> pd.DataFrame:
    # adam's smallest NC3 is run a2 (0.2); sgd's is s1 (0.1); adamw has one run
    rows = [
        ("a1", "adam", 0.5, 0.001, 0.9, 5e-4, 0.991, 4.0, 8.0, 0.5, 1.0),
        ("a2", "adam", 0.2, 0.005, 0.98, 0.05, 0.999, 0.02, 10.0, 0.2, 1.0),
        ("w1", "adamw", 0.9, 0.005, 0.95, 5.0, 0.995, 3000.0, 2.0, 0.9, 1.0),
        ("s1", "sgd", 0.1, 0.01, 0.9, 0.05, 1.0, 0.0001, 4.0, 0.1, 0.4),
        ("s2", "sgd", 0.3, 0.01, 0.0, 0.05, 0.993, 1.0, 4.0, 0.3, 0.4),
    ]
    cols = ["run_id", "optimizer", "x", "lr", "momentum", "weight_decay", "train_acc",
            "NC0_code", "init_NC0_code", "NC3_code", "init_NC3_code"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols).drop(columns="x")


def test_best_runs_picks_the_smallest_nc3_in_the_paper_order():
    best = best_runs(_valid())
    assert list(best.index) == ["sgd", "adam", "adamw"] and best.index.name == "optimizer"
    assert best["run_id"].tolist() == ["s1", "a2", "w1"]
    assert best_runs(_valid(), "NC0_code").loc["sgd", "run_id"] == "s1"
    assert best_runs(_valid(), "train_acc").loc["adam", "run_id"] == "a1"
    with pytest.raises(ValueError, match="lack column"):
        best_runs(_valid(), "NC9")


def test_value_change_cells_in_the_paper_format():
    cells = value_change_cells(best_runs(_valid()), COLS)
    # sgd: 1e-4 < 0.01 -> scientific; (1e-4 - 4) / 4 = -99.9975% -> "< -99.9%"; NC3 0.1 from 0.4: -75.0%
    assert cells.loc["sgd"].tolist() == ["1.00e-04 (< -99.9%)", "0.10 (-75.0%)"]
    # adam: 0.02 from 10 -> -99.8% (not below -99.95%: one decimal); NC3 0.2 from 1: -80.0%
    assert cells.loc["adam"].tolist() == ["0.02 (-99.8%)", "0.20 (-80.0%)"]
    # adamw: 3000 from 2 -> +149,900% (> +10,000%): the factor 1.5e+03x; NC3 0.9 from 1: -10.0%
    assert cells.loc["adamw"].tolist() == ["3.00e+03 (1.5e+03x)", "0.90 (-10.0%)"]
    as_mapping = value_change_cells({"sgd": {"NC0_code": 2.0, "init_NC0_code": 0.5}}, {"NC0": "NC0_code"})
    assert as_mapping.loc["sgd", "NC0"] == "2.00 (+300%)"  # above +100%: no decimal


def test_best_run_cells_add_hyperparameters_and_accuracy():
    cells = best_run_cells(best_runs(_valid()), COLS)
    assert list(cells.columns) == ["NC0", "NC3", "lr, momentum, wd", "train acc"]
    assert cells.loc["adam", "lr, momentum, wd"] == "0.005, 0.98, 0.05"
    assert cells.loc["sgd", "train acc"] == "1.000" and cells.loc["adamw", "train acc"] == "0.995"


def test_paper_cells_print_the_change_as_printed():
    t2 = paper_cells(paper_values.TABLE2, ["NC0", "NC3"])
    assert list(t2.index) == ["sgd", "sgdw", "adam", "adamw"]
    assert t2.loc["sgd", "NC0"] == "1.53e-05 (< -99.5%)" and t2.loc["adamw", "NC0"] == "8.09 (>> 100%)"
    t1 = paper_cells(paper_values.TABLE1, ["NC0"], optimizers=["signumw", "adam"])
    assert t1["NC0"].tolist() == ["3.19e+03 (>> 100%)", "0.34 (-80.6%)"]


def test_side_by_side_blocks_per_optimizer():
    ours = pd.DataFrame({"NC0": ["a", "b"], "lr": ["1", "2"]}, index=["adam", "sgd"])
    theirs = pd.DataFrame({"NC0": ["p", "q"]}, index=["sgd", "sgdw"])
    t = side_by_side({"ours": ours, "paper": theirs}, label=str.upper)
    assert t.index.names == ["optimizer", "view"]
    # the paper's order (sgd, sgdw, adam); a view lacking the optimizer has no row, a column it lacks is NaN
    assert t.index.tolist() == [("SGD", "ours"), ("SGD", "paper"), ("SGDW", "paper"), ("ADAM", "ours")]
    assert list(t.columns) == ["NC0", "lr"]
    assert t.loc[("SGD", "paper"), "NC0"] == "p" and pd.isna(t.loc[("SGD", "paper"), "lr"])
    assert t.loc[("SGDW", "paper"), "NC0"] == "q" and t.loc[("ADAM", "ours"), "lr"] == "1"
    only = side_by_side({"ours": ours, "paper": theirs}, order=["adam"], columns=["lr"])
    assert only.index.tolist() == [("adam", "ours")] and list(only.columns) == ["lr"]
