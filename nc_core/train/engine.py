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

ImageNet, which does not fit in memory, is the exception: it streams from disk through a ``DataLoader``
with torchvision's transforms and worker processes (:class:`~nc_core.data.ImageFolderData`), seeded per
``(seed, epoch)`` like the in-memory loader, and the metric pass reads it the same way.
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
    DEFAULT_N_PER_CLASS,
    FOLDER_DATASETS,
    IMAGE_DATASETS,
    SYNTHETIC_DATASETS,
    SYNTHETIC_SPECS,
    FolderLoader,
    ImageFolderData,
    TensorData,
    TensorLoader,
    folder_dataset_root,
    folder_options_problem,
    gaussian_classes,
    load_dataset,
    load_image_folder,
    separable_data,
    ufm_indices,
)
from ..metrics import NonFiniteError, layer_metrics, stage_outputs
from ..models import FeatureClassifier, make_model, param_groups_for_decay
from ..models.params import param_groups_for_muon
from ..optim import FUSED_NAMES, MUON_NAMES, make_optimizer
from ..provenance import provenance
from .config import RunConfig
from .evaluate import measure
from .schedule import MetricSchedule, make_lr_scheduler

__all__ = ["CorruptCheckpointWarning", "RunResult", "build_data", "check_device", "run_training"]


@dataclass
class RunResult:
    """Outcome of :func:`run_training`.

    Attributes:
        config: the configuration that was run.
        status: ``"completed"`` or ``"diverged"`` (NaN/inf training loss or measurement, or features
            collapsed to one point so that the NC metrics are undefined; the run stopped there).
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
    config: RunConfig, root: str | os.PathLike[str] = "data", *, num_workers: int | None = None
) -> tuple[TensorData | ImageFolderData, TensorData | ImageFolderData | None]:
    """Training and test data for ``config.dataset`` on ``config.device``.

    Image datasets come from ``root`` (see ``python -m nc_core data fetch``); ``subset_per_class``
    takes a balanced seeded subset of the training set and of the test set. Synthetic sets take
    their sizes from ``config.data_kwargs``; ``"ufm"`` has no test set (its inputs are sample indices).
    ImageNet (``"imagenet"``) is streamed, not loaded: it is read from ``data_kwargs["root"]`` or
    ``<root>/imagenet`` (ImageFolder layout, the validation split as test set), at
    ``data_kwargs["image_size"]`` (default 224), with ``num_workers`` DataLoader workers (default
    :func:`~nc_core.data.default_workers`: ``$NC_CORE_DATA_WORKERS`` or ``min(8, CPUs)``).
    """
    name = config.dataset.lower()
    kw = dict(config.data_kwargs)
    if name in FOLDER_DATASETS:
        return _folder_data(config, name, root, kw, num_workers)
    if name in IMAGE_DATASETS and kw:
        raise ValueError(
            f"data_kwargs {kw} apply to the synthetic datasets ({', '.join(SYNTHETIC_DATASETS)}) only, "
            f"not to {config.dataset!r}: use subset_per_class for a smaller image dataset"
        )
    if name in IMAGE_DATASETS:
        common = {"root": root, "device": config.device, "subset_per_class": config.subset_per_class,
                  "copy": config.data_copy}  # fmt: skip
        train = load_dataset(name, train=True, seed=config.seed, **common)
        test = load_dataset(name, train=False, seed=config.seed + 1, **common)
    elif name in SYNTHETIC_SPECS and SYNTHETIC_SPECS[name].per_class:  # test set drawn like the training set
        make = {"separable": separable_data, "gaussian": gaussian_classes}[name]
        n = kw.pop("n_per_class", config.subset_per_class or DEFAULT_N_PER_CLASS)
        try:
            inspect.signature(make).bind(n, seed=config.seed, **kw)
        except TypeError as err:
            raise ValueError(
                f"dataset {name!r}: data_kwargs {kw} do not fit {make.__name__}(): {err}"
            ) from None
        train = make(n, seed=config.seed, **kw).to(config.device)
        test = make(n, seed=config.seed + 10_000, **kw).to(config.device)
    elif name in SYNTHETIC_SPECS:  # the UFM: sized by num_samples, no test set (SyntheticSpec)
        _check_ufm_options(kw)
        train, test = ufm_indices(**kw).to(config.device), None
    else:
        raise ValueError(
            f"unknown dataset {config.dataset!r}; choose from {IMAGE_DATASETS + SYNTHETIC_DATASETS}"
        )
    return train, test


def _check_ufm_options(kw: dict[str, Any]) -> None:
    """Raise a one-line ``ValueError`` unless ``kw`` are the UFM's data options: ``num_samples`` and
    ``num_classes``, both integers (the UFM has no default size)."""
    example = """(e.g. --data-kwargs '{"num_samples": 500, "num_classes": 10}')"""
    needed = ("num_samples", "num_classes")
    if unknown := sorted(set(kw) - set(needed)):
        raise ValueError(f"dataset 'ufm': unknown data_kwargs {unknown}; it takes {list(needed)} {example}")
    if missing := [k for k in needed if k not in kw]:
        raise ValueError(f"dataset 'ufm' needs data_kwargs {missing} {example}")
    for key in needed:
        if not isinstance(kw[key], int) or isinstance(kw[key], bool):
            raise ValueError(
                f"dataset 'ufm': data_kwargs {key} must be an integer, got {kw[key]!r} {example}"
            )


def _folder_data(
    config: RunConfig, name: str, root: str | os.PathLike[str], kw: dict[str, Any], num_workers: int | None
) -> tuple[ImageFolderData, ImageFolderData]:
    """The training and validation splits of a folder dataset (ImageNet), listed, not loaded."""
    if problem := folder_options_problem(name, kw):
        raise ValueError(problem)
    folder = folder_dataset_root(name, root, kw)
    common: dict[str, Any] = {"device": config.device, "subset_per_class": config.subset_per_class,
                              "num_workers": num_workers, "name": name}  # fmt: skip
    if "image_size" in kw:
        common["image_size"] = kw["image_size"]
    train = load_image_folder(folder, train=True, seed=config.seed, **common)
    test = load_image_folder(folder, train=False, seed=config.seed + 1, **common)
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


def _channels_last(data: TensorData | ImageFolderData) -> TensorData | ImageFolderData:
    """Images in channels_last layout (faster convolutions with cuDNN and oneDNN; same values); a streamed
    dataset's batches come in that layout already."""
    if not isinstance(data, TensorData) or data.x.dim() != 4:
        return data
    x = data.x.contiguous(memory_format=torch.channels_last)
    return TensorData(x, data.y, data.num_classes, data.in_channels, data.name)


def _build_model(config: RunConfig, train: TensorData | ImageFolderData) -> FeatureClassifier:
    torch.manual_seed(config.seed)
    model = make_model(  # what a model takes from its data (the UFM's num_samples, ...): the model says
        config.model.lower(), num_classes=train.num_classes, in_channels=train.in_channels,
        width=config.width, data=train, **dict(config.model_kwargs),
    )  # fmt: skip
    model = model.to(config.device)
    if len(train.input_shape) == 3:  # images (C, H, W)
        model = model.to(memory_format=torch.channels_last)
    return model


class CorruptCheckpointWarning(UserWarning):
    """A checkpoint could not be used; it was set aside and the run started from scratch."""


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save ``state`` at ``path`` atomically, with a temporary name unique to this writer: an interrupted
    save never corrupts the previous checkpoint, and two processes never share a temporary file. Written
    through a Python file object, so a full disk is ``OSError(ENOSPC)`` (and then
    :class:`~nc_core.atomic.DiskFullError`, naming the folder), not torch's "unexpected pos"."""

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            torch.save(state, fh)

    atomic_write(path, save)


#: Optimizer group entries that choose torch's implementation (not the update): a resumed run takes the ones
#: its configuration asks for, not the checkpoint's.
_KERNEL_KEYS = ("fused", "foreach")


def _current_kernel(saved: dict[str, Any], optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """An optimizer ``state_dict`` whose groups take ``optimizer``'s implementation (``fused`` / ``foreach``)
    instead of the saved one's (torch's ``load_state_dict`` would otherwise restore the saved one): a run
    resumed with another ``fused_optimizer`` continues with the implementation it was asked for."""
    groups = [
        {**g, **{k: now[k] for k in _KERNEL_KEYS if k in now}}
        for g, now in zip(saved["param_groups"], optimizer.param_groups, strict=False)
    ]
    return {**saved, "param_groups": groups}


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
            part.load_state_dict(_current_kernel(state[key], part) if key == "optimizer" else state[key])
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


@dataclass
class _Run:
    """Everything one training run carries from epoch to epoch (and in its checkpoint)."""

    config: RunConfig
    device: torch.device
    train: TensorData | ImageFolderData
    test: TensorData | ImageFolderData | None
    model: FeatureClassifier
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    per_step: bool  # the LR schedule steps per optimizer step (else per epoch)
    loader: TensorLoader | FolderLoader
    rows: list[dict[str, Any]]
    status: str = "running"
    elapsed: float = 0.0
    metric_seconds: float = 0.0
    next_epoch: int = 0

    def parts(self) -> dict[str, Any]:
        return {"model": self.model, "optimizer": self.optimizer, "scheduler": self.scheduler}


def _fused(config: RunConfig) -> bool:
    """Whether ``config``'s optimizer runs torch's fused kernel (asked for and available for its name)."""
    return config.fused_optimizer and config.optimizer.strip().lower() in FUSED_NAMES


def _setup(config: RunConfig, data: tuple[TensorData, TensorData | None]) -> _Run:
    """Model, optimizer, LR schedule and loader of ``config``, before any step."""
    device = check_device(config.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    train, test = _channels_last(data[0]), _channels_last(data[1]) if data[1] is not None else None
    model = _build_model(config, train)
    if config.optimizer.strip().lower() in MUON_NAMES:  # role-tagged groups: Muon / AdamW split
        params = param_groups_for_muon(
            model, config.weight_decay, decay_norm_and_bias=config.decay_norm_and_bias
        )
    else:
        params = (
            param_groups_for_decay(model, config.weight_decay)
            if not config.decay_norm_and_bias
            else model.parameters()
        )
    optimizer = make_optimizer(
        config.optimizer, params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay,
        coupled_weight_decay=config.coupled_weight_decay, beta2=config.beta2, fused=_fused(config) or None,
    )  # fmt: skip
    loader = (
        TensorLoader(train, batch_size=config.batch_size, shuffle=True, seed=config.seed)
        if isinstance(train, TensorData)
        else train.loader(config.batch_size, shuffle=True, seed=config.seed)  # streamed (ImageNet)
    )
    scheduler, unit = make_lr_scheduler(
        optimizer, config.lr_schedule, epochs=config.epochs, steps_per_epoch=len(loader)
    )
    return _Run(config, device, train, test, model, optimizer, scheduler, unit == "step", loader, rows=[])


def _resume(run: _Run, path: Path) -> None:
    """Continue ``run`` from its checkpoint at ``path`` if there is a usable one."""
    state = _restore(path, run.config, run.device, run.parts()) if path.exists() else None
    if state is not None:
        run.rows, run.next_epoch, run.status = state["rows"], state["epoch"] + 1, state["status"]
        run.elapsed, run.metric_seconds = state["elapsed"], state["metric_seconds"]


def _checkpoint(run: _Run, path: Path | None, epoch: int) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _save_checkpoint(path, {
            "config": run.config.identity(), "epoch": epoch, "status": run.status, "rows": run.rows,
            **{key: part.state_dict() for key, part in run.parts().items()},
            "elapsed": run.elapsed, "metric_seconds": run.metric_seconds,
        })  # fmt: skip


def _set_optimizer_mode(optimizer: torch.optim.Optimizer, training: bool) -> None:
    """``optimizer.train()`` / ``.eval()`` where it has them (schedule-free optimizers: the parameters
    hold the gradient point ``y`` in train mode and the average ``x`` in eval mode; the mode is saved in
    the optimizer's state, so a checkpoint resumes in the mode it was written in). A no-op otherwise."""
    switch = getattr(optimizer, "train" if training else "eval", None)
    if callable(switch):
        switch()


def _measure(run: _Run) -> dict[str, float]:
    """The measurement pass (float32 even for bf16 runs), timed; a schedule-free optimizer is put in
    eval mode first, so the averaged weights are measured (and then checkpointed)."""
    _set_optimizer_mode(run.optimizer, training=False)
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)
    t0 = time.perf_counter()
    result = measure(run.model, run.train, run.test, batch_size=run.config.eval_batch_size)
    seconds = time.perf_counter() - t0
    run.metric_seconds += seconds
    return {**result, "measure_seconds": seconds}


def _train_epoch(run: _Run, step_model: torch.nn.Module, epoch: int) -> dict[str, Any]:
    """One pass over the training set; the only host sync is reading the summed loss at the end."""
    t0 = time.perf_counter()
    run.model.train()
    _set_optimizer_mode(run.optimizer, training=True)
    run.loader.set_epoch(epoch)
    lr = run.optimizer.param_groups[0]["lr"]
    loss_sum = torch.zeros((), dtype=torch.float32, device=run.device)
    correct = torch.zeros((), dtype=torch.int64, device=run.device)
    for x, y in run.loader:
        with torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=run.config.bf16):
            logits = step_model(x)
            loss = F.cross_entropy(logits.float(), y)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()
        if run.per_step:
            run.scheduler.step()
        loss_sum += loss.detach() * len(y)
        correct += (logits.argmax(dim=1) == y).sum()
    if not run.per_step:
        run.scheduler.step()
    running_loss = float(loss_sum) / len(run.train)
    seconds = time.perf_counter() - t0
    run.elapsed += seconds
    return {"epoch": epoch, "lr": lr, "epoch_seconds": seconds, "running_loss": running_loss,
            "running_acc": float(correct) / len(run.train)}  # fmt: skip


def run_training(
    config: RunConfig,
    *,
    data_root: str | os.PathLike[str] = "data",
    checkpoint_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    data: tuple[TensorData | ImageFolderData, TensorData | ImageFolderData | None] | None = None,
) -> RunResult:
    """Train ``config`` and return its history and final record.

    The loop: measure at initialisation; then per epoch, train, and at the epochs of
    :func:`metric_epochs` measure and checkpoint. A non-finite training loss or measurement
    (:class:`~nc_core.metrics.NonFiniteError`) ends the run as ``"diverged"``; any other error raises.

    Args:
        config: the run.
        data_root: folder holding the datasets.
        checkpoint_dir: if given, ``<dir>/<run_id>.pt`` is written after every measured epoch and at
            the end; a later call with the same config resumes from it (a finished run returns its
            stored result without training).
        progress: show a tqdm bar over epochs.
        data: pre-built ``(train, test)`` to skip :func:`build_data` (sweeps reuse loaded data).
    """
    run = _setup(config, data if data is not None else build_data(config, data_root))
    if config.layer_metrics:
        stage_outputs(run.model)  # a model without stages fails here, before any training
    path = Path(checkpoint_dir) / f"{config.run_id}.pt" if checkpoint_dir is not None else None
    if path is not None:
        _resume(run, path)
    # lazy: a run of a billion epochs allocates nothing up front
    measured = MetricSchedule(config.epochs, every=config.metric_every, log_points=config.metric_log_points)
    step_model = torch.compile(run.model) if config.compile else run.model
    if run.next_epoch == 0:
        run.rows.append({"epoch": 0, "lr": run.optimizer.param_groups[0]["lr"], **_measure(run)})
        run.next_epoch = 1
    bar = tqdm(range(run.next_epoch, config.epochs + 1), disable=not progress or run.status != "running",
               desc=f"{config.model}/{config.dataset}/{config.optimizer}", unit="epoch")  # fmt: skip
    for epoch in bar if run.status == "running" else ():
        row = _train_epoch(run, step_model, epoch)
        if not math.isfinite(row["running_loss"]):
            run.status = "diverged"
        elif epoch in measured:
            try:
                row.update(_measure(run))
            except NonFiniteError as err:  # NaN/inf features or weights: diverged (any other error raises)
                row["error"] = str(err)
                run.status = "diverged"
        run.rows.append(row)
        bar.set_postfix(loss=f"{row['running_loss']:.4g}", acc=f"{row['running_acc']:.3f}")
        if run.status == "diverged" or epoch == config.epochs:
            run.status = "diverged" if run.status == "diverged" else "completed"
            _checkpoint(run, path, epoch)
            break
        if epoch in measured:
            _checkpoint(run, path, epoch)
    bar.close()
    history = pd.DataFrame(run.rows)
    final = _final_record(config, run.status, history, run.elapsed, run.metric_seconds)
    final["fused_optimizer"] = bool(run.optimizer.param_groups[0].get("fused"))  # what actually ran
    if config.layer_metrics and run.status == "completed":
        final.update(_layer_record(run))
    return RunResult(config, run.status, history, final)


def _layer_record(run: _Run) -> dict[str, Any]:
    """The per-stage NC1 / NC2 / NCC accuracy of the trained model on the training set
    (:func:`~nc_core.metrics.layer_metrics`) as a JSON list of row dicts, ``layer_metrics_json``, and the
    pass's wall time, ``layer_seconds``. The weights measured are those of the last-layer metrics (a
    schedule-free optimizer in eval mode: its averaged weights)."""
    _set_optimizer_mode(run.optimizer, training=False)
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)
    t0 = time.perf_counter()
    table = layer_metrics(run.model, run.train, batch_size=run.config.eval_batch_size)
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)
    seconds = time.perf_counter() - t0
    return {"layer_metrics_json": json.dumps(table.to_dict(orient="records")), "layer_seconds": seconds}


def measured_rows(history: pd.DataFrame) -> pd.DataFrame:
    """The rows of a history at which the metrics were measured: those with a measurement time or an NC1
    (NC1 alone does not tell: it is NaN where it is undefined, e.g. one sample per class)."""
    cols = [c for c in ("measure_seconds", "NC1") if c in history]
    return history[history[cols].notna().any(axis=1)] if cols else history.iloc[:0]


def _final_record(
    config: RunConfig, status: str, history: pd.DataFrame, elapsed: float, metric_seconds: float
) -> dict[str, Any]:
    measured = measured_rows(history)
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
