"""The training-length chapter's checks (Appendix D.4.1, Figures 13 and 14; Theorem 3.1 on the same runs).

Each check is decided at one horizon (its ``scale``: ``"cpu, 960 epochs (75,840 steps)"``) and records the
terminal phase of the runs behind it, so that a horizon whose runs did not fit the training set cannot decide
a claim:

* ``thm31_sgd_nc0_decay`` - integrity: SGD's and SGDW's measured NC0 equals the exact prediction within
  :data:`PREDICTION_TOLERANCE` while the prediction is resolved;
* ``dynamics_decoupled_nc0`` - per horizon and pair (AdamW/Adam, SignumW/Signum): direction (ratio > 1.1) and
  magnitude (ratio >= :data:`RATIO_REQUIRED`; the paper's Table 1 ratio named);
* ``longer_training_keeps_gap`` - direction: the AdamW/Adam ratio does not shrink (beyond the tolerance) from
  the shortest to the longest horizon *at which both runs are in the terminal phase* (a precondition: two
  such horizons); Figure 13: AdamW's NC0 and NC3 above Adam's at every shared weight decay > 0 over the valid
  runs of the longer horizon;
* ``epochs_200_suffice`` - Figure 14: direction, the six SGD runs keep their order by NC0 and NC3 (Spearman
  >= :data:`ORDER_KEPT`) and every metric falls with the longer training.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..analysis.horizons import PAIRS, optimizer_steps, paper_ratios
from ..analysis.training_length import order_kept, pair_ratios, shared_decay_ratios
from ..claims import MIN_EFFECT, Check, above, direction, integrity, magnitude, precondition
from ..paper_values import table1
from ..plots import OPTIMIZER_LABELS as LABEL
from ..profiles import valid_mask
from .common import ACTED_BUDGET, budgets, grid_finished

__all__ = ["ORDER_KEPT", "PREDICTION_TOLERANCE", "RATIO_REQUIRED", "horizon_scales", "training_length_checks"]

#: measured NC0 / exact prediction within 1% while the prediction is resolved
PREDICTION_TOLERANCE = 0.01
#: decoupled/coupled final NC0 ratio required for the magnitude at a horizon
RATIO_REQUIRED = 10.0
#: "the trend is unchanged": Spearman rank correlation of the runs at the two horizons at least this
ORDER_KEPT = 0.8
_METRICS = {"NC0": "NC0_code", "NC3": "NC3_code"}


def horizon_scales(finals: pd.DataFrame, profile: str) -> dict[int, str]:
    """``{epochs: "<profile>, <epochs> epochs (<steps> steps)"}`` for each horizon of ``finals``."""
    return {
        int(r["epochs"]): f"{profile}, {int(r['epochs'])} epochs ({optimizer_steps(r):,} steps)"
        for _, r in finals.drop_duplicates("epochs").sort_values("epochs").iterrows()
    }


def training_length_checks(
    finals: pd.DataFrame,
    agreement: Mapping[tuple[str, int], Mapping[str, float]],
    profile: str,
    missing: int = 0,
    fig13: pd.DataFrame | None = None,
    fig14: pd.DataFrame | None = None,
) -> list[Check]:
    """The checks of grid ``training_length`` (``finals``; ``missing`` planned runs not stored) with the
    prediction agreement of each SGD/SGDW run (``agreement[(optimizer, epochs)]``:
    :func:`nc_core.analysis.training_length.prediction_agreement`), and of Figures 13 and 14 (``fig13``,
    ``fig14``: their completed runs at two horizons, ``None`` where they have none)."""
    scale_of = horizon_scales(finals, profile)
    out = [grid_finished(finals, missing)]
    for (opt, epochs), agree in sorted(agreement.items()):
        dev = agree["deviation"]
        out.append(
            integrity(
                f"{LABEL[opt]}, {epochs} epochs: measured NC0 = exact prediction within "
                f"{PREDICTION_TOLERANCE:.0%} while the prediction is above 1e-3 of its start",
                f"max deviation {dev:.2e} over {agree['epochs']} epochs",
                dev < PREDICTION_TOLERANCE,
                "thm31_sgd_nc0_decay",
                scale=scale_of[int(epochs)],
            )
        )
    paper = paper_ratios(table1())
    done = finals[finals["status"] == "completed"]
    ratios = pair_ratios(finals, "NC0_code")
    for p in ratios.itertuples():
        claim = "dynamics_decoupled_nc0" if p.decoupled != "sgdw" else ""
        runs = done[(done["epochs"] == p.epochs) & done["optimizer"].isin([p.decoupled, p.coupled])]
        scale = scale_of[int(p.epochs)]
        out.append(
            direction(
                f"{p.pair}: final NC0 ratio above 1.1",
                f"{p.ratio:.3g}",
                above(p.ratio),
                claim,
                runs=runs,
                scale=scale,
            )
        )
        out.append(
            magnitude(
                f"{p.pair}: final NC0 ratio of the paper's order",
                p.ratio,
                RATIO_REQUIRED,
                claim,
                runs=runs,
                scale=scale,
                paper=f"{paper[p.pair]:,.1f}x",
            )
        )
    adam = ratios[(ratios["pair"] == "AdamW / Adam") & ratios["terminal"]].sort_values("epochs")
    pair_runs = done[done["optimizer"].isin(PAIRS["AdamW / Adam"])]
    if len(adam) < 2:
        out.append(
            precondition(
                "AdamW and Adam both in the terminal phase at two horizons or more",
                f"{len(adam)} horizon(s): {', '.join(str(e) for e in adam['epochs']) or 'none'}",
                False,
                "longer_training_keeps_gap",
                runs=pair_runs,
                scale=f"{profile}, training length",
            )
        )
    else:
        first, last = adam.iloc[0], adam.iloc[-1]
        out.append(
            direction(
                f"AdamW/Adam NC0 ratio does not shrink (by more than 1/{MIN_EFFECT:g}) from "
                f"{int(first.epochs)} to "
                f"{int(last.epochs)} epochs, the shortest and longest horizons with both runs in the "
                "terminal phase",
                f"{first.ratio:.3g} -> {last.ratio:.3g}",
                last.ratio >= first.ratio / MIN_EFFECT,
                "longer_training_keeps_gap",
                runs=pair_runs[pair_runs["epochs"].isin([first.epochs, last.epochs])],
                scale=f"{profile}, training length",
            )
        )
    out += _figure13(fig13, profile) + _figure14(fig14, profile)
    return out


def _figure13(runs: pd.DataFrame | None, profile: str) -> list[Check]:
    scale = f"{profile}, Figure 13"
    if runs is None or runs["epochs"].nunique() < 2:
        return [
            precondition(
                "Figure 13's runs at two horizons", "none", False, "longer_training_keeps_gap", scale=scale
            )
        ]
    long = int(runs["epochs"].max())
    valid = runs[valid_mask(runs, profile, list(_METRICS.values())) & (runs["epochs"] == long)]
    dec = valid[valid["optimizer"] == "adamw"]
    b = budgets(dec).groupby(dec["weight_decay"]).median() if len(dec) else pd.Series(dtype=float)
    acted = valid[valid["weight_decay"].map(lambda w: w == 0 or b.get(w, 0.0) >= ACTED_BUDGET)]
    out = []
    for name, col in _METRICS.items():
        gap = shared_decay_ratios(acted, long, col, "adamw", "adam", decimals=4)
        out.append(
            direction(
                f"Figure 13, {long} epochs: AdamW's {name} above Adam's (ratio > 1.1) at every shared "
                "weight decay > 0 "
                "with valid runs where the decay acted (budget >= 0.105)",
                {f"{w:g}": r for w, r in gap.ratios.items()} or "no shared weight decay",
                bool(gap.ratios) and all(above(r) for r in gap.ratios.values()),
                "longer_training_keeps_gap",
                runs=valid if len(valid) else runs[runs["epochs"] == long],
                scale=f"{scale} at {long} epochs",
            )
        )
    return out


def _figure14(runs: pd.DataFrame | None, profile: str) -> list[Check]:
    scale = f"{profile}, Figure 14"
    if runs is None or runs["epochs"].nunique() < 2:
        return [
            precondition("Figure 14's runs at two horizons", "none", False, "epochs_200_suffice", scale=scale)
        ]
    short, long = int(runs["epochs"].min()), int(runs["epochs"].max())
    scale = f"{scale} at {short} vs {long} epochs"
    out = []
    for name, col in _METRICS.items():
        kept = order_kept(runs, col, short, long)
        out.append(
            direction(
                f"Figure 14: the six runs keep their order by {name} from {short} to {long} epochs "
                "(Spearman rank "
                f"correlation >= {ORDER_KEPT:g})",
                f"rho = {kept.rho:.3f} over {kept.n} runs",
                kept.rho >= ORDER_KEPT,
                "epochs_200_suffice",
                runs=runs,
                scale=scale,
            )
        )
        out.append(
            direction(
                f"Figure 14: {name} lower at {long} than at {short} epochs in every run",
                f"{kept.fell:.0%} of runs",
                kept.fell == 1.0,
                "epochs_200_suffice",
                runs=runs,
                scale=scale,
            )
        )
    return out
