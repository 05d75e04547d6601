"""Beyond the paper (its Section 4.5): the theory's prediction on Lion, Schedule-Free and Muon.

Theorem 3.3 says a sign-based update with *decoupled* decay keeps NC0 bounded away from zero; Theorem 3.4
(sign GD) and Theorem 3.1 (SGD) say *coupled* decay lets NC0 fall. This module states that prediction
per optimizer (:data:`PREDICTIONS`), picks each optimizer's LR from the probe the way the paper picked its
LRs (:func:`pick_lr`) and decides the measured verdict (:func:`nc0_verdicts`). These are the project's
findings, not the paper's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .horizons import PAIRS
from .weight_decay import compare_decoupled, means_by_weight_decay

__all__ = [
    "LAYER_PAIRS",
    "FINDING_OPTIMIZERS",
    "PREDICTIONS",
    "NEW_PAIRS",
    "Prediction",
    "findings",
    "grid_lrs_agree",
    "last_stage_deviation",
    "layer_cost",
    "layer_ratios",
    "nc0_verdicts",
    "stages_above",
    "pick_lr",
]


@dataclass(frozen=True)
class Prediction:
    """What the theory predicts for one optimizer: ``decay`` ("coupled" / "decoupled"), ``nc0_falls``
    (NC0 falls with weight decay) and ``why`` (the theorem or analogy behind it)."""

    decay: str
    nc0_falls: bool
    why: str


PREDICTIONS: dict[str, Prediction] = {
    "lion": Prediction("decoupled", False, "sign update + decoupled decay: SignumW's case (Theorem 3.3)"),
    "lion_coupled": Prediction("coupled", True, "decay inside the sign: Signum's case (Theorem 3.4)"),
    "sgd_schedulefree": Prediction("coupled", True, "coupled SGD (Theorem 3.1), averaged iterates"),
    "adamw_schedulefree": Prediction("decoupled", False, "AdamW's decoupled decay (Figure 1, Theorem 3.3)"),
    "muon": Prediction("decoupled", False, "the classifier is trained by AdamW with decoupled decay"),
    "muon_all": Prediction(
        "decoupled", False, "by analogy only: an orthogonalised step of fixed size (the sign of the "
        "classifier's singular values) + decoupled decay, Theorem 3.3's structure"
    ),
}  # fmt: skip


def pick_lr(finals: pd.DataFrame, min_train_acc: float) -> pd.DataFrame:
    """Each optimizer's LR the way the paper picked its LRs: the largest candidate that does not diverge,
    here also required to fit the training set (completed with ``train_acc >= min_train_acc``) so that
    its runs count.

    The weight-decay runs use the pick and the candidate just below it (``below``), so that each point
    is a mean over two LRs, as the paper's figures average over several.

    Returns:
        One row per optimizer (index): ``candidates`` (sorted LRs tried), ``largest_not_diverged``,
        ``pick`` (NaN where no candidate fits), ``below`` (the next smaller candidate; NaN if none) and
        ``train_acc_at_pick``.
    """
    missing = sorted({"optimizer", "lr", "status", "train_acc"} - set(finals.columns))
    if missing:
        raise ValueError(f"the runs lack column(s) {missing}")
    rows = {}
    for opt, g in finals.groupby("optimizer", sort=False):
        done = g[g["status"] == "completed"]
        fits = done[done["train_acc"] >= min_train_acc]
        pick = float(fits["lr"].max()) if len(fits) else math.nan
        candidates = sorted(float(x) for x in g["lr"])
        smaller = [lr for lr in candidates if lr < pick]
        rows[opt] = {
            "candidates": candidates,
            "largest_not_diverged": float(done["lr"].max()) if len(done) else math.nan,
            "pick": pick,
            "below": smaller[-1] if smaller else math.nan,
            "train_acc_at_pick": float(fits.loc[fits["lr"] == pick, "train_acc"].iloc[0])
            if len(fits)
            else math.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def grid_lrs_agree(picks: pd.DataFrame, grid_lrs: dict[str, list[float]]) -> pd.DataFrame:
    """Whether the weight-decay grid runs each optimizer at the LRs the probe picks: ``grid uses`` (the
    grid's LRs, sorted) against ``probe picks`` (``below`` and ``pick`` of :func:`pick_lr`, NaN dropped)
    and ``agrees``. An optimizer the grid does not run gets an empty ``grid uses`` and ``agrees`` False.
    """
    rows = {}
    for opt, r in picks.iterrows():
        wanted = sorted(float(x) for x in (r["below"], r["pick"]) if not math.isnan(x))
        used = sorted(float(x) for x in grid_lrs.get(opt, []))
        rows[opt] = {"probe picks": wanted, "grid uses": used, "agrees": bool(used) and used == wanted}
    return pd.DataFrame.from_dict(rows, orient="index")


def nc0_verdicts(summary: pd.DataFrame, metric: str = "NC0_code", factor: float = 10.0) -> pd.DataFrame:
    """Prediction against measurement for every optimizer of :data:`PREDICTIONS` in ``summary``
    (:func:`nc_core.sweep.summarise_by` over ``["optimizer", "weight_decay"]`` of the valid runs).

    Measured: ``ratio`` = mean ``metric`` at weight decay 0 / the lowest mean at a weight decay > 0;
    ``falls`` = ``ratio >= factor`` (NC0 falls by at least ``factor`` somewhere on the decay axis);
    ``agrees`` = ``falls == prediction``. NaN / ``None`` where weight decay 0 or every weight decay > 0 has
    no valid run.

    Returns:
        One row per optimizer (index): ``decay``, ``predicted``, ``why``, ``at_zero``, ``lowest``,
        ``at_weight_decay`` (where the lowest is), ``decays`` (the weight decays > 0 with valid runs),
        ``ratio``, ``falls``, ``agrees``.
    """
    rows = {}
    for opt, pred in PREDICTIONS.items():
        m = means_by_weight_decay(summary, opt, metric)
        if not m:
            continue
        positive = {w: v for w, v in m.items() if w > 0}
        at_zero = m.get(0.0, math.nan)
        best = min(positive, key=positive.get) if positive else None
        lowest = positive[best] if best is not None else math.nan
        ratio = at_zero / lowest if lowest > 0 else (math.inf if lowest == 0 else math.nan)
        falls = None if math.isnan(ratio) else bool(ratio >= factor)
        rows[opt] = {
            "decay": pred.decay,
            "predicted": "NC0 falls" if pred.nc0_falls else "NC0 stays up",
            "why": pred.why,
            "at_zero": at_zero,
            "lowest": lowest,
            "at_weight_decay": best,
            "decays": sorted(positive),
            "ratio": ratio,
            "falls": falls,
            "agrees": None if falls is None else falls == pred.nc0_falls,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


#: The new optimizers' (decoupled, coupled) pairs, each with the finding it decides
#: (:data:`nc_core.claims.FINDINGS`).
NEW_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("lion", "lion_coupled", "finding_lion"),
    ("adamw_schedulefree", "sgd_schedulefree", "finding_schedulefree"),
)
#: The optimizers whose prediction (:data:`PREDICTIONS`) each finding tests, in the order of its checks.
FINDING_OPTIMIZERS: dict[str, tuple[str, ...]] = {
    **{fid: (lo, hi) for hi, lo, fid in NEW_PAIRS},
    "finding_muon": ("muon", "muon_all"),
}


def _fall_text(r: pd.Series | None) -> str:
    if r is None or r["falls"] is None or pd.isna(r["falls"]):
        return "no valid runs with and without decay"
    return (
        f"NC0 {r['at_zero']:.3g} without decay, lowest {r['lowest']:.3g} at {r['at_weight_decay']:g} "
        f"(ratio {r['ratio']:.3g})"
    )


def findings(
    summary: pd.DataFrame, metric: str = "NC0_code", factor: float = 10.0, tolerance: float = 1.1
) -> pd.DataFrame:
    """The checks that decide the findings beyond the paper, from ``summary`` (as for :func:`nc0_verdicts`),
    so that a finding and the prediction table (:func:`nc0_verdicts`) can never disagree:

    * per pair of :data:`NEW_PAIRS`, as the paper's claims for AdamW/Adam and SignumW/Signum (Figures 1, 3):
      the decoupled member's mean ``metric`` above the coupled one's (ratio > ``tolerance``, the seed-to-seed
      tolerance :data:`nc_core.claims.MIN_EFFECT`) at every shared weight decay > 0
      (:func:`~nc_core.analysis.weight_decay.compare_decoupled`);
    * for every optimizer of the finding (:data:`FINDING_OPTIMIZERS`), its row of :func:`nc0_verdicts`: the
      measurement agrees with the prediction (``agrees``; ``metric`` falls by ``factor`` under coupled decay,
      stays within ``factor`` of its value without decay under decoupled decay). Only the absence of a fall is
      asked of a decoupled optimizer, not "no change": Theorem 3.3's fixed point ``(K-2)^2/lambda^2`` itself
      moves with the decay.

    Returns:
        One row per check: ``finding`` (its id), ``optimizer`` (the optimizer whose prediction it tests,
        ``""``
        for a pair comparison), ``check`` (text, with the optimizers' names), ``value`` and ``passed`` (False
        where the runs to decide it are missing).
    """
    v = nc0_verdicts(summary, metric, factor)
    rows = []
    for hi, lo, fid in NEW_PAIRS:
        c = compare_decoupled(summary, hi, lo, metric)
        rows.append({
            "finding": fid, "optimizer": "",
            "check": f"{hi}'s mean NC0 above {lo}'s (ratio > {tolerance:g}) at every shared weight decay > 0",
            "value": {f"{w:g}": round(r, 3) for w, r in c.ratios.items()} or "no shared weight decay",
            "passed": bool(c.ratios) and all(r > tolerance for r in c.ratios.values()),
        })  # fmt: skip
    for fid, opts in FINDING_OPTIMIZERS.items():
        for opt in opts:
            r = v.loc[opt] if opt in v.index else None
            falls = PREDICTIONS[opt].nc0_falls
            text = (f"{opt}'s mean NC0 falls at least {factor:g}x with weight decay" if falls
                    else f"{opt}'s mean NC0 stays within {factor:g}x of its value without decay")  # fmt: skip
            agrees = (
                r is not None and r["agrees"] is not None and not pd.isna(r["agrees"]) and bool(r["agrees"])
            )
            rows.append({"finding": fid, "optimizer": opt, "check": text + " (as predicted)",
                         "value": _fall_text(r), "passed": agrees})  # fmt: skip
    order = {fid: i for i, fid in enumerate(FINDING_OPTIMIZERS)}
    out = pd.DataFrame(rows, columns=["finding", "optimizer", "check", "value", "passed"])
    return out.sort_values("finding", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


#: The paper's (decoupled, coupled) pairs compared stage by stage in the layer-by-layer section (the one
#: registry of them: :data:`nc_core.analysis.horizons.PAIRS`).
LAYER_PAIRS: tuple[tuple[str, str], ...] = tuple(PAIRS.values())


def layer_ratios(layers: pd.DataFrame, metric: str = "NC1") -> pd.DataFrame:
    """Per architecture and stage, ``metric`` of each decoupled optimizer over its coupled counterpart's
    (:data:`LAYER_PAIRS`), from :func:`nc_core.sweep.collect.layer_table` (one run per optimizer and
    model; several runs are averaged).

    Returns:
        Index (``model``, ``depth``, ``stage``); one column per pair, named ``"<decoupled>/<coupled>"``
        (NaN where a member has no run).
    """
    missing = sorted({"model", "optimizer", "depth", "stage", metric} - set(layers.columns))
    if missing:
        raise ValueError(f"the layer table lacks column(s) {missing}")
    wide = layers.pivot_table(
        index=["model", "depth", "stage"], columns="optimizer", values=metric, aggfunc="mean"
    )
    out = pd.DataFrame(index=wide.index)
    for hi, lo in LAYER_PAIRS:
        out[f"{hi}/{lo}"] = wide[hi] / wide[lo] if hi in wide and lo in wide else math.nan
    return out


def stages_above(ratios: pd.DataFrame, pair: str) -> dict[str, float | int | bool]:
    """The layer finding for one pair of :func:`layer_ratios` (column ``pair``, e.g. ``"adamw/adam"``):
    ``stages`` with both members measured, how many have a ratio above 1 (``above``: the decoupled member
    collapses less there), the ``smallest`` ratio, and ``holds`` = every such stage is above 1 (False when
    there is none)."""
    col = ratios[pair].dropna()
    return {
        "stages": len(col),
        "above": int((col > 1).sum()),
        "smallest": float(col.min()) if len(col) else math.nan,
        "holds": bool(len(col)) and bool((col > 1).all()),
    }


def last_stage_deviation(layers: pd.DataFrame, runs: pd.DataFrame, metric: str = "NC1") -> float:
    """Largest relative difference between the per-stage ``metric`` of the last stage (``"features"``, the
    model's penultimate features) and the run's own last-layer ``metric``, over the runs of ``layers``
    (:func:`nc_core.sweep.collect.layer_table`) found in ``runs`` (final records). Both are the same
    quantity computed by two passes, so it should be at rounding level.

    Raises:
        ValueError: no run has both (nothing to compare).
    """
    last = layers[layers["stage"] == "features"][["run_id", metric]].merge(
        runs[["run_id", metric]], on="run_id", suffixes=("", "_last")
    )
    if last.empty:
        raise ValueError("no run has both per-stage and last-layer metrics")
    return float(((last[metric] - last[f"{metric}_last"]).abs() / last[f"{metric}_last"].abs()).max())


def layer_cost(runs: pd.DataFrame) -> pd.DataFrame:
    """Per model: median seconds of one training epoch (``train_seconds / epochs``), of the all-stage
    metric pass (``layer_seconds``, once per run) and their ratio, over the completed runs."""
    done = runs[runs["status"] == "completed"]
    cost = done.assign(
        epoch_seconds=done["train_seconds"] / done["epochs"],
        ratio=done["layer_seconds"] / (done["train_seconds"] / done["epochs"]),
    )
    return cost.groupby("model")[["epoch_seconds", "layer_seconds", "ratio"]].median()
