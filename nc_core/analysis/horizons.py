"""Training length: what the NC metrics do as the horizon (optimizer steps) grows, against the theory.

The paper trains 200 epochs x 469 steps = 93,800 steps and argues (Appendix D.4.1) that longer training
does not change its conclusions. This module turns the final records and histories of runs at several
horizons into the numbers the training-length chapter shows:

* :func:`optimizer_steps` - steps per epoch and the horizon of each run, from its own data size and batch;
* :func:`lr_per_step` - the LR of every optimizer step, from the LR the run's history recorded per epoch;
  :func:`planned_lr_per_step` - the same from the run's configuration alone (before it has run);
* :func:`predicted_row_sum` - Theorem 3.1 / Lemma E.5 made exact: under SGD (coupled) and SGDW
  (decoupled) ``W_t^T 1 = c_t W_0^T 1`` with ``c_t`` from :func:`nc_core.theory.row_sum_factors`, so the
  measured NC0 of those runs must follow ``|c_t| NC0_0`` (code convention) at every measured epoch;
* :func:`decay_time_scale` - the step at which ``sum_s eta_s lambda`` reaches 1: the ``1/(eta lambda)``
  time scale on which a decoupled decay acts (Theorem 3.3);
* :func:`decoupled_ratios` - decoupled / coupled final NC0 (AdamW/Adam, SignumW/Signum, SGDW/SGD) per
  horizon, beside the paper's Table 1 ratios (:func:`paper_ratios`);
* :func:`gap_verdicts` - whether a decoupled/coupled gap stays open as the horizon grows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..data import train_size
from ..theory import row_sum_factors

__all__ = [
    "PAIRS",
    "decay_time_scale",
    "decoupled_ratios",
    "gap_verdicts",
    "lr_per_step",
    "optimizer_steps",
    "paper_ratios",
    "planned_lr_per_step",
    "predicted_row_sum",
]

#: (decoupled, coupled) pairs in the paper's order, with the ratio's display name.
PAIRS: dict[str, tuple[str, str]] = {
    "AdamW / Adam": ("adamw", "adam"),
    "SignumW / Signum": ("signumw", "signum"),
    "SGDW / SGD": ("sgdw", "sgd"),
}


def optimizer_steps(run: Mapping, epoch: int | None = None) -> int:
    """Optimizer steps after ``epoch`` epochs (default: the run's ``epochs``) of a run of an image dataset
    or of the UFM: ``epoch * ceil(n_train / batch_size)``, with ``n_train = subset_per_class * K`` (a
    balanced subset), the whole training set (the loader keeps the last, smaller batch), or the UFM's
    ``num_samples`` (:func:`nc_core.data.train_size`)."""
    epochs = int(run["epochs"] if epoch is None else epoch)
    return epochs * math.ceil(train_size(run) / int(run["batch_size"]))


def lr_per_step(run: Mapping, history: pd.DataFrame) -> np.ndarray:
    """The LR of each optimizer step of ``run``: the LR its history recorded for epochs ``1..E`` (the LR
    in force during that epoch), repeated for the steps of the epoch."""
    lrs = history.set_index("epoch")["lr"].sort_index()
    epochs = np.arange(1, int(run["epochs"]) + 1)
    missing = sorted(set(epochs) - set(lrs.index))
    if missing:
        raise ValueError(f"run {run['run_id']}: the history has no LR for epoch(s) {missing[:5]}")
    per_epoch = optimizer_steps(run, 1)
    return np.repeat(lrs.loc[epochs].to_numpy(dtype=np.float64), per_epoch)


def planned_lr_per_step(run: Mapping) -> np.ndarray:
    """The LR of each optimizer step that ``run`` (a RunConfig as a mapping, or a final record) will
    take: its ``lr`` under its ``lr_schedule`` (the engine's :func:`nc_core.train.schedule.make_lr_scheduler`
    driven on a dummy parameter, so the schedule is the engine's own), for ``epochs`` epochs of
    :func:`optimizer_steps` steps each. For the paper's step schedule: ``lr`` for the first ``E // 3``
    epochs, ``lr/10`` up to ``2E // 3``, ``lr/100`` after.
    """
    import torch  # the analysis module needs torch only here

    from ..train.schedule import make_lr_scheduler

    per_epoch, epochs = optimizer_steps(run, 1), int(run["epochs"])
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=float(run["lr"]))
    scheduler, unit = make_lr_scheduler(
        opt, str(run.get("lr_schedule", "step")), epochs=epochs, steps_per_epoch=per_epoch
    )
    etas = np.empty(epochs * per_epoch)
    for t in range(len(etas)):
        etas[t] = opt.param_groups[0]["lr"]
        if unit == "step":
            opt.step()
            scheduler.step()
        elif (t + 1) % per_epoch == 0:
            opt.step()
            scheduler.step()
    return etas


def predicted_row_sum(run: Mapping, history: pd.DataFrame) -> pd.DataFrame:
    """Measured NC0 (code convention, ``||W^T 1||``) of an SGD or SGDW run next to its exact prediction
    ``|c_t| NC0_0`` (see the module docstring), at every measured epoch.

    Returns:
        columns ``epoch``, ``step``, ``measured``, ``predicted``, ``ratio`` (measured / predicted).

    Raises:
        ValueError: an optimizer other than ``sgd`` / ``sgdw``.
    """
    if run["optimizer"] not in ("sgd", "sgdw"):
        raise ValueError(f"the row-sum prediction is exact for sgd and sgdw only, not {run['optimizer']!r}")
    c = row_sum_factors(
        lr_per_step(run, history), float(run["momentum"]), float(run["weight_decay"]),
        decoupled=run["optimizer"] == "sgdw",
    )  # fmt: skip
    measured = history.dropna(subset=["NC0_code"]).sort_values("epoch")
    init = float(measured.loc[measured["epoch"] == 0, "NC0_code"].iloc[0])
    steps = np.array([optimizer_steps(run, e) for e in measured["epoch"]])
    predicted = np.abs(c[steps]) * init
    return pd.DataFrame({
        "epoch": measured["epoch"].to_numpy(), "step": steps, "measured": measured["NC0_code"].to_numpy(),
        "predicted": predicted, "ratio": measured["NC0_code"].to_numpy() / predicted,
    })  # fmt: skip


def decay_time_scale(etas: np.ndarray, weight_decay: float) -> int | None:
    """The first step ``t`` at which ``sum_{s <= t} eta_s lambda >= 1``: the time scale ``1/(eta lambda)`` of
    a decoupled decay (``theta <- (1 - eta lambda) theta`` has shrunk an undisturbed weight by ``1/e``),
    under the run's own schedule; ``None`` when the horizon ends first (or ``lambda = 0``)."""
    cumulative = np.cumsum(np.asarray(etas, dtype=np.float64) * weight_decay)
    hit = np.flatnonzero(cumulative >= 1.0)
    return int(hit[0]) + 1 if len(hit) else None


def decoupled_ratios(finals: pd.DataFrame, metric: str = "NC0_code", by: str = "epochs") -> pd.DataFrame:
    """Per value of ``by`` (the horizon): the final ``metric`` of each decoupled optimizer divided by its
    coupled counterpart's (:data:`PAIRS`), one row per horizon; NaN where a member of a pair is missing
    or did not complete. ``finals`` must hold one run per (horizon, optimizer)."""
    done = finals[finals["status"] == "completed"]
    dup = done.duplicated([by, "optimizer"])
    if dup.any():
        raise ValueError(
            f"more than one completed run per ({by}, optimizer): {done.loc[dup, [by, 'optimizer']]}"
        )
    table = done.pivot(index=by, columns="optimizer", values=metric)
    out = pd.DataFrame(index=table.index)
    for name, (dec, cou) in PAIRS.items():
        out[name] = table[dec] / table[cou] if {dec, cou} <= set(table.columns) else np.nan
    return out


def paper_ratios(table1: pd.DataFrame) -> dict[str, float]:
    """The decoupled/coupled final NC0 ratios of the paper's Table 1 (``nc_core.paper_values.table1()``,
    code convention): AdamW/Adam 15.7, SignumW/Signum 4,084, SGDW/SGD 2,570."""
    return {
        name: float(table1.loc[dec, "NC0"] / table1.loc[cou, "NC0"]) for name, (dec, cou) in PAIRS.items()
    }


def gap_verdicts(ratios: pd.DataFrame, threshold: float = 10.0) -> pd.DataFrame:
    """Does each decoupled/coupled gap stay open with more training? Per pair (a column of
    :func:`decoupled_ratios`): the ratio at the shortest and the longest horizon, whether it exceeds
    ``threshold`` at the longest, and whether it is at least as large there as at the shortest
    (``not_closing``: the gap did not shrink as training went on)."""
    rows = []
    for name in ratios.columns:
        r = ratios[name].dropna()
        if r.empty:
            continue
        first, last = float(r.iloc[0]), float(r.iloc[-1])
        rows.append({
            "pair": name, "shortest": int(r.index[0]), "longest": int(r.index[-1]), "ratio_shortest": first,
            "ratio_longest": last, "above_threshold": last > threshold, "not_closing": last >= first,
        })  # fmt: skip
    return pd.DataFrame(rows)
