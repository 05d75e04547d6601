"""Sweeps: the paper's grids and their counts, profiles, validation, the results store (typed, atomic,
corruption detected), the local and Ray backends, and resuming a killed sweep."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from fixtures_data import flip_data_bytes

from nc_core.__main__ import main
from nc_core.sweep import (
    CorruptRecordWarning,
    Grid,
    ResultStore,
    collect,
    get_grid,
    grid_names,
    load_histories,
    load_results,
    plan,
    run_sweep,
    sweep_status,
)
from nc_core.sweep.definitions import PAPER_GRIDS

ROOT = Path(__file__).resolve().parents[1]

MOMENTA = [0.0, 0.5, 0.7, 0.9, 0.95, 0.98]
WD_SMALL = [0.0, 5e-5, 5e-4, 5e-3, 0.05, 0.5]
WD_LARGE = [0.0, 5e-4, 0.05, 0.5, 5.0, 10.0]


def tiny_grid(name: str = "tiny", **fixed) -> dict:
    """A synthetic grid (Gaussian classes + MLP, and the UFM): seconds on a CPU, no dataset files."""
    return {
        "name": name,
        "version": 1,
        "fixed": {
            "model": "mlp",
            "dataset": "gaussian",
            "epochs": 6,
            "batch_size": 32,
            "subset_per_class": 30,
            "metric_every": 3,
            "metric_log_points": 0,
            "model_kwargs": {"hidden": [32]},
            "data_kwargs": {"num_classes": 4, "dim": 8},
            "lr": 0.05,
            **fixed,
        },  # fmt: skip
        "blocks": [
            {"name": "mlp", "axes": {"optimizer": ["sgd", "adamw"], "weight_decay": [0.0, 5e-3]}},
            {
                "name": "ufm",
                "fixed": {
                    "model": "ufm",
                    "dataset": "ufm",
                    "subset_per_class": None,
                    "model_kwargs": {"feature_dim": 16},
                    "data_kwargs": {"num_samples": 40, "num_classes": 4},
                    "optimizer": "adam",
                },  # fmt: skip
                "axes": {"weight_decay": [0.0, 0.05]},
            },
        ],
        "profiles": {
            "smoke": {
                "overrides": {"width": 1.0, "subset_per_class": None},
                "select": {"weight_decay": [5e-3, 0.05]},
            },
        },  # fmt: skip
    }


# -- grids -----------------------------------------------------------------------------------------------


def test_main_grid_has_the_papers_3888_runs():
    runs = plan("main", "paper")
    # per (architecture, dataset, optimizer): 3 LRs x 6 momenta x 6 weight decays = 108 runs
    assert 3 * 6 * 6 == 108
    assert len(runs) == 2 * 3 * 6 * 108 == 3888
    assert len({r.run_id for r in runs}) == 3888
    counts = pd.Series([(r.config.model, r.config.dataset, r.config.optimizer) for r in runs]).value_counts()
    assert len(counts) == 2 * 3 * 6 and (counts == 108).all()
    cfgs = [r.config for r in runs]
    for opt in ("sgd", "sgdw", "adam", "adamw", "signum", "signumw"):
        mine = [c for c in cfgs if c.optimizer == opt]
        wd = sorted({c.weight_decay for c in mine})
        lr = sorted({c.lr for c in mine})
        assert wd == (WD_LARGE if opt in ("adamw", "signumw") else WD_SMALL), opt
        assert lr == ([0.001, 0.01, 0.0679] if opt in ("sgd", "sgdw") else [0.001, 0.005, 0.01]), opt
        assert sorted({c.momentum for c in mine}) == MOMENTA
    assert {(c.epochs, c.batch_size, c.beta2, c.lr_schedule, c.width, c.subset_per_class) for c in cfgs} == {
        (200, 128, 0.999, "step", 1.0, None)
    }


def test_other_grids_have_the_papers_counts_and_values():
    fig4 = [r.config for r in plan("fig4_heatmap")]
    assert len(fig4) == 6 * 6
    assert {(c.model, c.dataset, c.optimizer) for c in fig4} == {("resnet9", "fashionmnist", "sgd")}
    assert (
        sorted({c.momentum for c in fig4}) == MOMENTA and sorted({c.weight_decay for c in fig4}) == WD_SMALL
    )
    # the heatmap points are points of the main grid (same run ids)
    assert {c.run_id for c in fig4} <= {r.run_id for r in plan("main")}

    fig7 = [r.config for r in plan("fig7_adam_adamw")]
    assert sorted({c.coupled_weight_decay for c in fig7}) == pytest.approx([0, 1e-4, 2e-4, 3e-4, 4e-4, 5e-4])
    assert len(fig7) == 6 * 3 and {c.seed for c in fig7} == {0, 1, 2}
    assert {(c.optimizer, c.weight_decay, c.momentum, c.model, c.dataset) for c in fig7} == {
        ("adam_adamw", 5e-4, 0.9, "resnet9", "mnist")
    }

    # Figures 13 and 14 compare the paper's 200 epochs with 2000 at every point
    fig13 = [r.config for r in plan("fig13_epochs_adam")]
    assert len(fig13) == 2 * (6 + 6)
    assert {(c.lr, c.momentum) for c in fig13} == {(0.0005, 0.9)} and {c.epochs for c in fig13} == {200, 2000}

    fig14 = [r.config for r in plan("fig14_epochs_sgd")]
    assert [(c.momentum, c.weight_decay) for c in fig14 if c.epochs == 2000] == [
        (0, 0), (0.97, 5e-5), (0, 5e-4), (0.9, 5e-4), (0.9, 0), (0.95, 0.0025)
    ]  # fmt: skip
    assert {(c.optimizer, c.lr) for c in fig14} == {("sgd", 0.001)} and {c.epochs for c in fig14} == {
        200,
        2000,
    }

    ufm_runs = plan("ufm")
    ufm = [r.config for r in ufm_runs if r.block == "ufm"]
    assert len(ufm) == 3 * 4 * 7
    # the alternatives: one changed choice each (steps, batch at equal steps, initialisation) x 3 optimizers
    # at one LR x 4 weight decays
    alt = [r.config for r in ufm_runs if r.block == "alternatives"]
    assert len(alt) == 3 * 4 * 3 and len(ufm_runs) == len(ufm) + len(alt)
    assert {(c.epochs, c.batch_size, c.model_kwargs.get("init_std")) for c in alt} == {
        (400, 1000, None), (50, 250, None), (200, 1000, 1.0)
    }  # fmt: skip
    assert {(c.epochs * 10_000 // c.batch_size) for c in alt} == {4000, 2000}
    assert sorted({c.lr for c in ufm}) == [0.1, 0.3, 0.5, 1.0] and {c.momentum for c in ufm} == {0.9}
    assert {c.weight_decay for c in ufm} >= {0.0, 0.05} and max(c.weight_decay for c in ufm) == 0.05
    assert ufm[0].model_kwargs == {"feature_dim": 512} and ufm[0].data_kwargs["num_samples"] == 10_000

    vit = [r.config for r in plan("vit")]
    assert len(vit) == 2 * 4 * 7 + 4 * 7  # Adam, SGD: 4 momenta x 7 WD; AdamW: 4 x 7 (its own WD list)
    assert sorted({c.weight_decay for c in vit if c.optimizer == "adamw"}) == [0, 1e-4, 0.05, 0.5, 1, 2, 4]
    assert sorted({c.weight_decay for c in vit if c.optimizer == "adam"}) == [
        0,
        1e-5,
        1e-4,
        5e-4,
        1e-3,
        0.05,
        0.5,
    ]
    assert {(c.batch_size, c.lr_schedule, c.lr, c.decay_norm_and_bias, c.dataset) for c in vit} == {
        (512, "cosine", 1e-3, False, "cifar10")
    }

    r50 = get_grid("resnet50_imagenet")
    assert len(r50.expand()) == 2 * 3 * 4 and r50.runnable


def test_profiles_record_overrides_and_keep_the_grid_shape():
    for name in grid_names():
        g = get_grid(name)
        paper_runs = g.expand("paper")
        paper_ids = {r.run_id for r in paper_runs}
        assert all(r.overrides == {} for r in paper_runs)
        for profile in ("gpu", "cpu", "smoke"):
            runs = g.expand(profile)
            assert 0 < len(runs) <= len(paper_ids)
            for r in runs:
                # a profile scales the runs or keeps a subset of them (the UFM runs at its paper size)
                assert r.profile == profile and (r.overrides or r.select), (name, profile)
                # undoing the recorded overrides gives a paper grid point: same axes, a subset of values
                paper_values = {k: getattr(paper_runs[0].config, k) for k in r.overrides}
                undone = r.config.replace(**{k: paper_values[k] for k in r.overrides})
                assert undone.run_id in paper_ids, (name, profile, r.overrides)
                assert json.loads(r.overrides_json()) == json.loads(json.dumps(r.overrides))
    cpu = plan("main", "cpu")[0]
    assert {k: cpu.overrides[k] for k in ("width", "subset_per_class", "epochs", "batch_size")} == {
        "width": 0.0625, "subset_per_class": 250, "epochs": 60, "batch_size": 32,
    }  # fmt: skip
    # per (model, dataset): SGD/SGDW and Adam/Signum 2 x 1 LR x 2 momenta x 4 coupled WDs (0, 5e-4, 0.05,
    # 0.5); AdamW/SignumW 2 x 1 x 2 x 5 (0, 5e-4, 0.05, 0.5, 5) -> 16 + 16 + 20 = 52; 2 models x 3 datasets
    assert len(plan("main", "cpu")) == 52 * 6
    gpu = plan("main", "gpu")  # the cpu grid points at full width and data
    assert {r.run_id for r in gpu} != {r.run_id for r in plan("main", "cpu")} and len(gpu) == 52 * 6
    assert {(r.config.width, r.config.subset_per_class, r.config.epochs) for r in gpu} == {(1.0, None, 30)}
    smoke = plan("main", "smoke")
    assert {(r.config.width, r.config.subset_per_class, r.config.epochs) for r in smoke} == {(0.0625, 20, 2)}
    assert len({r.config.optimizer for r in smoke}) == 6  # every optimizer is touched


def test_axis_values_rescale_an_axis_position_by_position():
    spec = {
        "name": "horizons",
        "fixed": {"dataset": "fashionmnist", "model": "resnet9", "optimizer": "sgd"},
        "blocks": [{"name": "b", "axes": {"epochs": [200, 2000], "weight_decay": [0.0, 0.05]}}],
        "profiles": {"cpu": {"axis_values": {"epochs": [60, 240]}, "select": {"epochs": [240]}}},
    }
    g = Grid.from_dict(spec)
    paper = {(r.config.epochs, r.config.weight_decay) for r in g.expand("paper")}
    assert paper == {(200, 0.0), (200, 0.05), (2000, 0.0), (2000, 0.05)}
    cpu = g.expand("cpu")  # select acts on the profile's values: 240 stands for the paper's 2000
    assert [(r.config.epochs, r.config.weight_decay) for r in cpu] == [(240, 0.0), (240, 0.05)]
    assert all(r.overrides["epochs"] == 240 for r in cpu)
    # the default profiles' epochs override (cpu: 30, smoke: 2) yields to the grid's epochs axis
    # gpu runs cpu's grid points at the paper's values: 240 epochs at cpu stand for 2000
    assert {r.config.epochs for r in g.expand("gpu")} == {2000}
    assert {r.config.epochs for r in g.expand("smoke")} == {200, 2000}
    bad = {**spec, "profiles": {"cpu": {"axis_values": {"epochs": [60]}}}}
    with pytest.raises(ValueError, match="one value per value of the axis"):
        Grid.from_dict(bad)


def test_where_keeps_one_slice_with_the_whole_grids_run_ids():
    g = get_grid("main")
    whole = {r.run_id: r for r in g.expand("cpu")}
    vgg_mnist = g.expand("cpu", {"model": ["vgg9"], "dataset": ["mnist"]})
    assert len(vgg_mnist) == 52
    assert {(r.config.model, r.config.dataset) for r in vgg_mnist} == {("vgg9", "mnist")}
    assert all(r.run_id in whole for r in vgg_mnist)
    two = g.expand("cpu", {"dataset": ["mnist", "fashionmnist"], "weight_decay": [5.0]})
    assert len(two) == 2 * 2 * 2 * 2  # models x datasets x (AdamW, SignumW) x momenta
    with pytest.raises(ValueError, match="unknown RunConfig field"):
        g.expand("cpu", {"modle": ["vgg9"]})
    with pytest.raises(ValueError, match="has no run with"):
        g.expand("cpu", {"optimizer": ["sgd"], "weight_decay": [5.0]})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g["blocks"][0]["axes"].update(optimizer=["sgd", "lamb"]), "unknown optimizer 'lamb'"),
        (lambda g: g["fixed"].update(lr=-0.1), "lr must be > 0"),
        (lambda g: g["blocks"][0]["axes"].update(weight_decay=[]), "empty"),
        (lambda g: g.update(blocks=[]), "empty"),
        (lambda g: g["fixed"].update(dataset="places365"), "unknown dataset"),
        (lambda g: g["fixed"].update(learning_rate=0.1), "unknown RunConfig fields"),
        (lambda g: g["profiles"].update(huge={}), "unknown profiles"),
        (lambda g: g["profiles"]["smoke"].update(overrides={"weight_decay": 0.1}), "shape"),
        (lambda g: g["blocks"][0]["axes"].update(momentum=[0.9, 1.5]), "momentum"),
        # issue 11, case 8: wrong types are named, never a traceback or a silent reading
        (lambda g: g.update(blocks="abc"), "blocks must be a list of blocks, got 'abc'"),
        (lambda g: g.update(blocks=[1, 2]), r"blocks\[0\] must be a mapping"),
        (lambda g: g["blocks"][0].update(axes=[1, 2]), "block 'mlp' axes must be a mapping"),
        (lambda g: g.update(fixed=[1, 2]), "fixed must be a mapping"),
        (lambda g: g["fixed"].update(epochs=1.5), "fixed epochs: expected int, got 1.5"),
        (lambda g: g["blocks"][0]["axes"].update(lr=["abc"]), "axis lr: expected float, got 'abc'"),
        (lambda g: g["blocks"][0]["axes"].update(lr=[None]), "axis lr: null is not allowed"),
        (lambda g: g["blocks"][0]["axes"].update(epochs=["2"]), "axis epochs: expected int, got '2'"),
        (lambda g: g["fixed"].update(lr="1e-2"), "YAML reads numbers like 1e-2 as strings"),
        (lambda g: g["blocks"][0]["axes"].update(lr="0.01"), "axis 'lr' must be a list of values"),
        (lambda g: g.update(profiles="x"), "profiles must be a mapping, got 'x'"),
        (lambda g: g["blocks"][0]["axes"].update(lr=[True]), "axis lr: expected float, got True"),
    ],
)
def test_invalid_grids_are_rejected(change, message):
    spec = json.loads(json.dumps(tiny_grid()))
    change(spec)
    with pytest.raises(ValueError, match=message):
        Grid.from_dict(spec)


def test_invalid_command_lines_exit_2_before_running(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    spec = tiny_grid()
    spec["blocks"][0]["axes"]["optimizer"] = ["adamx"]
    bad.write_text(json.dumps(spec))
    root = tmp_path / "results"
    cases = [
        (["sweep", "run", str(bad), "--root", str(root)], "unknown optimizer"),
        (["sweep", "run", "main", "--profile", "huge", "--root", str(root)], "unknown profile"),
        (["sweep", "run", "no_such_grid", "--root", str(root)], "unknown grid"),
        (["sweep", "run", "resnet50_imagenet", "--profile", "smoke", "--root", str(root)], "ImageNet"),
        (["sweep", "run", "vit", "--profile", "cpu", "--root", str(root), "--data-root", str(tmp_path)],
         "not available"),
        (["sweep", "plan", "main", "--profile", "nope"], "unknown profile"),
    ]  # fmt: skip
    for argv, message in cases:
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv
    assert not root.exists()  # nothing ran, nothing was written
    assert main(["sweep", "list"]) == 0
    out = capsys.readouterr().out
    assert "3888" in out and "resnet50_imagenet" in out
    assert main(["sweep", "plan", "main", "--profile", "paper"]) == 0
    assert "3,888 runs" in capsys.readouterr().out


# -- store and backends ------------------------------------------------------------------------------------


def _finals(root: Path, grid: str = "tiny") -> pd.DataFrame:
    return load_results(grid, root=root, on_corrupt="raise").set_index("run_id").sort_index()


def test_local_and_ray_backends_write_the_same_typed_records(tmp_path):
    grid = Grid.from_dict(tiny_grid())
    expected = {r.run_id for r in grid.expand("smoke")}
    a = run_sweep(grid, "smoke", root=tmp_path / "local", threads=1, progress=False)
    assert a["statuses"] == {"completed": len(expected)}
    b = run_sweep(grid, "smoke", root=tmp_path / "ray", backend="ray", ray_num_cpus=2, progress=False)
    assert b["statuses"] == {"completed": len(expected)}
    fa, fb = _finals(tmp_path / "local"), _finals(tmp_path / "ray")
    assert set(fa.index) == set(fb.index) == expected
    for col in ("train_acc", "train_loss", "NC0", "NC1", "NC2", "NC3", "init_NC1", "test_acc"):
        pd.testing.assert_series_equal(fa[col], fb[col], rtol=1e-5, atol=1e-7, check_names=False)
    ha = load_histories("tiny", root=tmp_path / "local").dropna(subset=["NC1"])
    hb = load_histories("tiny", root=tmp_path / "ray").dropna(subset=["NC1"])
    pd.testing.assert_series_equal(
        ha["NC1"].reset_index(drop=True), hb["NC1"].reset_index(drop=True), rtol=1e-5
    )

    # typed records: numbers are floats, counts integers, status and ids strings
    for col in ("NC0", "NC1", "train_acc", "lr", "weight_decay", "momentum", "width", "train_seconds"):
        assert fa[col].dtype == "float64", col
    for col in ("status", "optimizer", "profile", "profile_overrides", "dataset_version", "git_commit"):
        assert pd.api.types.is_string_dtype(fa[col]), col
    assert str(fa["epochs"].dtype) == "Int64" and str(fa["epochs_completed"].dtype) == "Int64"
    assert (fa["profile"] == "smoke").all()
    overrides = fa["profile_overrides"].map(json.loads)
    assert all(o["epochs"] == 2 and "width" not in o for o in overrides)  # only what changed is recorded
    assert set(fa["dataset_version"]) == {"gaussian-synthetic-v1", "ufm-synthetic-v1"}
    assert not list((tmp_path / "local" / "tiny" / "checkpoints").glob("*.pt"))  # deleted once recorded
    assert all((tmp_path / "ray" / "tiny" / "logs" / f"{r}.log").exists() for r in expected)
    h = load_histories("tiny", root=tmp_path / "local")
    assert str(h["epoch"].dtype) == "Int64" and h["NC1"].dtype == "float64"
    assert h.groupby("run_id")["epoch"].max().eq(2).all()

    # a rerun skips everything; status counts them done
    again = run_sweep(grid, "smoke", root=tmp_path / "local", progress=False)
    assert again["ran"] == 0 and again["skipped"] == len(expected)
    assert sweep_status(grid, "smoke", root=tmp_path / "local")["counts"]["completed"] == len(expected)


def test_valid_filter_diverged_runs_and_retry(tmp_path):
    spec = tiny_grid()
    spec["blocks"], spec["profiles"] = [{"name": "b", "axes": {"lr": [0.05, 1e12]}}], {}
    spec["fixed"]["optimizer"] = "sgd"
    spec["fixed"]["epochs"] = 30
    spec["fixed"]["data_kwargs"] = {
        "num_classes": 4,
        "dim": 8,
        "sep": 8.0,
        "noise": 0.5,
    }  # easy: reaches 100%
    grid = Grid.from_dict(spec)
    out = run_sweep(grid, "paper", root=tmp_path, progress=False)
    assert out["statuses"] == {"completed": 1, "diverged": 1}
    df = load_results("tiny", root=tmp_path)
    assert sorted(df["status"]) == ["completed", "diverged"]
    valid = load_results("tiny", root=tmp_path, valid_only=True)
    assert len(valid) == 1 and valid["train_acc"].iloc[0] >= 0.99 and valid["lr"].iloc[0] == 0.05
    assert set(load_histories("tiny", root=tmp_path, valid_only=True)["run_id"]) == set(valid["run_id"])
    assert run_sweep(grid, "paper", root=tmp_path, progress=False)["ran"] == 0  # diverged is not retried
    retried = run_sweep(grid, "paper", root=tmp_path, retry_diverged=True, progress=False)
    assert retried["statuses"] == {"diverged": 1}


def test_corrupt_record_is_detected_reported_and_rerun(tmp_path, capsys):
    grid_file = tmp_path / "tiny.json"
    grid_file.write_text(json.dumps(tiny_grid()))
    root = tmp_path / "results"
    assert (
        main(["sweep", "run", str(grid_file), "--profile", "smoke", "--root", str(root), "--no-progress"])
        == 0
    )
    store = ResultStore("tiny", root)
    victim = store.run_ids()[0]
    path = store.final_path(victim)
    path.write_bytes(path.read_bytes()[:40])  # truncated
    with pytest.warns(CorruptRecordWarning, match=str(path)):
        df = load_results("tiny", root=root)
    assert victim not in set(df["run_id"]) and len(df) == len(store.run_ids()) - 1
    with pytest.raises(ValueError, match="corrupt"):
        load_results("tiny", root=root, on_corrupt="raise")
    st = sweep_status(grid_file, "smoke", root=root)
    assert st["counts"]["corrupt"] == 1 and str(path) in st["problems"][victim]
    capsys.readouterr()
    assert main(["sweep", "status", str(grid_file), "--profile", "smoke", "--root", str(root)]) == 0
    assert "1 corrupt" in capsys.readouterr().out
    assert (
        main(["sweep", "run", str(grid_file), "--profile", "smoke", "--root", str(root), "--no-progress"])
        == 0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_results("tiny", root=root)) == len(store.run_ids())


def test_failing_run_is_recorded_as_failed_and_retried(tmp_path, capsys):
    spec = tiny_grid()
    spec["profiles"] = {}
    spec["blocks"] = [
        {"name": "ok", "axes": {"weight_decay": [0.0]}},
        {"name": "bad", "fixed": {"model_kwargs": {"hidden": [0]}}, "axes": {"weight_decay": [0.0]}},
    ]
    grid_file = tmp_path / "tiny.json"
    grid_file.write_text(json.dumps(spec))
    root = tmp_path / "results"
    argv = ["sweep", "run", str(grid_file), "--profile", "paper", "--root", str(root), "--no-progress"]
    assert main(argv) == 1  # a failed run: exit status 1, the other run is recorded
    st = sweep_status(grid_file, "paper", root=root)
    assert st["counts"]["completed"] == 1 and st["counts"]["failed"] == 1
    bad = next(r for r, s in st["states"].items() if s == "failed")
    store = ResultStore("tiny", root)
    assert "Error" in json.loads(store.failed_path(bad).read_text())["error"]
    assert "FAILED" in store.log_path(bad).read_text()
    assert len(load_results("tiny", root=root)) == 1
    capsys.readouterr()
    assert main(argv) == 1  # failed runs are retried, finished ones are not
    assert store.log_path(bad).read_text().count(" start ") == 2
    assert "1 failed" in capsys.readouterr().out


def test_killed_sweep_resumes_without_duplicate_lost_or_corrupt_records(tmp_path):
    spec = tiny_grid(epochs=6, metric_every=3)  # a few epochs: the test is about the kill, not training
    spec["fixed"]["data_kwargs"] = {"num_classes": 4, "dim": 8}
    spec["fixed"]["subset_per_class"] = 150
    spec["blocks"], spec["profiles"] = (
        [{"name": "b", "axes": {"optimizer": ["sgd", "adam"], "weight_decay": [0.0, 1e-4, 1e-3, 1e-2, 0.1]}}],
        {},
    )
    grid_file = tmp_path / "tiny.json"
    grid_file.write_text(json.dumps(spec))
    root = tmp_path / "results"
    n = len(Grid.from_dict(spec).expand("paper"))
    store = ResultStore("tiny", root)
    cmd = [sys.executable, "-m", "nc_core", "sweep", "run", str(grid_file), "--profile", "paper",
           "--root", str(root), "--no-progress", "--threads", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(store.run_ids()) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done_before = store.run_ids()
    assert 2 <= len(done_before) < n, "the sweep was not killed mid-way"
    mtimes = {r: store.final_path(r).stat().st_mtime_ns for r in done_before}
    load_results("tiny", root=root, on_corrupt="raise")  # what was written is readable

    assert (
        main(["sweep", "run", str(grid_file), "--profile", "paper", "--root", str(root), "--no-progress"])
        == 0
    )
    df = load_results("tiny", root=root, on_corrupt="raise")
    assert len(df) == n and df["run_id"].is_unique and set(df["status"]) == {"completed"}
    assert set(df["run_id"]) == {r.run_id for r in Grid.from_dict(spec).expand("paper")}
    for run_id, mtime in mtimes.items():  # finished runs were not redone
        assert store.final_path(run_id).stat().st_mtime_ns == mtime
        assert store.log_path(run_id).read_text().count(" start ") == 1
    hist = load_histories("tiny", root=root, on_corrupt="raise")
    assert not hist.duplicated(["run_id", "epoch"]).any()
    assert hist.groupby("run_id")["epoch"].agg(["min", "max", "count"]).eq([0, 6, 7]).all().all()
    assert sweep_status(grid_file, "paper", root=root)["counts"]["completed"] == n
    assert not list(store.checkpoint_dir.glob("*.pt"))


def test_paper_grid_definitions_are_plain_data():
    # grid definitions round-trip through JSON (the grid-file format) unchanged
    for name, spec in PAPER_GRIDS.items():
        again = Grid.from_dict(json.loads(json.dumps(spec)))
        assert [r.run_id for r in again.expand("paper")] == [r.run_id for r in get_grid(name).expand("paper")]


def test_collect_trains_the_missing_runs_and_loads_exactly_the_planned_ones(tmp_path):
    grid = Grid.from_dict(tiny_grid())
    where = {"optimizer": ["sgd"]}
    first = collect(grid, "paper", root=tmp_path, workers=1, where=where)
    assert first.missing == 0 and len(first.finals) == 2 and set(first.finals["optimizer"]) == {"sgd"}
    assert "2 trained now" in first.message
    assert set(first.finals["horizon"]) == {"6 epochs"}
    # histories carry the run's optimizer and epochs for plotting
    assert set(first.histories["optimizer"]) == {"sgd"} and set(first.histories["epochs"]) == {6}
    # a second call reuses the store; runs of the grid outside the slice are not loaded
    collect(grid, "paper", root=tmp_path, workers=1, where={"optimizer": ["adamw"]})
    again = collect(grid, "paper", root=tmp_path, workers=1, where=where)
    assert "2 reused from the store, 0 trained now" in again.message and len(again.finals) == 2
    # without training, what is missing is counted, not hidden
    fresh = collect(grid, "paper", root=tmp_path / "empty", run_missing=False)
    assert fresh.missing == len(grid.expand("paper")) and fresh.finals.empty


@pytest.mark.parametrize("holder", ["tiny", "tiny_twin"])
def test_collect_waits_for_a_run_another_live_process_is_training(tmp_path, monkeypatch, holder):
    """A page executed beside another that trains one of its runs, for the same grid or for another grid
    with the same run (the same run id), waits for that run instead of drawing without it or training it
    twice; here the other process (this test, holding the claim) lets go after a while, and the run is
    trained by collect itself, as when the other process dies."""
    import importlib
    import threading

    monkeypatch.setattr(importlib.import_module("nc_core.sweep.collect"), "CLAIM_POLL", 0.2)
    grid = Grid.from_dict(tiny_grid())
    where = {"optimizer": ["sgd"], "weight_decay": [0.0]}
    (held,) = grid.expand("paper", where)
    store = ResultStore(holder, tmp_path)
    (tmp_path / "tiny").mkdir()
    assert store.claim(held.run_id)
    timer = threading.Timer(1.0, store.release, args=(held.run_id,))
    timer.start()
    start = time.monotonic()
    got = collect(grid, "paper", root=tmp_path, workers=1, where=where)
    timer.join()
    assert time.monotonic() - start >= 1.0
    assert got.missing == 0 and list(got.finals["run_id"]) == [held.run_id]
    assert "1 trained now" in got.message


def test_run_one_restores_the_callers_thread_count(tmp_path):
    import torch

    from nc_core.sweep import run_one

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        planned = Grid.from_dict(tiny_grid()).expand("paper")[0]
        assert run_one(planned, root=tmp_path, threads=1)["status"] == "completed"
        assert torch.get_num_threads() == 2  # issue 11, case 15: a sweep with --workers 1 left it at 1
    finally:
        torch.set_num_threads(before)


def test_status_defaults_to_cpu_names_a_missing_root_and_shows_a_failed_run_in_one_line(tmp_path, capsys):
    """Issue 11, case 12."""
    grid_file = tmp_path / "tiny.json"
    grid_file.write_text(json.dumps(tiny_grid()))
    root = tmp_path / "results"
    assert main(["sweep", "status", str(grid_file), "--root", str(tmp_path / "typo")]) == 2
    assert "does not exist" in capsys.readouterr().err
    store = ResultStore("tiny", root)
    run_id = Grid.from_dict(tiny_grid()).expand("cpu")[0].run_id
    store.failed_path(run_id).parent.mkdir(parents=True)
    tb = 'Traceback (most recent call last):\n  File "x.py", line 1\nRuntimeError: boom'
    store.failed_path(run_id).write_text(json.dumps({"run_id": run_id, "error": "RuntimeError: boom",
                                                     "traceback": tb}))  # fmt: skip
    assert main(["sweep", "status", str(grid_file), "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tiny/cpu under")  # the same default profile as `sweep run`
    (line,) = [x for x in out.splitlines() if run_id in x]
    assert line.strip() == f"{run_id}: failed: RuntimeError: boom (log: {store.log_path(run_id)})"
    assert "Traceback" not in out


def test_where_values_are_checked_against_the_grid(capsys):
    """Issue 11, case 9: no silent drops, no silently overwritten field, booleans parse."""
    g = get_grid("main")
    with pytest.raises(ValueError, match=r"where model: \['foo'\] match no run of grid 'main'"):
        g.expand("cpu", {"model": ["vgg9", "foo"]})
    assert len(g.expand("cpu", {"decay_norm_and_bias": [True]})) == len(g.expand("cpu"))
    with pytest.raises(ValueError, match=r"where decay_norm_and_bias: \[1\] match no run"):
        g.expand("cpu", {"decay_norm_and_bias": [1]})  # 1 is not True here
    cases = [
        (["--where", "model=vgg9", "--where", "model=resnet9"], "--where model is given twice"),
        (["--where", "model=vgg9,"], "an empty value"),
        (["--where", "model=vgg9,foo"], "['foo'] match no run"),
    ]
    for extra, message in cases:
        assert main(["sweep", "plan", "main", "--profile", "cpu", *extra]) == 2, extra
        assert message in capsys.readouterr().err, extra
    assert main(["sweep", "plan", "main", "--profile", "cpu", "--where", "decay_norm_and_bias=true"]) == 0
    assert "312 runs" in capsys.readouterr().out


def test_a_sweep_clears_temporary_files_left_by_a_kill(tmp_path, capsys):
    """Issue 11, case 5."""
    grid = Grid.from_dict(tiny_grid())
    folder = tmp_path / "tiny" / "checkpoints"
    folder.mkdir(parents=True)
    orphans = [tmp_path / "tiny" / ".x.final.parquet.1.ab.tmp", folder / ".x.pt.1.cd.tmp"]
    for p in orphans:
        p.write_text("half")
        os.utime(p, (time.time() - 7200,) * 2)
    run_sweep(grid, "paper", root=tmp_path, max_runs=0, progress=False)
    assert not any(p.exists() for p in orphans)
    assert "removed the stale temporary file" in capsys.readouterr().out


def test_claims_keep_one_trainer_per_run_and_a_dead_owner_blocks_nothing(tmp_path):
    store = ResultStore("tiny", tmp_path)
    assert store.claim("r1") and not store.claim("r1")  # held by this live process
    store.release("r1")
    assert store.claim("r1")
    store.release("r1")
    # a claim by a process that no longer exists is stale and taken over
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    store.claim_path("r2").parent.mkdir(parents=True, exist_ok=True)
    store.claim_path("r2").write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout)}))
    assert store.claim("r2")
    # another host's claim is honoured until it is implausibly old
    store.claim_path("r3").write_text(json.dumps({"host": "elsewhere", "pid": 1}))
    assert not store.claim("r3")
    os.utime(store.claim_path("r3"), (time.time() - 2 * 86400,) * 2)
    assert store.claim("r3")


def test_two_concurrent_sweeps_train_each_run_once_with_sequential_records(tmp_path):
    """Issue 11, case 1: two `sweep run` processes on one root."""
    grid_file = tmp_path / "tiny.json"
    grid_file.write_text(json.dumps(tiny_grid()))
    root = tmp_path / "results"
    cmd = [sys.executable, "-m", "nc_core", "sweep", "run", str(grid_file), "--profile", "paper",
           "--root", str(root), "--no-progress"]  # fmt: skip
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    runs = Grid.from_dict(tiny_grid()).expand("paper")
    for r in runs:  # each run was started exactly once, by one of the two processes
        log = (root / "tiny" / "logs" / f"{r.run_id}.log").read_text()
        assert log.count(f"start {r.run_id}") == 1, log
    assert not list((root / "tiny" / "claims").glob("*.claim"))
    sequential = tmp_path / "sequential"
    run_sweep(Grid.from_dict(tiny_grid()), "paper", root=sequential, progress=False)
    a, b = _finals(root), _finals(sequential)
    cols = [c for c in a.columns if c.startswith("NC") or c in ("run_id", "train_acc", "status")]
    pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))


@pytest.mark.parametrize("kind", ["final", "history"])
def test_flipped_bytes_inside_a_record_are_one_corruption_for_status_run_and_load(tmp_path, kind):
    """Issue 11, cases 3 and 4: the footer intact, the data damaged; reported under the damaged file."""
    grid = Grid.from_dict(tiny_grid())
    root = tmp_path / "results"
    run_sweep(grid, "smoke", root=root, progress=False)
    store = ResultStore("tiny", root)
    victim = store.run_ids()[0]
    path = store.final_path(victim) if kind == "final" else store.history_path(victim)
    flip_data_bytes(path)
    st = sweep_status(grid, "smoke", root=root)
    assert st["states"][victim] == "corrupt" and st["problems"][victim].startswith(str(path))
    with pytest.warns(CorruptRecordWarning, match=str(path)):
        loaded = load_results("tiny", root=root) if kind == "final" else load_histories("tiny", root=root)
    assert victim not in set(loaded["run_id"])
    again = run_sweep(grid, "smoke", root=root, progress=False)  # the sweep reruns exactly that run
    assert again["ran"] == 1 and sweep_status(grid, "smoke", root=root)["states"][victim] == "completed"


@pytest.mark.parametrize("bad", ["a-file", "/proc/cannot-be-made"])
def test_an_unusable_results_root_is_named_before_any_run(tmp_path, capsys, bad):
    """Issue 11, case 6."""
    grid_file = tmp_path / "tiny.json"
    grid_file.write_text(json.dumps(tiny_grid()))
    root = tmp_path / bad if bad == "a-file" else Path(bad)
    if bad == "a-file":
        root.write_text("not a folder")
    assert main(["sweep", "run", str(grid_file), "--profile", "paper", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write to {root}" in err and "Traceback" not in err


def test_prune_deletes_only_records_no_profile_plans(tmp_path, capsys):
    """Old-profile records are removed, not left beside the new ones (issue 10)."""
    spec = tiny_grid()
    grid_file = tmp_path / "tiny.json"
    grid_file.write_text(json.dumps(spec))
    root = tmp_path / "results"
    run_sweep(Grid.from_dict(spec), "smoke", root=root, progress=False)
    old = set(ResultStore("tiny", root).run_ids())
    spec["profiles"]["smoke"]["overrides"]["epochs"] = 3  # the profile's scale changes: new run ids
    grid_file.write_text(json.dumps(spec))
    run_sweep(Grid.from_dict(spec), "smoke", root=root, progress=False)
    new = set(ResultStore("tiny", root).run_ids()) - old
    assert main(["sweep", "prune", str(grid_file), "--root", str(root), "--dry-run"]) == 0
    assert f"would delete {len(old)} record(s)" in capsys.readouterr().out
    assert set(ResultStore("tiny", root).run_ids()) == old | new  # a dry run deletes nothing
    assert main(["sweep", "prune", str(grid_file), "--root", str(root)]) == 0
    assert set(ResultStore("tiny", root).run_ids()) == new
    assert not any((root / "tiny" / "logs" / f"{r}.log").exists() for r in old)


def test_records_from_before_the_nc4_fix_read_with_todays_keys(tmp_path):
    """Old records kept the centred reading under NC4 and eq. 11's under NC4_code (issue 11, conventions)."""
    store = ResultStore("tiny", tmp_path)
    store.folder.mkdir(parents=True)
    old = pd.DataFrame([{"run_id": "r", "status": "completed", "NC4": 0.9, "NC4_code": 0.7, "init_NC4": 0.2,
                         "init_NC4_code": 0.1, "dataset_version": "x", "profile": "cpu"}])  # fmt: skip
    old.to_parquet(store.final_path("r"))
    pd.DataFrame([{"run_id": "r", "epoch": 0, "NC4": 0.2, "NC4_code": 0.1}]).to_parquet(
        store.history_path("r")
    )
    rec = load_results("tiny", root=tmp_path).iloc[0]
    assert (rec["NC4"], rec["NC4_centred"], rec["init_NC4"], rec["init_NC4_centred"]) == (0.7, 0.9, 0.1, 0.2)
    hist = load_histories("tiny", root=tmp_path).iloc[0]
    assert (hist["NC4"], hist["NC4_centred"]) == (0.1, 0.2)


def test_a_run_another_grid_recorded_is_reused_not_trained_and_plan_shows_it(tmp_path, capsys):
    # grid b plans two runs of grid a (same configurations: same run ids) and two of its own
    a = Grid.from_dict({**tiny_grid("a"), "blocks": tiny_grid()["blocks"][:1]})
    b_spec = tiny_grid("b")
    b_spec["blocks"] = [{"name": "mlp", "axes": {"optimizer": ["sgd"], "weight_decay": [0.0, 5e-3, 0.05]}}]
    b = Grid.from_dict(b_spec)
    shared = {r.run_id for r in a.expand("paper")} & {r.run_id for r in b.expand("paper")}
    assert len(shared) == 2 and len(b.expand("paper")) == 3
    root = tmp_path / "results"
    run_sweep(a, "paper", root=root, progress=False)
    grid_file = tmp_path / "b.json"
    grid_file.write_text(json.dumps(b_spec))
    cmd = ["sweep", "plan", str(grid_file), "--profile", "paper", "--root", str(root), "--verbose"]
    assert main(cmd) == 0
    out = capsys.readouterr().out
    assert "0 recorded in b, 2 to reuse from other grids' records (2 from a), 1 to train" in out
    assert out.count("(reuse: a)") == 2
    summary = run_sweep(b, "paper", root=root, progress=False)
    assert summary["statuses"] == {"reused": 2, "completed": 1} and summary["reused"] == 2
    store_b = ResultStore("b", root)
    for run_id in shared:  # nothing trained: the log says so, and the values are grid a's
        assert " start " not in store_b.log_path(run_id).read_text()
    fa = load_results("a", root=root, on_corrupt="raise").set_index("run_id")
    fb = load_results("b", root=root, on_corrupt="raise").set_index("run_id")
    assert set(fb.index) == {r.run_id for r in b.expand("paper")}
    assert (fb.loc[sorted(shared), "reused_from"] == "a").all() and (fb["grid"] == "b").all()
    for col in ("NC1", "train_seconds", "recorded_at"):
        assert fb.loc[sorted(shared), col].tolist() == fa.loc[sorted(shared), col].tolist()
    ha = load_histories("a", root=root).set_index(["run_id", "epoch"]).sort_index()
    hb = load_histories("b", root=root).set_index(["run_id", "epoch"]).sort_index()
    assert hb.loc[sorted(shared), "NC0"].equals(ha.loc[sorted(shared), "NC0"])
    # a third grid reusing b's copy names the grid that trained the run, and b's status is complete
    c = Grid.from_dict({**b_spec, "name": "c"})
    run_sweep(c, "paper", root=root, progress=False)
    fc = load_results("c", root=root).set_index("run_id")
    assert (fc.loc[sorted(shared), "reused_from"] == "a").all()
    assert sweep_status(b, "paper", root=root)["counts"]["completed"] == 3


def test_estimate_counts_each_run_once_at_its_recorded_seconds(tmp_path):
    from nc_core.sweep import estimate

    grid = Grid.from_dict(tiny_grid())
    runs = grid.expand("paper")
    root = tmp_path / "results"
    assert estimate(runs, root=root)["unmeasured"] == len(runs)  # nothing recorded: nothing measured
    run_sweep(grid, "paper", root=root, progress=False, max_runs=3)
    finals = load_results(grid, root=root)
    est = estimate(runs + runs, root=root)  # a run planned twice counts once
    assert est["runs"] == len(runs) and (est["recorded"], est["scaled"]) == (3, len(runs) - 3)
    recorded = float((finals["train_seconds"] + finals["metric_seconds"]).sum())
    per_epoch = recorded / float(finals["epochs_completed"].sum())
    rest = sum(r.config.epochs for r in runs if r.run_id not in set(finals["run_id"])) * per_epoch
    assert est["measured_hours"] * 3600 == pytest.approx(recorded + rest)
    assert est["per_epoch"][(grid.name, "paper")] == pytest.approx(per_epoch)


def test_records_written_before_fused_optimizer_existed_read_as_the_per_tensor_loop(tmp_path):
    """The shipped records predate ``fused_optimizer`` (their files have no such column); every one of them
    ran torch's per-tensor loop, and that is how one of them reads, copied into a store of its own."""
    import shutil

    import pyarrow.parquet as pq

    shipped = ResultStore("headline_4x")
    run_id = sorted(shipped.run_ids())[0]
    assert "fused_optimizer" not in pq.read_schema(shipped.final_path(run_id)).names
    copy = ResultStore("headline_4x", tmp_path)
    copy.folder.mkdir(parents=True)
    for path in (shipped.final_path(run_id), shipped.history_path(run_id)):
        shutil.copy(path, copy.folder / path.name)
    finals = load_results("headline_4x", root=tmp_path)
    assert list(finals["run_id"]) == [run_id] and str(finals["fused_optimizer"].dtype) == "boolean"
    assert not finals["fused_optimizer"].any()
