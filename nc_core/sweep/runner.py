"""Running a sweep: one run per task writing its own record; ``local`` (in-process or a process pool)
and ``ray`` backends; the cost model behind ``sweep plan``."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import socket
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from ..atomic import atomic_write, remove_stale_temporaries
from ..data import IMAGE_DATASETS, active_copy, check_dataset, data_sizes
from ..provenance import git_commit
from ..train.config import RunConfig
from ..train.schedule import MetricSchedule
from .grids import Grid, PlannedRun, get_grid
from .store import DEFAULT_ROOT, ResultStore, dataset_version

__all__ = [
    "BACKENDS",
    "CLAIMED_ELSEWHERE",
    "check_datasets",
    "check_ray_request",
    "check_runnable",
    "estimate",
    "pending_runs",
    "recorded_seconds",
    "reusable_runs",
    "run_one",
    "run_sweep",
]

BACKENDS = ("local", "ray")
#: The status of a run another live process is training (left to it).
CLAIMED_ELSEWHERE = "claimed elsewhere"


# -- checks before anything runs -------------------------------------------------------------------------


def check_runnable(grid: Grid) -> None:
    """Raise ``ValueError`` for a grid marked as needing what the project does not have."""
    if not grid.runnable:
        raise ValueError(f"grid {grid.name!r} cannot be run here: it needs {grid.requires}")


def check_datasets(runs: Iterable[PlannedRun], data_root: str | os.PathLike[str] = "data") -> None:
    """Raise ``ValueError`` if an image dataset the runs need is not present and verified in ``data_root``
    (for runs on an imported substitute, ``data_copy``: if that copy is not the one imported there)."""
    for name, copy in sorted({(r.config.dataset, r.config.data_copy or "") for r in runs}):
        if name not in IMAGE_DATASETS:
            continue
        if copy:
            info = active_copy(name, data_root)
            if info is None or info.copy_id != copy:
                have = f"the copy {info.copy_id} is imported there" if info else "no copy is imported there"
                raise ValueError(
                    f"runs on the copy {copy} of {name!r} cannot train from {data_root}: {have}; import it "
                    f"with `python -m nc_core data fetch {name} --from PATH --root {data_root}`"
                )
            continue
        status = check_dataset(name, data_root)
        if not status.ok:
            raise ValueError(
                f"dataset {name!r} is not available under {data_root} ({status.summary()}); "
                f"fetch it with `python -m nc_core data fetch {name} --root {data_root}`"
            )


# -- one run ---------------------------------------------------------------------------------------------


def _log(fh: Any, message: str) -> None:
    """Append a timestamped line to a run's log; a log that cannot be written (a full disk) loses it."""
    with contextlib.suppress(OSError):
        fh.write(f"[{datetime.now(UTC).isoformat(timespec='seconds')}] {message}\n")
        fh.flush()


def run_one(
    planned: PlannedRun,
    *,
    root: str | os.PathLike[str] = DEFAULT_ROOT,
    data_root: str | os.PathLike[str] = "data",
    device: str | None = None,
    threads: int | None = None,
    retry_diverged: bool = False,
) -> dict[str, Any]:
    """Train one planned run and write its record; never raises for a failing run.

    The run checkpoints into ``<root>/<grid>/checkpoints`` (an interrupted run resumes there), writes
    its history and final record atomically, then deletes its checkpoint. A run that raises leaves an
    error marker (``failed/<run_id>.json``) and is retried by the next sweep. Everything is logged to
    ``logs/<run_id>.log``.

    ``threads`` sets torch's CPU threads for the run; the caller's setting is restored afterwards. The run
    is claimed first (:meth:`ResultStore.claim`, refreshed while it trains): a run another live process is
    training, for this grid or for another under ``root`` (:meth:`ResultStore.holds`), is left to it
    (status ``"claimed elsewhere"``; :func:`~nc_core.sweep.collect` waits for it, then reuses its record).
    Then the store decides, never a comparison of clocks: a run whose record is now valid and done
    (completed, or diverged unless ``retry_diverged``) was recorded by another process since the sweep
    planned it and is not trained again (``"done elsewhere"``; with ``retry_diverged`` a diverged record
    is always retrained); a corrupt record (:meth:`ResultStore.record_state`) is set aside
    (:meth:`ResultStore.set_aside`) and the run trained again. A record that cannot be read (no
    permission) is never replaced: the run fails naming it.

    A run that another grid under ``root`` recorded already (the same run id) is not trained: that record
    is copied into this grid's store with its provenance (:meth:`ResultStore.adopt`; status ``"reused"``).

    Returns:
        ``{"run_id", "status" ("completed" | "diverged" | "reused" | "failed"), "seconds", "error"?, ...}``.
    """
    import torch

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        return _run_one(planned, root, data_root, device, retry_diverged)
    finally:  # a caller's thread count (a notebook, a test) is theirs: restore it
        torch.set_num_threads(previous)


def _failed(run_id: str, error: str, seconds: float = 0.0) -> dict[str, Any]:
    return {"run_id": run_id, "status": "failed", "error": error, "seconds": seconds}


def _run_one(
    planned: PlannedRun,
    root: str | os.PathLike[str],
    data_root: str | os.PathLike[str],
    device: str | None,
    retry_diverged: bool,
) -> dict[str, Any]:
    store = ResultStore(planned.grid, Path(root))
    config = planned.config if device is None else planned.config.replace(device=device)
    run_id = config.run_id
    try:
        claimed = store.claim(run_id)
    except OSError as err:
        where = store.claim_path(run_id).parent
        return _failed(run_id, f"cannot claim the run in {where}: {err.strerror or err}")
    if not claimed:  # another live process is training it
        return {"run_id": run_id, "status": CLAIMED_ELSEWHERE, "seconds": 0.0}
    try:
        with store.heartbeat(run_id):
            state, detail = store.record_state(run_id, dataset_version(config))
            if state == "completed" or (state == "diverged" and not retry_diverged):
                return {"run_id": run_id, "status": "done elsewhere", "seconds": 0.0}
            aside = store.set_aside(run_id) if state == "corrupt" else []
            note = f"corrupt record ({detail}) set aside as {', '.join(map(str, aside))}" if aside else ""
            source = store.find_elsewhere(run_id, dataset_version(config), retry_diverged=retry_diverged)
            if source is not None:  # another grid recorded this very run: its record serves, nothing trains
                return _reuse(planned, store, source, note)
            if any(other.holds(run_id) for other in store.others()):  # another grid is training it
                return {"run_id": run_id, "status": CLAIMED_ELSEWHERE, "seconds": 0.0}
            return _train_and_record(planned, store, config, data_root, note)
    except (OSError, ValueError) as err:  # an unreadable record, a folder that cannot be written, a full disk
        return _failed(run_id, f"{type(err).__name__}: {err}")
    finally:
        with contextlib.suppress(OSError):
            store.release(run_id)


def _reuse(planned: PlannedRun, store: ResultStore, source: ResultStore, note: str = "") -> dict[str, Any]:
    """Record ``planned`` from ``source``'s record of the same run (:meth:`ResultStore.adopt`), logged."""
    run_id = planned.run_id
    store.log_path(run_id).parent.mkdir(parents=True, exist_ok=True)
    with open(store.log_path(run_id), "a") as log:
        if note:
            _log(log, note)
        store.adopt(planned, source)
        store.checkpoint_path(run_id).unlink(missing_ok=True)
        store.failed_path(run_id).unlink(missing_ok=True)
        _log(log, f"reused {run_id} from grid {source.grid} ({source.final_path(run_id)}): nothing trained")
    return {"run_id": run_id, "status": "reused", "seconds": 0.0, "source": source.grid}


def _train_and_record(
    planned: PlannedRun,
    store: ResultStore,
    config: RunConfig,
    data_root: str | os.PathLike[str],
    note: str = "",
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
        if note:
            _log(log, note)
        if store.checkpoint_path(run_id).exists():
            _log(log, f"resuming from checkpoint {store.checkpoint_path(run_id)}")
        try:
            result = run_training(
                config, data_root=data_root, checkpoint_dir=store.checkpoint_dir, progress=False
            )
            store.write(planned, result.history, result.final)
        except Exception as err:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
            tb = traceback.format_exc()
            error = f"{type(err).__name__}: {err}"
            _log(log, f"FAILED {error}\n{tb}")
            marker = store.failed_path(run_id)
            text = json.dumps({"run_id": run_id, "error": error, "traceback": tb})
            try:  # on a full disk this fails too: the run stays resumable from its last checkpoint
                marker.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(marker, lambda tmp: tmp.write_text(text))
            except OSError as marker_err:
                _log(log, f"could not write the failure marker {marker}: {marker_err}")
                error += f" (no failure marker: {marker_err})"
            return _failed(run_id, error, time.perf_counter() - t0)
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
    runs: Sequence[PlannedRun], *, root: str | os.PathLike[str] = DEFAULT_ROOT, retry_diverged: bool = False
) -> tuple[list[PlannedRun], dict[str, int], dict[str, str]]:
    """Of ``runs`` (the planned runs of one grid, as :meth:`Grid.expand` gives them), those still to do, the
    state counts, and problems (run id -> detail).

    Done are completed runs and diverged ones (unless ``retry_diverged``); corrupt, stale
    (other dataset version), failed, interrupted and new runs are to do.
    """
    if not runs:
        return [], {}, {}
    store = ResultStore(runs[0].grid, Path(root))
    todo, counts, problems = [], Counter(), {}
    skip = {"completed"} | (set() if retry_diverged else {"diverged"})
    for run in runs:
        state, detail = store.record_state(run.run_id, dataset_version(run.config))
        counts[state] += 1
        if detail:
            problems[run.run_id] = f"{state}: {detail}"
        if state not in skip:
            todo.append(run)
        elif state in ("completed", "diverged"):  # killed between writing the record and cleaning up
            store.checkpoint_path(run.run_id).unlink(missing_ok=True)
    return todo, dict(counts), problems


def reusable_runs(
    runs: Iterable[PlannedRun], *, root: str | os.PathLike[str] = DEFAULT_ROOT, retry_diverged: bool = False
) -> dict[str, str]:
    """Run id -> the grid whose record of that run (:meth:`ResultStore.find_elsewhere`) a sweep of ``runs``
    reuses instead of training it, for the runs without a done record in their own grid's store."""
    out = {}
    for run in runs:
        store = ResultStore(run.grid, Path(root))
        version = dataset_version(run.config)
        if store.record_state(run.run_id, version)[0] in ("completed", "diverged"):
            continue
        source = store.find_elsewhere(run.run_id, version, retry_diverged=retry_diverged)
        if source is not None:
            out[run.run_id] = source.grid
    return out


#: Seconds to wait for a TCP connection to a Ray cluster's address before calling it unreachable.
RAY_CONNECT_TIMEOUT = 5.0


def _die_with_parent(parent: int, every: float = 1.0) -> None:
    """Initializer of a pool worker: end this worker as soon as the sweep process that started it
    (``parent``) is gone -- killed by SIGKILL or SIGTERM -- instead of finishing the queue and then
    sleeping forever. A daemon thread compares ``os.getppid()`` with ``parent`` every ``every`` seconds
    (portable, and unaffected by which thread of the parent spawned the worker); the run it was training
    stays resumable from its checkpoint, and its claim names a dead process."""
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def check_ray_request(
    address: str | None, num_cpus: int | None, cpus_per_run: int, runs_per_gpu: int, device: str
) -> None:
    """Refuse, before Ray starts, a request no task could ever be scheduled under (more CPUs per run than
    the local instance has) and a cluster address that cannot be reached within
    :data:`RAY_CONNECT_TIMEOUT` seconds.

    Raises:
        ValueError: one line saying which.
    """
    del runs_per_gpu, device  # checked against the cluster's resources once connected
    if not address:
        have = num_cpus or os.cpu_count() or 1
        if cpus_per_run > have:
            raise ValueError(
                f"--cpus-per-run {cpus_per_run} exceeds the {have} CPU(s) of the local Ray instance "
                f"({'--ray-num-cpus' if num_cpus else 'this machine'}): no run could ever start"
            )
        return
    if address == "auto":
        return
    target = address.removeprefix("ray://").removeprefix("http://").removeprefix("https://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--ray-address {address!r}: expected 'auto' or HOST:PORT")
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), RAY_CONNECT_TIMEOUT).close()
    except OSError as err:
        raise ValueError(
            f"cannot reach the Ray cluster at {address} within {RAY_CONNECT_TIMEOUT:g} s: "
            f"{err.strerror or err or 'timed out'}"
        ) from None


def _ray_init(ray: Any, address: str | None, num_cpus: int | None) -> None:
    """``ray.init`` for a sweep; a cluster that cannot be joined is a one-line ``ValueError``."""
    if not address:
        ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False)
        return
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as err:
        hint = "start one with `ray start --head`, or leave out --ray-address for a local instance"
        if isinstance(err, ConnectionError):  # Ray's own text names its own flags, not this command's
            raise ValueError(f"no Ray cluster is running at --ray-address {address} ({hint})") from None
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise ValueError(
            f"cannot join the Ray cluster at --ray-address {address}: {first} ({hint})"
        ) from None


def _check_cluster(ray: Any, cpus_per_run: int, num_gpus: float) -> None:
    """Refuse what the joined cluster can never schedule (tasks would wait forever)."""
    have = ray.cluster_resources()
    if have.get("CPU", 0) < cpus_per_run:
        raise ValueError(f"--cpus-per-run {cpus_per_run} exceeds the cluster's {have.get('CPU', 0):g} CPU(s)")
    if num_gpus and have.get("GPU", 0) < num_gpus:
        raise ValueError(f"--device cuda: the Ray cluster has no GPU ({have.get('GPU', 0):g})")


def _crashed(run: PlannedRun, kwargs: dict[str, Any], err: Exception) -> dict[str, Any]:
    """The outcome of a run whose Ray worker died (after Ray's retries): recorded as failed, with a
    failure marker, so the sweep goes on and the next one retries it (from its checkpoint)."""
    first = (str(err).strip().splitlines() or [""])[0][:200]
    error = f"{type(err).__name__}: the Ray worker running it died ({first})"
    store = ResultStore(run.grid, Path(kwargs["root"]))
    text = json.dumps({"run_id": run.run_id, "error": error, "traceback": str(err)[-4000:]})
    with contextlib.suppress(OSError):
        store.failed_path(run.run_id).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(store.failed_path(run.run_id), lambda tmp: tmp.write_text(text))
    return _failed(run.run_id, error)


def _ray_tasks(
    runs: list[PlannedRun], kwargs: dict[str, Any], *, address: str | None, num_cpus: int | None,
    cpus_per_run: int, runs_per_gpu: int, on_done: Callable[[dict[str, Any]], None],
) -> None:  # fmt: skip
    num_gpus = 1.0 / runs_per_gpu if kwargs.get("device") == "cuda" else 0
    check_ray_request(address, num_cpus, cpus_per_run, runs_per_gpu, kwargs.get("device", "cpu"))
    import ray

    started = False
    if not ray.is_initialized():
        _ray_init(ray, address, num_cpus)
        started = True
    try:
        _check_cluster(ray, cpus_per_run, num_gpus)
        task = ray.remote(num_cpus=cpus_per_run, num_gpus=num_gpus)(run_one)
        refs = {task.remote(run, threads=cpus_per_run, **kwargs): run for run in runs}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    out = ray.get(ref)
                except ray.exceptions.RayError as err:  # its worker died every time: this run fails
                    out = _crashed(refs[ref], kwargs, err)
                on_done(out)
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
    runs: Sequence[PlannedRun] | None = None,
) -> dict[str, Any]:
    """Run the pending runs of ``grid`` at ``profile``; every run writes its own record, and a run another
    grid under ``root`` recorded already is not trained but reuses that record (status ``"reused"``,
    :meth:`ResultStore.adopt`; not counted against ``max_runs``).

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
        runs: the planned runs, when the caller has expanded the grid already (``grid.expand(profile,
            where, data_root)``: :func:`~nc_core.sweep.collect`, the command line); ``where`` is then unused.

    Returns:
        ``{"planned", "skipped", "todo", "ran", "reused", "statuses": {status: n}, "problems"}``.

    Raises:
        ValueError: invalid grid / profile / backend / device, a grid that needs what the project
            lacks, or an image dataset that is not available -- before anything runs.
    """
    g = get_grid(grid)
    check_runnable(g)
    runs = list(runs) if runs is not None else g.expand(profile, where, data_root)
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
    # every record of this sweep names the code it started with, whatever happens to the tree meanwhile
    os.environ.setdefault("NC_CORE_GIT_COMMIT", git_commit())
    todo, counts, problems = pending_runs(runs, root=root, retry_diverged=retry_diverged)
    for run_id, detail in problems.items():
        if detail.startswith(("corrupt", "stale")):
            print(f"warning: {run_id} {detail}; it will be rerun", flush=True)
    reuse = reusable_runs(todo, root=root, retry_diverged=retry_diverged)
    first = [r for r in todo if r.run_id in reuse]  # copied in this process, before anything trains
    todo = [r for r in todo if r.run_id not in reuse]
    if max_runs is not None:
        todo = todo[:max_runs]
    # absolute paths: Ray workers and pool processes need not share this working directory
    kwargs = {
        "root": str(Path(root).resolve()),
        "data_root": str(Path(data_root).resolve()),
        "device": device,
        "retry_diverged": retry_diverged,
    }
    statuses: Counter[str] = Counter()
    bar = tqdm(total=len(first) + len(todo), desc=f"{g.name}/{profile}", unit="run", disable=not progress)

    def on_done(out: dict[str, Any]) -> None:
        statuses[out["status"]] += 1
        if out["status"] == "failed":
            tqdm.write(f"{out['run_id']} failed: {out.get('error')}")
        bar.update(1)
        bar.set_postfix({k: v for k, v in statuses.items()})

    try:
        for run in first:
            on_done(run_one(run, threads=threads, **kwargs))
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
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=ctx, initializer=_die_with_parent, initargs=(os.getpid(),)
            ) as pool:
                futures = [pool.submit(run_one, run, threads=per_worker, **kwargs) for run in todo]
                for fut in as_completed(futures):
                    on_done(fut.result())
    finally:
        bar.close()
    done = counts.get("completed", 0) + (0 if retry_diverged else counts.get("diverged", 0))
    return {"planned": len(runs), "skipped": done, "todo": len(first) + len(todo),
            "ran": sum(statuses.values()), "reused": statuses.get("reused", 0), "statuses": dict(statuses),
            "problems": problems}  # fmt: skip


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
ESTIMATE_METHOD = (
    "seconds/run = epochs x train images x s/image "
    "+ measured epochs x (train + test images) x s/image(eval). "
    "GPU: s/image from full-width ResNet9 on FashionMNIST on one H100 (2.65 s/epoch for 60,000 images, "
    "0.6 s per metric pass over 70,000), times max(width^2, 1/16) and a per-model factor "
    f"({', '.join(f'{m} {f:g}' for m, f in MODEL_FACTORS.items())}; only ResNet9 measured). "
    "CPU (2 cores): s/image = a + b*width^2 fitted to ResNet9 at "
    "width 1/8 (1600 images/s) and 1/16 (2300 images/s), the same model factors, evaluation at 1/3 of the "
    "training cost. Plus 3 s per run for loading the data; batch size and compile time are ignored."
)


def recorded_seconds(grid: str, *, root: str | os.PathLike[str] = DEFAULT_ROOT) -> pd.DataFrame:
    """What each stored run of ``grid`` under ``root`` cost: one row per readable final record with
    ``run_id``, ``profile``, ``epochs_completed`` and ``seconds`` (its ``train_seconds + metric_seconds``:
    process seconds of that run, at the threads and load it ran under). Unreadable records are skipped
    (an estimate, not a check: ``sweep status`` names them)."""
    store = ResultStore(grid, Path(root))
    rows = []
    wanted = ["train_seconds", "metric_seconds", "profile", "epochs_completed"]
    for run_id in store.run_ids():
        try:
            path = store.final_path(run_id)
            names = pq.read_schema(path).names
            rec = pd.read_parquet(path, columns=[c for c in wanted if c in names])
        except (OSError, ValueError, pa.ArrowException):
            continue
        if not {"train_seconds", "profile", "epochs_completed"} <= set(rec.columns) or len(rec) != 1:
            continue
        row = rec.iloc[0]
        metric = row["metric_seconds"] if "metric_seconds" in rec and pd.notna(row["metric_seconds"]) else 0.0
        rows.append({"run_id": run_id, "profile": row["profile"], "epochs_completed": row["epochs_completed"],
                     "seconds": float(row["train_seconds"]) + float(metric)})  # fmt: skip
    return pd.DataFrame(rows, columns=["run_id", "profile", "epochs_completed", "seconds"])


def _model_seconds(c: RunConfig) -> tuple[float, float]:
    """(GPU, CPU) seconds of one run by the cost model (:data:`ESTIMATE_METHOD`)."""
    n_train, n_test = data_sizes(c)
    factor = MODEL_FACTORS.get(c.model, 1.0)
    n_measure = len(MetricSchedule(c.epochs, every=c.metric_every, log_points=c.metric_log_points))
    w2 = c.width**2
    gpu_w = max(w2, GPU_MIN_WIDTH_FACTOR) * factor
    gpu = c.epochs * n_train * GPU_EPOCH_SECONDS_PER_IMAGE * gpu_w
    gpu += n_measure * (n_train + n_test) * GPU_MEASURE_SECONDS_PER_IMAGE * gpu_w
    per_image_cpu = (CPU_A + CPU_B * w2) * factor
    cpu = c.epochs * n_train * per_image_cpu + n_measure * (n_train + n_test) * per_image_cpu / 3
    return gpu + RUN_OVERHEAD_SECONDS, cpu + RUN_OVERHEAD_SECONDS


def estimate(runs: Iterable[PlannedRun], *, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Estimated cost of ``runs`` on one H100 and on a 2-core CPU (see :data:`ESTIMATE_METHOD`), and with
    ``root`` what the store measured.

    Measured (``root`` given): a run with a record under ``root`` (in its grid's folder) cost its recorded
    seconds (:func:`recorded_seconds`); a run without one costs its epochs times its grid's measured
    seconds per epoch at its profile (over that grid's records at that profile); a grid with no record at
    the profile has no measurement (``unmeasured`` runs, left out of ``measured_hours``). The same run id
    planned twice counts once (a sweep trains it once and the other grid reuses its record).

    Returns ``{"runs", "epochs", "gpu_hours", "cpu_hours", "method"}`` plus, with ``root``,
    ``{"measured_hours", "recorded", "scaled", "unmeasured", "per_epoch": {(grid, profile): seconds}}``
    (runs costed from their own record, from their grid's rate, not at all).
    """
    runs = list({r.run_id: r for r in runs}.values())  # each distinct run once
    n_runs = epochs = 0
    gpu = cpu = 0.0
    for run in runs:
        g_s, c_s = _model_seconds(run.config)
        gpu += g_s
        cpu += c_s
        n_runs += 1
        epochs += run.config.epochs
    out: dict[str, Any] = {"runs": n_runs, "epochs": epochs, "gpu_hours": gpu / 3600, "cpu_hours": cpu / 3600,
                           "method": ESTIMATE_METHOD}  # fmt: skip
    if root is None:
        return out
    tables = {grid: recorded_seconds(grid, root=root) for grid in {r.grid for r in runs}}
    per_epoch: dict[tuple[str, str], float] = {}
    for grid, table in tables.items():
        for profile, rows in table.groupby("profile"):
            done = rows["epochs_completed"].astype(float).sum()
            if done > 0:
                per_epoch[(grid, str(profile))] = float(rows["seconds"].sum() / done)
    measured, counts = 0.0, Counter()
    for run in runs:
        own = tables[run.grid].set_index("run_id")["seconds"]
        if run.run_id in own.index:
            measured += float(own[run.run_id])
            counts["recorded"] += 1
        elif (run.grid, run.profile) in per_epoch:
            measured += per_epoch[(run.grid, run.profile)] * run.config.epochs
            counts["scaled"] += 1
        else:
            counts["unmeasured"] += 1
    return {**out, "measured_hours": measured / 3600, "recorded": counts["recorded"],
            "scaled": counts["scaled"], "unmeasured": counts["unmeasured"],
            "per_epoch": per_epoch}  # fmt: skip
