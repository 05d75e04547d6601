"""The paper's Tables 1 and 2 in its own format, this project's runs beside the paper's values.

Both tables give, per optimizer, the final NC0-NC3 (authors' code convention) and, in parentheses, the change
from initialisation (:func:`nc_core.paper_values.format_value`, :func:`~nc_core.paper_values.format_change`):
Table 1 for the runs of Figure 5 (the dynamics chapter), Table 2 for the valid run with the smallest NC3 of
each optimizer (the weight-decay chapter, its hyperparameters in Table 4).

* :func:`best_runs` - per optimizer, the valid run with the smallest final NC3 (Table 2's selection);
* :func:`value_change_cells` - ``"value (change)"`` cells of final records that carry ``init_<metric>``;
* :func:`best_run_cells` - Table 2's cells of :func:`best_runs`, with the hyperparameters and accuracy;
* :func:`paper_cells` - the same cells for the paper's printed values (:data:`~nc_core.paper_values.TABLE1`,
  :data:`~nc_core.paper_values.TABLE2`);
* :func:`side_by_side` - one block of rows per optimizer, one row per view (this project, the paper, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from ..paper_values import TABLE1_CONVENTION, TABLE1_OPTIMIZERS, format_change, format_value

__all__ = ["best_run_cells", "best_runs", "paper_cells", "side_by_side", "value_change_cells"]


def best_runs(
    valid: pd.DataFrame, metric: str = "NC3_code", order: Sequence[str] = TABLE1_OPTIMIZERS
) -> pd.DataFrame:
    """Per optimizer of ``order`` that ``valid`` has (index ``optimizer``, in that order): the run with the
    smallest final ``metric`` (the first such run on a tie), as the paper's Table 2 picks its runs ("the
    smallest NC3 among the runs with > 99% training accuracy"). ``valid`` holds the valid runs only."""
    missing = sorted({"optimizer", metric} - set(valid.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    best = valid.loc[valid.groupby("optimizer")[metric].idxmin()].set_index("optimizer")
    return best.loc[[o for o in order if o in best.index]]


def _cell(record: Mapping, column: str) -> str:
    return f"{format_value(record[column])} ({format_change(record[column], record['init_' + column])})"


def value_change_cells(
    records: pd.DataFrame | Mapping[str, Mapping], columns: Mapping[str, str] = TABLE1_CONVENTION
) -> pd.DataFrame:
    """One row per record (a frame's rows, or a mapping ``name -> record``), one column per display name of
    ``columns`` (``{"NC0": "NC0_code", ...}``): ``"<final> (<change from initialisation>)"`` of the record's
    ``columns[name]`` and ``init_<columns[name]>``, in the paper's format."""
    items = list(records.iterrows()) if isinstance(records, pd.DataFrame) else list(records.items())
    rows = {key: {name: _cell(rec, col) for name, col in columns.items()} for key, rec in items}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(columns))


def best_run_cells(best: pd.DataFrame, columns: Mapping[str, str] = TABLE1_CONVENTION) -> pd.DataFrame:
    """Table 2's cells of :func:`best_runs`: :func:`value_change_cells` of NC0-NC3, then ``"lr, momentum,
    wd"`` (``"0.005, 0.9, 0.05"``) and ``"train acc"`` (3 decimals)."""
    cells = value_change_cells(best, columns)
    cells["lr, momentum, wd"] = [f"{r.lr:g}, {r.momentum:g}, {r.weight_decay:g}" for r in best.itertuples()]
    cells["train acc"] = [f"{a:.3f}" for a in best["train_acc"]]
    return cells


def paper_cells(
    table: Mapping[str, Mapping[str, tuple[float, str]]],
    metrics: Sequence[str] = tuple(TABLE1_CONVENTION),
    optimizers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The paper's printed values (``optimizer -> metric -> (final value, change as printed)``, e.g.
    :data:`nc_core.paper_values.TABLE2`) as ``"<final> (<change>)"`` cells: one row per optimizer (those of
    ``optimizers`` in that order, default all of ``table``'s), one column per metric."""
    names = list(table) if optimizers is None else list(optimizers)
    rows = {o: {m: f"{format_value(table[o][m][0])} ({table[o][m][1]})" for m in metrics} for o in names}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(metrics))


def side_by_side(
    views: Mapping[str, pd.DataFrame],
    order: Sequence[str] = TABLE1_OPTIMIZERS,
    label: Callable[[str], str] = str,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The views (``name -> table`` indexed by optimizer, e.g. this project's and the paper's) as one table:
    for each optimizer of ``order`` that some view has, one row per view that has it, indexed
    ``(label(optimizer), view)`` (levels ``optimizer``, ``view``); ``columns`` (default: the first view's)
    in that order, NaN where a view lacks a column."""
    if not views:
        raise ValueError("no views to set side by side")
    columns = list(next(iter(views.values())).columns) if columns is None else list(columns)
    blocks = {
        label(o): pd.DataFrame({v: t.loc[o] for v, t in views.items() if o in t.index}).T
        for o in order
        if any(o in t.index for t in views.values())
    }
    return pd.concat(blocks, names=["optimizer", "view"]).reindex(columns=columns)
