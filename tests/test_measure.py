"""``nc_core.metrics.measure``, the one call: against the one-shot ``nc_metrics`` on features extracted by
hand (a small MLP and torchvision's ResNet18 at 32x32, generated data, float64), its per-stage table
against a hand computation, hooks removed and modes restored (also after an error), and every bad input
answered with a one-line error naming the problem."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision import transforms

from nc_core.data import TensorData
from nc_core.metrics import LAYER_COLUMNS, layer_metrics, measure, nc_metrics
from nc_core.models import make_model

K = 3
N = 40  # batches of 16: 16, 16, 8 (an uneven last batch)
TIGHT = {"rtol": 1e-10, "atol": 1e-13}  # float64 agreement, up to the order of the accumulation


def images(n: int = N, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g), torch.arange(n) % K


@pytest.fixture(scope="module")
def rn18() -> torchvision.models.ResNet:
    """torchvision's ResNet18 with K outputs, left in train mode, its BatchNorm statistics moved off their
    initial values (so that train and eval mode give different features). Built once (it takes seconds);
    every test leaves its modes and weights as it found them."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=K)
    with torch.no_grad():
        model.train()(images(seed=5)[0])
    return model


def resnet18_features(model: torchvision.models.ResNet, x: torch.Tensor) -> torch.Tensor:
    """The input of ``fc``, by calling the layers of torchvision's ``ResNet._forward_impl`` by hand."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    x = model.layer4(model.layer3(model.layer2(model.layer1(x))))
    return torch.flatten(model.avgpool(x), 1)


def by_hand(
    extract: Callable[[nn.Module, torch.Tensor], torch.Tensor], model: nn.Module, loader: DataLoader
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of every batch of ``loader`` (the same batches measure sees), eval mode."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        pairs = [(extract(model, x), y) for x, y in loader]
    for m, training in modes:
        m.training = training
    return torch.cat([h for h, _ in pairs]), torch.cat([y for _, y in pairs])


def mlp() -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, K)
    )


def vectors(n: int = N, seed: int = 2) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % K
    return TensorDataset(torch.randn(n, 6, generator=g) + y[:, None].float(), y)


def no_hooks(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def modes(model: nn.Module) -> dict[str, bool]:
    return {name: m.training for name, m in model.named_modules()}


# --------------------------------------------------------------------------------------------------------
# the metrics equal nc_metrics on hand-extracted features


def test_resnet18_on_a_torchvision_dataset_equals_nc_metrics_on_hand_features(rn18):
    model = rn18
    fake = torchvision.datasets.FakeData(
        size=N, image_size=(3, 32, 32), num_classes=K, transform=transforms.ToTensor()
    )
    train = DataLoader(fake, batch_size=16)
    test = DataLoader(TensorDataset(*images(30, seed=3)), batch_size=16)
    h, y = by_hand(resnet18_features, model, train)
    h_test, y_test = by_hand(resnet18_features, model, test)
    assert h.dtype == torch.float32 and h.shape == (N, 512) and set(y.tolist()) == set(range(K))
    expected = nc_metrics(h.double(), y, model.fc.weight, test_features=h_test.double(), test_labels=y_test)
    got = measure(model, train, "fc", test)
    assert got.keys() == expected.keys()
    torch.testing.assert_close(got, expected, **TIGHT)
    assert 0 < got["NC4"] < 1  # a real count on the test set, not a default


@pytest.mark.parametrize("convention", ["paper", "code"])
def test_the_classifier_may_be_given_as_a_module_and_nc4_defaults_to_the_training_set(convention):
    model = mlp()
    loader = DataLoader(vectors(), batch_size=16)
    h, y = by_hand(lambda m, x: m[:5](x), model, loader)
    # no test features: NC4 on the training features
    expected = nc_metrics(h.double(), y, model[5].weight, convention=convention)
    torch.testing.assert_close(measure(model, loader, model[5], convention=convention), expected, **TIGHT)
    torch.testing.assert_close(measure(model, loader, "5", convention=convention), expected, **TIGHT)


def test_a_list_of_pairs_and_a_plain_linear_model_work_too():
    """The classifier may be the model itself: its input is then the raw input."""
    torch.manual_seed(3)
    linear = nn.Linear(6, K)
    data = vectors()
    batches = [(data.tensors[0][i : i + 7], data.tensors[1][i : i + 7]) for i in range(0, N, 7)]
    expected = nc_metrics(data.tensors[0].double(), data.tensors[1], linear.weight)
    torch.testing.assert_close(measure(linear, batches, ""), expected, **TIGHT)


def test_the_project_models_give_the_engines_last_layer_metrics():
    from nc_core.train import measure as engine_measure

    torch.manual_seed(0)
    model = make_model("resnet9", num_classes=K, in_channels=3, width=1 / 16)
    x, y = images()
    engine = engine_measure(model, TensorData(x, y, K, 3, "random"), None, batch_size=16)
    ours = measure(model, DataLoader(TensorDataset(x, y), batch_size=16), "classifier")
    for key in ours:
        assert ours[key] == pytest.approx(engine[key], rel=1e-10, abs=1e-13), key


# --------------------------------------------------------------------------------------------------------
# layers: the per-stage table


STAGES = ["layer1", "layer2", "layer3", "layer4", "avgpool"]


def resnet18_stages(model: torchvision.models.ResNet, x: torch.Tensor) -> list[torch.Tensor]:
    """Each stage's output by hand, global-average-pooled (``avgpool``'s 1x1 map is its own average)."""
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    out = []
    for name in STAGES[:-1]:
        x = getattr(model, name)(x)
        out.append(x.double().mean(dim=(2, 3)))
    out.append(model.avgpool(x).double().mean(dim=(2, 3)))
    return out


def hand_stage_rows(hs: list[torch.Tensor], y: torch.Tensor) -> list[tuple[int, float, float, float]]:
    """``(dim, NC1, NC2, ncc_acc)`` per stage: NC1 and NC2 from the one-shot nc_metrics (any W: they do not
    depend on it), NCC accuracy by brute-force distances."""
    rows = []
    for h in hs:
        ref = nc_metrics(h, y, torch.randn(K, h.shape[1], dtype=torch.float64))
        mu = torch.stack([h[y == k].mean(dim=0) for k in range(K)])
        ncc = (torch.cdist(h, mu).argmin(dim=1) == y).double().mean()
        rows.append((h.shape[1], ref["NC1"], ref["NC2"], float(ncc)))
    return rows


def test_every_named_stage_of_a_torchvision_resnet_matches_a_hand_computation(rn18):
    model = rn18
    x, y = images()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    with torch.no_grad():
        per_batch = [resnet18_stages(model.eval(), xb) for xb, _ in loader]
        hs = [torch.cat(parts) for parts in zip(*per_batch, strict=True)]
    model.train()
    table = measure(model, loader, "fc", layers=STAGES)
    assert list(table.columns) == list(LAYER_COLUMNS)
    assert table["stage"].tolist() == STAGES and table["depth"].tolist() == list(range(5))
    assert model.training
    expected = hand_stage_rows(hs, y)
    assert table["dim"].tolist() == [r[0] for r in expected] == [64, 128, 256, 512, 512]
    torch.testing.assert_close(table["NC1"].tolist(), [r[1] for r in expected], **TIGHT)
    torch.testing.assert_close(table["NC2"].tolist(), [r[2] for r in expected], **TIGHT)
    assert table["ncc_acc"].tolist() == [r[3] for r in expected]


def test_layer_metrics_works_on_any_model_that_names_its_stages():
    """No model-class switch: an MLP given a ``stages`` mapping is measured like ResNet9 and VGG9."""
    model = make_model("mlp", num_classes=K, in_features=6, hidden=[16, 8])
    model.stages = {"hidden1": "backbone.layers.1", "features": "backbone"}
    data = vectors()
    table = layer_metrics(model, TensorData(*data.tensors, K, 6, "vectors"), batch_size=16)
    with torch.no_grad():
        x, y = data.tensors
        hs = [model.backbone.layers[:2](x).double(), model.features(x).double()]
    expected = hand_stage_rows(hs, y)
    assert table["stage"].tolist() == ["hidden1", "features"] and table["dim"].tolist() == [16, 8]
    torch.testing.assert_close(table["NC1"].tolist(), [r[1] for r in expected], **TIGHT)
    torch.testing.assert_close(table["NC2"].tolist(), [r[2] for r in expected], **TIGHT)
    assert table["ncc_acc"].tolist() == [r[3] for r in expected]
    # the same through measure, with stages given as a mapping {label: name or module}
    layers = {"h1": model.backbone.layers[1], "h": "backbone"}
    again = measure(model, DataLoader(data, batch_size=16), "classifier", layers=layers)
    assert again["stage"].tolist() == ["h1", "h"]
    torch.testing.assert_close(again["NC1"].tolist(), [r[1] for r in expected], **TIGHT)
    assert again["ncc_acc"].tolist() == [r[3] for r in expected]


# --------------------------------------------------------------------------------------------------------
# modes, gradients, hooks


def test_modes_are_restored_per_submodule_and_running_statistics_untouched():
    torch.manual_seed(4)
    model = nn.Sequential(
        nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Sequential(nn.Linear(16, 8), nn.Dropout(0.5)),
        nn.Linear(8, K),
    ).train()  # fmt: skip
    model[3].eval()  # a mixed state: the model in train mode, one block in eval mode
    before = modes(model)
    assert before["3"] is False and before["3.1"] is False and before["1"] is True
    running = model[1].running_mean.clone()
    grad_seen = []
    handle = model[4].register_forward_hook(lambda *_: grad_seen.append(torch.is_grad_enabled()))
    measure(model, loader(), "4")
    handle.remove()
    assert modes(model) == before
    assert torch.equal(model[1].running_mean, running)  # eval mode: BatchNorm did not update
    assert grad_seen and not any(grad_seen)  # under torch.no_grad
    assert no_hooks(model)


def test_hooks_are_removed_and_modes_restored_after_an_error_in_the_loader():
    model = mlp().train()
    x, y = vectors().tensors
    bad = y.clone()
    bad[-1] = K  # out of range, in the second batch
    batches = [(x[:20], y[:20]), (x[20:], bad[20:])]
    with pytest.raises(ValueError, match=r"train_loader batch 1 .*labels must lie in \[0, 3\)"):
        measure(model, batches, "5")
    assert no_hooks(model) and all(modes(model).values())


def test_hooks_are_removed_after_an_error_in_the_model():
    class Failing(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body, self.fc, self.calls = nn.Linear(6, 4), nn.Linear(4, K), 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("boom")
            return self.fc(self.body(x))

    model = Failing()
    with pytest.raises(RuntimeError, match="boom"):
        measure(model, DataLoader(vectors(), batch_size=16), "fc")
    assert no_hooks(model) and model.training


# --------------------------------------------------------------------------------------------------------
# bad input: one clear error each


def loader(dataset: TensorDataset | None = None) -> DataLoader:
    return DataLoader(dataset if dataset is not None else vectors(), batch_size=16)


def test_no_such_layer_names_close_ones(rn18):
    with pytest.raises(ValueError, match=r"ResNet has no classifier 'fcc'; did you mean 'fc'"):
        measure(rn18, loader(), "fcc")
    with pytest.raises(ValueError, match=r"Sequential has no classifier 'head'; its top-level modules: 0, 1"):
        measure(mlp(), loader(), "head")
    with pytest.raises(ValueError, match=r"ResNet has no layer 'layer9'; did you mean"):
        measure(rn18, loader(), "fc", layers=["layer1", "layer9"])
    with pytest.raises(ValueError, match="is not a submodule of the model Sequential"):
        measure(mlp(), loader(), nn.Linear(8, K))
    with pytest.raises(TypeError, match="classifier must be a module name .* got int"):
        measure(mlp(), loader(), 5)


def test_a_layer_that_is_not_linear(rn18):
    with pytest.raises(TypeError, match=r"classifier 'layer4' is a Sequential, not an nn.Linear"):
        measure(rn18, loader(), "layer4")
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module, got function"):
        measure(lambda x: x, loader(), "fc")


def test_labels_out_of_range_in_training_and_test_loaders():
    x, y = vectors().tensors
    with pytest.raises(ValueError, match=r"train_loader batch 0 \(classifier '5', K = 3\): labels must lie"):
        measure(mlp(), loader(TensorDataset(x, y - 1)), "5")
    with pytest.raises(
        ValueError, match=r"test_loader batch 0 .*labels must lie in \[0, 3\); got .* \[0, 3\]"
    ):
        measure(mlp(), loader(), "5", loader(TensorDataset(x, torch.where(y == 2, 3, y))))


def test_a_class_with_no_sample():
    x, y = vectors().tensors
    with pytest.raises(
        ValueError, match=r"train_loader \(classifier '5', K = 3\): class\(es\) \[2\] have no"
    ):
        measure(mlp(), loader(TensorDataset(x, y % 2)), "5")
    model = make_model("mlp", num_classes=K, in_features=6, hidden=[8])
    with pytest.raises(ValueError, match=r"class\(es\) \[2\] have no sample"):
        measure(model, loader(TensorDataset(x, y % 2)), "classifier", layers=["backbone"])


def test_loaders_that_yield_something_else():
    x, y = vectors().tensors
    with pytest.raises(TypeError, match=r"must yield \(inputs, labels\) pairs; batch 0 is a list of 1 item"):
        measure(mlp(), loader(TensorDataset(x)), "5")  # inputs only
    with pytest.raises(TypeError, match=r"batch 0 is a dict with keys \['x', 'y'\]"):
        measure(mlp(), [{"x": x, "y": y}], "5")
    with pytest.raises(TypeError, match=r"batch 0: the labels are an int, not a tensor .*DataLoader"):
        measure(mlp(), [(x[i], int(y[i])) for i in range(N)], "5")  # a dataset, not batched
    with pytest.raises(
        TypeError, match=r"labels must be a 1-D tensor of integer class indices, got torch.float32"
    ):
        measure(mlp(), [(x, y.float())], "5")
    with pytest.raises(TypeError, match="must be an iterable of .* got int"):
        measure(mlp(), 3, "5")
    with pytest.raises(ValueError, match="train_loader yielded no batch"):
        measure(mlp(), [], "5")
    with pytest.raises(TypeError, match="one-shot iterator"):
        measure(mlp(), iter([(x, y)]), "5")


def test_a_classifier_that_does_not_run_once_on_one_vector_per_sample():
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc, self.unused = nn.Linear(6, K), nn.Linear(6, K)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x) + self.fc(x)

    with pytest.raises(ValueError, match=r"'fc' ran 2 times in one forward pass of Twice"):
        measure(Twice(), loader(), "fc")
    with pytest.raises(ValueError, match=r"'unused' ran 0 times .*forward path"):
        measure(Twice(), loader(), "unused")
    tokens = nn.Sequential(nn.Unflatten(1, (2, 3)), nn.Linear(3, K))  # (B, 2, 3): two tokens per sample
    with pytest.raises(
        ValueError, match=r"the input of '1' is \(16, 2, 3\) .* one feature vector per sample"
    ):
        measure(tokens, loader(), "1")


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="convention must be 'paper' or 'code'"):
        measure(mlp(), loader(), "5", convention="both")
    with pytest.raises(ValueError, match="test_loader is not used with layers"):
        measure(mlp(), loader(), "5", loader(), layers=["1"])
