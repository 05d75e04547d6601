"""The training-dynamics chapter's building blocks: the fig5_dynamics grid, the paper's Table 1 as data,
the book's plot style and provenance captions."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core import paper_values, plots
from nc_core.sweep import get_grid, plan

# Table 4 of the paper, typed by hand: optimizer -> (lr, momentum / beta1, weight decay)
TABLE4 = {
    "sgd": (0.01, 0.9, 0.05),
    "sgdw": (0.0679, 0.5, 0.05),
    "adam": (0.005, 0.98, 0.05),
    "adamw": (0.005, 0.95, 5.0),
    "signum": (0.001, 0.9, 0.05),
    "signumw": (0.001, 0.98, 10.0),
}


@pytest.mark.parametrize("profile", ["paper", "cpu", "smoke"])
def test_fig5_grid_has_the_table4_runs(profile):
    runs = plan("fig5_dynamics", profile)
    assert len(runs) == 6
    got = {r.config.optimizer: (r.config.lr, r.config.momentum, r.config.weight_decay) for r in runs}
    assert set(got) == set(TABLE4)
    for opt, (lr, mom, wd) in TABLE4.items():
        assert got[opt] == pytest.approx((lr, mom, wd), rel=1e-12), opt
    for r in runs:
        assert (r.config.model, r.config.dataset) == ("resnet9", "fashionmnist")
        assert r.config.lr_schedule == "step"
        assert r.config.batch_size == (32 if profile == "cpu" else 128)
    assert len({r.run_id for r in runs}) == 6


def test_fig5_grid_profiles_scale_only():
    grid = get_grid("fig5_dynamics")
    assert grid.version == 1 and grid.runnable
    paper = {r.config.optimizer: r.config for r in plan(grid, "paper")}
    assert all(c.epochs == 200 and c.width == 1.0 and c.subset_per_class is None for c in paper.values())
    cpu = plan(grid, "cpu")
    assert all(r.config.width == 0.0625 and r.config.metric_every == 3 and r.config.epochs == 60 for r in cpu)
    smoke = plan(grid, "smoke")
    assert all(r.config.width == 0.0625 and r.config.subset_per_class == 20 for r in smoke)
    assert all(r.config.epochs <= 3 for r in smoke)
    assert any("Table 4" in c for c in grid.choices)


def test_training_length_grid_runs_the_table4_configs_at_four_horizons():
    runs = plan("training_length", "cpu")
    assert len(runs) == 6 * 4
    for epochs in (15, 60, 240, 960):
        got = {
            r.config.optimizer: (r.config.lr, r.config.momentum, r.config.weight_decay)
            for r in runs
            if r.config.epochs == epochs
        }
        assert set(got) == set(TABLE4), epochs
        assert all(got[o] == pytest.approx(TABLE4[o], rel=1e-12) for o in TABLE4), epochs
    # 2,500 training images at batch 32 -> 79 steps per epoch: 1,185 to 75,840 optimizer steps
    c = runs[0].config
    assert (c.width, c.subset_per_class, c.batch_size) == (0.0625, 250, 32)
    assert sorted({r.config.epochs * -(-10 * c.subset_per_class // c.batch_size) for r in runs}) == [
        1185, 4740, 18960, 75840
    ]  # fmt: skip


def test_table1_values():
    t = paper_values.table1()
    assert list(t.index) == ["sgd", "sgdw", "adam", "adamw", "signum", "signumw"]
    assert t.loc["sgd", "NC0"] == pytest.approx(2.14e-04)
    assert t.loc["sgd", "NC0 change"] == "< -99.5%"
    assert t.loc["adamw", "NC0"] == pytest.approx(5.33)
    assert t.loc["adamw", "NC0 change"] == ">> 100%"
    assert t.loc["signumw", "NC0"] == pytest.approx(3185.69)
    assert t.loc["signumw", "NC2 change"] == "+44.2%"
    assert t.loc["adam", "NC3"] == pytest.approx(0.29)
    assert t.loc["signum", "NC1 change"] == "-98.1%"
    assert t.loc["sgdw", "NC3"] == pytest.approx(0.80)
    plain = paper_values.table1(with_change=False)
    assert list(plain.columns) == ["NC0", "NC1", "NC2", "NC3"]
    assert paper_values.TABLE1_CONVENTION["NC0"] == "NC0_code"


def test_provenance_caption_counts():
    df = pd.DataFrame(
        {
            "profile": ["cpu"] * 4,
            "status": ["completed", "completed", "diverged", "failed"],
            "train_acc": [1.0, 0.5, math.nan, math.nan],
            "epochs": [24] * 4,
            "subset_per_class": [250] * 4,
            "width": [0.125] * 4,
            "device_name": ["CPU x86_64 (1 threads)"] * 4,
            "git_commit": ["abc123", "abc123", "def456", "abc123"],
            "recorded_at": ["2026-11-23T08:00:00+00:00", "2026-11-23T09:00:00+00:00", None, None],
            "train_seconds": [60.0, 60.0, 30.0, 0.0],
            "metric_seconds": [30.0, 0.0, 0.0, 0.0],
        }
    )
    cap = plots.provenance_caption(df)
    assert "profile cpu" in cap
    assert "4 runs (2 completed, 1 valid" in cap
    assert "1 diverged, 1 other" in cap
    assert "epochs 24" in cap and "samples/class 250" in cap and "width 0.125" in cap
    assert "abc123, def456" in cap
    assert "2026-11-23 08:00 to 2026-11-23 09:00" in cap
    assert "compute 3.0 min" in cap
    assert plots.provenance_caption(pd.DataFrame()) == "*Provenance:* no runs."


def test_every_optimizer_has_its_own_colour_and_pairs_differ_in_line_and_marker():
    # issue 25: Adam and AdamW drawn in the same red looked alike wherever the line style meant something else
    six = ("sgd", "sgdw", "adam", "adamw", "signum", "signumw")
    assert len({plots.optimizer_color(o) for o in six}) == 6
    for coupled, decoupled in [("sgd", "sgdw"), ("adam", "adamw"), ("signum", "signumw")]:
        assert plots.pair_color(coupled) == plots.pair_color(decoupled)
        assert plots.optimizer_linestyle(coupled) == "-" and plots.optimizer_marker(coupled) == "o"
        assert plots.optimizer_linestyle(decoupled) == "--" and plots.optimizer_marker(decoupled) == "s"
    style = plots.optimizer_style("adamw")
    assert style == {"color": "#ff7f0e", "linestyle": "--", "label": "AdamW"}


def test_save_figure(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots.set_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], **plots.optimizer_style("sgd"))
    path = plots.save_figure(fig, "demo", tmp_path / "figs")
    plt.close(fig)
    assert path == tmp_path / "figs" / "demo.png" and path.stat().st_size > 0
