"""Running a sweep: one run per task writing its own record; ``local`` (in-process or a process pool)
and ``ray`` backends; the cost model behind ``sweep plan``."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..atomic import atomic_write, remove_stale_temporaries
from ..data import IMAGE_DATASETS, check_dataset
from ..provenance import git_commit
from ..train.config import RunConfig
from ..train.schedule import metric_epochs
from .grids import Grid, PlannedRun, get_grid
from .store import DEFAULT_ROOT, ResultStore, dataset_version

__all__ = ["BACKENDS", "check_datasets", "check_runnable", "estimate", "pending_runs", "run_one", "run_sweep"]

BACKENDS = ("local", "ray")


# -- checks before anything runs -------------------------------------------------------------------------


def check_runnable(grid: Grid) -> None:
    """Raise ``ValueError`` for a grid marked as needing what the project does not have."""
    if not grid.runnable:
        raise ValueError(f"grid {grid.name!r} cannot be run here: it needs {grid.requires}")


def check_datasets(runs: Iterable[PlannedRun], data_root: str | os.PathLike[str] = "data") -> None:
    """Raise ``ValueError`` if an image dataset the runs need is not present and verified in ``data_root``."""
    for name in sorted({r.config.dataset for r in runs}):
        if name not in IMAGE_DATASETS:
            continue
        status = check_dataset(name, data_root)
        if not status.ok:
            raise ValueError(
                f"dataset {name!r} is not available under {data_root} ({status.summary()}); "
                f"fetch it with `python -m nc_core data fetch {name} --root {data_root}`"
            )


# -- one run ---------------------------------------------------------------------------------------------


def _log(fh: Any, message: str) -> None:
    fh.write(f"[{datetime.now(UTC).isoformat(timespec='seconds')}] {message}\n")
    fh.flush()


def run_one(
    planned: PlannedRun,
    *,
    root: str | os.PathLike[str] = DEFAULT_ROOT,
    data_root: str | os.PathLike[str] = "data",
    device: str | None = None,
    threads: int | None = None,
    planned_at: float | None = None,
) -> dict[str, Any]:
    """Train one planned run and write its record; never raises for a failing run.

    The run checkpoints into ``<root>/<grid>/checkpoints`` (an interrupted run resumes there), writes
    its history and final record atomically, then deletes its checkpoint. A run that raises leaves an
    error marker (``failed/<run_id>.json``) and is retried by the next sweep. Everything is logged to
    ``logs/<run_id>.log``.

    ``threads`` sets torch's CPU threads for the run; the caller's setting is restored afterwards. The run
    is claimed first (:meth:`ResultStore.claim`): a run another live process is training is left to it
    (status ``"claimed elsewhere"``), and one recorded by another process after ``planned_at`` (the
    sweep's planning time) is not trained again (``"done elsewhere"``).

    Returns:
        ``{"run_id", "status" ("completed" | "diverged" | "failed"), "seconds", "error"?, ...}``.
    """
    import torch

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        return _run_one(planned, root, data_root, device, planned_at)
    finally:  # a caller's thread count (a notebook, a test) is theirs: restore it
        torch.set_num_threads(previous)


def _run_one(
    planned: PlannedRun,
    root: str | os.PathLike[str],
    data_root: str | os.PathLike[str],
    device: str | None,
    planned_at: float | None,
) -> dict[str, Any]:
    store = ResultStore(planned.grid, Path(root))
    config = planned.config if device is None else planned.config.replace(device=device)
    run_id = config.run_id
    if not store.claim(run_id):  # another live process is training it
        return {"run_id": run_id, "status": "claimed elsewhere", "seconds": 0.0}
    try:
        final = store.final_path(run_id)
        if planned_at is not None and final.exists() and final.stat().st_mtime > planned_at:
            # recorded by another process after this sweep planned it (a rerun of an older record goes on)
            return {"run_id": run_id, "status": "done elsewhere", "seconds": 0.0}
        return _train_and_record(planned, store, config, data_root)
    finally:
        store.release(run_id)


def _train_and_record(
    planned: PlannedRun, store: ResultStore, config: RunConfig, data_root: str | os.PathLike[str]
) -> dict[str, Any]:
    from ..train import run_training

    run_id = config.run_id
    log_path = store.log_path(run_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(log_path, "a") as log:
        _log(log, f"start {run_id} grid={planned.grid} v{planned.grid_version} profile={planned.profile} "
                  f"pid={os.getpid()} host={socket.gethostname()} device={config.device}")  # fmt: skip
        _log(log, "config " + json.dumps(config.identity(), sort_keys=True, default=str))
        _log(log, "profile overrides " + planned.overrides_json())
        if store.checkpoint_path(run_id).exists():
            _log(log, f"resuming from checkpoint {store.checkpoint_path(run_id)}")
        try:
            result = run_training(
                config, data_root=data_root, checkpoint_dir=store.checkpoint_dir, progress=False
            )
            store.write(planned, result.history, result.final)
        except Exception as err:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
            tb = traceback.format_exc()
            _log(log, f"FAILED {type(err).__name__}: {err}\n{tb}")
            marker = store.failed_path(run_id)
            marker.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"run_id": run_id, "error": f"{type(err).__name__}: {err}", "traceback": tb})
            atomic_write(marker, lambda tmp: tmp.write_text(text))
            return {"run_id": run_id, "status": "failed", "error": f"{type(err).__name__}: {err}",
                    "seconds": time.perf_counter() - t0}  # fmt: skip
        store.checkpoint_path(run_id).unlink(missing_ok=True)
        store.failed_path(run_id).unlink(missing_ok=True)
        measured = (
            result.history.dropna(subset=["NC1"]) if "NC1" in result.history else result.history.iloc[:0]
        )
        for _, row in measured.iterrows():
            metrics = " ".join(
                f"{k}={row[k]:.4g}" for k in ("train_acc", "NC0", "NC1", "NC2", "NC3") if k in row
            )
            _log(log, f"epoch {int(row['epoch'])}: {metrics}")
        seconds = time.perf_counter() - t0
        _log(log, f"done {result.status} in {seconds:.1f} s -> {store.final_path(run_id)}")
    return {"run_id": run_id, "status": result.status, "seconds": seconds,
            "train_acc": result.final.get("train_acc", float("nan"))}  # fmt: skip


# -- a sweep ---------------------------------------------------------------------------------------------


def pending_runs(
    grid: Grid, profile: str, *, root: str | os.PathLike[str] = DEFAULT_ROOT, retry_diverged: bool = False,
    where: Mapping[str, Iterable[Any]] | None = None,
) -> tuple[list[PlannedRun], dict[str, int], dict[str, str]]:  # fmt: skip
    """The runs of ``grid`` at ``profile`` (``where``: see :meth:`Grid.expand`) still to do, the state
    counts, and problems (run id -> detail).

    Done are completed runs and diverged ones (unless ``retry_diverged``); corrupt, stale
    (other dataset version), failed, interrupted and new runs are to do.
    """
    store = ResultStore(grid.name, Path(root))
    todo, counts, problems = [], Counter(), {}
    skip = {"completed"} | (set() if retry_diverged else {"diverged"})
    for run in grid.expand(profile, where):
        state, detail = store.record_state(run.run_id, dataset_version(run.config))
        counts[state] += 1
        if detail:
            problems[run.run_id] = f"{state}: {detail}"
        if state not in skip:
            todo.append(run)
        elif state in ("completed", "diverged"):  # killed between writing the record and cleaning up
            store.checkpoint_path(run.run_id).unlink(missing_ok=True)
    return todo, dict(counts), problems


def _ray_tasks(
    runs: list[PlannedRun], kwargs: dict[str, Any], *, address: str | None, num_cpus: int | None,
    cpus_per_run: int, runs_per_gpu: int, on_done: Callable[[dict[str, Any]], None],
) -> None:  # fmt: skip
    import ray

    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False)
        started = True
    try:
        num_gpus = 1.0 / runs_per_gpu if kwargs.get("device") == "cuda" else 0
        task = ray.remote(num_cpus=cpus_per_run, num_gpus=num_gpus)(run_one)
        pending = [task.remote(run, threads=cpus_per_run, **kwargs) for run in runs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                on_done(ray.get(ref))
    finally:
        if started:
            ray.shutdown()


def run_sweep(
    grid: str | Path | Grid,
    profile: str = "paper",
    *,
    root: str | os.PathLike[str] = DEFAULT_ROOT,
    data_root: str | os.PathLike[str] = "data",
    backend: str = "local",
    workers: int = 1,
    device: str = "cpu",
    max_runs: int | None = None,
    retry_diverged: bool = False,
    ray_address: str | None = None,
    ray_num_cpus: int | None = None,
    cpus_per_run: int = 1,
    runs_per_gpu: int = 1,
    threads: int | None = None,
    progress: bool = True,
    where: Mapping[str, Iterable[Any]] | None = None,
) -> dict[str, Any]:
    """Run the pending runs of ``grid`` at ``profile``; every run writes its own record.

    Everything is validated first (grid, profile, backend, device, datasets); then the runs that are
    not done (see :func:`pending_runs`) run, at most ``max_runs`` of them.

    Args:
        backend: ``"local"`` (in this process, or a spawn process pool with ``workers > 1``) or ``"ray"``
            (one Ray task per run on a local instance with ``ray_num_cpus`` CPUs, or on the cluster at
            ``ray_address``; ``cpus_per_run`` CPUs and ``1/runs_per_gpu`` GPU per task).
        device: ``"cpu"`` or ``"cuda"`` (an execution field: not part of the run id).
        threads: torch CPU threads per run (local backend; Ray tasks use ``cpus_per_run``).
        where: run only a slice of the grid, e.g. ``{"model": ["vgg9"], "dataset": ["mnist"]}`` (see
            :meth:`Grid.expand`).

    Returns:
        ``{"planned", "skipped", "todo", "ran", "statuses": {status: n}, "problems"}``.

    Raises:
        ValueError: invalid grid / profile / backend / device, a grid that needs what the project
            lacks, or an image dataset that is not available -- before anything runs.
    """
    g = get_grid(grid)
    check_runnable(g)
    runs = g.expand(profile, where)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available() and not ray_address:
            raise ValueError("device 'cuda' requested but no CUDA device is available")
    if workers < 1 or cpus_per_run < 1 or runs_per_gpu < 1:
        raise ValueError("workers, cpus_per_run and runs_per_gpu must be >= 1")
    if max_runs is not None and max_runs < 0:
        raise ValueError(f"max_runs must be >= 0, got {max_runs}")
    check_datasets(runs, data_root)
    store = ResultStore(g.name, Path(root))
    for folder in (store.folder, store.checkpoint_dir):  # left by a kill or a full disk (hours old)
        for tmp in remove_stale_temporaries(folder) if folder.is_dir() else []:
            print(f"removed the stale temporary file {tmp}", flush=True)
    planned_at = time.time()
    # every record of this sweep names the code it started with, whatever happens to the tree meanwhile
    os.environ.setdefault("NC_CORE_GIT_COMMIT", git_commit())
    todo, counts, problems = pending_runs(g, profile, root=root, retry_diverged=retry_diverged, where=where)
    for run_id, detail in problems.items():
        if detail.startswith(("corrupt", "stale")):
            print(f"warning: {run_id} {detail}; it will be rerun", flush=True)
    if max_runs is not None:
        todo = todo[:max_runs]
    # absolute paths: Ray workers and pool processes need not share this working directory
    kwargs = {
        "root": str(Path(root).resolve()),
        "data_root": str(Path(data_root).resolve()),
        "device": device,
        "planned_at": planned_at,
    }
    statuses: Counter[str] = Counter()
    bar = tqdm(total=len(todo), desc=f"{g.name}/{profile}", unit="run", disable=not progress)

    def on_done(out: dict[str, Any]) -> None:
        statuses[out["status"]] += 1
        if out["status"] == "failed":
            tqdm.write(f"{out['run_id']} failed: {out.get('error')}")
        bar.update(1)
        bar.set_postfix({k: v for k, v in statuses.items()})

    try:
        if not todo:
            pass
        elif backend == "ray":
            _ray_tasks(todo, kwargs, address=ray_address, num_cpus=ray_num_cpus, cpus_per_run=cpus_per_run,
                       runs_per_gpu=runs_per_gpu, on_done=on_done)  # fmt: skip
        elif workers == 1:
            for run in todo:
                on_done(run_one(run, threads=threads, **kwargs))
        else:
            per_worker = threads or max(1, (os.cpu_count() or 1) // workers)
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = [pool.submit(run_one, run, threads=per_worker, **kwargs) for run in todo]
                for fut in as_completed(futures):
                    on_done(fut.result())
    finally:
        bar.close()
    done = counts.get("completed", 0) + (0 if retry_diverged else counts.get("diverged", 0))
    return {"planned": len(runs), "skipped": done, "todo": len(todo), "ran": sum(statuses.values()),
            "statuses": dict(statuses), "problems": problems}  # fmt: skip


# -- cost model ------------------------------------------------------------------------------------------

#: Measured: full-width ResNet9, full FashionMNIST (60,000 images), batch 128, one H100: 2.5-2.8 s per
#: epoch; one NC-metric pass (train + test, 70,000 images) ~0.6 s (benchmarks/results/h100-2026-11-23/).
GPU_EPOCH_SECONDS_PER_IMAGE = 2.65 / 60_000
GPU_MEASURE_SECONDS_PER_IMAGE = 0.6 / 70_000
#: GPU cost is scaled by width^2 but never below this factor (small models do not fill an H100).
GPU_MIN_WIDTH_FACTOR = 1 / 16
#: Measured on 2 CPU cores: ResNet9 width 1/8 ~1600 training images/s, width 1/16 ~2300 images/s.
#: Fit seconds/image = a + b * width^2 through both points (a: per-image overhead, b: compute).
CPU_A = (4 / 2300 - 1 / 1600) / 3
CPU_B = (1 / 1600 - CPU_A) * 64
#: Cost per image relative to ResNet9 (assumed, not measured, except resnet9 itself).
MODEL_FACTORS = {"resnet9": 1.0, "vgg9": 1.0, "vit": 2.0, "mlp": 0.02, "ufm": 0.02, "resnet50": 7.5}
#: Fixed cost per run (measured: loading FashionMNIST into tensors ~2.4 s on the CPU; model setup).
RUN_OVERHEAD_SECONDS = 3.0
#: dataset -> (training images, test images, classes)
_SIZES = {
    "mnist": (60_000, 10_000, 10),
    "fashionmnist": (60_000, 10_000, 10),
    "cifar10": (50_000, 10_000, 10),
    "imagenet": (1_281_167, 50_000, 1000),
}

ESTIMATE_METHOD = (
    "seconds/run = epochs x train images x s/image "
    "+ measured epochs x (train + test images) x s/image(eval). "
    "GPU: s/image from full-width ResNet9 on FashionMNIST on one H100 (2.65 s/epoch for 60,000 images, "
    "0.6 s per metric pass over 70,000), times max(width^2, 1/16) and a per-model factor "
    f"{MODEL_FACTORS} (only ResNet9 measured). CPU (2 cores): s/image = a + b*width^2 fitted to ResNet9 at "
    "width 1/8 (1600 images/s) and 1/16 (2300 images/s), the same model factors, evaluation at 1/3 of the "
    "training cost. Plus 3 s per run for loading the data; batch size and compile time are ignored."
)


def _data_sizes(config: Any) -> tuple[int, int]:
    name = config.dataset
    kw = config.data_kwargs
    if name in _SIZES:
        n_train, n_test, k = _SIZES[name]
        if config.subset_per_class:
            return min(n_train, config.subset_per_class * k), min(n_test, config.subset_per_class * k)
        return n_train, n_test
    if name == "ufm":
        return int(kw.get("num_samples", 10_000)), 0
    n = int(kw.get("n_per_class", config.subset_per_class or 100)) * int(kw.get("num_classes", 10))
    return n, n


def estimate(runs: Iterable[PlannedRun]) -> dict[str, Any]:
    """Estimated cost of ``runs`` on one H100 and on a 2-core CPU (see :data:`ESTIMATE_METHOD`).

    Returns ``{"runs", "epochs", "gpu_hours", "cpu_hours", "method"}``.
    """
    n_runs = epochs = 0
    gpu = cpu = 0.0
    for run in runs:
        c = run.config
        n_train, n_test = _data_sizes(c)
        factor = MODEL_FACTORS.get(c.model, 1.0)
        n_measure = len(metric_epochs(c.epochs, every=c.metric_every, log_points=c.metric_log_points))
        w2 = c.width**2
        gpu_w = max(w2, GPU_MIN_WIDTH_FACTOR) * factor
        gpu += c.epochs * n_train * GPU_EPOCH_SECONDS_PER_IMAGE * gpu_w
        gpu += n_measure * (n_train + n_test) * GPU_MEASURE_SECONDS_PER_IMAGE * gpu_w
        per_image_cpu = (CPU_A + CPU_B * w2) * factor
        cpu += c.epochs * n_train * per_image_cpu + n_measure * (n_train + n_test) * per_image_cpu / 3
        gpu += RUN_OVERHEAD_SECONDS
        cpu += RUN_OVERHEAD_SECONDS
        n_runs += 1
        epochs += c.epochs
    return {"runs": n_runs, "epochs": epochs, "gpu_hours": gpu / 3600, "cpu_hours": cpu / 3600,
            "method": ESTIMATE_METHOD}  # fmt: skip
