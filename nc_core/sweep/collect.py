"""What a chapter page needs from a grid: train its missing runs, then load exactly the planned ones."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .grids import Grid, PlannedRun, get_grid
from .runner import run_sweep
from .store import DEFAULT_ROOT, load_histories, load_results

__all__ = ["GridResults", "collect"]


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


def collect(
    grid: str | Path | Grid,
    profile: str,
    *,
    root: str | os.PathLike[str] = DEFAULT_ROOT,
    data_root: str | os.PathLike[str] = "data",
    run_missing: bool = True,
    workers: int = 2,
    where: Mapping[str, Iterable[Any]] | None = None,
) -> GridResults:
    """Train the runs of ``grid`` at ``profile`` (optionally a ``where`` slice) that are not in the store
    (when ``run_missing``; ``workers`` processes of one torch thread, capped at the CPU count, the sweep's
    own output kept out of the page), then load the records of exactly the planned runs.

    Raises:
        ValueError: unknown grid or profile, or (when training) a dataset that is not available.
    """
    g = get_grid(grid)
    planned = g.expand(profile, where)
    ids = {r.run_id for r in planned}
    if run_missing:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            summary = run_sweep(
                g, profile, root=root, data_root=data_root, workers=max(1, min(workers, os.cpu_count() or 1)),
                threads=1, progress=False, where=where,
            )  # fmt: skip
        message = (
            f"grid {g.name} v{g.version} at profile {profile!r}: {len(planned)} runs planned, "
            f"{summary['skipped']} reused from the store, {summary['ran']} trained now"
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
    return GridResults(g, profile, planned, finals, hist, message)
