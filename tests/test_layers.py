"""Neural collapse layer by layer (nc_core.metrics.layers): every stage against a float64 hand computation,
the last stage against the last-layer metrics of ``measure``, and the end-to-end path through
``run_training`` (the ``layer_metrics_json`` column) and ``layer_table``."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import torch

import nc_core.train.engine as engine
from nc_core.data import TensorData
from nc_core.metrics import LAYER_COLUMNS, layer_metrics, stage_outputs
from nc_core.models import make_model
from nc_core.sweep.collect import layer_table
from nc_core.sweep.store import type_frame
from nc_core.train import RunConfig, measure, run_training

K = 4
WIDTH = 1 / 16  # channels 4-8-16-32 (ResNet9 and VGG9)

# per model: stage names, the backbone children whose outputs they are, feature widths at WIDTH
STAGES = {
    "resnet9": (
        ["prep", "layer1", "res1", "layer2", "layer3", "res3", "features"],
        ["prep", "layer1", "res1", "layer2", "layer3", "res3", "flatten"],
        [4, 8, 8, 16, 32, 32, 32],
    ),
    "vgg9": (
        ["pool1", "pool2", "pool3", "pool4", "features"],
        ["1", "3", "6", "9", "13"],  # the MaxPool2d after conv blocks 1, 2, 4, 6, then the final Flatten
        [4, 8, 16, 32, 32],
    ),
}


def images(n_per_class: int = 12, seed: int = 0) -> TensorData:
    """Balanced random 1x32x32 images with labels ``0, 1, ..., K-1, 0, 1, ...``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_per_class * K, 1, 32, 32, generator=g)
    return TensorData(x, torch.arange(n_per_class * K) % K, K, 1, "random")


def model_on(name: str, data: TensorData) -> torch.nn.Module:
    """A seeded model whose BatchNorm running statistics moved off their initial values."""
    torch.manual_seed(0)
    model = make_model(name, num_classes=K, in_channels=1, width=WIDTH)
    with torch.no_grad():
        model.train()(data.x)
    return model


def reference_features(model: torch.nn.Module, x: torch.Tensor, children: list[str]) -> list[torch.Tensor]:
    """Each named backbone child's output from plain module calls, global-average-pooled, float64."""
    outputs, h = {}, x
    with torch.no_grad():
        for name, child in model.eval().backbone.named_children():
            h = child(h)
            outputs[name] = h.double().mean(dim=(2, 3)) if h.dim() == 4 else h.double()
    return [outputs[c] for c in children]


def hand_metrics(h: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """NC1 (eq. 2), NC2 (eq. 5, paper convention) and NCC accuracy by the textbook formulas, float64."""
    mu = torch.stack([h[y == k].mean(dim=0) for k in range(K)])
    d = h - mu[y]
    sigma_w = d.T @ d / len(h)
    M = mu - h.mean(dim=0)  # balanced classes: the global mean is the mean of the class means
    sigma_b = M.T @ M / K
    nc1 = torch.trace(sigma_w @ torch.linalg.pinv(sigma_b, hermitian=True, rtol=1e-10)) / K
    S = M @ M.T
    etf = (torch.eye(K, dtype=torch.float64) - 1 / K) / math.sqrt(K - 1)
    nc2 = torch.linalg.matrix_norm(S / torch.linalg.matrix_norm(S) - etf) / K**2
    ncc = (torch.cdist(h, mu).argmin(dim=1) == y).double().mean()
    return {"NC1": float(nc1), "NC2": float(nc2), "ncc_acc": float(ncc)}


@pytest.mark.parametrize("name", STAGES)
def test_stage_lists_names_modules_and_widths(name):
    names, children, dims = STAGES[name]
    data = images(n_per_class=3)
    model = model_on(name, data)
    stages = stage_outputs(model)
    backbone = dict(model.backbone.named_children())
    assert [n for n, _ in stages] == names
    assert all(module is backbone[c] for (_, module), c in zip(stages, children, strict=True))
    table = layer_metrics(model, data, batch_size=5)
    assert list(table.columns) == list(LAYER_COLUMNS)
    assert table["stage"].tolist() == names and table["depth"].tolist() == list(range(len(names)))
    assert table["dim"].tolist() == dims


@pytest.mark.parametrize("name", STAGES)
def test_every_stage_matches_a_hand_computation(name):
    _, children, _ = STAGES[name]
    data = images()
    model = model_on(name, data)  # left in train mode
    table = layer_metrics(model, data, batch_size=10)  # uneven batches: 10, 10, 10, 10, 8
    assert model.training  # the mode is restored
    for row, h in zip(table.itertuples(), reference_features(model, data.x, children), strict=True):
        ref = hand_metrics(h, data.y)
        assert row.NC1 == pytest.approx(ref["NC1"], rel=1e-5), row.stage
        assert row.NC2 == pytest.approx(ref["NC2"], rel=1e-5), row.stage
        assert row.ncc_acc == ref["ncc_acc"], row.stage


@pytest.mark.parametrize("name", STAGES)
def test_last_stage_is_the_last_layer_metrics(name):
    data = images()
    model = model_on(name, data)
    last = layer_metrics(model, data, batch_size=10).iloc[-1]
    measured = measure(model, data, None, batch_size=10)
    assert last["stage"] == "features" and last["dim"] == model.feature_dim
    assert last["NC1"] == pytest.approx(measured["NC1"], rel=1e-12)
    assert last["NC2"] == pytest.approx(measured["NC2"], rel=1e-12)


@pytest.mark.parametrize("name", STAGES)
def test_exactly_collapsed_features_have_nc1_zero_and_ncc_accuracy_one(name):
    """Every sample of a class is the same image, so every stage's features are collapsed onto the class
    means; with all images equal, the class means coincide and NC1 / NC2 are undefined."""
    data = images()
    prototypes = data.x[:K]  # one image per class (labels 0..K-1)
    collapsed = TensorData(prototypes[data.y], data.y, K, 1, "collapsed")
    model = model_on(name, data)
    table = layer_metrics(model, collapsed, batch_size=10)
    assert (table["NC1"].abs() < 1e-20).all(), table
    assert (table["ncc_acc"] == 1.0).all()
    same = TensorData(torch.zeros_like(data.x), data.y, K, 1, "one point")
    table = layer_metrics(model, same, batch_size=10)
    assert table["NC1"].isna().all() and table["NC2"].isna().all()


def test_a_model_without_stages_is_rejected_by_name():
    mlp = make_model("mlp", num_classes=K, in_features=12, hidden=[16])
    with pytest.raises(ValueError, match=r"MLP has none \(supported: ResNet9, VGG9\)"):
        stage_outputs(mlp)
    data = TensorData(torch.randn(8, 12), torch.arange(8) % K, K, 12, "vectors")
    with pytest.raises(ValueError, match="MLP has none"):
        layer_metrics(mlp, data, batch_size=4)


def test_run_with_a_model_without_stages_fails_before_training(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("training or measuring started")

    monkeypatch.setattr(engine, "_measure", never)
    monkeypatch.setattr(engine, "_train_epoch", never)
    cfg = RunConfig(
        model="mlp", dataset="gaussian", epochs=1, subset_per_class=5, model_kwargs={"hidden": [8]},
        data_kwargs={"num_classes": K, "dim": 6}, layer_metrics=True,
    )  # fmt: skip
    with pytest.raises(ValueError, match="MLP has none"):
        run_training(cfg, progress=False)


def tiny_run(layer_metrics: bool) -> RunConfig:
    return RunConfig(
        model="resnet9", dataset="fashionmnist", optimizer="sgd", lr=0.01, epochs=2, batch_size=16,
        width=WIDTH, metric_every=1, metric_log_points=0, layer_metrics=layer_metrics,
    )  # fmt: skip


def test_run_training_records_the_layer_table_and_layer_table_expands_it(tmp_path, monkeypatch):
    data = (images(), images(n_per_class=3, seed=1))
    result = run_training(tiny_run(True), data=data, checkpoint_dir=tmp_path, progress=False)
    final = result.final
    rows = json.loads(final["layer_metrics_json"])
    assert [r["stage"] for r in rows] == STAGES["resnet9"][0]
    assert final["layer_seconds"] > 0 and final["layer_metrics"] is True
    # the last stage is the record's own last-layer NC1 / NC2
    assert rows[-1]["NC1"] == pytest.approx(final["NC1"], rel=1e-12)
    assert rows[-1]["NC2"] == pytest.approx(final["NC2"], rel=1e-12)
    # a finished run comes back from its checkpoint, and its layer table is measured again identically
    monkeypatch.setattr(engine, "_train_epoch", lambda *a, **k: pytest.fail("trained again"))
    again = run_training(tiny_run(True), data=data, checkpoint_dir=tmp_path, progress=False).final
    assert again["layer_metrics_json"] == final["layer_metrics_json"]

    table = layer_table(type_frame(pd.DataFrame([final])))  # as the store types a record
    assert len(table) == 7
    assert table["stage"].tolist() == STAGES["resnet9"][0]
    assert table[["NC1", "NC2", "ncc_acc"]].to_numpy().tolist() == [
        [r["NC1"], r["NC2"], r["ncc_acc"]] for r in rows
    ]
    for col in ("run_id", "model", "optimizer", "lr", "momentum", "weight_decay", "status", "train_acc"):
        assert (table[col] == final[col]).all(), col
    assert "layer_metrics_json" not in table


def test_without_layer_metrics_the_record_has_no_layer_columns():
    result = run_training(tiny_run(False), data=(images(), None), progress=False)
    assert "layer_metrics_json" not in result.final and "layer_seconds" not in result.final
    assert "layer_metrics" not in result.final  # the config field stays out of the identity too
    table = layer_table(pd.DataFrame([result.final]))
    assert table.empty and list(table.columns) == list(LAYER_COLUMNS)
