"""The decay budget ``B = lambda * sum_t eta_t``: the axis that joins this book's scale to the paper's.

A decoupled step shrinks a weight by ``(1 - eta_t lambda)``; over a run, by ``prod_t (1 - eta_t lambda) ~
exp(-B)``. Theorem 3.1 makes SGD's NC0 an exact function of these factors (Lemma E.5), and for every
optimizer the weight decay can only act as far as its budget lets it. The paper's Adam at LR 0.001 and
weight decay 0.05 over 93,800 steps has ``B = 1.74``; the book's ``cpu`` profile (4,740 steps) gives
0.088. This module computes ``B`` for any run from its own LR schedule and tests what the theory implies:

* :func:`decay_budget` / :func:`budget_frame` -- ``B`` of each run (its planned schedule, the engine's own);
* :func:`paper_budgets` -- ``B`` of the paper's own runs (Figure 1's LRs and weight decays, Table 4's);
* :func:`one_curve_test` -- for a coupled optimizer, do runs of different horizons and LRs fall on one
  curve of ``B``? (a nested OLS F-test: ``log10 NC0 ~ poly2(log10 B)`` against the same plus a shift per
  (horizon, LR) group, with the residual spread in decades);
* :func:`matched_ratios` / :func:`ratio_trend` -- the decoupled/coupled ratio of runs at the same LR,
  weight decay and horizon (hence the same ``B``), its log-log trend in ``B`` and where the paper's Table 1
  ratios sit on it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .horizons import PAIRS, optimizer_steps, planned_lr_per_step

__all__ = [
    "COUPLED",
    "DECOUPLED",
    "budget_frame",
    "decay_budget",
    "matched_ratios",
    "one_curve_test",
    "paper_budgets",
    "ratio_trend",
]

#: The coupled and decoupled member of each pair (:data:`nc_core.analysis.horizons.PAIRS`).
DECOUPLED: tuple[str, ...] = tuple(dec for dec, _ in PAIRS.values())
COUPLED: tuple[str, ...] = tuple(cou for _, cou in PAIRS.values())
#: Fields that must match for two runs to form a decoupled/coupled pair at one budget.
_MATCH = (
    "model",
    "dataset",
    "width",
    "subset_per_class",
    "batch_size",
    "lr",
    "momentum",
    "weight_decay",
    "epochs",
)


def decay_budget(run: Mapping[str, Any]) -> float:
    """``B = lambda * sum_t eta_t`` of ``run`` (a RunConfig as a mapping, or a final record) over its planned
    LR schedule (:func:`~nc_core.analysis.horizons.planned_lr_per_step`: the engine's own scheduler).

    For the paper's step schedule, ``sum_t eta_t = eta_0 (n_1 + n_2 / 10 + n_3 / 100)`` with ``n_i`` the
    steps of each third of training; e.g. LR 0.001, weight decay 0.05, 200 epochs of 469 steps:
    ``0.05 * 0.001 * (31,269 + 3,126.6 + 313.3) = 1.74``.
    """
    wd = float(run["weight_decay"])
    return wd * float(planned_lr_per_step(run).sum()) if wd else 0.0


def budget_frame(finals: pd.DataFrame, metric: str = "NC0_code", min_train_acc: float = 0.99) -> pd.DataFrame:
    """One row per completed run of a coupled or decoupled optimizer of :data:`PAIRS`: its ``optimizer``,
    ``family`` (``"coupled"`` / ``"decoupled"``), ``lr``, ``weight_decay``, ``epochs``, ``steps``, ``B``,
    ``metric``, ``train_acc``, ``valid`` (the records' own ``valid`` column where they have one, e.g. from
    :func:`nc_core.profiles.valid_mask`; else ``train_acc >= min_train_acc``: the paper's rule) and ``grid``
    when the records carry it."""
    done = finals[(finals["status"] == "completed") & finals["optimizer"].isin(DECOUPLED + COUPLED)]
    sums: dict[tuple, float] = {}
    rows = []
    for run in done.to_dict(orient="records"):
        key = (run["lr_schedule"], int(run["epochs"]), optimizer_steps(run, 1), int(run["batch_size"]))
        if key not in sums:
            sums[key] = float(planned_lr_per_step({**run, "lr": 1.0}).sum())
        rows.append({
            "run_id": run["run_id"], "grid": run.get("grid"), "optimizer": run["optimizer"],
            "family": "decoupled" if run["optimizer"] in DECOUPLED else "coupled",
            "lr": float(run["lr"]), "momentum": float(run["momentum"]),
            "weight_decay": float(run["weight_decay"]),
            "epochs": int(run["epochs"]), "steps": optimizer_steps(run), "seed": run.get("seed"),
            "B": float(run["weight_decay"]) * float(run["lr"]) * sums[key], metric: float(run[metric]),
            "train_acc": float(run["train_acc"]),
            "valid": bool(run["valid"]) if "valid" in run else float(run["train_acc"]) >= min_train_acc,
            **{k: run.get(k) for k in ("model", "dataset", "width", "subset_per_class", "batch_size")},
        })  # fmt: skip
    return pd.DataFrame(rows)


def paper_budgets() -> pd.DataFrame:
    """``B`` of the paper's own runs on ResNet9 / FashionMNIST (200 epochs x 469 steps = 93,800 steps, the
    step schedule): every LR x weight decay of Figure 1's grid (:mod:`nc_core.sweep.definitions`), and the
    six Table 4 configurations (``source`` = ``"figure 1"`` / ``"table 4"``)."""
    from ..sweep.definitions import LR_ADAPTIVE, LR_SGD, TABLE4_CONFIGS, WD_COUPLED, WD_DECOUPLED_ADAPTIVE

    base = {"dataset": "fashionmnist", "subset_per_class": None, "batch_size": 128, "epochs": 200,
            "lr_schedule": "step"}  # fmt: skip
    rows = []
    for (dec, cou), lrs in zip(PAIRS.values(), (LR_ADAPTIVE, LR_ADAPTIVE, LR_SGD), strict=True):
        for opt, wds in ((cou, WD_COUPLED), (dec, WD_DECOUPLED_ADAPTIVE if dec != "sgdw" else WD_COUPLED)):
            for lr in lrs:
                for wd in wds:
                    if wd:
                        rows.append({"source": "figure 1", "optimizer": opt, "lr": lr, "weight_decay": wd})
    for opt, lr, momentum, wd in TABLE4_CONFIGS:
        rows.append(
            {"source": "table 4", "optimizer": opt, "lr": lr, "momentum": momentum, "weight_decay": wd}
        )
    out = pd.DataFrame(rows)
    out["B"] = [decay_budget({**base, **r}) for r in out.to_dict(orient="records")]
    return out


def one_curve_test(frame: pd.DataFrame, metric: str = "NC0_code") -> pd.DataFrame:
    """For each optimizer of ``frame`` (:func:`budget_frame` rows; valid runs with ``B > 0`` are used): do
    its runs of different horizons and LRs fall on one curve of ``B``?

    Fits ``y = log10(metric)`` by OLS on ``x = log10(B)`` as ``y ~ x + x^2`` (one curve) and as the same
    plus one shift per (horizon, LR) group; the F-test of the nested models says whether the groups add
    anything beyond ``B``. Returns per optimizer: ``n`` runs, ``groups``, ``resid_sd`` (decades: the
    spread about the one curve), ``group_shift_max`` (the largest group shift, decades), ``F``, ``p``
    (NaN with a single group).
    """
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rows = []
    for opt, runs in frame[(frame["valid"]) & (frame["B"] > 0)].groupby("optimizer", sort=False):
        groups = [f"{e}e/{lr:g}" for e, lr in zip(runs["epochs"], runs["lr"], strict=True)]
        d = pd.DataFrame(
            {"y": np.log10(runs[metric].to_numpy()), "x": np.log10(runs["B"].to_numpy()), "g": groups}
        )
        if len(d) < 4:
            continue
        one = smf.ols("y ~ x + I(x**2)", data=d).fit()
        row = {"optimizer": opt, "n": len(d), "groups": d["g"].nunique(),
               "resid_sd": float(np.sqrt(one.mse_resid)), "group_shift_max": np.nan,
               "F": np.nan, "p": np.nan}  # fmt: skip
        if d["g"].nunique() > 1 and len(d) > d["g"].nunique() + 3:
            with warnings.catch_warnings():  # groups confounded with B: a pinv fit, df from its rank
                warnings.simplefilter("ignore")
                full = smf.ols("y ~ x + I(x**2) + C(g)", data=d).fit()
            test = anova_lm(one, full)
            shifts = [v for k, v in full.params.items() if k.startswith("C(g)")]
            row.update(F=float(test["F"].iloc[1]), p=float(test["Pr(>F)"].iloc[1]),
                       group_shift_max=float(np.max(np.abs(shifts))) if shifts else np.nan)  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=["optimizer", "n", "groups", "resid_sd", "group_shift_max", "F", "p"])


def matched_ratios(frame: pd.DataFrame, metric: str = "NC0_code") -> pd.DataFrame:
    """Decoupled/coupled ratios of the final ``metric`` at one budget: for each pair of :data:`PAIRS`, every
    setting (model, data, scale, LR, momentum, weight decay, horizon) that both members ran, with the mean
    of ``metric`` over seeds. Columns: ``pair``, the setting, ``B``, ``n_dec``, ``n_cou``, ``ratio``, and
    ``valid`` (every run of both members at >= the validity rule's training accuracy)."""
    rows = []
    keys = [k for k in _MATCH if k in frame]
    for pair, (dec, cou) in PAIRS.items():
        members = []
        for opt in (dec, cou):
            runs = frame[(frame["optimizer"] == opt) & (frame["B"] > 0)]
            agg = runs.groupby(keys, dropna=False).agg(m=(metric, "mean"), n=(metric, "size"),
                                                      v=("valid", "all"), B=("B", "first"))  # fmt: skip
            members.append(agg)
        both = members[0].add_suffix("_dec").join(members[1].add_suffix("_cou"), how="inner")
        for setting, r in both.iterrows():
            rows.append({"pair": pair, **dict(zip(keys, setting, strict=True)), "B": r["B_dec"],
                         "n_dec": int(r["n_dec"]), "n_cou": int(r["n_cou"]), "ratio": r["m_dec"] / r["m_cou"],
                         "valid": bool(r["v_dec"] and r["v_cou"])})  # fmt: skip
    return pd.DataFrame(rows)


def ratio_trend(ratios: pd.DataFrame, at: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Per pair, the OLS line ``log10(ratio) = a + b log10(B)`` over the valid rows of
    :func:`matched_ratios`: ``n``, ``slope`` ``b``, ``intercept`` ``a``, ``r2``, ``B_min``/``B_max`` (the
    range it was fitted on) and, where ``at`` gives a budget for the pair, the trend's ``predicted`` ratio
    there (an extrapolation when outside the fitted range: ``extrapolated``). A pair with fewer than three
    valid rows, or one budget, gets no line (those columns NaN); the columns are there either way."""
    import statsmodels.api as sm

    rows = []
    for pair, d in ratios[ratios["valid"] & (ratios["ratio"] > 0)].groupby("pair", sort=False):
        x, y = np.log10(d["B"].to_numpy()), np.log10(d["ratio"].to_numpy())
        row: dict[str, Any] = {
            "pair": pair,
            "n": len(d),
            "B_min": float(10 ** x.min()),
            "B_max": float(10 ** x.max()),
        }
        if len(d) >= 3 and np.ptp(x) > 0:
            fit = sm.OLS(y, sm.add_constant(x)).fit()
            a, b = (float(v) for v in fit.params)
            row.update(slope=b, intercept=a, r2=float(fit.rsquared))
            if at and pair in at:
                row.update(B_at=at[pair], predicted=10 ** (a + b * np.log10(at[pair])),
                           extrapolated=not row["B_min"] <= at[pair] <= row["B_max"])  # fmt: skip
        rows.append(row)
    columns = ["pair", "n", "B_min", "B_max", "slope", "intercept", "r2", "B_at", "predicted", "extrapolated"]
    return pd.DataFrame(rows, columns=columns)
