"""Weight decay sweeps (Sections 3.2, 3.3; Figures 1 and 3 and their appendix variants 19-40): the final
NC0 and NC3 averaged over the valid runs at each weight decay, decoupled optimizers against their coupled
counterparts and the largest weight decay against none.

The weight-decay chapter summarises its valid runs with :func:`nc_core.sweep.summarise_by` over
``["optimizer", "weight_decay"]`` (columns ``optimizer``, ``weight_decay``, ``n``, ``<metric> mean``,
``<metric> std``); the functions here turn that summary into the numbers its tables show and its claims
log:

* :func:`means_by_weight_decay` - one optimizer's mean of a metric at each of its weight decays;
* :func:`compare_decoupled` - a decoupled optimizer's mean over its coupled counterpart's at each shared
  weight decay > 0, with the verdicts of "AdamW / SignumW stay above Adam / Signum" (claims
  ``adamw_above_adam``, ``signumw_above_signum``) and the geometric mean of the ratios (``sgd_gap_smaller``:
  the SGDW/SGD gap is smaller than the AdamW/Adam gap);
* :func:`coupled_decay_effect` - the mean at the largest weight decay against the mean at weight decay 0
  (``coupled_wd_lowers_nc``: larger coupled decay lowers NC0 and NC3);
* :func:`summary_cells` - the per (weight decay, optimizer) table of ``"mean ± std (n=..)"`` cells;
* :func:`run_counts` - per optimizer: runs, completed, diverged, valid and the training-accuracy range.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..paper_values import TABLE1_OPTIMIZERS
from ..tables import readable

__all__ = [
    "DecayEffect",
    "DecoupledComparison",
    "compare_decoupled",
    "coupled_decay_effect",
    "means_by_weight_decay",
    "run_counts",
    "seed_ratios",
    "summary_cells",
]


def _check_summary(summary: pd.DataFrame, metric: str) -> None:
    missing = sorted({"optimizer", "weight_decay", f"{metric} mean"} - set(summary.columns))
    if missing:
        raise ValueError(f"the summary lacks column(s) {missing} (nc_core.sweep.summarise_by)")


def means_by_weight_decay(summary: pd.DataFrame, optimizer: str, metric: str) -> dict[float, float]:
    """``{weight decay: mean of metric}`` of ``optimizer`` in ``summary`` (:func:`nc_core.sweep.summarise_by`
    over ``["optimizer", "weight_decay"]``), in the summary's order; empty for an optimizer without runs."""
    _check_summary(summary, metric)
    g = summary[summary["optimizer"] == optimizer]
    return dict(zip(g["weight_decay"], g[f"{metric} mean"], strict=True))


@dataclass(frozen=True)
class DecoupledComparison:
    """A decoupled optimizer's mean metric against its coupled counterpart's, weight decay by weight decay.

    ``ratios`` maps each weight decay > 0 at which both have valid runs (ascending) to decoupled mean /
    coupled mean; ``means_decoupled`` / ``means_coupled`` are :func:`means_by_weight_decay` of each.
    """

    decoupled: str
    coupled: str
    metric: str
    means_decoupled: dict[float, float]
    means_coupled: dict[float, float]
    ratios: dict[float, float]

    @property
    def largest_shared(self) -> float | None:
        """The largest weight decay > 0 both have, ``None`` if they share none."""
        return max(self.ratios) if self.ratios else None

    @property
    def above_at_largest(self) -> bool:
        """Decoupled mean > coupled mean at the largest shared weight decay (False without one)."""
        return bool(self.ratios) and self.ratios[max(self.ratios)] > 1

    @property
    def above_at_every(self) -> bool:
        """Decoupled mean > coupled mean at every shared weight decay > 0 (False without one)."""
        return bool(self.ratios) and min(self.ratios.values()) > 1

    @property
    def lowest_decoupled(self) -> float:
        """The decoupled optimizer's lowest mean over all its weight decays (0 included; NaN without runs)."""
        return min(self.means_decoupled.values()) if self.means_decoupled else math.nan

    @property
    def lowest_coupled(self) -> float:
        """The coupled optimizer's lowest mean over all its weight decays (0 included; NaN without runs)."""
        return min(self.means_coupled.values()) if self.means_coupled else math.nan

    @property
    def geometric_mean_ratio(self) -> float:
        """``exp(mean(log ratio))`` over the shared weight decays > 0: the typical size of the gap (NaN
        without a shared weight decay)."""
        return self.geometric_mean_at(self.ratios)

    def geometric_mean_at(self, weight_decays: Iterable[float]) -> float:
        """``exp(mean(log ratio))`` over ``weight_decays`` (each one of :attr:`ratios`; NaN for none)."""
        logs = [np.log(self.ratios[w]) for w in weight_decays]
        return float(np.exp(np.mean(logs))) if logs else math.nan


def compare_decoupled(
    summary: pd.DataFrame, decoupled: str, coupled: str, metric: str
) -> DecoupledComparison:
    """Compare ``decoupled`` with ``coupled`` on ``metric`` at every weight decay > 0 both have in
    ``summary`` (Figures 1 and 3: the paper's AdamW and SignumW stay above Adam and Signum at every weight
    decay; SGDW and SGD stay close). Weight decay 0 is left out of the ratios: with no decay coupled and
    decoupled runs are the same algorithm."""
    hi = means_by_weight_decay(summary, decoupled, metric)
    lo = means_by_weight_decay(summary, coupled, metric)
    shared = sorted(w for w in set(hi) & set(lo) if w > 0)
    return DecoupledComparison(decoupled, coupled, metric, hi, lo, {w: hi[w] / lo[w] for w in shared})


@dataclass(frozen=True)
class DecayEffect:
    """One optimizer's mean metric at its largest weight decay (``largest``) against weight decay 0; NaN
    where it has no runs there. ``lowers``: it has runs at 0 and at a largest weight decay > 0, and the
    mean there is below the mean at 0."""

    optimizer: str
    metric: str
    largest: float
    at_largest: float
    at_zero: float
    lowers: bool


def coupled_decay_effect(summary: pd.DataFrame, optimizer: str, metric: str) -> DecayEffect:
    """Does the largest weight decay lower ``optimizer``'s mean ``metric`` below its value without decay?
    (Section 3.2, Figures 1 and 3: larger coupled decay lowers NC0 and NC3; claim
    ``coupled_wd_lowers_nc``.)"""
    m = means_by_weight_decay(summary, optimizer, metric)
    top = max(m) if m else math.nan
    lowers = bool(m) and 0.0 in m and top > 0 and m[top] < m[0.0]
    return DecayEffect(optimizer, metric, top, m.get(top, math.nan), m.get(0.0, math.nan), bool(lowers))


def _cell(mean: float, std: float, n: int) -> str:
    return f"{mean:.3g}" + ("" if not np.isfinite(std) else f" ± {std:.2g}") + f" (n={n})"


def summary_cells(
    summary: pd.DataFrame, metric: str, order: Sequence[str] = TABLE1_OPTIMIZERS, missing: str = "-"
) -> pd.DataFrame:
    """The numbers behind Figures 1 and 3 as text: one row per weight decay (index ``"weight decay"``,
    ``f"{w:g}"``, ascending), one column per optimizer of ``order`` that ``summary`` has, cells
    ``"mean ± std (n=N)"`` (mean to 3 significant digits, std to 2; no ``± std`` for a single run) and
    ``missing`` where an optimizer has no valid run at that weight decay."""
    _check_summary(summary, metric)
    present = set(summary["optimizer"])
    columns = [o for o in order if o in present]
    values = [
        _cell(m, s, n)
        for m, s, n in zip(summary[f"{metric} mean"], summary[f"{metric} std"], summary["n"], strict=True)
    ]
    table = summary.assign(value=values).pivot(index="weight_decay", columns="optimizer", values="value")
    table = table[columns]
    table.index = [f"{w:g}" for w in table.index]
    table.index.name, table.columns.name = "weight decay", None
    return table.fillna(missing)


def run_counts(finals: pd.DataFrame, order: Sequence[str] = TABLE1_OPTIMIZERS) -> pd.DataFrame:
    """Per optimizer of ``order`` that ``finals`` has (rows in that order): ``runs``, ``completed``,
    ``diverged``, ``valid`` (the boolean column ``valid`` summed: :func:`nc_core.sweep.valid_runs`) and the
    smallest and largest final training accuracy (``train_acc_min``, ``train_acc_max``)."""
    missing = sorted({"optimizer", "run_id", "status", "valid", "train_acc"} - set(finals.columns))
    if missing:
        raise ValueError(f"runs lack column(s) {missing}")
    counts = finals.groupby("optimizer").agg(
        runs=("run_id", "size"),
        completed=("status", lambda s: int((s == "completed").sum())),
        diverged=("status", lambda s: int((s == "diverged").sum())),
        valid=("valid", "sum"),
        train_acc_min=("train_acc", "min"),
        train_acc_max=("train_acc", "max"),
    )
    return counts.loc[[o for o in order if o in counts.index]]


_SEED_RATIO_COLUMNS = ("pair", "weight_decay", "n_dec", "n_cou", "ratio", "n_seeds", "seed_gmean", "seed_min",
                       "seed_max", "seed_sd_log10", "seeds")  # fmt: skip


def seed_ratios(runs: pd.DataFrame, metric: str = "NC0_code") -> pd.DataFrame:
    """Decoupled/coupled ratios of ``metric`` over seeds, per pair of :data:`nc_core.analysis.PAIRS` and
    weight decay > 0 both members ran (a grid with seeds, e.g. ``headline_4x``: one run per optimizer, weight
    decay and seed). ``runs`` needs ``optimizer``, ``weight_decay``, ``seed``, ``valid`` and ``metric``.

    Per row: ``pair``, ``weight_decay``, ``n_dec`` / ``n_cou`` (valid runs of each member), ``ratio`` (mean
    over the valid decoupled runs / mean over the valid coupled ones), and over the seeds at which both
    members are valid (``n_seeds``): the geometric mean ``seed_gmean`` of the per-seed ratios, their
    ``seed_min`` and ``seed_max``, the spread ``seed_sd_log10`` (standard deviation of ``log10`` of the
    per-seed ratios: 0.1 is a factor 1.26) and ``seeds`` (the per-seed ratios, text).
    """
    from .horizons import PAIRS

    rows = []
    for pair, (dec, cou) in PAIRS.items():
        d, c = runs[runs["optimizer"] == dec], runs[runs["optimizer"] == cou]
        for w in sorted(set(d["weight_decay"]) & set(c["weight_decay"]) - {0.0}):
            dv = d[(d["weight_decay"] == w) & d["valid"]].set_index("seed")[metric]
            cv = c[(c["weight_decay"] == w) & c["valid"]].set_index("seed")[metric]
            both = sorted(set(dv.index) & set(cv.index))
            per_seed = np.array([dv[s] / cv[s] for s in both], dtype=float)
            logs = np.log10(per_seed) if len(per_seed) else np.array([])
            rows.append({
                "pair": pair, "weight_decay": float(w), "n_dec": len(dv), "n_cou": len(cv),
                "ratio": dv.mean() / cv.mean() if len(dv) and len(cv) else math.nan,
                "n_seeds": len(both),
                "seed_gmean": float(10 ** logs.mean()) if len(logs) else math.nan,
                "seed_min": float(per_seed.min()) if len(per_seed) else math.nan,
                "seed_max": float(per_seed.max()) if len(per_seed) else math.nan,
                "seed_sd_log10": float(logs.std(ddof=1)) if len(logs) > 1 else math.nan,
                "seeds": " / ".join(readable(float(r)) for r in per_seed) or "-",
            })  # fmt: skip
    return pd.DataFrame(rows, columns=list(_SEED_RATIO_COLUMNS))
