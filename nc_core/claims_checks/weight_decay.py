"""The weight-decay chapter's checks (Figures 1 and 3, Table 5, Figure 44) on one architecture x dataset page.

Decided on the page's valid runs (:func:`nc_core.profiles.valid_mask` with finite NC0 and NC3), summarised
per (optimizer, weight decay) as the figures show them:

* ``adamw_above_adam`` / ``signumw_above_signum`` - precondition: the decoupled decay acted at the largest
  shared weight decay (budget >= :data:`~nc_core.claims_checks.common.ACTED_BUDGET` in its median run
  over the LRs a point averages);
  direction: the decoupled mean NC0 / NC3 above the coupled one (> :data:`~nc_core.claims.MIN_EFFECT`) at
  every shared weight decay > 0 where the decay acted; magnitude: the decoupled optimizer's lowest mean NC0
  at least :data:`FAR_ABOVE` times the coupled one's (the paper's "far above": its Figure 1 spans decades);
* ``coupled_wd_lowers_nc`` - direction: the mean at the largest valid weight decay below the mean without;
  each optimizer's rows only where its decay acted there (SGD: Theorem 3.1's budget; Adam and Signum:
  Theorem 3.4's first sign switch within the run; an unclaimed precondition says when not);
* ``sgd_gap_smaller`` - precondition: a shared weight decay where SGDW's and AdamW's decays both acted;
  direction: SGDW/SGD's typical NC0 ratio there below AdamW/Adam's by the tolerance;
* ``nc0_tracks_nc3`` - direction: OLS slope of NC3 on NC0 > 0 (p < 0.01); magnitude: R^2 >= 0.7 (paper 0.730);
* ``nc4_uncorrelated`` - direction: every |Spearman rho| of NC4 with NC1-NC3 below :data:`UNCORRELATED`;
* ``nc4_at_full_accuracy`` - magnitude: the smallest NC4 of the runs at >= 99% training accuracy against 0.95
  (a level of test-set agreement, which depends on the data scale); precondition: there are such runs.
"""

from __future__ import annotations

import pandas as pd

from .. import analysis
from ..claims import Check, above, below, direction, magnitude, precondition
from ..data import get_spec
from ..plots import OPTIMIZER_LABELS as LABEL
from ..profiles import VALID_TRAIN_ACC, valid_mask
from ..sweep.summary import summarise_by
from ..theory import sign_conditions
from .common import ACTED_BUDGET, budgets, runs_finished, stored_runs_finished

__all__ = [
    "FAR_ABOVE",
    "METRICS",
    "NC4_LEVEL",
    "PAGE_CLAIMS",
    "R2_PAPER",
    "UNCORRELATED",
    "headline_checks",
    "weight_decay_checks",
]

METRICS = ["NC0_code", "NC3_code"]
#: "far above": the decoupled optimizer's lowest mean NC0 at least this many times the coupled one's
FAR_ABOVE = 10.0
#: the share of NC3's variation NC0 explains in the paper (Table 5: R^2 = 0.730), required as 0.7
R2_PAPER = 0.7
#: "largely uncorrelated": every |Spearman rho| below this
UNCORRELATED = 0.5
#: "NC4 holds": the nearest-class-mean agreement on the test set at least this
NC4_LEVEL = 0.95
_PAIRS = (("adamw", "adam", "adamw_above_adam"), ("signumw", "signum", "signumw_above_signum"))
#: The claims a weight-decay page decides.
PAGE_CLAIMS = (
    "adamw_above_adam", "signumw_above_signum", "coupled_wd_lowers_nc", "sgd_gap_smaller", "nc0_tracks_nc3",
    "nc4_uncorrelated", "nc4_at_full_accuracy",
)  # fmt: skip


def _name(metric: str) -> str:
    return metric.removesuffix("_code")


def _pair_checks(
    valid: pd.DataFrame, wd: pd.DataFrame, hi: str, lo: str, claim: str, scale: str = ""
) -> list[Check]:
    runs = valid[valid["optimizer"].isin([hi, lo])]
    c0 = analysis.compare_decoupled(wd, hi, lo, "NC0_code")
    d, c = LABEL[hi], LABEL[lo]
    if not c0.ratios:
        return [
            precondition(
                f"{d} and {c} share a weight decay > 0 with valid runs",
                "none",
                False,
                claim,
                runs=runs,
                scale=scale,
            )
        ]
    b = _median_budgets(valid, hi)
    acted = [w for w in sorted(c0.ratios) if b.get(w, 0.0) >= ACTED_BUDGET]
    top = c0.largest_shared
    out = [
        precondition(
            f"{d}'s decoupled decay acted at the largest shared weight decay ({top:g}): budget B = lambda * "
            f"sum eta_t >= {ACTED_BUDGET:.3f} (a 10% shrink) in its median run (over the LRs averaged)",
            f"median B {b.get(top, 0.0):.3g}",
            b.get(top, 0.0) >= ACTED_BUDGET,
            claim,
            runs=runs,
            scale=scale,
        )
    ]
    for metric in METRICS:
        comp = analysis.compare_decoupled(wd, hi, lo, metric)
        ratios = {w: comp.ratios[w] for w in acted if w in comp.ratios}
        out.append(
            direction(
                f"{d}'s mean {_name(metric)} above {c}'s (ratio > 1.1) at every shared weight "
                "decay > 0 where the decay acted",
                {f"{w:g}": round(r, 4) for w, r in ratios.items()} or "no such weight decay",
                bool(ratios) and all(above(r) for r in ratios.values()),
                claim,
                runs=runs,
                scale=scale,
            )
        )
    if c0.means_decoupled and c0.means_coupled:
        out.append(
            magnitude(
                f"{d}'s lowest mean NC0 over its weight decays >= {FAR_ABOVE:g}x {c}'s lowest",
                c0.lowest_decoupled / c0.lowest_coupled,
                FAR_ABOVE,
                claim,
                runs=runs,
                scale=scale,
                paper="decades apart in Figures 1 and 3",
            )
        )
    return out


def _median_budgets(valid: pd.DataFrame, optimizer: str) -> pd.Series:
    """The decay budget of ``optimizer``'s typical (median) valid run at each weight decay > 0."""
    dec = valid[(valid["optimizer"] == optimizer) & (valid["weight_decay"] > 0)]
    return budgets(dec).groupby(dec["weight_decay"]).median()


def _sgd_gap(valid: pd.DataFrame, wd: pd.DataFrame, scale: str = "") -> list[Check]:
    """``sgd_gap_smaller`` on the shared weight decays where both decoupled decays (SGDW's and AdamW's) acted
    (median budget >= ACTED_BUDGET): a precondition that there is one, then the direction of the geometric
    mean ratios there. Where neither decay acted both ratios are noise around 1 and decide nothing."""
    runs = valid[valid["optimizer"].isin(["sgd", "sgdw", "adam", "adamw"])]
    comps = {
        dec: analysis.compare_decoupled(wd, dec, cou, "NC0_code")
        for dec, cou in (("sgdw", "sgd"), ("adamw", "adam"))
    }
    b_sgdw, b_adamw = _median_budgets(valid, "sgdw"), _median_budgets(valid, "adamw")
    shared = [
        w
        for w in sorted(set(comps["sgdw"].ratios) & set(comps["adamw"].ratios))
        if min(b_sgdw.get(w, 0.0), b_adamw.get(w, 0.0)) >= ACTED_BUDGET
    ]
    out = [
        precondition(
            "SGDW's and AdamW's decoupled decays both acted (median B >= "
            f"{ACTED_BUDGET:.3f}) at a shared weight decay > 0 with valid runs of all four optimizers",
            ", ".join(f"{w:g}" for w in shared) or "none",
            bool(shared),
            "sgd_gap_smaller",
            runs=runs,
            scale=scale,
        )
    ]
    if shared:
        at = ", ".join(f"{w:g}" for w in shared)
        g_sgd, g_adam = (comps[d].geometric_mean_at(shared) for d in ("sgdw", "adamw"))
        out.append(
            direction(
                "the NC0 gap SGDW/SGD is smaller than AdamW/Adam (geometric mean of the ratios at the shared "
                "weight decays where both decays acted; AdamW/Adam's larger by more than 1.1x)",
                f"SGDW/SGD {g_sgd:.3g}, AdamW/Adam {g_adam:.3g} (weight decay {at})",
                above(g_adam / g_sgd),
                "sgd_gap_smaller",
                runs=runs,
                scale=scale,
            )
        )
    return out


def headline_checks(finals: pd.DataFrame, planned: int, profile: str, scale: str) -> list[Check]:
    """The checks of Figures 1 and 3 (``adamw_above_adam``, ``signumw_above_signum``, ``sgd_gap_smaller``) on
    the runs of grid ``headline_4x`` (every optimizer at one LR per pair, several seeds per point), decided at
    ``scale`` (e.g. ``"cpu, 240 epochs (18,960 steps), 3 seeds"``) with the same rules as a weight-decay page:
    means over the valid runs (here: the seeds) at each weight decay. A campaign still running is decided on
    the runs stored so far (``scale`` should say how many); every stored run must have finished."""
    out = [stored_runs_finished(finals, planned)]
    valid = finals[valid_mask(finals, profile, METRICS)]
    wd = summarise_by(valid, ["optimizer", "weight_decay"], METRICS)
    for hi, lo, claim in _PAIRS:
        out += _pair_checks(valid, wd, hi, lo, claim, scale)
    out += _sgd_gap(valid, wd, scale)
    return out


def _coupled_decay_acted(opt: str, runs: pd.DataFrame) -> Check:
    """Whether ``opt``'s coupled decay acted at its largest valid weight decay ``lambda``, in the median run
    there; where it did not, the theory itself predicts no visible fall, and ``opt``'s rows cannot decide
    ``coupled_wd_lowers_nc`` (the check names no claim: only those rows are left out).

    * SGD (Theorem 3.1): the decay shrinks the classifier by about ``exp(-B / (1 - beta))`` (``B = lambda *
      sum_t eta_t``; momentum ``beta`` carries each decay step on), so ``B / (1 - beta) >= ACTED_BUDGET``.
    * Signum and Adam (Theorem 3.4: sign descent, which Adam is at ``beta1 = beta2 = eps = 0``): the coupled
      decay changes nothing until ``lambda * W`` overtakes the gradient and flips its sign, the first switch
      ``T1`` of Eq. 22. Before it the weights grow by the LR each step (``a_t = b_t = sum_{s<t} eta_s``), so
      the switch is reached within the run iff Eq. 22's first condition fails at ``a = b = sum_t eta_t``
      (:func:`nc_core.theory.sign_conditions`, with the ``1/sqrt(K-1)`` factors the proof drops; ``K`` the
      number of classes).
    """
    decayed = runs[runs["weight_decay"] > 0]
    name = LABEL[opt]
    if decayed.empty:
        return precondition(f"{name} has valid runs with weight decay > 0", "none", False)
    top = float(decayed["weight_decay"].max())
    at = decayed[decayed["weight_decay"] == top]
    if opt == "sgd":
        b = float((budgets(at) / (1.0 - at["momentum"].astype(float))).median())
        return precondition(
            f"SGD's coupled decay acted at its largest valid weight decay ({top:g}): B / (1 - momentum) >= "
            f"{ACTED_BUDGET:.3f} in its median run (Theorem 3.1), else SGD's rows cannot test "
            "coupled_wd_lowers_nc",
            f"median {b:.3g}",
            b >= ACTED_BUDGET,
        )
    lr_sum = float((budgets(at) / top).median())
    k = int(get_spec(str(at["dataset"].iloc[0])).num_classes)
    no_switch, _ = sign_conditions(lr_sum, lr_sum, k, top)
    return precondition(
        f"{name}'s coupled decay acted at its largest valid weight decay ({top:g}): the first sign switch of "
        f"Theorem 3.4 (lambda * w overtakes the gradient, Eq. 22 with K = {k}) falls within the run's LR sum "
        f"in its median run, else {name}'s rows cannot test coupled_wd_lowers_nc",
        f"sum of LRs {lr_sum:.3g}: {'no switch' if no_switch else 'switched'}",
        not bool(no_switch),
    )


def weight_decay_checks(
    finals: pd.DataFrame, planned: int, profile: str, *, partial: bool = False
) -> list[Check]:
    """Every check of one weight-decay page from its runs ``finals`` (grid ``main``, one architecture x
    dataset; ``planned`` runs planned) at ``profile``. ``partial``: the page shows a campaign still running
    (it does not train the missing runs), so only the stored runs must have finished."""
    out = [stored_runs_finished(finals, planned) if partial else runs_finished(finals, planned)]
    if partial and len(finals) < planned:  # a campaign still running decides nothing on this page yet
        out += [
            precondition(
                "every planned run of the page is stored (its campaign is complete)",
                f"{len(finals)} of {planned}",
                False,
                claim,
                runs=finals,
            )
            for claim in PAGE_CLAIMS
        ]
    valid = finals[valid_mask(finals, profile, METRICS)]
    wd = summarise_by(valid, ["optimizer", "weight_decay"], METRICS)
    for hi, lo, claim in _PAIRS:
        out += _pair_checks(valid, wd, hi, lo, claim)
    for opt in ("adam", "signum", "sgd"):
        runs = valid[valid["optimizer"] == opt]
        if not (gate := _coupled_decay_acted(opt, runs)).passed:
            out.append(gate)  # this optimizer's rows cannot decide the claim; the others' still do
            continue
        for metric in METRICS:
            e = analysis.coupled_decay_effect(wd, opt, metric)
            out.append(
                direction(
                    f"{LABEL[opt]}: mean {_name(metric)} at the largest valid weight decay "
                    f"({e.largest:g}) below "
                    "its mean at weight decay 0 (ratio < 1/1.1)",
                    f"{e.at_largest:.3g} vs {e.at_zero:.3g}",
                    e.lowers and below(e.at_largest / e.at_zero),
                    "coupled_wd_lowers_nc",
                    runs=runs,
                )
            )
    out += _sgd_gap(valid, wd)
    if len(valid) >= 3:
        fit = analysis.fit_nc3_on_nc0(valid)
        out.append(
            direction(
                "NC3 grows with NC0 over all valid runs (OLS slope > 0, p < 0.01; paper: 0.158, p < 0.001)",
                f"slope {fit['slope']:.3g}, p {fit['p']:.2g}, n {int(fit['n'])}",
                fit["slope"] > 0 and fit["p"] < 0.01,
                "nc0_tracks_nc3",
                runs=valid,
            )
        )
        out.append(
            magnitude(
                "NC0 explains more than 70% of the variation of NC3 (R^2)",
                fit["R2"],
                R2_PAPER,
                "nc0_tracks_nc3",
                runs=valid,
                paper="R^2 0.730",
            )
        )
        nc4 = analysis.nc4_correlations(valid, bound=UNCORRELATED)
        out.append(
            direction(
                f"NC4 is largely uncorrelated with NC1-NC3 (every |Spearman rho| < {UNCORRELATED:g})",
                "Spearman rho "
                + ", ".join(f"{m} {r:.2f}" for m, r in nc4.rho.items())
                + f"; NC4 from {nc4.nc4_min:.4g} to {nc4.nc4_max:.4g}",
                nc4.uncorrelated,
                "nc4_uncorrelated",
                runs=valid,
            )
        )
    else:
        for claim in ("nc0_tracks_nc3", "nc4_uncorrelated"):
            out.append(precondition("at least three valid runs to correlate", len(valid), False, claim))
    full = analysis.nc4_at_full_accuracy(finals, min_train_acc=VALID_TRAIN_ACC, level=NC4_LEVEL)
    at_full = finals[(finals["status"] == "completed") & (finals["train_acc"] >= VALID_TRAIN_ACC)]
    if full.n:
        out.append(
            magnitude(
                f"NC4 (test set) >= {NC4_LEVEL:g} in every run with >= 99% training accuracy: the smallest "
                "NC4",
                full.nc4_min,
                NC4_LEVEL,
                "nc4_at_full_accuracy",
                runs=at_full,
                paper="NC4 met at ~100% accuracy",
            )
        )
    else:
        out.append(precondition("some run reached 99% training accuracy", 0, False, "nc4_at_full_accuracy"))
    return out
