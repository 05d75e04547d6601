"""The ResNet50 / ImageNet-1K path (Appendix D.4.4, Figures 17-18) end to end on a generated ImageNet-format
folder: the ImageFolder dataset and its transforms, the streaming loader, torchvision's ResNet50, a run
through the engine (and its resume), the streaming metric pass against a one-shot recomputation, the grid's
smoke profile through the sweep runner, the refusal without data, and the figure function."""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from PIL import Image
from test_train import interrupt_at_epoch
from torch import nn
from torchvision import transforms as T

from nc_core import plots
from nc_core.__main__ import main
from nc_core.data import (
    FolderLoader,
    ImageFolderData,
    check_dataset,
    epoch_permutation,
    load_image_folder,
)
from nc_core.metrics import FeatureAccumulator, metrics_from_stats
from nc_core.models import FeatureClassifier, ResNet50, make_model
from nc_core.sweep import get_grid, load_results, run_sweep
from nc_core.train import RunConfig, build_data, run_training
from nc_core.train.evaluate import measure
from nc_core.train.schedule import make_lr_scheduler

matplotlib.use("Agg")

WNIDS = ["n01440764", "n01443537", "n01484850"]  # three real ImageNet class folders (tench, goldfish, shark)
N_TRAIN, N_VAL, SIDE = 6, 3, 32
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # typed here, not imported: checked independently


@pytest.fixture(autouse=True)
def _no_workers_one_thread(monkeypatch):
    monkeypatch.setenv("NC_CORE_DATA_WORKERS", "0")  # decode in the test process unless a test asks for more
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_imagenet(root: Path, n_train: int = N_TRAIN, n_val: int = N_VAL, seed: int = 0) -> Path:
    """``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG``: random 32x32 RGB images whose class
    shows in one brightened channel (one PNG per class, as ImageFolder accepts both)."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("val", n_val)):
        for k, wnid in enumerate(WNIDS):
            folder = root / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                a = rng.integers(0, 200, (SIDE, SIDE, 3), dtype=np.uint8)
                a[..., k] += 55
                fmt, ext = ("PNG", "png") if i == 0 else ("JPEG", "JPEG")
                Image.fromarray(a).save(folder / f"{wnid}_{split}_{i}.{ext}", format=fmt)
    return root


@pytest.fixture
def data_root(tmp_path) -> Path:
    make_imagenet(tmp_path / "imagenet")
    return tmp_path


def files(root: Path, split: str) -> list[tuple[Path, int]]:
    """Every image of a split with its label, in ImageFolder's order (classes sorted, files sorted)."""
    return [(p, k) for k, w in enumerate(sorted(WNIDS)) for p in sorted((root / split / w).iterdir())]


def eval_tensor(path: Path, size: int) -> torch.Tensor:
    """The evaluation transform written out: shorter side to round(S*256/224), centre crop S, mean/std."""
    t = T.Compose(
        [T.Resize(round(size * 256 / 224)), T.CenterCrop(size), T.ToTensor(), T.Normalize(MEAN, STD)]
    )
    return t(Image.open(path).convert("RGB"))


def tiny_run(**changes) -> RunConfig:
    base = RunConfig(
        model="resnet50", dataset="imagenet", optimizer="adamw", lr=3e-4, momentum=0.9, weight_decay=1e-4,
        epochs=2, batch_size=6, width=0.0625, metric_every=1, metric_log_points=0,
        data_kwargs={"image_size": SIDE}, eval_batch_size=4,
    )  # fmt: skip
    return base.replace(**changes)


def without_timings(result) -> pd.DataFrame:
    return result.history.drop(columns=[c for c in result.history if c.endswith("_seconds")])


# ---------------------------------------------------------------------------------------------
# Data


def test_missing_or_malformed_folder_gives_a_clear_error(tmp_path):
    nowhere = tmp_path / "no" / "imagenet"
    with pytest.raises(FileNotFoundError) as err:
        load_image_folder(nowhere)
    message = str(err.value)
    assert f"{nowhere} does not exist" in message
    assert f"{nowhere}/train/<wnid>/*.JPEG and {nowhere}/val/<wnid>/*.JPEG" in message
    # through a run: <data root>/imagenet, before any model is built
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}/imagenet does not exist"):
        build_data(tiny_run(), tmp_path)
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}/imagenet does not exist"):
        run_training(tiny_run(), data_root=tmp_path, progress=False)
    status = check_dataset("imagenet", tmp_path)
    assert (
        not status.ok
        and status.state == "missing"
        and f"{tmp_path}/imagenet/train/<wnid>" in status.summary()
    )
    # train/ without val/, then val/ missing a class, then a class folder without images
    root = make_imagenet(tmp_path / "imagenet")
    assert check_dataset("ImageNet", tmp_path).ok
    (root / "val" / WNIDS[2]).rename(tmp_path / "aside")
    status = check_dataset("imagenet", tmp_path)
    assert status.state == "incomplete" and WNIDS[2] in status.summary()
    with pytest.raises(FileNotFoundError, match="missing from val/"):
        load_image_folder(root)
    (root / "val" / WNIDS[2]).mkdir()
    with pytest.raises(FileNotFoundError, match=f"incomplete: .*{WNIDS[2]}"):
        load_image_folder(root, train=False)
    # options of the dataset are checked by name
    with pytest.raises(ValueError, match=r"unknown dataset option\(s\) \['dim'\] .* image_size, root"):
        build_data(tiny_run(data_kwargs={"dim": 3}), tmp_path)
    with pytest.raises(ValueError, match="image_size of 'imagenet' must be an integer >= 1"):
        build_data(tiny_run(data_kwargs={"image_size": 0}), tmp_path)


def test_sweep_refuses_without_the_folder_and_names_it(tmp_path, capsys):
    results = tmp_path / "results"
    with pytest.raises(ValueError, match=f"{tmp_path}/imagenet does not exist"):
        run_sweep("resnet50_imagenet", "smoke", root=results, data_root=tmp_path, progress=False)
    argv = ["sweep", "run", "resnet50_imagenet", "--profile", "smoke", "--root", str(results),
            "--data-root", str(tmp_path)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "ImageNet-1K is not available" in err and f"{tmp_path}/imagenet/val/<wnid>/*.JPEG" in err
    assert not results.exists()  # nothing ran, nothing was written


def test_dataset_listing_labels_and_evaluation_transform(data_root):
    root = data_root / "imagenet"
    train = load_image_folder(root, image_size=24, num_workers=0)
    val = load_image_folder(root, train=False, image_size=24, num_workers=0)
    assert isinstance(train, ImageFolderData) and train.classes == sorted(WNIDS) and train.num_classes == 3
    assert (len(train), len(val)) == (3 * N_TRAIN, 3 * N_VAL) and train.input_shape == (3, 24, 24)
    assert train.class_counts().tolist() == [N_TRAIN] * 3 and val.split == "val"
    listed = [(Path(os.fsdecode(p)), int(y)) for p, y in zip(train.paths, train.targets, strict=True)]
    assert listed == files(root, "train")
    # the metric pass's batches: every image once, in order, the evaluation transform, channels_last
    xs, ys = zip(*val.eval_batches(4), strict=True)
    assert [len(y) for y in ys] == [4, 4, 1]
    assert all(x.is_contiguous(memory_format=torch.channels_last) for x in xs)
    expected = torch.stack([eval_tensor(p, 24) for p, _ in files(root, "val")])
    torch.testing.assert_close(torch.cat(xs), expected, rtol=0, atol=0)
    assert torch.cat(ys).tolist() == [k for _, k in files(root, "val")]
    # a balanced subset of each split, nested in the full listing
    sub = load_image_folder(root, subset_per_class=2, seed=3, num_workers=0)
    assert sub.class_counts().tolist() == [2, 2, 2] and set(sub.paths.tolist()) <= set(train.paths.tolist())
    with pytest.raises(ValueError, match="fewer than subset_per_class=4"):
        load_image_folder(root, train=False, subset_per_class=4)


def test_training_loader_is_seeded_per_epoch_whatever_the_workers(data_root):
    train = load_image_folder(data_root / "imagenet", image_size=SIDE, num_workers=0)
    loader = train.loader(5, seed=7)
    assert isinstance(loader, FolderLoader) and len(loader) == math.ceil(3 * N_TRAIN / 5)

    def epoch(ld, e):
        ld.set_epoch(e)
        return list(ld)

    first = epoch(loader, 0)
    assert [len(y) for _, y in first] == [5, 5, 5, 3]
    assert first[0][0].shape == (5, 3, SIDE, SIDE) and first[0][0].is_contiguous(
        memory_format=torch.channels_last
    )
    # the order is TensorLoader's permutation of (seed, epoch)
    order = epoch_permutation(len(train), 7, 0)
    assert torch.cat([y for _, y in first]).tolist() == train.targets[order].tolist()
    # random crops and flips: not the evaluation images, but a pure function of (seed, epoch)
    again = epoch(train.loader(5, seed=7), 0)
    for (x, y), (x2, y2) in zip(first, again, strict=True):
        torch.testing.assert_close(x, x2, rtol=0, atol=0)
        assert torch.equal(y, y2)
    assert not torch.equal(epoch(loader, 1)[0][0], first[0][0])
    # one worker process (forked, with its own RNG) draws exactly the same batches as the main process
    worker = load_image_folder(data_root / "imagenet", image_size=SIDE, num_workers=1)
    in_worker = epoch(worker.loader(5, seed=7), 0)
    for (x, _), (x2, _) in zip(first, in_worker, strict=True):
        torch.testing.assert_close(x, x2, rtol=0, atol=0)
    # values stay within the normalised range of [0, 1] pixels
    lo = min((0 - m) / s for m, s in zip(MEAN, STD, strict=True))
    hi = max((1 - m) / s for m, s in zip(MEAN, STD, strict=True))
    allx = torch.cat([x for x, _ in first])
    assert lo - 1e-5 <= float(allx.min()) and float(allx.max()) <= hi + 1e-5


# ---------------------------------------------------------------------------------------------
# Model


def test_resnet50_is_torchvisions_with_its_fc_as_classifier():
    torch.manual_seed(0)
    ours = make_model("ResNet50", num_classes=7)
    torch.manual_seed(0)
    theirs = torchvision.models.resnet50(weights=None, num_classes=7)
    assert isinstance(ours, ResNet50) and isinstance(ours, FeatureClassifier)
    assert ours.feature_dim == 2048 and ours.classifier.weight.shape == (7, 2048)
    mine = ours.state_dict()
    renamed = {
        (f"classifier.{k[3:]}" if k.startswith("fc.") else f"backbone.{k}"): v
        for k, v in theirs.state_dict().items()
    }
    assert mine.keys() == renamed.keys()
    assert all(torch.equal(mine[k], renamed[k]) for k in mine)  # same modules, same random initialisation
    x = torch.randn(2, 3, 64, 64)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        logits, feats = ours.forward_with_features(x)
        torch.testing.assert_close(logits, theirs(x), rtol=0, atol=0)
    assert feats.shape == (2, 2048)


def test_resnet50_width_and_channels():
    small = make_model("resnet50", num_classes=3, width=0.0625, in_channels=1)
    assert small.feature_dim == 128 == small.classifier.in_features  # 4 x scale_width(512, 1/16)
    convs = [m for m in small.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].in_channels == 1 and convs[0].out_channels == 4 and len(convs) == 53
    assert small(torch.randn(2, 1, SIDE, SIDE)).shape == (2, 3)
    # at width 1 the rescaling is the identity on shapes: the same network as torchvision's
    from nc_core.models.resnet50 import _rescale

    net = torchvision.models.resnet50(weights=None)
    shapes = {k: v.shape for k, v in net.state_dict().items()}
    _rescale(net, 1.0, 3)
    assert {k: v.shape for k, v in net.state_dict().items()} == shapes
    with pytest.raises(ValueError, match="does not take"):
        make_model("resnet50", pretrained=True)
    for bad in (0, -0.5, float("nan")):
        with pytest.raises(ValueError, match="width"):
            make_model("resnet50", width=bad)


# ---------------------------------------------------------------------------------------------
# The engine and the metric pass


def test_run_end_to_end_and_streaming_statistics_equal_one_shot(data_root, tmp_path):
    cfg = tiny_run()
    result = run_training(cfg, data_root=data_root, checkpoint_dir=tmp_path / "ckpt", progress=False)
    assert result.status == "completed", result.final.get("error")
    hist = result.history
    assert hist["epoch"].tolist() == [0, 1, 2] and hist["running_loss"].iloc[1:].map(math.isfinite).all()
    final = result.final
    for key in ("NC0", "NC1", "NC2", "NC3", "NC4", "NC0_code", "NC3_code", "train_acc", "test_acc"):
        assert math.isfinite(final[key]), key
    assert final["model"] == "resnet50" and final["dataset"] == "imagenet"

    # the trained model, from the run's checkpoint
    state = torch.load(tmp_path / "ckpt" / f"{cfg.run_id}.pt", weights_only=False)
    model = make_model("resnet50", num_classes=3, width=cfg.width)
    model.load_state_dict(state["model"])
    model = model.to(memory_format=torch.channels_last).eval()
    train, test = build_data(cfg, data_root)

    # the streaming pass (batches of 4, merged in float64) ...
    acc = FeatureAccumulator(3)
    with torch.no_grad():
        for xb, yb in train.eval_batches(4):
            acc.update(model.features(xb), yb)
    stats = acc.finalize()
    # ... against all features at once, from images decoded and transformed here
    listing = files(data_root / "imagenet", "train")
    x = torch.stack([eval_tensor(p, SIDE) for p, _ in listing])
    y = torch.tensor([k for _, k in listing])
    with torch.no_grad():
        h = model.features(x).double()
    means = torch.stack([h[y == k].mean(0) for k in range(3)])
    centred = h - means[y]
    within = centred.T @ centred / len(y)
    assert stats.counts.tolist() == [float(N_TRAIN)] * 3
    torch.testing.assert_close(stats.means, means, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(stats.within_cov, within, rtol=1e-5, atol=1e-6 * float(within.abs().max()))

    # the metric pass of the run, measured again from the checkpoint, gives the recorded metrics
    again = measure(model, train, test, batch_size=5)
    for key in ("NC0", "NC1", "NC2", "NC3", "NC4", "train_acc", "test_acc"):
        assert again[key] == pytest.approx(final[key], rel=1e-5, abs=1e-7), key
    one_shot = metrics_from_stats(type(stats)(stats.counts, means, within), model.classifier.weight)
    for key in ("NC0", "NC1", "NC2", "NC3"):
        assert again[key] == pytest.approx(one_shot[key], rel=1e-4), key


def test_interrupted_imagenet_run_resumes_to_the_identical_result(data_root, tmp_path, monkeypatch):
    cfg = tiny_run(epochs=3)
    uninterrupted = run_training(cfg, data_root=data_root, progress=False)
    _, original = interrupt_at_epoch(
        cfg, tmp_path, monkeypatch, epoch=3, loader=FolderLoader, data_root=data_root
    )
    assert torch.load(tmp_path / f"{cfg.run_id}.pt", weights_only=False)["epoch"] == 2
    monkeypatch.setattr(FolderLoader, "set_epoch", original)
    resumed = run_training(cfg, data_root=data_root, checkpoint_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(without_timings(resumed), without_timings(uninterrupted))


# ---------------------------------------------------------------------------------------------
# The grid


def test_grid_is_the_papers_and_its_smoke_profile_runs_on_a_generated_folder(data_root, tmp_path, capsys):
    grid = get_grid("resnet50_imagenet")
    paper = grid.expand("paper")
    assert len(paper) == 2 * 3 * 4 and grid.runnable
    points = {(r.config.optimizer, r.config.momentum, r.config.weight_decay) for r in paper}
    assert points == {
        (o, m, w) for o in ("adam", "adamw") for m in (0.0, 0.5, 0.9) for w in (0.0, 1e-5, 1e-4, 1e-3)
    }
    fixed = {
        (c.model, c.dataset, c.epochs, c.lr, c.lr_schedule, c.batch_size, c.width, c.subset_per_class)
        for c in (r.config for r in paper)
    }
    assert fixed == {("resnet50", "imagenet", 90, 3e-4, "step", 128, 1.0, None)}
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=3e-4)
    sched, unit = make_lr_scheduler(opt, "step", epochs=90, steps_per_epoch=1)
    lrs = []
    for _ in range(90):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step(), sched.step()
    assert unit == "epoch" and lrs[29] == pytest.approx(3e-4) and lrs[30] == pytest.approx(3e-5)
    assert lrs[60] == pytest.approx(3e-6)  # x0.1 at 1/3 and 2/3 of training
    assert any("batch size 128" in c for c in grid.choices) and any("workers" in c for c in grid.choices)
    assert main(["sweep", "plan", "resnet50_imagenet", "--profile", "paper"]) == 0
    out = capsys.readouterr().out
    assert "24 runs" in out and "estimated cost:" in out and "GPU-hours" in out and "NOT RUNNABLE" not in out

    # the smoke profile (224-pixel crops, width 1/16, 3 images per class) on the generated folder
    smoke = grid.expand("smoke")
    assert len(smoke) == 4 and {r.config.subset_per_class for r in smoke} == {3}
    summary = run_sweep(
        grid, "smoke", root=tmp_path / "results", data_root=data_root, threads=1, progress=False,
        where={"optimizer": ["adam"], "weight_decay": [1e-3]},
    )  # fmt: skip
    assert summary["statuses"] == {"completed": 1}
    finals = load_results(grid, root=tmp_path / "results", profile="smoke")
    assert len(finals) == 1 and finals["status"].tolist() == ["completed"]
    assert all(np.isfinite(finals[k]).all() for k in ("NC0_code", "NC1", "NC2_code", "NC3_code", "test_acc"))


# ---------------------------------------------------------------------------------------------
# Figures 17 and 18


def hand_made_finals() -> pd.DataFrame:
    rows = []
    for i, opt in enumerate(("adam", "adamw")):
        for j, m in enumerate((0.0, 0.5, 0.9)):
            for k, wd in enumerate((0.0, 1e-5, 1e-4, 1e-3)):
                point = {"optimizer": opt, "momentum": m, "weight_decay": wd}
                metrics = {"NC0_code": 10.0 ** (i - k) + j, "NC3_code": 1.0 + i + k / 10}
                rows.append({**point, **metrics, "train_acc": 0.5 + 0.1 * k, "test_acc": 0.4 - 0.01 * j})
    rows.append({**rows[0], "NC0_code": 3.0})  # a second seed at one point: averaged with 1.0
    rows.append({**rows[1], "optimizer": "sgd"})  # another optimizer: not drawn
    return pd.DataFrame(rows)


def test_plot_by_momentum_draws_the_records_and_nothing_else(tmp_path):
    finals = hand_made_finals()
    fig = plots.plot_by_momentum(finals, ["NC0_code", "NC3_code"], title="Figure 17")
    axes = np.array(fig.axes).reshape(2, 3)
    for row, metric in zip(axes, ("NC0_code", "NC3_code"), strict=True):
        for ax, m in zip(row, (0.0, 0.5, 0.9), strict=True):
            assert (
                ax.get_title() == f"{metric.removesuffix('_code')}, momentum {m:g}"
                and ax.get_yscale() == "log"
            )
            lines = {line.get_label(): line for line in ax.get_lines()}
            assert set(lines) == {"Adam", "AdamW"} and lines["AdamW"].get_linestyle() == "--"
            for opt, label in (("adam", "Adam"), ("adamw", "AdamW")):
                g = finals[(finals["optimizer"] == opt) & (finals["momentum"] == m)]
                expected = g.groupby("weight_decay")[metric].mean()
                assert lines[label].get_xdata().tolist() == expected.index.tolist()
                np.testing.assert_allclose(lines[label].get_ydata(), expected.to_numpy())
    assert axes[0, 0].get_lines()[0].get_ydata()[0] == pytest.approx(2.0)  # (1 + 3) / 2
    assert plots.save_figure(fig, "fig17", tmp_path).is_file()
    acc = plots.plot_by_momentum(
        finals, ["train_acc", "test_acc"], labels={"test_acc": "validation accuracy"}
    )
    assert (
        acc.axes[0].get_yscale() == "linear" and acc.axes[3].get_title() == "validation accuracy, momentum 0"
    )
    # no runs, or none of Adam / AdamW: nothing is drawn
    assert plots.plot_by_momentum(pd.DataFrame(), ["NC0_code"]) is None
    assert plots.plot_by_momentum(finals[finals["optimizer"] == "sgd"], ["NC0_code"]) is None
    with pytest.raises(ValueError, match="lack column"):
        plots.plot_by_momentum(finals, ["NC2_code"])
    matplotlib.pyplot.close("all")
