"""nc_core.analysis.horizons on small hand-made records whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nc_core import paper_values
from nc_core.analysis import (
    decay_time_scale,
    decoupled_ratios,
    gap_verdicts,
    lr_per_step,
    optimizer_steps,
    paper_ratios,
    planned_lr_per_step,
    predicted_row_sum,
)


def test_optimizer_steps_from_data_size_and_batch():
    # 250 per class x 10 classes at batch 32: ceil(2500/32) = 79 steps per epoch (the last batch is kept)
    run = {"dataset": "fashionmnist", "subset_per_class": 250, "batch_size": 32, "epochs": 60}
    assert optimizer_steps(run, 1) == 79 and optimizer_steps(run) == 4740
    # the paper: 60,000 images at batch 128 -> 469 steps per epoch, 93,800 in 200 epochs
    paper = {"dataset": "mnist", "subset_per_class": None, "batch_size": 128, "epochs": 200}
    assert optimizer_steps(paper) == 93_800
    assert (
        optimizer_steps({**paper, "subset_per_class": float("nan")}) == 93_800
    )  # a missing value in a frame


def _history(lrs, nc0=None):
    rows = [{"epoch": e, "lr": lr, "NC0_code": np.nan} for e, lr in enumerate([lrs[0], *lrs])]
    df = pd.DataFrame(rows)
    if nc0 is not None:
        for e, v in nc0.items():
            df.loc[df["epoch"] == e, "NC0_code"] = v
    return df


# 1 sample per class x 10 classes at batch 5: two optimizer steps per epoch
RUN = {"run_id": "r", "dataset": "mnist", "subset_per_class": 1, "batch_size": 5, "epochs": 3,
       "optimizer": "sgdw", "momentum": 0.9, "weight_decay": 0.5}  # fmt: skip


def test_lr_per_step_repeats_each_epochs_lr():
    np.testing.assert_array_equal(
        lr_per_step(RUN, _history([0.1, 0.1, 0.01])), [0.1, 0.1, 0.1, 0.1, 0.01, 0.01]
    )
    with pytest.raises(ValueError, match="no LR for epoch"):
        lr_per_step(RUN, _history([0.1, 0.1]))


def test_planned_lr_per_step_is_the_papers_step_schedule_by_hand():
    # 6 epochs x 2 steps, LR 0.1: x0.1 after epochs 6 // 3 = 2 and 2 * 6 // 3 = 4
    run = {**RUN, "epochs": 6, "lr": 0.1}
    want = [0.1] * 4 + [0.01] * 4 + [0.001] * 4
    np.testing.assert_allclose(planned_lr_per_step(run), want, rtol=1e-12)
    np.testing.assert_allclose(planned_lr_per_step({**run, "lr_schedule": "constant"}), [0.1] * 12)
    # the cpu profile: 60 epochs x 79 steps at LR 0.001 and decoupled decay 5e-4: each third of the
    # 4,740 steps shrinks a weight by (1 - eta lambda)^1580, eta = 1e-3, 1e-4, 1e-5
    cpu = {"dataset": "fashionmnist", "subset_per_class": 250, "batch_size": 32, "epochs": 60, "lr": 1e-3}
    etas = planned_lr_per_step(cpu)
    by_hand = np.prod([(1 - eta * 5e-4) ** 1580 for eta in (1e-3, 1e-4, 1e-5)])
    assert len(etas) == 4740 and np.prod(1 - etas * 5e-4) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.99912, abs=1e-5)  # the weight-decay page's 0.9991


def test_predicted_row_sum_sgdw_is_the_product_of_one_minus_eta_lambda():
    # by hand: 1 - 0.1 * 0.5 = 0.95 per step in epochs 1-2, 1 - 0.01 * 0.5 = 0.995 in epoch 3 (2 steps each)
    c1, c3 = 0.95**2, 0.95**4 * 0.995**2
    hist = _history([0.1, 0.1, 0.01], {0: 2.0, 1: 2.0 * c1, 3: 2.0 * c3 * 1.1})  # epoch 3 off by 10%
    out = predicted_row_sum(RUN, hist)
    assert list(out["epoch"]) == [0, 1, 3] and list(out["step"]) == [0, 2, 6]
    np.testing.assert_allclose(out["predicted"], [2.0, 2.0 * c1, 2.0 * c3], rtol=1e-14)
    np.testing.assert_allclose(out["ratio"], [1.0, 1.0, 1.1], rtol=1e-12)


def test_predicted_row_sum_sgd_momentum_zero_matches_the_decoupled_form():
    # with beta = 0 coupled and decoupled decay give the same row-sum path
    hist = _history([0.1, 0.1, 0.01], {0: 1.0})
    coupled = predicted_row_sum({**RUN, "optimizer": "sgd", "momentum": 0.0}, hist)
    assert coupled["predicted"].iloc[0] == 1.0
    run = {**RUN, "epochs": 3}
    hist = _history([0.1, 0.1, 0.01], {0: 1.0, 3: 1.0})
    a = predicted_row_sum({**run, "optimizer": "sgd", "momentum": 0.0}, hist)["predicted"]
    b = predicted_row_sum({**run, "optimizer": "sgdw", "momentum": 0.0}, hist)["predicted"]
    np.testing.assert_allclose(a, b, rtol=1e-14)
    assert b.iloc[-1] == pytest.approx(0.95**4 * 0.995**2, rel=1e-14)
    with pytest.raises(ValueError, match="sgd and sgdw only"):
        predicted_row_sum({**RUN, "optimizer": "adamw"}, hist)


def test_decay_time_scale_is_where_the_summed_decay_reaches_one():
    etas = np.array([0.25, 0.25] + [0.125] * 10)  # lambda = 1: 0.25, 0.5, 0.625, 0.75, 0.875, 1.0 -> step 6
    assert decay_time_scale(etas, 1.0) == 6
    assert decay_time_scale(etas, 4.0) == 1  # 0.25 * 4 = 1 at the first step
    assert decay_time_scale(etas, 0.1) is None and decay_time_scale(etas, 0.0) is None


def _finals(rows):
    return pd.DataFrame(rows, columns=["epochs", "optimizer", "status", "NC0_code"])


def test_decoupled_ratios_per_horizon():
    finals = _finals([
        (15, "adam", "completed", 0.5), (15, "adamw", "completed", 1.0),
        (60, "adam", "completed", 0.1), (60, "adamw", "completed", 2.0),
        (60, "sgd", "completed", 1e-4), (60, "sgdw", "diverged", 1.0),
    ])  # fmt: skip
    r = decoupled_ratios(finals)
    assert r.loc[15, "AdamW / Adam"] == pytest.approx(2.0) and r.loc[60, "AdamW / Adam"] == pytest.approx(
        20.0
    )
    assert np.isnan(r.loc[60, "SGDW / SGD"])  # the diverged SGDW run does not count
    assert r["SignumW / Signum"].isna().all()
    with pytest.raises(ValueError, match="more than one completed run"):
        decoupled_ratios(pd.concat([finals, finals.iloc[:1]]))


def test_gap_verdicts():
    ratios = pd.DataFrame({"AdamW / Adam": [2.0, 20.0], "SGDW / SGD": [30.0, 5.0]}, index=[15, 60])
    v = gap_verdicts(ratios, threshold=10).set_index("pair")
    assert bool(v.loc["AdamW / Adam", "above_threshold"]) and bool(v.loc["AdamW / Adam", "not_closing"])
    assert not v.loc["SGDW / SGD", "above_threshold"] and not v.loc["SGDW / SGD", "not_closing"]
    assert v.loc["SGDW / SGD", "ratio_shortest"] == 30.0 and v.loc["SGDW / SGD", "longest"] == 60


def test_paper_ratios_from_table1():
    r = paper_ratios(paper_values.table1())
    # Table 1 (code convention): AdamW 5.33 / Adam 0.34, SignumW 3185.69 / Signum 0.78,
    # SGDW 0.55 / SGD 2.14e-4
    assert r["AdamW / Adam"] == pytest.approx(5.33 / 0.34)
    assert r["SignumW / Signum"] == pytest.approx(3185.69 / 0.78)
    assert r["SGDW / SGD"] == pytest.approx(0.55 / 2.14e-4)
