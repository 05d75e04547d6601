"""Sweeps: the paper's experiments as versioned grids, scaled by profiles, run locally or on Ray,
with results in a typed, crash-safe Parquet store.

* :func:`get_grid` / :func:`plan` - grids by name (:func:`grid_names`) or from a JSON/YAML file,
  expanded to :class:`PlannedRun` (a RunConfig plus the profile's overrides) at a profile
  (``paper``, ``cpu``, ``smoke``).
* :func:`run_sweep` - run the pending runs of a grid (``backend="local"`` or ``"ray"``); finished
  runs are skipped, interrupted ones resume from their checkpoint.
* :func:`load_results` / :func:`load_histories` - one DataFrame of final records / per-epoch
  histories for a grid (``valid_only`` keeps the paper's "valid" runs, >= 99% training accuracy).
* :func:`collect` - what a chapter page needs: train a grid's missing runs, load exactly the planned ones.
* :func:`sweep_status`, :func:`estimate` - progress of a sweep and its estimated cost.
* :func:`valid_runs`, :func:`summarise_by` - which runs count, and mean / std per (optimizer, weight decay).

Command line: ``python -m nc_core sweep list|plan|run|status``.
"""

from ..profiles import VALID_TRAIN_ACC
from .collect import GridResults, collect, layer_table
from .grids import (
    DEFAULT_PROFILES,
    PROFILE_NAMES,
    Grid,
    PlannedRun,
    get_grid,
    grid_names,
    load_grid_file,
    plan,
)
from .runner import check_datasets, estimate, run_one, run_sweep
from .store import (
    CorruptRecordWarning,
    ResultStore,
    dataset_version,
    load_histories,
    load_results,
    sweep_status,
)
from .summary import summarise_by, valid_runs

__all__ = [
    "DEFAULT_PROFILES",
    "PROFILE_NAMES",
    "VALID_TRAIN_ACC",
    "CorruptRecordWarning",
    "Grid",
    "GridResults",
    "PlannedRun",
    "ResultStore",
    "check_datasets",
    "collect",
    "dataset_version",
    "estimate",
    "get_grid",
    "grid_names",
    "layer_table",
    "load_grid_file",
    "load_histories",
    "load_results",
    "plan",
    "run_one",
    "run_sweep",
    "summarise_by",
    "sweep_status",
    "valid_runs",
]
