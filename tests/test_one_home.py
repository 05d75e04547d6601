"""One home per fact (issue 28): a run's data sizes come from nc_core.data, what a model takes from its
data from the model class; checked against the data the engine really builds and the models it builds."""

from __future__ import annotations

import json
import math

import pytest

from nc_core.analysis.horizons import optimizer_steps
from nc_core.data import (
    DATASETS,
    SYNTHETIC_DATASETS,
    SYNTHETIC_SPECS,
    TensorData,
    check_dataset,
    data_sizes,
    train_size,
)
from nc_core.models import MLP, UFM, make_model
from nc_core.train import RunConfig
from nc_core.train.engine import build_data


def test_every_synthetic_dataset_has_its_spec():
    assert set(SYNTHETIC_SPECS) == set(SYNTHETIC_DATASETS)


_MLP = {"model": "mlp", "model_kwargs": {"hidden": [4]}}
_SYNTHETIC = [
    RunConfig(**_MLP, dataset="gaussian", subset_per_class=7, data_kwargs={"num_classes": 3, "dim": 4}),
    RunConfig(**_MLP, dataset="gaussian", subset_per_class=None, data_kwargs={"num_classes": 2, "dim": 3}),
    RunConfig(**_MLP, dataset="separable", data_kwargs={"n_per_class": 5, "num_classes": 4, "dim": 6}),
    RunConfig(model="ufm", dataset="ufm", data_kwargs={"num_samples": 40, "num_classes": 4}),
]


@pytest.mark.parametrize("config", _SYNTHETIC)
def test_data_sizes_are_the_sizes_of_the_data_the_engine_builds(config):
    train, test = build_data(config)
    assert data_sizes(config) == (len(train), 0 if test is None else len(test))
    # a stored record (a mapping, data_kwargs as JSON text, a missing subset as NaN) reads the same
    record = {**config.identity(), "data_kwargs": json.dumps(config.data_kwargs),
              "subset_per_class": config.subset_per_class or math.nan}  # fmt: skip
    assert train_size(record) == len(train)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_image_dataset_sizes_match_the_files(name):
    if not check_dataset(name, "data").ok:
        pytest.skip(f"{name} is not under data/")
    config = RunConfig(dataset=name, subset_per_class=25)
    train, test = build_data(config)
    assert data_sizes(config) == (len(train), len(test)) == (250, 250)
    full = RunConfig(dataset=name)
    from nc_core.data import load_dataset

    assert train_size(full) == len(load_dataset(name, train=True, root="data"))


def test_optimizer_steps_of_a_ufm_record_use_its_num_samples():
    record = {"dataset": "ufm", "data_kwargs": '{"num_samples": 10000, "num_classes": 10}',
              "subset_per_class": math.nan, "epochs": 200, "batch_size": 1000}  # fmt: skip
    assert optimizer_steps(record) == 200 * 10


def test_a_synthetic_run_without_its_size_is_an_error_naming_it():
    with pytest.raises(ValueError, match="num_classes"):
        train_size({"dataset": "gaussian", "data_kwargs": {"dim": 3}})


def test_models_take_what_they_need_from_their_data():
    import torch

    vectors = TensorData(torch.zeros(12, 5), torch.arange(12) % 3, 3, 1, "vectors")
    mlp = make_model("mlp", num_classes=3, data=vectors, hidden=[4])
    assert isinstance(mlp, MLP) and mlp.in_features == 5
    assert make_model("mlp", num_classes=3, in_channels=1, hidden=[4]).in_features == 32 * 32
    assert make_model("mlp", num_classes=3, data=vectors, in_features=7, hidden=[4]).in_features == 7
    indices = TensorData(torch.arange(12), torch.arange(12) % 3, 3, 1, "ufm")
    ufm = make_model("ufm", num_classes=3, data=indices, feature_dim=8)
    assert isinstance(ufm, UFM) and ufm.H.shape == (12, 8)
    assert make_model("ufm", num_classes=3, data=indices, num_samples=20, feature_dim=8).H.shape == (20, 8)
    conv = make_model("resnet9", num_classes=3, in_channels=1, width=0.0625)
    assert conv(torch.zeros(2, 1, 32, 32)).shape == (2, 3)
