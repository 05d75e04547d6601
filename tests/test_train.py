"""Training engine: schedules, the measurement pass, determinism, resume, divergence, bf16 option."""

from __future__ import annotations

import math
import pickle

import pandas as pd
import pytest
import torch

from nc_core.data import TensorLoader
from nc_core.metrics import DegenerateFeaturesError, NonFiniteError, nc_metrics
from nc_core.models import make_model
from nc_core.train import RunConfig, build_data, measure, metric_epochs, run_training

GAUSS = {"num_classes": 4, "dim": 12}


def tiny(**changes) -> RunConfig:
    base = RunConfig(
        model="mlp", dataset="gaussian", optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=5e-4,
        epochs=6, batch_size=32, subset_per_class=40, metric_every=2, metric_log_points=0,
        model_kwargs={"hidden": [32, 16]}, data_kwargs=GAUSS,
    )  # fmt: skip
    return base.replace(**changes)


def test_metric_epochs_hand_checked():
    assert metric_epochs(10, every=3) == [0, 3, 6, 9, 10]
    assert metric_epochs(200, every=None, log_points=4) == [0, 1, 6, 34, 200]  # e^(i ln200/3)
    assert metric_epochs(1) == [0, 1]
    with pytest.raises(ValueError, match="epochs"):
        metric_epochs(0)


def test_paper_step_schedule_and_metric_rows():
    result = run_training(tiny(epochs=9, metric_every=3), progress=False)
    lr = result.history.set_index("epoch")["lr"]
    # x0.1 after int(9/3) = 3 and int(18/3) = 6 epochs (the authors' milestones)
    assert lr.loc[1:3].tolist() == pytest.approx([0.05] * 3)
    assert lr.loc[4:6].tolist() == pytest.approx([0.005] * 3)
    assert lr.loc[7:9].tolist() == pytest.approx([0.0005] * 3)
    measured = result.history.dropna(subset=["NC1"])["epoch"].tolist()
    assert measured == [0, 3, 6, 9]
    assert result.status == "completed"
    assert result.final["train_acc"] > 0.9  # learns the easy data
    assert result.final["init_NC1"] > result.final["NC1"]  # within-class variability shrinks
    for key in ("git_commit", "device_name", "torch_version", "run_id", "NC0_code", "W_sv_min"):
        assert key in result.final


def test_measure_agrees_with_one_shot_metrics_on_collected_features():
    cfg = tiny()
    train, test = build_data(cfg)
    torch.manual_seed(0)
    model = make_model("mlp", num_classes=4, in_features=12, hidden=[16])
    with torch.no_grad():
        feats, logits = model.features(train.x), model(train.x)
        test_feats = model.features(test.x)
    ref = nc_metrics(feats, train.y, model.classifier.weight, test_features=test_feats)
    ref_code = nc_metrics(
        feats, train.y, model.classifier.weight, test_features=test_feats, convention="code"
    )
    got = measure(model, train, test, batch_size=7)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-12), key
    assert got["NC0_code"] == pytest.approx(ref_code["NC0"], rel=1e-6)
    assert got["NC4_code"] == pytest.approx(ref_code["NC4"])
    expected_loss = torch.nn.functional.cross_entropy(logits.double(), train.y).item()
    assert got["train_loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert got["train_acc"] == pytest.approx((logits.argmax(1) == train.y).double().mean().item())


def results(result) -> pd.DataFrame:
    """The history without its wall-clock columns."""
    return result.history.drop(columns=["epoch_seconds", "measure_seconds"])


def test_same_seed_same_history_and_different_seed_differs():
    a = results(run_training(tiny(), progress=False))
    b = results(run_training(tiny(), progress=False))
    c = results(run_training(tiny(seed=1), progress=False))
    pd.testing.assert_frame_equal(a, b)
    assert not a["NC1"].dropna().equals(c["NC1"].dropna())


def interrupt_at_epoch(cfg, checkpoint_dir, monkeypatch, *, epoch=5, loader=TensorLoader, **run_kwargs):
    """Run ``cfg`` with checkpoints until a KeyboardInterrupt at the start of ``epoch`` (raised by
    ``loader.set_epoch``); return the crashing ``set_epoch`` (still patched in) and the original one."""
    original = loader.set_epoch

    def crash_at_epoch(self, at):
        if at == epoch:
            raise KeyboardInterrupt
        original(self, at)

    monkeypatch.setattr(loader, "set_epoch", crash_at_epoch)
    with pytest.raises(KeyboardInterrupt):
        run_training(cfg, checkpoint_dir=checkpoint_dir, progress=False, **run_kwargs)
    return crash_at_epoch, original


def test_interrupted_run_resumes_to_the_identical_result(tmp_path, monkeypatch):
    cfg = tiny()
    uninterrupted = run_training(cfg, progress=False)
    crash_at_epoch, original = interrupt_at_epoch(cfg, tmp_path, monkeypatch)
    assert torch.load(tmp_path / f"{cfg.run_id}.pt", weights_only=False)["epoch"] == 4
    monkeypatch.setattr(TensorLoader, "set_epoch", original)
    resumed = run_training(cfg, checkpoint_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(results(resumed), results(uninterrupted))
    # a finished run is returned from its checkpoint without training again
    monkeypatch.setattr(TensorLoader, "set_epoch", crash_at_epoch)
    again = run_training(cfg, checkpoint_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(results(again), results(uninterrupted))


@pytest.mark.parametrize("before", [False, True])
def test_a_run_resumed_with_the_other_optimizer_kernel_continues_with_it(tmp_path, monkeypatch, before):
    """``fused_optimizer`` is not part of the run id, so a checkpoint of the loop resumes fused and one of the
    fused kernel resumes with the loop when asked; the record names the kernel that ran, and the result
    follows the uninterrupted run (the same update up to float32 rounding)."""
    cfg = tiny(optimizer="adam", lr=0.01, fused_optimizer=before)
    _, original = interrupt_at_epoch(cfg, tmp_path, monkeypatch)
    monkeypatch.setattr(TensorLoader, "set_epoch", original)
    resumed = run_training(cfg.replace(fused_optimizer=not before), checkpoint_dir=tmp_path, progress=False)
    assert resumed.final["fused_optimizer"] is (not before)
    assert resumed.final["epochs_completed"] == 6
    uninterrupted = run_training(cfg, progress=False)
    assert resumed.final["train_loss"] == pytest.approx(uninterrupted.final["train_loss"], rel=1e-3)


def test_divergence_is_recorded_not_raised():
    result = run_training(tiny(lr=1e12, momentum=0.0, weight_decay=0.0), progress=False)
    assert result.status == "diverged"
    assert result.final["status"] == "diverged"
    assert result.final["epochs_completed"] < 6
    assert not math.isfinite(result.history["running_loss"].iloc[-1])


@pytest.mark.parametrize(
    ("error", "diverged"),
    [
        (NonFiniteError("features contain NaN or inf values"), True),
        (DegenerateFeaturesError("all class means coincide"), True),
        (ValueError("labels out of range"), False),
    ],
)
def test_only_non_finite_measurements_count_as_divergence(monkeypatch, error, diverged):
    """A NaN/inf measurement is a diverged run; any other error (a shape or label bug) is a failure that
    raises, never a 'diverged' record that a sweep would skip from then on (issue 11, case 13)."""
    import nc_core.train.engine as engine

    calls = []

    def measure(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:  # initialisation measures fine, the first measured epoch breaks
            raise error
        return real(*args, **kwargs)

    real = engine.measure
    monkeypatch.setattr(engine, "measure", measure)
    if diverged:
        result = run_training(tiny(), progress=False)
        assert result.status == "diverged" and result.history["error"].dropna().iloc[-1] == str(error)
    else:
        with pytest.raises(ValueError, match="labels out of range"):
            run_training(tiny(), progress=False)


def test_bf16_autocast_option_tracks_fp32():
    fp32 = run_training(tiny(epochs=3), progress=False).final
    bf16 = run_training(tiny(epochs=3, bf16=True), progress=False).final
    assert bf16["train_loss"] == pytest.approx(fp32["train_loss"], rel=0.1, abs=0.02)
    assert bf16["train_acc"] == pytest.approx(fp32["train_acc"], abs=0.05)


def test_bad_config_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        tiny(epochs=0)
    with pytest.raises(ValueError, match="unknown dataset"):
        run_training(tiny(dataset="places365"), progress=False)
    with pytest.raises(ValueError, match="lr schedule"):
        run_training(tiny(lr_schedule="linear"), progress=False)


def test_run_id_ignores_execution_settings_only():
    assert tiny().run_id == tiny(device="cuda", compile=True, eval_batch_size=7, fused_optimizer=False).run_id
    assert tiny().run_id != tiny(width=0.5).run_id
    # the run id of a configuration recorded before fused_optimizer existed (hash of its identity then)
    assert RunConfig(epochs=3).run_id == "0cb7fb573492cf64"
    # computed once per configuration: a copy with a field changed is hashed afresh, a pickled one keeps it
    cfg = RunConfig(epochs=3)
    assert cfg.run_id == "0cb7fb573492cf64" and cfg.replace(epochs=4).run_id == RunConfig(epochs=4).run_id
    assert RunConfig(epochs=4).run_id != cfg.run_id and pickle.loads(pickle.dumps(cfg)).run_id == cfg.run_id


@pytest.mark.parametrize(("optimizer", "fused"), [("adam", True), ("adamw", True), ("sgd", False)])
def test_record_says_whether_the_optimizer_was_fused(optimizer, fused):
    """The fused kernel is the default where the project uses one; the record says so, and the fused run
    follows the per-tensor loop's (the same update up to float32 rounding) over a few epochs of training."""
    cfg = tiny(optimizer=optimizer, lr=0.01 if optimizer != "sgd" else 0.05, epochs=3)
    on, off = (run_training(cfg.replace(fused_optimizer=f), progress=False) for f in (True, False))
    assert on.final["fused_optimizer"] is fused and off.final["fused_optimizer"] is False
    assert on.final["train_loss"] == pytest.approx(off.final["train_loss"], rel=1e-3)


def test_train_command_line_writes_history_and_final_record(tmp_path, capsys):
    import json

    from nc_core.__main__ import main

    argv = ["train", "--model", "mlp", "--dataset", "gaussian", "--data-kwargs",
            '{"num_classes": 3, "dim": 6}',
            "--model-kwargs", '{"hidden": [8]}', "--subset-per-class", "10", "--epochs", "2",
            "--coupled-weight-decay", "none", "--no-progress", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    (run_dir,) = tmp_path.iterdir()
    history = pd.read_csv(run_dir / "history.csv")
    final = json.loads((run_dir / "final.json").read_text())
    assert history["epoch"].tolist() == [0, 1, 2]
    assert final["status"] == "completed" and final["run_id"] == run_dir.name
    assert json.loads(final["data_kwargs"]) == {"num_classes": 3, "dim": 6}
    assert main(["train", "--epochs", "0", "--out", str(tmp_path)]) == 2
    assert "epochs must be >= 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "foo"], "unknown device 'foo'"),
        (["--model-kwargs", "[1]"], "model_kwargs must be a JSON object"),
        (
            ["--model-kwargs", '{"foo": 1}'],
            "model 'mlp' does not take ['foo']; its arguments: hidden, in_features",
        ),
        (["--dataset", "mnist", "--data-kwargs", '{"foo": 1}'], "apply to the synthetic datasets"),
        (["--out", "/proc/cannot-be-made"], "cannot write to /proc/cannot-be-made"),
        (["--data-kwargs", "{}"], "missing a required argument: 'num_classes'"),
    ],
)
def test_train_command_line_names_bad_input_on_stderr(args, message, capsys, tmp_path):
    """Issue 11, cases 6, 7, 12: one line on stderr, exit 2, before any training."""
    from nc_core.__main__ import main

    data = '{"num_classes": 3, "dim": 4}'
    base = ["train", "--model", "mlp", "--dataset", "gaussian", "--data-kwargs", data,
            "--epochs", "1", "--no-progress", "--out", str(tmp_path)]  # fmt: skip
    assert main(base + args) == 2
    out = capsys.readouterr()
    assert message in out.err and out.out == "" and "Traceback" not in out.err
    assert not any(tmp_path.iterdir())  # nothing trained or written


def test_cuda_on_a_machine_without_it_is_named(monkeypatch):
    from nc_core.train.engine import check_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available on this machine"):
        check_device("cuda")
    assert check_device("cpu").type == "cpu"


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # truncated
        lambda p: p.write_bytes(b""),  # empty
        lambda p: p.write_bytes(b"garbage, not a checkpoint"),
        lambda p: torch.save({"config": {"another": "run"}}, p),  # someone else's
    ],
)
def test_an_unusable_checkpoint_is_set_aside_and_the_run_starts_over(tmp_path, monkeypatch, damage):
    """Issue 11, case 2: named with its path, moved aside, and the result equals a run from scratch."""
    from nc_core.train.engine import CorruptCheckpointWarning

    cfg = tiny()
    clean = run_training(cfg, progress=False)
    _, original = interrupt_at_epoch(cfg, tmp_path, monkeypatch)
    monkeypatch.setattr(TensorLoader, "set_epoch", original)
    ckpt = tmp_path / f"{cfg.run_id}.pt"
    damage(ckpt)
    with pytest.warns(CorruptCheckpointWarning, match=str(ckpt)):
        again = run_training(cfg, checkpoint_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(results(again), results(clean))
    assert len(list(tmp_path.glob(f"{cfg.run_id}.pt.corrupt-*"))) == 1
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_train_command_line_says_when_a_diverged_runs_metrics_are_from_before(capsys, tmp_path):
    """Issue 11, case 12: a diverged run's record carries the last measurement (here initialisation)."""
    from nc_core.__main__ import main

    data = '{"num_classes": 3, "dim": 4}'
    argv = ["train", "--model", "mlp", "--dataset", "gaussian", "--data-kwargs", data, "--lr", "1e12",
            "--momentum", "0", "--weight-decay", "0", "--epochs", "4", "--no-progress",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    assert "the last measurement before it, epoch 0 (0 = initialisation)" in capsys.readouterr().out
