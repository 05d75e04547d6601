"""What a chapter page needs from a grid: train its missing runs, then load exactly the planned ones; and the
per-stage table of runs with layer metrics (:func:`layer_table`)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..metrics import LAYER_COLUMNS
from ..train import RunConfig
from .grids import Grid, PlannedRun, get_grid
from .runner import CLAIMED_ELSEWHERE, run_sweep
from .store import DEFAULT_ROOT, ResultStore, load_histories, load_results

__all__ = ["CLAIM_POLL", "PAGE_CPUS_ENV", "GridResults", "collect", "layer_table"]

#: Seconds between looks at a run another process is training (:func:`collect` waits for its record).
CLAIM_POLL = 2.0
#: Environment variable: the CPUs one page may use while pages run side by side (``book execute --jobs``);
#: :func:`collect` trains with at most this many worker processes (one in this process when it is 1).
PAGE_CPUS_ENV = "NC_CORE_PAGE_CPUS"

# run columns repeated on every stage row of layer_table besides the RunConfig fields (when present)
_RUN_COLUMNS = ("status", "train_acc", "test_acc", "horizon", "profile")


@dataclass
class GridResults:
    """The planned runs of a grid (slice) at a profile and the stored records of those runs.

    Attributes:
        grid: the grid.
        profile: the profile.
        planned: the planned runs.
        finals: one final record per planned run in the store (``load_results``), with ``horizon`` (e.g.
            ``"60 epochs"``) added.
        histories: their per-epoch histories, with the run's ``optimizer`` and ``epochs`` joined on.
        message: one line saying how many runs were planned, reused and trained now.
    """

    grid: Grid
    profile: str
    planned: list[PlannedRun]
    finals: pd.DataFrame
    histories: pd.DataFrame
    message: str

    @property
    def missing(self) -> int:
        """Planned runs without a record."""
        return len(self.planned) - len(self.finals)


def _train_missing(
    g: Grid, profile: str, planned: list[PlannedRun], root: str | os.PathLike[str],
    data_root: str | os.PathLike[str], workers: int,
) -> Counter[str]:
    """Train the runs of ``planned`` that have no record (:func:`~nc_core.sweep.run_sweep`, output kept out
    of the page); the runs another live process holds are waited for, by looking at their claims every
    :data:`CLAIM_POLL` seconds (a line on the process's own stderr says so once a minute), and then swept
    again: recorded by their owner meanwhile, or trained here should it have died. Returns the statuses of
    every run handled, over all passes."""
    store, counts = ResultStore(g.name, Path(root)), Counter[str]()
    todo, waited = planned, 0.0
    while todo:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            summary = run_sweep(g, profile, root=root, data_root=data_root, workers=workers, threads=1,
                                progress=False, runs=todo)  # fmt: skip
        counts.update({k: v for k, v in summary["statuses"].items() if k != CLAIMED_ELSEWHERE})
        if not summary["statuses"].get(CLAIMED_ELSEWHERE):
            break
        todo = [r for r in todo if store.record_state(r.run_id)[0] in ("pending", "in_progress")]
        while held := [r for r in todo if store.held(r.run_id)]:
            if waited % 60.0 < CLAIM_POLL:
                print(f"grid {g.name}: waiting for {len(held)} run(s) another process is training "
                      f"({', '.join(r.run_id for r in held[:3])}{', ...' if len(held) > 3 else ''})",
                      file=sys.__stderr__ or sys.stderr)  # fmt: skip
            time.sleep(CLAIM_POLL)
            waited += CLAIM_POLL
    return counts


def collect(
    grid: str | Path | Grid,
    profile: str,
    *,
    root: str | os.PathLike[str] = DEFAULT_ROOT,
    data_root: str | os.PathLike[str] = "data",
    run_missing: bool = True,
    workers: int = 2,
    where: Mapping[str, Iterable[Any]] | None = None,
    record: bool = True,
) -> GridResults:
    """Train the runs of ``grid`` at ``profile`` (optionally a ``where`` slice) that are not in the store
    (when ``run_missing``; ``workers`` processes of one torch thread, capped at the CPU count or at
    :data:`PAGE_CPUS_ENV` where pages run side by side, the sweep's own output kept out of the page; a run
    another grid recorded is copied, not trained; a run another live process is training, for this grid or
    another (the same run id), e.g. for a page executed beside this one, is waited for, then copied or,
    should that process have died, trained here), then load the records of exactly the planned runs: the one
    call a book page makes for its runs. The grid is resolved and expanded once, here, and its planned runs
    are passed on to :func:`~nc_core.sweep.run_sweep`.

    With ``record`` (the default), the loaded runs are noted for the book's status page
    (:func:`nc_core.book.status.record_runs`: while ``python -m nc_core book execute`` runs the page; a
    no-op otherwise), so the status page lists the runs, and the code behind them, that each page read.

    Raises:
        ValueError: unknown grid or profile, or (when training) a dataset that is not available.
    """
    g = get_grid(grid)
    planned = g.expand(profile, where, data_root)
    ids = {r.run_id for r in planned}
    if run_missing:
        cpus = int(os.environ.get(PAGE_CPUS_ENV) or os.cpu_count() or 1)
        workers = max(1, min(workers, cpus))
        counts = _train_missing(g, profile, planned, root, data_root, workers)
        copied, failed = counts["reused"], counts["failed"]
        trained = counts["completed"] + counts["diverged"]
        recorded = sum(ResultStore(g.name, Path(root)).final_path(r.run_id).exists() for r in planned)
        message = (
            f"grid {g.name} v{g.version} at profile {profile!r}: {len(planned)} runs planned, "
            f"{recorded - trained - copied} reused from the store, {trained} trained now"
            + (f", {copied} copied from other grids' records of the same runs" if copied else "")
            + (f", {failed} failed (see sweep status)" if failed else "")
        )
    else:
        message = f"grid {g.name} v{g.version} at profile {profile!r}: {len(planned)} runs planned"
    finals = load_results(g, root=root, profile=profile)
    finals = finals[finals["run_id"].isin(ids)].copy() if len(finals) else finals
    hist = load_histories(g, root=root, profile=profile)
    hist = hist[hist["run_id"].isin(ids)].copy() if len(hist) else hist
    if len(finals):
        finals["horizon"] = [f"{int(e)} epochs" for e in finals["epochs"]]
        keys = finals.set_index("run_id")
        for col in ("optimizer", "epochs", "momentum", "weight_decay"):
            hist[col] = hist["run_id"].map(keys[col])
    if record:
        from ..book.status import record_runs

        record_runs(finals)
    return GridResults(g, profile, planned, finals, hist, message)


def layer_table(finals: pd.DataFrame) -> pd.DataFrame:
    """The per-stage metrics of runs trained with ``layer_metrics=True``, one row per run x stage.

    Expands the ``layer_metrics_json`` column of final records (as :func:`collect` and
    :func:`~nc_core.sweep.store.load_results` return them, or ``RunResult.final`` rows) into the columns
    :data:`~nc_core.metrics.LAYER_COLUMNS` (``stage``, ``depth``, ``dim``, ``NC1``, ``NC2``, ``ncc_acc``;
    see :func:`~nc_core.metrics.layer_metrics`), preceded by the run's ``run_id``, its config columns
    (``model``, ``optimizer``, ``lr``, ``momentum``, ``weight_decay``, ...) and ``status``, ``train_acc``,
    ``test_acc``, ``horizon``, ``profile`` where present, repeated on each of its stage rows. The
    last-layer ``NC*`` columns of the records are not repeated: the ``features`` stage holds them.

    Runs without per-stage metrics (not asked for, or diverged) are left out; with none, the frame is
    empty with the per-stage columns.
    """
    if "layer_metrics_json" not in finals:
        return pd.DataFrame(columns=list(LAYER_COLUMNS))
    config_fields = [f.name for f in dataclasses.fields(RunConfig)]
    keep = [c for c in ("run_id", *config_fields, *_RUN_COLUMNS) if c in finals]
    rows = [
        {**{c: run[c] for c in keep}, **stage}
        for run in finals[finals["layer_metrics_json"].notna()].to_dict(orient="records")
        for stage in json.loads(run["layer_metrics_json"])
    ]
    return pd.DataFrame(rows, columns=[*keep, *LAYER_COLUMNS])
