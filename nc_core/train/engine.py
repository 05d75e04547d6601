"""Run one configuration of the paper's protocol end to end (Section 3.1, Appendix D.1).

``run_training(config)`` trains with minibatch cross-entropy, measures the NC metrics on the schedule
of :func:`metric_epochs` in a separate eval-mode pass, detects divergence, checkpoints so an
interrupted run resumes exactly, and returns a tidy per-epoch history and a final record.

Speed without changing the maths: the data lives on the training device as normalised tensors and is
batched by index (no DataLoader workers, no per-sample transforms); inside an epoch nothing waits
for the device (losses are summed on the device and read once per epoch); conv nets run in
channels_last (oneDNN on CPU gains ~25% from it, cuDNN on CUDA more) with cuDNN autotuning,
optionally under ``torch.compile``; bf16 autocast of the training steps is opt-in (``bf16``; the metric
passes stay float32 with float64 accumulation).
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..atomic import atomic_write
from ..data import (
    IMAGE_DATASETS,
    SYNTHETIC_DATASETS,
    TensorData,
    TensorLoader,
    gaussian_classes,
    load_dataset,
    separable_data,
    ufm_indices,
)
from ..metrics import NonFiniteError
from ..models import FeatureClassifier, make_model, param_groups_for_decay
from ..optim import make_optimizer
from ..provenance import provenance
from .config import RunConfig
from .evaluate import measure
from .schedule import make_lr_scheduler, metric_epochs

__all__ = ["CorruptCheckpointWarning", "RunResult", "build_data", "check_device", "run_training"]


@dataclass
class RunResult:
    """Outcome of :func:`run_training`.

    Attributes:
        config: the configuration that was run.
        status: ``"completed"`` or ``"diverged"`` (NaN/inf training loss; the run stopped there).
        history: one row per epoch (0 = initialisation); NC metric columns are filled at the
            measured epochs and NaN elsewhere.
        final: config identity, status, last and initial (``init_`` prefix) measurements, timings,
            provenance. One flat dict: a row of the results table.
    """

    config: RunConfig
    status: str
    history: pd.DataFrame
    final: dict[str, Any]


def build_data(
    config: RunConfig, root: str | os.PathLike[str] = "data"
) -> tuple[TensorData, TensorData | None]:
    """Training and test data for ``config.dataset`` on ``config.device``.

    Image datasets come from ``root`` (see ``python -m nc_core data fetch``); ``subset_per_class``
    takes a balanced seeded subset of the training set and of the test set. Synthetic sets take
    their sizes from ``config.data_kwargs``; ``"ufm"`` has no test set (its inputs are sample indices).
    """
    name = config.dataset.lower()
    kw = dict(config.data_kwargs)
    if name in IMAGE_DATASETS and kw:
        raise ValueError(
            f"data_kwargs {kw} apply to the synthetic datasets ({', '.join(SYNTHETIC_DATASETS)}) only, "
            f"not to {config.dataset!r}: use subset_per_class for a smaller image dataset"
        )
    if name in IMAGE_DATASETS:
        common = {"root": root, "device": config.device, "subset_per_class": config.subset_per_class}
        train = load_dataset(name, train=True, seed=config.seed, **common)
        test = load_dataset(name, train=False, seed=config.seed + 1, **common)
    elif name in ("separable", "gaussian"):
        make = separable_data if name == "separable" else gaussian_classes
        n = kw.pop("n_per_class", config.subset_per_class or 100)
        try:
            inspect.signature(make).bind(n, seed=config.seed, **kw)
        except TypeError as err:
            raise ValueError(
                f"dataset {name!r}: data_kwargs {kw} do not fit {make.__name__}(): {err}"
            ) from None
        train = make(n, seed=config.seed, **kw).to(config.device)
        test = make(n, seed=config.seed + 10_000, **kw).to(config.device)
    elif name == "ufm":
        train, test = ufm_indices(**kw).to(config.device), None
    else:
        raise ValueError(
            f"unknown dataset {config.dataset!r}; choose from {IMAGE_DATASETS + SYNTHETIC_DATASETS}"
        )
    return train, test


def check_device(name: str) -> torch.device:
    """``torch.device(name)``, or a ``ValueError`` saying why it cannot be used here (not a device name;
    CUDA asked for on a machine without it)."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {name!r} (e.g. 'cpu', 'cuda', 'cuda:1'): {err}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: CUDA is not available on this machine (use --device cpu)")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r}: only 'cpu' and 'cuda' are supported")
    return device


def _channels_last(data: TensorData) -> TensorData:
    """Images in channels_last layout (faster convolutions with cuDNN and oneDNN; same values)."""
    if data.x.dim() != 4:
        return data
    x = data.x.contiguous(memory_format=torch.channels_last)
    return TensorData(x, data.y, data.num_classes, data.in_channels, data.name)


def _build_model(config: RunConfig, train: TensorData) -> FeatureClassifier:
    kwargs = dict(config.model_kwargs)
    name = config.model.lower()
    if name == "ufm":
        kwargs.setdefault("num_samples", len(train))
    if name == "mlp" and train.x.dim() == 2:
        kwargs.setdefault("in_features", train.x.shape[1])
    torch.manual_seed(config.seed)
    model = make_model(
        name, num_classes=train.num_classes, in_channels=train.in_channels, width=config.width, **kwargs
    )
    model = model.to(config.device)
    if train.x.dim() == 4:
        model = model.to(memory_format=torch.channels_last)
    return model


class CorruptCheckpointWarning(UserWarning):
    """A checkpoint could not be used; it was set aside and the run started from scratch."""


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    # atomic, with a temporary name unique to this writer: an interrupted save never corrupts the previous
    # checkpoint, and two processes never share a temporary file
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def _restore(
    path: Path, config: RunConfig, device: torch.device, parts: dict[str, Any]
) -> dict[str, Any] | None:
    """The checkpoint at ``path`` loaded into ``parts`` (model, optimizer, scheduler), or ``None`` after
    setting an unusable one (truncated, not a checkpoint, another configuration's) aside with a warning
    that names it: the run then starts from scratch instead of failing on every retry."""
    fresh = {key: copy.deepcopy(part.state_dict()) for key, part in parts.items()}
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        if not isinstance(state, dict) or state.get("config") != config.identity():
            raise ValueError("it is not a checkpoint of this run's configuration")
        for key, part in parts.items():
            part.load_state_dict(state[key])
        return state
    except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is set aside, never fatal
        for key, part in parts.items():  # undo a partial load: the run starts from its initialisation
            part.load_state_dict(fresh[key])
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        os.replace(path, aside)
        warnings.warn(
            f"checkpoint {path} could not be used ({type(err).__name__}: {err}); set aside as {aside.name}, "
            "the run starts from scratch",
            CorruptCheckpointWarning,
            stacklevel=3,
        )
        return None


def run_training(
    config: RunConfig,
    *,
    data_root: str | os.PathLike[str] = "data",
    checkpoint_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    data: tuple[TensorData, TensorData | None] | None = None,
) -> RunResult:
    """Train ``config`` and return its history and final record.

    Args:
        config: the run.
        data_root: folder holding the datasets.
        checkpoint_dir: if given, ``<dir>/<run_id>.pt`` is written after every measured epoch and at
            the end; a later call with the same config resumes from it (a finished run returns its
            stored result without training).
        progress: show a tqdm bar over epochs.
        data: pre-built ``(train, test)`` to skip :func:`build_data` (sweeps reuse loaded data).
    """
    device = check_device(config.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    ckpt_path = Path(checkpoint_dir) / f"{config.run_id}.pt" if checkpoint_dir is not None else None
    train, test = data if data is not None else build_data(config, data_root)
    train, test = _channels_last(train), _channels_last(test) if test is not None else None
    model = _build_model(config, train)
    params = (
        param_groups_for_decay(model, config.weight_decay)
        if not config.decay_norm_and_bias
        else model.parameters()
    )
    optimizer = make_optimizer(
        config.optimizer, params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay,
        coupled_weight_decay=config.coupled_weight_decay, beta2=config.beta2,
    )  # fmt: skip
    loader = TensorLoader(train, batch_size=config.batch_size, shuffle=True, seed=config.seed)
    scheduler, sched_unit = make_lr_scheduler(
        optimizer, config.lr_schedule, epochs=config.epochs, steps_per_epoch=len(loader)
    )
    measured = set(
        metric_epochs(config.epochs, every=config.metric_every, log_points=config.metric_log_points)
    )
    rows: list[dict[str, Any]] = []
    start_epoch, status, elapsed, metric_seconds = 0, "running", 0.0, 0.0

    parts = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    state = (
        _restore(ckpt_path, config, device, parts) if ckpt_path is not None and ckpt_path.exists() else None
    )
    if state is not None:
        rows, start_epoch, status = state["rows"], state["epoch"] + 1, state["status"]
        elapsed, metric_seconds = state["elapsed"], state["metric_seconds"]

    step_model = torch.compile(model) if config.compile else model

    def timed_measure() -> dict[str, float]:
        nonlocal metric_seconds
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        result = measure(model, train, test, batch_size=config.eval_batch_size)  # float32, even for bf16 runs
        seconds = time.perf_counter() - t0
        metric_seconds += seconds
        return {**result, "measure_seconds": seconds}

    def checkpoint(epoch: int) -> None:
        if ckpt_path is not None:
            ckpt_path.parent.mkdir(parents=True, exist_ok=True)
            _save_checkpoint(ckpt_path, {
                "config": config.identity(), "epoch": epoch, "status": status, "rows": rows,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "elapsed": elapsed, "metric_seconds": metric_seconds,
            })  # fmt: skip

    if start_epoch == 0:
        rows.append({"epoch": 0, "lr": optimizer.param_groups[0]["lr"], **timed_measure()})
        start_epoch = 1
    bar = tqdm(range(start_epoch, config.epochs + 1), disable=not progress or status != "running",
               desc=f"{config.model}/{config.dataset}/{config.optimizer}", unit="epoch")  # fmt: skip
    for epoch in bar if status == "running" else ():
        t0 = time.perf_counter()
        model.train()
        loader.set_epoch(epoch)
        lr = optimizer.param_groups[0]["lr"]
        loss_sum = torch.zeros((), dtype=torch.float32, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        for x, y in loader:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
                logits = step_model(x)
                loss = F.cross_entropy(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if sched_unit == "step":
                scheduler.step()
            loss_sum += loss.detach() * len(y)
            correct += (logits.argmax(dim=1) == y).sum()
        if sched_unit == "epoch":
            scheduler.step()
        running_loss = float(loss_sum) / len(train)  # the one host sync of the epoch
        epoch_seconds = time.perf_counter() - t0
        elapsed += epoch_seconds
        row = {
            "epoch": epoch,
            "lr": lr,
            "epoch_seconds": epoch_seconds,
            "running_loss": running_loss,
            "running_acc": float(correct) / len(train),
        }
        if not math.isfinite(running_loss):
            status = "diverged"
        elif epoch in measured:
            try:
                row.update(timed_measure())
            except NonFiniteError as err:  # NaN/inf features or weights: diverged (any other error raises)
                row["error"] = str(err)
                status = "diverged"
        rows.append(row)
        bar.set_postfix(loss=f"{running_loss:.4g}", acc=f"{row['running_acc']:.3f}")
        if status == "diverged" or epoch == config.epochs:
            status = "diverged" if status == "diverged" else "completed"
            checkpoint(epoch)
            break
        if epoch in measured:
            checkpoint(epoch)
    bar.close()
    history = pd.DataFrame(rows)
    return RunResult(config, status, history, _final_record(config, status, history, elapsed, metric_seconds))


def _final_record(
    config: RunConfig, status: str, history: pd.DataFrame, elapsed: float, metric_seconds: float
) -> dict[str, Any]:
    measured = history.dropna(subset=["NC1"]) if "NC1" in history else history.iloc[:0]
    last = measured.iloc[-1].to_dict() if len(measured) else {}
    first = measured.iloc[0].to_dict() if len(measured) else {}
    identity = {
        k: json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for k, v in config.identity().items()
    }
    record: dict[str, Any] = {"run_id": config.run_id, **identity, "status": status}
    record["epochs_completed"] = int(history["epoch"].max())
    per_epoch = ("lr", "epoch_seconds", "measure_seconds", "running_loss", "running_acc")
    record.update({k: v for k, v in last.items() if k not in per_epoch})
    record["measured_epoch"] = record.pop("epoch", None)
    record.update({f"init_{k}": v for k, v in first.items() if k.startswith("NC")})
    record.update({"train_seconds": elapsed, "metric_seconds": metric_seconds, "device": config.device})
    record.update(provenance(config.device))
    return record
